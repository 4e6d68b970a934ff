/**
 * The LVS-DR lab driven from an Ansible INI inventory, as an Ansible user would bring it: [directors] and
 * [realservers], ansible_host, ansible_user, ansible_ssh_private_key_file, and the ProxyCommand into the lab's
 * namespace in ansible_ssh_common_args. It is written from the lab's own inventory, so it names the same hosts,
 * key, known_hosts and proxy. keel repairs a drift through it, and check then exits 0.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type LvsLab, openLvsLab } from '../../lab/lvsLab.js';
import type { Report } from '../../src/report/json.js';
import { keel } from '../support/cli.js';

const RECIPES = ['recipes/director.ts', 'recipes/realserver.ts'];
const KEEL_TIMEOUT_MS = 900_000;

interface LabInventory {
  vars: Record<string, string>;
  groups: Record<string, { hosts: string[] }>;
  hosts: Record<string, { address: string }>;
  defaults: { user: string; identityFile: string; knownHostsFile: string; proxyCommand: string; connectTimeout: number };
}

/** The lab's inventory as Ansible's INI: hosts in no group first (ungrouped), then one section a group. */
function ansibleIni(lab: LvsLab): string {
  const inventory = parse(readFileSync(lab.inventoryPath, 'utf8')) as LabInventory;
  const grouped = new Set(Object.values(inventory.groups).flatMap((group) => group.hosts));
  const hostLine = (name: string) => `${name} ansible_host=${inventory.hosts[name]!.address}`;
  const { user, identityFile, knownHostsFile, proxyCommand, connectTimeout } = inventory.defaults;
  return [
    '# The LVS-DR lab, as an Ansible inventory.',
    ...Object.keys(inventory.hosts)
      .filter((name) => !grouped.has(name))
      .map(hostLine),
    '',
    ...Object.entries(inventory.groups).flatMap(([group, { hosts }]) => [`[${group}]`, ...hosts.map(hostLine), '']),
    '[all:vars]',
    ...Object.entries(inventory.vars).map(([key, value]) => `${key}=${value}`),
    `ansible_user=${user}`,
    `ansible_ssh_private_key_file=${identityFile}`,
    `ansible_ssh_common_args=-o ProxyCommand="${proxyCommand}" -o UserKnownHostsFile=${knownHostsFile}`,
    `ansible_ssh_timeout=${connectTimeout}`,
    '',
  ].join('\n');
}

function keelRun(mode: 'apply' | 'check', inventory: string): { code: number; report: Report; stderr: string } {
  const result = keel([mode, ...RECIPES, '-i', inventory, '--json', '-'], { timeoutMs: KEEL_TIMEOUT_MS });
  if (result.stdout.trim() === '') throw new Error(`keel ${mode} wrote no report (exit ${result.code}):\n${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
}

function changed(report: Report): string[] {
  return report.hosts.flatMap((host) => host.resources.filter((r) => r.outcome === 'changed').map((r) => `${host.host} ${r.id}`)).sort();
}

describe('the LVS-DR lab from an Ansible INI inventory', () => {
  let lab: LvsLab;
  let inventory: string;

  beforeAll(() => {
    lab = openLvsLab();
    inventory = join(mkdtempSync(join(tmpdir(), 'keel-ansible-lab-')), 'hosts.ini');
    writeFileSync(inventory, ansibleIni(lab));
  });

  it('names the same hosts, groups and vars as the lab inventory', () => {
    const fromIni = JSON.parse(keel(['inventory', 'list', '-i', inventory, '--json']).stdout);
    const fromKeel = JSON.parse(keel(['inventory', 'list', '-i', lab.inventoryPath, '--json']).stdout);
    // Ansible puts a host of no group in its implicit group `ungrouped`; keel's own inventory has none.
    expect(fromIni.hosts.client.groups).toEqual(['ungrouped']);
    fromIni.hosts.client.groups = [];
    expect(fromIni.hosts).toEqual(fromKeel.hosts);
    expect(Object.keys(fromIni.hosts)).toEqual(['client', 'director', 'rs1', 'rs2']);
  });

  it('converges the lab, then checks clean', async () => {
    const before = keelRun('apply', inventory);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stderr).not.toContain('warning');
    expect(before.report.hosts.map((host) => host.host).sort()).toEqual(['director', 'rs1', 'rs2']);

    await lab.output('rs1', 'sysctl -qw net.ipv4.conf.all.arp_ignore=0');
    const repair = keelRun('apply', inventory);
    expect(repair.code, repair.stderr).toBe(0);
    expect(changed(repair.report)).toEqual(['rs1 sysctl[net.ipv4.conf.all.arp_ignore]']);
    expect((await lab.output('rs1', 'sysctl -n net.ipv4.conf.all.arp_ignore')).trim()).toBe('1');

    const check = keelRun('check', inventory);
    expect(check.code, check.stderr).toBe(0);
  });
});
