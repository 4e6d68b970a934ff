/**
 * `--tags` and `--skip-tags` on the two LVS recipes, through the real CLI over SSH, on three containers (a director
 * and two real servers; IPVS itself needs the lab's VM, so its resources are always left out here). What was read
 * is taken from `-v`, which prints every section sent; what was changed from the JSON report and the hosts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import type { Report } from '../../src/report/json.js';
import { keel } from '../support/cli.js';

const RECIPES = ['recipes/director.ts', 'recipes/realserver.ts'];
const VIP = '10.77.0.100';

let lab: Lab;
let inventory: string;

beforeAll(async () => {
  lab = await startHosts({ lab: 'tags', names: ['director', 'rs1', 'rs2'] });
  inventory = join(mkdtempSync(join(tmpdir(), 'keel-tags-')), 'lab.yaml');
  const lvs = `groups:\n  directors:\n    hosts: [director]\n  realservers:\n    hosts: [rs1, rs2]\nvars:\n  vip: ${VIP}\n  lanInterface: eth0\n`;
  writeFileSync(inventory, `${readFileSync(lab.inventoryPath, 'utf8')}${lvs}`);
});

afterAll(async () => {
  await lab?.down();
});

interface Run {
  code: number;
  report: Report;
  /** The plain lines (`-v`), on stderr since the report takes stdout. */
  text: string;
}

function keelJson(mode: 'plan' | 'apply' | 'check', args: string[]): Run {
  const result = keel([mode, ...RECIPES, '-i', inventory, '-v', '--json', '-', ...args], { timeoutMs: 600_000 });
  if (result.stdout.trim() === '') throw new Error(`keel ${mode} wrote no report (exit ${result.code}):\n${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as Report, text: result.stderr };
}

/** `host id` of every resource whose read went out, from `-v`'s section lines. */
function reads(run: Run): string[] {
  const found = new Set<string>();
  for (const match of run.text.matchAll(/^(\S+): {3}read (\S+)$/gm)) found.add(`${match[1]} ${match[2]}`);
  return [...found].sort();
}

function withOutcome(run: Run, outcome: string): string[] {
  return run.report.hosts.flatMap((host) => host.resources.filter((r) => r.outcome === outcome).map((r) => `${host.host} ${r.id}`)).sort();
}

async function onHost(host: string, command: string): Promise<{ code: number; stdout: string }> {
  return lab.exec(host, command);
}

const ARP = ['eth0.arp_ignore', 'eth0.arp_announce', 'all.arp_ignore', 'all.arp_announce'].map((key) => `sysctl[net.ipv4.conf.${key}]`);
const FORWARDING = ['sysctl[net.ipv4.ip_forward]', 'sysctl[net.ipv4.conf.all.send_redirects]', 'sysctl[net.ipv4.conf.eth0.send_redirects]'];

describe('--tags and --skip-tags on the LVS recipes', () => {
  it('plan --tags vip reads only the VIP of each host, and says how many it left out', () => {
    const plan = keelJson('plan', ['--tags', 'vip']);
    expect(plan.code).toBe(2);
    expect(reads(plan)).toEqual([`director ifaceAlias[${VIP}@eth0]`, `rs1 ifaceAlias[${VIP}@lo]`, `rs2 ifaceAlias[${VIP}@lo]`]);
    expect(plan.report.hosts.map((host) => [host.host, host.resources.map((r) => r.id), host.leftOut?.length, host.execs.read])).toEqual([
      ['director', [`ifaceAlias[${VIP}@eth0]`], 7, 1],
      ['rs1', [`ifaceAlias[${VIP}@lo]`], 7, 1],
      ['rs2', [`ifaceAlias[${VIP}@lo]`], 7, 1],
    ]);
    expect(plan.report.hosts[0]!.leftOut).toEqual([
      ...FORWARDING,
      'package[ipvsadm]',
      'kernelModule[ip_vs]',
      'sysctl[net.ipv4.vs.expire_nodest_conn]',
      'ipvsRule[web]',
    ]);
    expect(plan.text.trimEnd().split('\n').at(-1)).toMatch(
      /^plan: 3 hosts \(3 ok\); resources: 0 unchanged, 3 to change, 0 failed, 21 left out in /,
    );
  });

  it('-e vip=… overrides the inventory’s VIP in the plan', () => {
    const plan = keel(['plan', ...RECIPES, '-i', inventory, '--tags', 'vip', '-e', 'vip=10.77.0.101']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('director: ifaceAlias[10.77.0.101@eth0] will change: address: "absent" → "present"');
    expect(plan.stdout).toContain('rs2: ifaceAlias[10.77.0.101@lo] will change');
    expect(plan.stdout).not.toContain(VIP);
  });

  it('apply --skip-tags ipvs,web changes the rest and never reads, installs or starts what it left out', async () => {
    const apply = keelJson('apply', ['--skip-tags', 'ipvs,web']);
    expect(apply.code).toBe(0);
    const taken = {
      director: [`ifaceAlias[${VIP}@eth0]`, ...FORWARDING],
      rs1: [...ARP, `ifaceAlias[${VIP}@lo]`],
      rs2: [...ARP, `ifaceAlias[${VIP}@lo]`],
    };
    const expected = Object.entries(taken)
      .flatMap(([host, ids]) => ids.map((id) => `${host} ${id}`))
      .sort();
    expect(withOutcome(apply, 'changed')).toEqual(expected);
    expect(reads(apply)).toEqual(expected);
    expect(apply.report.hosts.map((host) => host.leftOut)).toEqual([
      ['package[ipvsadm]', 'kernelModule[ip_vs]', 'sysctl[net.ipv4.vs.expire_nodest_conn]', 'ipvsRule[web]'],
      ['package[nginx]', 'file[/var/www/html/index.html]', 'service[nginx]'],
      ['package[nginx]', 'file[/var/www/html/index.html]', 'service[nginx]'],
    ]);
    expect((await onHost('director', 'cat /proc/sys/net/ipv4/ip_forward')).stdout).toBe('1\n');
    expect((await onHost('director', 'command -v ipvsadm')).code).not.toBe(0);
    expect((await onHost('rs1', 'dpkg-query -W -f "${Status}" nginx 2>/dev/null')).stdout).not.toContain('install ok installed');
  });

  it('a resource that requires one left out is warned of, naming both', () => {
    const plan = keel(['plan', ...RECIPES, '-i', inventory, '--tags', 'web', '--skip-tags', 'packages']);
    expect(plan.stderr).toContain(
      'keel: warning: --tags web --skip-tags packages: file[/var/www/html/index.html] requires package[nginx], which the selection leaves out (rs1, rs2); file[/var/www/html/index.html] is read and changed without it\n',
    );
    expect(plan.stderr).toContain('service[nginx] requires package[nginx], which the selection leaves out (rs1, rs2)');
    expect(plan.stdout).not.toContain('package[nginx]');
  });

  it('apply --tags realserver converges the real servers and leaves the director uncontacted', async () => {
    const apply = keelJson('apply', ['--tags', 'realserver']);
    expect(apply.code).toBe(0);
    expect(withOutcome(apply, 'changed')).toEqual([
      'rs1 file[/var/www/html/index.html]',
      'rs1 package[nginx]',
      'rs2 file[/var/www/html/index.html]',
      'rs2 package[nginx]',
    ]);
    const director = apply.report.hosts.find((host) => host.host === 'director')!;
    expect(director).toMatchObject({ outcome: 'ok', resources: [], execs: { total: 0, read: 0 } });
    expect(director.leftOut).toHaveLength(8);
    expect(reads(apply).filter((read) => read.startsWith('director '))).toEqual([]);
    expect((await onHost('rs1', 'cat /var/www/html/index.html')).stdout).toBe('from rs1\n');
  });

  it('check --skip-tags ipvs then finds everything it takes in sync', () => {
    const check = keel(['check', ...RECIPES, '-i', inventory, '--skip-tags', 'ipvs']);
    expect(check).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('a tag no resource carries stops the run before any host is contacted', () => {
    const typo = keel(['plan', ...RECIPES, '-i', inventory, '--tags', 'wbe']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(
      /^--tags wbe: no resource of the selected hosts carries "wbe" \(their tags: arp, director, forwarding, ipvs, lvs, packages, realserver, vip, web\)\n$/,
    );
  });
});
