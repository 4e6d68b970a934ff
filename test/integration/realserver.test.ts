/**
 * recipes/realserver.ts converging two real hosts (nspawn containers with systemd, sshd and the lab's apt
 * repository) through the real CLI over SSH; a second apply changes nothing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import { keel } from '../support/cli.js';

const VIP = '10.77.0.100';
const HTTP_GET = (address: string): string =>
  `exec 3<>/dev/tcp/${address}/80 && printf 'GET / HTTP/1.0\\r\\nHost: lab\\r\\n\\r\\n' >&3 && cat <&3`;

let lab: Lab;
let inventory: string;

beforeAll(async () => {
  lab = await startHosts({ lab: 'recipe-rs', names: ['rs1', 'rs2'] });
  // The lab's own inventory says how to reach the hosts; the recipe's group and vars are added to it.
  inventory = join(mkdtempSync(join(tmpdir(), 'keel-realserver-')), 'lab.yaml');
  const vars = `groups:\n  realservers:\n    hosts: [rs1, rs2]\nvars:\n  vip: ${VIP}\n  lanInterface: eth0\n`;
  writeFileSync(inventory, `${readFileSync(lab.inventoryPath, 'utf8')}${vars}`);
});

afterAll(async () => {
  await lab?.down();
});

async function onHost(host: string, command: string): Promise<string> {
  const result = await lab.exec(host, `bash -c ${JSON.stringify(command)}`);
  if (result.code !== 0) throw new Error(`${command} on ${host} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

describe('recipes/realserver.ts on two real hosts over SSH', () => {
  it('plans the page and the service as pending on the nginx package', () => {
    const plan = keel(['plan', 'recipes/realserver.ts', '-i', inventory]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('rs1: file[/var/www/html/index.html] pending on package[nginx]');
    expect(plan.stdout).toContain('rs2: service[nginx] pending on package[nginx]');
  });

  it('converges them: ARP sysctls, the VIP on lo:8, nginx serving a page that names the host', () => {
    const apply = keel(['apply', 'recipes/realserver.ts', '-i', inventory]);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const changed = (host: string): string[] =>
      apply.stdout.split('\n').flatMap((line) => (line.startsWith(`${host}: `) && / changed(:|$)/.test(line) ? [line.split(' ')[1]!] : []));
    for (const host of ['rs1', 'rs2']) {
      // Debian's nginx package starts and enables nginx itself, so service[nginx] then finds nothing to do.
      expect(changed(host)).toEqual([
        'sysctl[net.ipv4.conf.eth0.arp_ignore]',
        'sysctl[net.ipv4.conf.eth0.arp_announce]',
        'sysctl[net.ipv4.conf.all.arp_ignore]',
        'sysctl[net.ipv4.conf.all.arp_announce]',
        'ifaceAlias[10.77.0.100@lo]',
        'package[nginx]',
        'file[/var/www/html/index.html]',
      ]);
    }
    expect(apply.stdout).toContain('rs1: ifaceAlias[10.77.0.100@lo] changed: address: "absent" → "present", persisted: "no" → "yes"');
    expect(apply.stdout.trim().split('\n').at(-1)).toMatch(/^apply: 2 hosts \(2 ok\); resources: 2 unchanged, 14 changed, 0 failed/);
  });

  it('leaves each host answering for itself, on its own address and on the VIP', async () => {
    for (const host of lab.hosts) {
      expect(await onHost(host.name, HTTP_GET(host.address))).toMatch(new RegExp(`\\r\\n\\r\\nfrom ${host.name}\\n$`));
      expect(await onHost(host.name, HTTP_GET(VIP))).toMatch(new RegExp(`from ${host.name}\\n$`));
      expect(await onHost(host.name, 'ip -o -4 addr show dev lo')).toMatch(/inet 10\.77\.0\.100\/32 scope global lo:8/);
      expect(await onHost(host.name, 'cat /proc/sys/net/ipv4/conf/all/arp_ignore /proc/sys/net/ipv4/conf/eth0/arp_announce')).toBe(
        '1\n2\n',
      );
      expect(await onHost(host.name, 'cat /etc/sysctl.d/60-lvs-dr.conf')).toContain('net.ipv4.conf.eth0.arp_ignore = 1');
      expect((await onHost(host.name, 'systemctl is-enabled nginx keel-addr-lo-10.77.0.100.service')).split('\n')).toEqual([
        'enabled',
        'enabled',
        '',
      ]);
    }
  });

  it('reports 0 changes on a second apply', () => {
    const again = keel(['apply', 'recipes/realserver.ts', '-i', inventory]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim().split('\n').at(-1)).toMatch(/^apply: 2 hosts \(2 ok\); resources: 16 unchanged, 0 changed, 0 failed/);
  });
});
