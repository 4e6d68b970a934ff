/**
 * The recipes against real kernels: a director VM with IPVS, two real servers and a client on one
 * bridge. keel does all configuring, through its CLI and over SSH; the lab's `exec` only makes drift
 * and looks. Traffic goes only to the lab's hosts, inside its network namespaces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LvsLab, openLvsLab } from '../../lab/lvsLab.js';
import { alternates, interfaceMac, observeTraffic, type Traffic } from '../../lab/traffic.js';
import type { Report } from '../../src/report/json.js';
import { keel } from '../support/cli.js';

const VIP = '192.168.9.100';
const RECIPES = ['recipes/director.ts', 'recipes/realserver.ts'];
const REQUESTS = 10;
const KEEL_TIMEOUT_MS = 900_000;

const timings: [string, number][] = [];
let lab: LvsLab;
let directorMac: string;

async function timed<T>(label: string, work: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings.push([label, Date.now() - started]);
    console.log(`[e2e] ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

interface KeelRun {
  code: number;
  report: Report;
  text: string;
}

function keelRun(mode: 'apply' | 'check'): KeelRun {
  const result = keel([mode, ...RECIPES, '-i', lab.inventoryPath, '--json', '-'], { timeoutMs: KEEL_TIMEOUT_MS });
  if (result.stdout.trim() === '') throw new Error(`keel ${mode} wrote no report (exit ${result.code}):\n${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as Report, text: result.stderr };
}

/** `host resource-id` of every resource with this outcome. */
function withOutcome(report: Report, outcome: string): string[] {
  return report.hosts.flatMap((host) => host.resources.filter((r) => r.outcome === outcome).map((r) => `${host.host} ${r.id}`)).sort();
}

function total(report: Report, count: 'changed' | 'failed' | 'drifted'): number {
  return report.hosts.reduce((sum, host) => sum + host.counts[count], 0);
}

async function traffic(): Promise<Traffic> {
  return observeTraffic(lab, { client: 'client', vip: VIP, requests: REQUESTS });
}

function alternatesBetweenRealServers(answers: string[]): boolean {
  return answers.length === REQUESTS && alternates(answers, ['rs1', 'rs2']);
}

function expectHealthyTraffic(seen: Traffic): void {
  expect(seen.answers, 'answers alternate between rs1 and rs2').toSatisfy(alternatesBetweenRealServers);
  expect(seen.neighbour, "the client's neighbour entry for the VIP").toBe(directorMac);
  expect(seen.arpResponders, 'ARP responders for the VIP').toEqual([directorMac]);
}

/** Per-real-server counters of `ipvsadm -Ln --stats --exact`. */
function realServerStats(text: string): Map<string, { conns: number; outPkts: number }> {
  const stats = new Map<string, { conns: number; outPkts: number }>();
  for (const match of text.matchAll(/^\s+->\s+(\d+\.\d+\.\d+\.\d+):\d+\s+(\d+)\s+(\d+)\s+(\d+)/gm)) {
    stats.set(match[1]!, { conns: Number(match[2]), outPkts: Number(match[4]) });
  }
  return stats;
}

describe('LVS-DR on real kernels, converged by keel over SSH', () => {
  beforeAll(async () => {
    lab = openLvsLab();
    directorMac = await interfaceMac(lab, 'director');
  });

  afterAll(async () => {
    console.log(
      `[e2e] timings:\n${timings.map(([label, ms]) => `  ${label.padEnd(48)} ${(ms / 1000).toFixed(1).padStart(6)} s`).join('\n')}`,
    );
  });

  it('1. converges the cluster from nothing', async () => {
    const run = await timed('converge from nothing', () => keelRun('apply'));
    expect(run.code, run.text).toBe(0);
    expect(total(run.report, 'failed')).toBe(0);
    expect(withOutcome(run.report, 'changed')).toEqual(
      expect.arrayContaining(['director package[ipvsadm]', 'director ipvsRule[web]', 'rs1 package[nginx]', 'rs2 package[nginx]']),
    );
  });

  it('2–3. the client reaches rs1 and rs2 in turn through the VIP, and only the director answers ARP for it', async () => {
    expectHealthyTraffic(await traffic());
  });

  it('4. the director counts connections on both real servers and sends no replies (OutPkts 0)', async () => {
    let stats = new Map<string, { conns: number; outPkts: number }>();
    // IPVS folds its per-CPU counters into these every two seconds.
    for (let attempt = 0; attempt < 10; attempt++) {
      stats = realServerStats(await lab.output('director', 'ipvsadm -Ln --stats --exact'));
      if ([...stats.values()].every((entry) => entry.conns > 0) && stats.size === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect([...stats.keys()].sort()).toEqual([lab.address('rs1'), lab.address('rs2')]);
    for (const entry of stats.values()) {
      expect(entry.conns).toBeGreaterThan(0);
      expect(entry.outPkts).toBe(0);
    }
  });

  it('5. a second apply changes nothing and check finds no drift', async () => {
    const again = await timed('second apply', () => keelRun('apply'));
    expect(again.code, again.text).toBe(0);
    expect(total(again.report, 'changed')).toBe(0);
    const check = await timed('check (in sync)', () => keelRun('check'));
    expect(check.code, check.text).toBe(0);
  });

  it('6. drift made by hand is reported by check and repaired by apply', async () => {
    await lab.output('rs1', 'sysctl -qw net.ipv4.conf.all.arp_ignore=0');
    await lab.output('rs2', `ip addr del ${VIP}/32 dev lo`);
    await lab.output('rs1', 'systemctl stop nginx');
    await lab.output('director', `ipvsadm -d -t ${VIP}:80 -r ${lab.address('rs2')}:80`);
    const drift = [
      'director ipvsRule[web]',
      'rs1 service[nginx]',
      'rs1 sysctl[net.ipv4.conf.all.arp_ignore]',
      'rs2 ifaceAlias[192.168.9.100@lo]',
    ];

    const check = await timed('check (four drifts)', () => keelRun('check'));
    expect(check.code, check.text).toBe(2);
    expect(withOutcome(check.report, 'drifted')).toEqual(drift);
    for (const entry of drift) expect(check.text).toContain(entry.split(' ')[1]);

    const repair = await timed('apply (repair)', () => keelRun('apply'));
    expect(repair.code, repair.text).toBe(0);
    expect(withOutcome(repair.report, 'changed')).toEqual(drift);
    expectHealthyTraffic(await traffic());
  });

  it('7. everything persists: after a reboot of the director and of a real server, check is clean and traffic alternates', async () => {
    await Promise.all(['director', 'rs2'].map((host) => timed(`reboot ${host}`, () => lab.reboot(host))));
    const check = await timed('check (after reboot)', () => keelRun('check'));
    expect(check.code, check.text).toBe(0);
    expectHealthyTraffic(await traffic());
  });

  it('8. negative control: with ARP flux made by hand on the real servers, the same traffic checks fail', async () => {
    for (const host of ['rs1', 'rs2']) {
      await lab.output(
        host,
        'for scope in all eth0; do sysctl -qw net.ipv4.conf.$scope.arp_ignore=0 net.ipv4.conf.$scope.arp_announce=0; done',
      );
    }
    // The client forgets the director's MAC, so it asks again and hears every host that answers.
    await lab.output('client', `ip neigh flush to ${VIP} dev eth0`);
    const seen = await traffic();
    console.log(`[e2e] negative control: answers ${seen.answers.join(' ')}; ARP responders ${seen.arpResponders.join(', ')}`);
    expect(seen.arpResponders.length > 1 || !alternatesBetweenRealServers(seen.answers), 'ARP flux must break the traffic checks').toBe(
      true,
    );
    expect(() => expectHealthyTraffic(seen)).toThrow();
  });

  it('9. apply repairs the ARP flux, and the traffic alternates again (the lab is left converged for the next file)', async () => {
    const repair = await timed('apply (repair ARP flux)', () => keelRun('apply'));
    expect(repair.code, repair.text).toBe(0);
    expect(withOutcome(repair.report, 'changed').filter((id) => id.includes('arp_'))).toHaveLength(8);
    await lab.output('client', `ip neigh flush to ${VIP} dev eth0`);
    expectHealthyTraffic(await traffic());
  });
});
