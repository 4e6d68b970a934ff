/**
 * Version pins and `latest` against a real host: a probe package built here in three versions, served to the
 * host as a flat file: repository whose lists the host knows. Plan reads only those lists, never the network.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkg } from '../../src/resources/package.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-pkg-versions');
const PROBE = 'keel-pin-probe';
const VERSIONS = ['1.0.1-1', '1.0.2-1', '1.1.0-1'];
const build = mkdtempSync(join(tmpdir(), 'keel-pin-'));
afterAll(() => rmSync(build, { recursive: true, force: true }));

function buildProbe(version: string): void {
  const root = join(build, `root-${version}`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr/share/keel-pin-probe'), { recursive: true });
  writeFileSync(join(root, 'usr/share/keel-pin-probe/version'), `${version}\n`);
  writeFileSync(
    join(root, 'DEBIAN/control'),
    `Package: ${PROBE}\nVersion: ${version}\nArchitecture: all\nMaintainer: keel tests <keel@localhost>\nDescription: a package for version pin tests\n`,
  );
  mkdirSync(join(build, 'repo'), { recursive: true });
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, join(build, 'repo', `${PROBE}_${version}_all.deb`)], {
    stdio: 'ignore',
  });
}

const installedVersion = async (sh: (command: string) => Promise<string>) =>
  (await sh(`dpkg-query -W -f '\${Version}' ${PROBE} 2>/dev/null || true`)).trim();

beforeAll(async () => {
  for (const version of VERSIONS) buildProbe(version);
  const repo = join(build, 'repo');
  writeFileSync(
    join(repo, 'Packages'),
    execFileSync('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] }),
  );
  const { sh } = host();
  await sh('mkdir -p /srv/keel-pin-repo');
  for (const entry of readdirSync(repo)) {
    await sh(`echo ${readFileSync(join(repo, entry)).toString('base64')} | base64 -d > /srv/keel-pin-repo/${entry}`);
  }
  await sh('echo "deb [trusted=yes] file:/srv/keel-pin-repo ./" > /etc/apt/sources.list.d/keel-pin.list');
  await sh('apt-get update -q -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/keel-pin.list -o Dir::Etc::sourceparts=- >/dev/null');
});

describe('package versions on a real host', () => {
  it('keeps a pattern pin: the newest matching version, and a hand upgrade out of it is drift', async () => {
    const { transport, sh } = host();
    const pinned = pkg({ name: PROBE, version: '1.0.*' });
    const report = await testResource(pinned, transport, {
      drift: async () => void (await sh(`DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${PROBE}=1.1.0-1`)),
    });
    expect(report.firstPlan[0]!.changes).toEqual([{ field: PROBE, from: null, to: '1.0.2-1' }]);
    expect(report.driftPlan[0]!.changes).toEqual([{ field: PROBE, from: '1.1.0-1', to: '1.0.2-1' }]);
    expect(await installedVersion(sh)).toBe('1.0.2-1');
  });

  it('accepts any matching version that is installed, without an upgrade', async () => {
    const { transport, sh } = host();
    await sh(`DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades ${PROBE}=1.0.1-1`);
    expect((await runOnce('plan', [pkg({ name: PROBE, version: '1.0.*' })], transport)).resources[0]!.outcome).toBe('unchanged');
  });

  it('keeps latest: an upgrade the host lists offer is drift', async () => {
    const { transport, sh } = host();
    await sh(`DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ${PROBE}`);
    const latest = pkg({ name: PROBE, state: 'latest' });
    const report = await testResource(latest, transport, {
      drift: async () => void (await sh(`DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades ${PROBE}=1.0.2-1`)),
    });
    expect(report.driftPlan[0]!.changes).toEqual([{ field: PROBE, from: '1.0.2-1', to: '1.1.0-1' }]);
    expect(await installedVersion(sh)).toBe('1.1.0-1');
  });

  it('never refreshes the package lists in a plan', async () => {
    const { transport, sh } = host();
    const before = await sh('stat -c %Y /var/lib/apt/lists/_srv_keel-pin-repo_._Packages');
    await runOnce('plan', [pkg({ name: PROBE, version: '2.*' }), pkg({ name: 'ipvsadm', state: 'latest' })], transport);
    expect(await sh('stat -c %Y /var/lib/apt/lists/_srv_keel-pin-repo_._Packages')).toBe(before);
  });
});
