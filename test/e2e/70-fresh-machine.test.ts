/**
 * The README's first command on a machine without the lab's Debian packages. In a mount namespace whose /usr,
 * /etc, /var/lib, /var/cache, /var/log and /root are overlays (test/support/sandbox.ts), apt-get purges every
 * lab package this machine can lose without taking anything of its own base with it, and keel's and npm's caches
 * are removed. Then a copy of the checkout runs, as root: `npm run demo -- --no-install` (exit 1 with the one
 * apt-get line), and `npm ci && npm run demo` as the README says, which must install the packages and end with
 * "Direct routing works". The demo's lab has a name of its own, beside the lab the other e2e files share.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aptGetInstallLine, findMissing, readPackageList } from '../../lab/preflight.js';
import { REPO } from '../support/cli.js';
import { runInSandbox } from '../support/sandbox.js';

const LAB = 'fresh';
const packages = readPackageList();
const listed = new Set(packages.map((pkg) => pkg.name));
const installedAutomatically = new Set(spawnSync('apt-mark', ['showauto'], { encoding: 'utf8' }).stdout.split('\n'));

/** Whether apt-get would purge this package taking with it only listed and automatically installed packages, and nothing essential. */
function removableAlone(name: string): boolean {
  const simulation = spawnSync('apt-get', ['-s', 'purge', name], { encoding: 'utf8' });
  const removed = [...simulation.stdout.matchAll(/^Purg (\S+)/gm)].map((match) => match[1]!);
  return (
    removed.includes(name) &&
    removed.every((other) => listed.has(other) || installedAutomatically.has(other)) &&
    !/essential packages will be removed/.test(simulation.stdout)
  );
}

function labDown(): void {
  spawnSync('npx', ['tsx', 'lab/cli.ts', 'down'], { cwd: REPO, env: { ...process.env, KEEL_LVS_LAB: LAB }, stdio: 'ignore' });
}

afterAll(labDown);

describe('a fresh machine', () => {
  it('npm ci && npm run demo installs the missing Debian packages and converges the lab', { timeout: 3_600_000 }, () => {
    const removable = packages.filter((pkg) => pkg.scope === 'lab' && removableAlone(pkg.name));
    expect(removable.map((pkg) => pkg.name)).toEqual(
      expect.arrayContaining(['debootstrap', 'qemu-system-x86', 'qemu-utils', 'systemd-container', 'openssh-server']),
    );
    const names = removable.map((pkg) => pkg.name).join(' ');
    // The line the preflight must print once they are gone: the removed packages, and only them, in the list's order.
    const expectedLine = aptGetInstallLine(removable.map((pkg) => ({ package: pkg, absent: pkg.proofs })));

    const work = mkdtempSync('/var/tmp/keel-fresh-');
    const checkout = join(work, 'keel');
    mkdirSync(checkout);
    // The checkout's tracked files as they are in the working tree, without node_modules or dist.
    const copy = spawnSync('sh', ['-c', `git ls-files -z | tar --null -T - -cf - | tar -xf - -C ${checkout}`], { cwd: REPO });
    expect(copy.status, String(copy.stderr)).toBe(0);
    const script = `
# Maintainer scripts must neither stop nor start this machine's own services.
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
export DEBIAN_FRONTEND=noninteractive KEEL_LVS_LAB=${LAB}
apt-get purge -y -q --auto-remove ${names} > /tmp/purge.log 2>&1 || { cat /tmp/purge.log; exit 1; }
rm -rf /root/.cache/keel /root/.npm
for program in debootstrap qemu-system-x86_64 systemd-nspawn sshd; do if command -v $program; then echo "still here: $program"; exit 1; fi; done
echo "== removed: ${names}"
npm ci --no-audit --no-fund > /tmp/npm-ci.log 2>&1 || { cat /tmp/npm-ci.log; exit 1; }
echo "== demo --no-install"
set +e
npm run --silent demo -- --no-install
echo "== exit $?"
set -e
echo "== demo"
npm run --silent demo
echo "== installed"
dpkg-query -W -f '\${Package} \${Status}\\n' ${names}
npx tsx lab/cli.ts down
`;
    try {
      const run = runInSandbox(script, checkout, {
        overlays: ['/usr', '/var/cache', '/var/log', '/root'],
        timeoutMs: 3_000_000,
      });
      mkdirSync(join(REPO, 'test-artifacts'), { recursive: true });
      writeFileSync(join(REPO, 'test-artifacts/fresh-machine.log'), run.output);
      const tail = run.output.slice(-4000);
      expect(run.code, tail).toBe(0);

      const [, noInstall = '', demo = '', installed = ''] = run.output.split(/^== (?:demo --no-install|demo|installed)\n/m);
      expect(noInstall, tail).toContain(`Install them as root with:\n  ${expectedLine}\n`);
      expect(noInstall).toMatch(/^== exit 1$/m);
      expect(noInstall).not.toMatch(/\n\s+at /);

      expect(demo).toContain('Installing the Debian packages the lab needs and does not find here:');
      expect(demo).toContain('$ apt-get update -q');
      expect(demo).toContain(`$ ${expectedLine}`);
      expect(demo.match(/image \S+ with debootstrap/g), 'the image is built, and said once').toHaveLength(1);
      expect(demo).toMatch(/Direct routing works: requests alternate between rs1 and rs2/);
      for (const pkg of removable) expect(installed).toContain(`${pkg.name} install ok installed`);
      // The purge stayed inside the sandbox: this machine itself still has every package.
      expect(findMissing(removable, 'lab').map((missing) => missing.package.name)).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
