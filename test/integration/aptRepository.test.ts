/**
 * aptRepository against a real host: a flat repository signed with a key generated here, its source and key
 * written, `apt-get update` for that source alone, and a package that requires it installed from it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aptRepository } from '../../src/resources/aptRepository.js';
import { pkg } from '../../src/resources/package.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';
import { buildSignedRepository, generateKey } from '../support/signedAptRepo.js';

const host = useLabHost('res-apt-repository');
const PROBE = 'keel-signed-probe';
const work = mkdtempSync(join(tmpdir(), 'keel-apt-repository-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let armoredKey = '';

beforeAll(async () => {
  const { dir: repo, key } = buildSignedRepository(work, PROBE);
  armoredKey = key;
  const { sh } = host();
  await sh('mkdir -p /srv/keel-signed-repo');
  for (const entry of readdirSync(repo)) {
    await sh(`echo ${readFileSync(join(repo, entry)).toString('base64')} | base64 -d > /srv/keel-signed-repo/${entry}`);
  }
});

describe('aptRepository on a real host', () => {
  it('writes the source and its key, updates that source alone, and a package that requires it installs', async () => {
    const { transport, sh } = host();
    const otherLists = await sh('ls /var/lib/apt/lists');
    const repository = aptRepository({ name: 'keel-signed', uris: ['file:/srv/keel-signed-repo'], suites: ['./'], key: armoredKey });
    const probe = pkg({ name: PROBE }, { requires: repository });
    const report = await testResource([repository, probe], transport, {
      drift: async () => {
        await sh(`DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ${PROBE}`);
        await sh(`sed -i 's|^URIs: .*|URIs: file:/srv/elsewhere|' /etc/apt/sources.list.d/keel-signed.sources`);
      },
    });
    // A plan never refreshes the lists, so the package is not known yet: it will be after the source's update.
    expect(report.firstPlan[1]!.changes).toEqual([{ field: PROBE, from: null, to: 'present' }]);
    const drift = report.driftPlan[0]!.changes;
    expect(drift.map((change) => change.field)).toEqual(['source']);
    expect(drift[0]!.patch).toContain('-URIs: file:/srv/elsewhere\n+URIs: file:/srv/keel-signed-repo');
    expect(await sh('cat /etc/apt/sources.list.d/keel-signed.sources')).toBe(
      'Types: deb\nURIs: file:/srv/keel-signed-repo\nSuites: ./\nSigned-By: /etc/apt/keyrings/keel-signed.asc\n',
    );
    expect(await sh(`dpkg-query -W -f '\${Status}' ${PROBE}`)).toBe('install ok installed');
    const lists = await sh('ls /var/lib/apt/lists');
    for (const list of otherLists.split('\n').filter((name) => name.endsWith('Packages'))) expect(lists).toContain(list);
  });

  it('fails the update when the key does not match the signature, naming apt-get', async () => {
    const { transport } = host();
    const wrongKey = generateKey(work, 'other@localhost');
    const repository = aptRepository({
      name: 'keel-wrong',
      uris: ['file:/srv/keel-signed-repo'],
      suites: ['./'],
      key: wrongKey,
      format: 'oneLine',
    });
    const result = (await runOnce('apply', [repository], transport)).resources[0]!;
    expect(result).toMatchObject({ outcome: 'failed', error: { phase: 'apply' } });
    expect(result.error!.command).toContain('apt-get update');
    expect(result.error!.stderr).toMatch(/NO_PUBKEY|not signed/);
    const again = (await runOnce('plan', [repository], transport)).resources[0]!;
    expect(again.changes.map((change) => change.field)).toEqual(['source']);
  });

  it('removes the source and its key with state absent', async () => {
    const { transport, sh } = host();
    const gone = [
      aptRepository({ name: 'keel-signed', state: 'absent' }),
      aptRepository({ name: 'keel-wrong', state: 'absent', format: 'oneLine' }),
    ];
    expect((await runOnce('apply', gone, transport)).resources.map((result) => result.outcome)).toEqual(['changed', 'changed']);
    expect(await sh('ls /etc/apt/sources.list.d /etc/apt/keyrings')).not.toContain('keel-');
    expect((await runOnce('plan', gone, transport)).resources.map((result) => result.outcome)).toEqual(['unchanged', 'unchanged']);
  });
});
