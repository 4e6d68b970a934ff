/**
 * The web host example (docs/examples/webhost) through the CLI on a real host: a signed repository of its tools
 * served from the lab's network, apply, check, a reboot, check again, and the host's state itself: the site
 * served on the default route's address only, the drop-in in effect, the cron file and the account.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveAptRepo } from '../../lab/aptRepo.js';
import { type ProcessRef, signal } from '../../lab/system.js';
import { keel } from '../support/cli.js';
import { useLabHost } from '../support/labHost.js';
import { buildSignedRepository } from '../support/signedAptRepo.js';

const host = useLabHost('webhost-example');
const RECIPE = 'docs/examples/webhost/webhost.ts';
const TOOLS_PORT = 8089;
const SITE_PORT = 8088;
const work = mkdtempSync(join(tmpdir(), 'keel-webhost-'));
let server: ProcessRef | undefined;
let inventory = '';

beforeAll(async () => {
  const { lab } = host();
  const repository = buildSignedRepository(work, 'webhost-tools');
  server = await serveAptRepo(lab.netns, lab.gateway, TOOLS_PORT, repository.dir, join(work, 'tools-repo.log'));
  inventory = join(lab.stateDir, 'webhost.yaml');
  writeFileSync(
    inventory,
    `${readFileSync(lab.inventoryPath, 'utf8')}vars:\n  toolsRepository: http://${lab.gateway}:${TOOLS_PORT}/\n  toolsKey: ${JSON.stringify(repository.key)}\n`,
  );
});

afterAll(() => {
  if (server) signal(server, 'SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

/** The site as a client on the lab's network gets it. */
function fetchSite(address: string): string {
  const { lab } = host();
  return execFileSync('ip', ['netns', 'exec', lab.netns, 'curl', '-sS', '--max-time', '10', `http://${address}:${SITE_PORT}/`]).toString();
}

describe('the web host example', () => {
  it('applies, then checks clean', () => {
    const { lab } = host();
    const name = lab.hosts[0]!.name;
    const apply = keel(['apply', RECIPE, '-i', inventory]);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    for (const id of ['user[webhost]', 'aptRepository[webhost]', 'package[webhost-tools]', 'template[/etc/nginx/sites-available/webhost]'])
      expect(apply.stdout).toContain(`${name}: ${id} changed`);
    expect(keel(['check', RECIPE, '-i', inventory])).toMatchObject({ code: 0, stdout: '' });
  });

  it('leaves the host serving the templated site on the address of the default route, as the recipe says', async () => {
    const { lab, sh } = host();
    const { name, address } = lab.hosts[0]!;
    expect(fetchSite(address)).toBe(`${name} at ${address}\n`);
    const listeners = (await sh(`ss -Htln 'sport = :${SITE_PORT}'`)).trim().split('\n');
    expect(listeners.map((line) => line.split(/\s+/)[3])).toEqual([`${address}:${SITE_PORT}`]);
    expect(await sh('cat /etc/nginx/sites-enabled/webhost')).toContain(`listen ${address}:${SITE_PORT};`);
    expect(await sh('systemctl show nginx -p DropInPaths -p LimitNOFILE -p Restart')).toBe(
      'Restart=on-failure\nLimitNOFILE=16384\nDropInPaths=/etc/systemd/system/nginx.service.d/10-webhost.conf\n',
    );
    // The handler restarted nginx after the drop-in: the running master has the limit, not only the unit.
    expect(await sh(`grep 'Max open files' /proc/$(systemctl show -p MainPID --value nginx)/limits`)).toMatch(/\s16384\s+16384\s/);
    expect(await sh('stat -c %U:%a /etc/cron.d/webhost-logs; cat /etc/cron.d/webhost-logs')).toBe(
      "root:644\n# Written by keel (cronJob webhost-logs).\n17 3 * * * root find /var/log/nginx -name 'webhost.*.gz' -mtime +14 -delete\n",
    );
    expect(await sh('getent passwd webhost | cut -d: -f6,7; id -gn webhost')).toBe('/srv/webhost:/usr/sbin/nologin\nwebhost\n');
    expect(await sh("dpkg-query -W -f '${Status}' webhost-tools")).toBe('install ok installed');
  });

  it('checks clean after a reboot, and the site is served again', async () => {
    const { lab, transport, sh } = host();
    const { name, address } = lab.hosts[0]!;
    // Field 22 of /proc/1/stat: when the container's init started, in clock ticks since the machine booted.
    const initStart = async () => (await sh('cat /proc/1/stat')).split(' ')[21];
    const before = await initStart();
    await transport.close();
    await lab.stop(name);
    await lab.start(name);
    expect(await initStart()).not.toBe(before);
    expect(keel(['check', RECIPE, '-i', inventory])).toMatchObject({ code: 0, stdout: '' });
    expect((await sh('systemctl is-active nginx')).trim()).toBe('active');
    expect(fetchSite(address)).toBe(`${name} at ${address}\n`);
    expect(await sh('systemctl show nginx -p LimitNOFILE')).toBe('LimitNOFILE=16384\n');
  });
});
