/**
 * The keel CLI over real SSH against lab hosts (sshd in network namespaces, reached through the lab's
 * ProxyCommand), several at once. sysctls under net.* are per namespace, so the machine's own are never touched.
 * HOME is a temporary directory, so ~/.ssh is the test's own.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import type { Report } from '../../src/report/json.js';
import { DR_SYSCTLS_RECIPE, keel, recipeProject } from '../support/cli.js';
import { generateKey } from '../support/sshd.js';

const KEYS = ['net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.eth0.arp_ignore'];
const SYSCTL_FILE = '/etc/sysctl.d/60-dr.conf';

let lab: Lab;
let project: string;
let home: string;

function inventory(file: string, options: { knownHosts?: boolean; extraHosts?: Record<string, Record<string, string>> } = {}): string {
  const lines = [
    'defaults:',
    '  user: root',
    `  identityFile: ${lab.keyPath}`,
    ...(options.knownHosts === false ? [] : [`  knownHostsFile: ${lab.knownHostsPath}`]),
    `  proxyCommand: ${lab.proxyCommand}`,
    'vars:',
    '  lanInterface: eth0',
    `  sysctlFile: ${SYSCTL_FILE}`,
    'hosts:',
    ...lab.hosts.flatMap((host) => [`  ${host.name}:`, `    address: ${host.address}`]),
    ...Object.entries(options.extraHosts ?? {}).flatMap(([name, settings]) => [
      `  ${name}:`,
      ...Object.entries(settings).map(([key, value]) => `    ${key}: ${value}`),
    ]),
  ];
  const path = join(project, file);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const run = (args: string[]) => keel(args, { cwd: project, env: { HOME: home } });
const report = (file: string): Report => JSON.parse(readFileSync(join(project, file), 'utf8')) as Report;

async function sysctls(host: string): Promise<string[]> {
  const result = await lab.exec(host, `sysctl -n ${KEYS.join(' ')}`);
  return result.stdout.trim().split('\n');
}

beforeAll(async () => {
  lab = await startHosts({ lab: 'ssh-fleet', count: 4, kind: 'light' });
  home = mkdtempSync(join(tmpdir(), 'keel-home-'));
  project = recipeProject({
    'recipes/dr.ts': DR_SYSCTLS_RECIPE,
  });
});

afterAll(async () => {
  await lab?.down();
});

describe('plan, apply, plan over SSH on 4 hosts at once', () => {
  it('plan lists every change on every host and changes nothing', async () => {
    const before = await Promise.all(lab.hosts.map((host) => sysctls(host.name)));
    const plan = run(['plan', 'recipes/dr.ts', '-i', inventory('lab.yaml')]);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    for (const host of lab.hosts) {
      expect(plan.stdout.split('\n').filter((line) => line.startsWith(`${host.name}: `) && line.includes(' will change: '))).toHaveLength(
        3,
      );
    }
    expect(plan.stdout).toMatch(/^plan: 4 hosts .*12 to change.*exit 2$/m);
    expect(await Promise.all(lab.hosts.map((host) => sysctls(host.name)))).toEqual(before);
  });

  it('apply makes the changes on every host, in parallel, and leaves this machine alone', async () => {
    const own = execFileSync('sysctl', ['-n', ...KEYS], { encoding: 'utf8' });
    const apply = run(['apply', 'recipes/dr.ts', '-i', inventory('lab.yaml'), '--json', 'apply.json']);
    expect(apply.code).toBe(0);
    const summary = report('apply.json');
    expect(summary.hosts.map((host) => [host.host, host.outcome, host.counts.changed])).toEqual(
      lab.hosts.map((host) => [host.name, 'ok', 3]),
    );
    const hostTime = summary.hosts.reduce((sum, host) => sum + host.durationMs, 0);
    expect(summary.durationMs).toBeLessThan(hostTime * 0.75);
    for (const host of lab.hosts) {
      expect(await sysctls(host.name)).toEqual(['1', '2', '1']);
      expect((await lab.exec(host.name, `cat ${SYSCTL_FILE}`)).stdout).toBe(
        'net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.all.arp_announce = 2\nnet.ipv4.conf.eth0.arp_ignore = 1\n',
      );
    }
    expect(execFileSync('sysctl', ['-n', ...KEYS], { encoding: 'utf8' })).toBe(own);
  });

  it('a second plan is empty', () => {
    const plan = run(['plan', 'recipes/dr.ts', '-i', inventory('lab.yaml')]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^plan: 4 hosts \(4 ok\); resources: 12 unchanged, 0 to change, 0 failed/);
  });

  it('a no-change check is silent and opens exactly one exec channel per host', () => {
    const check = run(['check', 'recipes/dr.ts', '-i', inventory('lab.yaml'), '--json', 'check.json']);
    expect(check).toMatchObject({ code: 0, stdout: '' });
    expect(report('check.json').hosts.map((host) => [host.host, host.execs])).toEqual(
      lab.hosts.map((host) => [host.name, { total: 1, read: 1 }]),
    );
  });
});

describe('hosts that cannot be reached', () => {
  it('reports an unreachable address and a refused key per host while the others finish, with exit bit 8', () => {
    const wrongKey = join(mkdtempSync(join(tmpdir(), 'keel-key-')), 'id_wrong');
    generateKey(wrongKey);
    const [first] = lab.hosts;
    // Inside the lab's subnet, but no host has it: ARP gets no answer in the lab namespace.
    const missing = first!.address.replace(/\.\d+$/, '.250');
    const file = inventory('broken.yaml', {
      extraHosts: {
        ghost: { address: missing, connectTimeout: '8' },
        impostor: { address: first!.address, identityFile: wrongKey },
      },
    });
    const check = run(['check', 'recipes/dr.ts', '-i', file, '--json', 'broken.json']);
    expect(check.code & 8).toBe(8);
    expect(check.code & 4).toBe(0);
    const hosts = report('broken.json').hosts;
    expect(hosts.filter((host) => host.outcome === 'ok').map((host) => host.host)).toEqual(lab.hosts.map((host) => host.name));
    const ghost = hosts.find((host) => host.host === 'ghost')!;
    expect(ghost.outcome).toBe('unreachable');
    expect(ghost.error).toBe(
      `ghost (${missing}:22): proxy command (${lab.proxyCommand.replace('%h %p', `${missing} 22`)}) exited with code 1`,
    );
    const impostor = hosts.find((host) => host.host === 'impostor')!;
    expect(impostor).toMatchObject({
      outcome: 'unreachable',
      error: `impostor: authentication failed as root (tried publickey with ${wrongKey})`,
    });
    expect(check.stdout).toContain(`impostor: unreachable: impostor: authentication failed as root`);
    expect(check.stdout).toContain(`ghost: unreachable: ghost (${missing}:22): `);
  });
});

describe('host keys through the CLI', () => {
  it('refuses unknown hosts, records them with --accept-new into --known-hosts, and trusts them next time', () => {
    const file = inventory('tofu.yaml', { knownHosts: false });
    const knownHosts = join(home, 'fleet_known_hosts');
    const refused = run(['check', 'recipes/dr.ts', '-i', file, '--known-hosts', knownHosts]);
    expect(refused.code).toBe(8);
    for (const host of lab.hosts) {
      expect(refused.stdout).toContain(
        `${host.name}: unreachable: ${host.name}: host key for ${host.address} is not known; run with --accept-new to trust it (ssh-ed25519 SHA256:`,
      );
    }
    const accepted = run(['check', 'recipes/dr.ts', '-i', file, '--known-hosts', knownHosts, '--accept-new']);
    expect(accepted).toMatchObject({ code: 0, stdout: '' });
    const recorded = readFileSync(knownHosts, 'utf8').trim().split('\n').sort();
    expect(recorded).toEqual(readFileSync(lab.knownHostsPath, 'utf8').trim().split('\n').sort());
    expect(run(['check', 'recipes/dr.ts', '-i', file, '--known-hosts', knownHosts])).toMatchObject({ code: 0, stdout: '' });
  });
});
