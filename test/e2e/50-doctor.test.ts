/**
 * `keel doctor` against the converged lab's real kernels: clean when all is well, and each fault made by hand (one at a
 * time) named by its id on the right host and nothing else; then repaired, by `keel apply` where a recipe covers it,
 * and doctor clean again. The lab is left converged. Traffic goes only to the lab's hosts, inside its namespaces.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { LVS_LAB, type LvsLab, openLvsLab } from '../../lab/lvsLab.js';
import { hostNetns } from '../../lab/netns.js';
import type { DoctorReport } from '../../src/doctor/report.js';
import { keel } from '../support/cli.js';

const VIP = '192.168.9.100';
const RECIPES = ['recipes/director.ts', 'recipes/realserver.ts'];
const KEEL_TIMEOUT_MS = 900_000;
const HOSTS = ['director', 'rs1', 'rs2'] as const;

let lab: LvsLab;

interface DoctorRun {
  code: number;
  report: DoctorReport;
  text: string;
}

function doctor(): DoctorRun {
  const result = keel(['doctor', '-i', lab.inventoryPath, '--json', '-'], { timeoutMs: KEEL_TIMEOUT_MS });
  if (result.stdout.trim() === '') throw new Error(`keel doctor wrote no report (exit ${result.code}):\n${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as DoctorReport, text: result.stderr };
}

/** The findings above information, as `id@host`. */
function named(report: DoctorReport): string[] {
  return report.findings
    .filter((finding) => finding.severity !== 'info')
    .map((finding) => `${finding.id}@${finding.host}`)
    .sort();
}

function expectClean(run: DoctorRun): void {
  expect(named(run.report), run.text).toEqual([]);
  expect(run.code, run.text).toBe(0);
  expect(run.report.findings.map((finding) => `${finding.id}@${finding.host}`)).toEqual(['director-self-test@director']);
}

function apply(limit: string): void {
  const result = keel(['apply', ...RECIPES, '-i', lab.inventoryPath, '-l', limit, '--ui', 'plain'], { timeoutMs: KEEL_TIMEOUT_MS });
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
}

/** What a host's state is made of, as doctor could disturb it: addresses, routes, sysctls, the table, units, config files. */
async function hostState(host: string): Promise<string> {
  return lab.output(
    host,
    [
      'ip -o addr show; ip route show',
      'cd /proc/sys && grep -r . net/ipv4/ip_forward net/ipv4/conf',
      'if [ -e /proc/net/ip_vs ]; then ipvsadm -Sn; fi',
      'systemctl list-units --state=active --no-legend --plain | sort',
      'find /etc -newer /etc/hostname -type f 2>/dev/null | sort | xargs -r md5sum',
    ].join('; '),
  );
}

describe('keel doctor on the LVS lab', () => {
  beforeAll(() => {
    lab = openLvsLab();
    apply('all');
  });

  it('finds nothing wrong on the converged lab, in one read per host, and changes nothing', async () => {
    const before = await Promise.all(HOSTS.map(hostState));
    const run = doctor();
    expectClean(run);
    expect(run.report.directors).toEqual(['director']);
    expect(run.report.realServers.sort()).toEqual(['rs1', 'rs2']);
    expect(run.report.hosts.map((host) => host.outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(await Promise.all(HOSTS.map(hostState))).toEqual(before);
  });

  const FAULTS: {
    name: string;
    host: string;
    make: string[];
    expected: string[];
    repair: (() => void) | string[];
    /** More to see in the report. */
    also?: (report: DoctorReport) => void;
  }[] = [
    {
      name: 'ARP flux on rs1 (all and eth0 arp_ignore 0)',
      host: 'rs1',
      make: ['sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.eth0.arp_ignore=0'],
      expected: ['arp-ignore@rs1'],
      repair: () => apply('rs1'),
      // The active probe from the director hears rs1's eth0 answer for the VIP.
      also: (report) =>
        expect(report.findings.find((f) => f.id === 'arp-ignore')!.evidence).toContainEqual(
          expect.stringMatching(/^arping from director on eth0: [0-9a-f:]{17} \(rs1 eth0\) answers for 192\.168\.9\.100$/),
        ),
    },
    {
      name: 'arp_announce 0 on rs2',
      host: 'rs2',
      make: ['sysctl -qw net.ipv4.conf.all.arp_announce=0 net.ipv4.conf.eth0.arp_announce=0'],
      expected: ['arp-announce@rs2'],
      repair: () => apply('rs2'),
    },
    {
      name: "the VIP on rs2's lo as /28 (a prefix that spares the LAN's hosts)",
      host: 'rs2',
      make: [`ip addr del ${VIP}/32 dev lo`, `ip addr add ${VIP}/28 dev lo label lo:8`],
      expected: ['rs-vip-prefix@rs2'],
      repair: () => apply('rs2'),
    },
    {
      name: 'the VIP removed from rs1',
      host: 'rs1',
      make: [`ip addr del ${VIP}/32 dev lo`],
      expected: ['rs-vip-missing@rs1'],
      repair: () => apply('rs1'),
    },
    {
      name: 'nginx on rs1 listening on the RIP only (no recipe covers its configuration: put back by hand)',
      host: 'rs1',
      make: [
        "sed -i 's/^\\(\\s*\\)listen 80 default_server;/\\1listen 192.168.9.11:80 default_server;/' /etc/nginx/sites-available/default",
        'systemctl restart nginx',
      ],
      expected: ['rs-bound-to-rip@rs1'],
      repair: [
        "sed -i 's/^\\(\\s*\\)listen 192.168.9.11:80 default_server;/\\1listen 80 default_server;/' /etc/nginx/sites-available/default",
        'systemctl restart nginx',
      ],
    },
    {
      name: 'nginx stopped on rs2',
      host: 'rs2',
      make: ['systemctl stop nginx'],
      expected: ['rs-not-serving@rs2'],
      repair: () => apply('rs2'),
    },
    {
      name: 'the modules-load.d entry for ip_vs removed on the director',
      host: 'director',
      make: ['rm /etc/modules-load.d/ip_vs.conf'],
      expected: ['ip-vs-not-at-boot@director'],
      repair: () => apply('director'),
    },
    {
      name: 'a real server in the table (and its rules file) that the inventory does not have',
      host: 'director',
      make: [`ipvsadm -a -t ${VIP}:80 -r 192.168.9.13:80 -g -w 1`, 'ipvsadm-save -n > /etc/ipvsadm.rules'],
      expected: ['rs-not-in-inventory@director'],
      repair: () => apply('director'),
    },
    {
      name: 'a keepalived unit running on the director (no recipe covers it: purged by hand)',
      host: 'director',
      make: [
        'DEBIAN_FRONTEND=noninteractive apt-get -qq -y install keepalived >/dev/null',
        // VRRP only: keepalived needs something to run, and this touches no IPVS service.
        "mkdir -p /etc/keepalived && printf 'vrrp_instance doctor {\\n  state BACKUP\\n  interface eth0\\n  virtual_router_id 51\\n  priority 50\\n  virtual_ipaddress {\\n    192.168.9.200/32\\n  }\\n}\\n' > /etc/keepalived/keepalived.conf",
        'systemctl restart keepalived',
        'systemctl is-active keepalived',
      ],
      expected: ['ipvs-other-owner@director'],
      repair: ['DEBIAN_FRONTEND=noninteractive apt-get -qq -y purge keepalived >/dev/null', 'rm -rf /etc/keepalived'],
    },
  ];

  /**
   * As /24 the VIP makes the whole LAN local to rs2: it answers nobody on it, not the director, and not keel's own
   * SSH connection, which comes from the lab's gateway address. doctor says what can be known: rs2 is unreachable (8)
   * and the director cannot connect to it. keel cannot log in to repair it either, so it is put back through the
   * container's namespace.
   */
  it("the VIP on rs2's lo as /24: rs2 cut off from its LAN, unreachable, and not serving", async () => {
    await lab.output('rs2', [`ip addr del ${VIP}/32 dev lo`, `ip addr add ${VIP}/24 dev lo label lo:8`].join(' && '));
    try {
      const run = doctor();
      expect(named(run.report), run.text).toEqual(['rs-not-serving@rs2']);
      expect(run.report.hosts.find((host) => host.host === 'rs2')?.outcome).toBe('unreachable');
      expect(run.code).toBe(2 | 8);
    } finally {
      await lab.output('rs2', [`ip addr del ${VIP}/24 dev lo`, `ip addr add ${VIP}/32 dev lo label lo:8`].join(' && '));
    }
    expectClean(doctor());
  });

  it.each(FAULTS)('$name: named by doctor, and nothing else; then repaired and clean', async (fault) => {
    await lab.output(fault.host, ['set -e', ...fault.make].join('\n'));
    const run = doctor();
    expect(named(run.report), run.text).toEqual(fault.expected);
    expect(run.code).toBe(2);
    fault.also?.(run.report);
    if (typeof fault.repair === 'function') fault.repair();
    else await lab.output(fault.host, ['set -e', ...fault.repair].join('\n'));
    expectClean(doctor());
  });

  /**
   * rs1 gets a second interface, eth1, a veth to the client; the client's second address 10.99.0.20 is routed to
   * by rs1 over it. A request from that address to the VIP reaches rs1 on eth0 (through the director), and its route
   * back leaves by eth1: strict rp_filter drops it (the kernel counts IPReversePathFilter), loose mode answers.
   */
  it('rp_filter: strict on a multi-homed real server drops the traffic and is named; loose mode serves and is clean', async () => {
    const ip = (netns: string, ...args: string[]): void => void execFileSync('ip', ['-n', netns, ...args]);
    const rs1 = hostNetns(LVS_LAB, 'rs1');
    const client = hostNetns(LVS_LAB, 'client');
    ip(rs1, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', client);
    try {
      ip(rs1, 'addr', 'add', '10.9.1.11/24', 'dev', 'eth1');
      ip(rs1, 'link', 'set', 'eth1', 'up');
      ip(rs1, 'route', 'add', '10.99.0.0/24', 'via', '10.9.1.20', 'dev', 'eth1');
      ip(client, 'addr', 'add', '10.9.1.20/24', 'dev', 'eth1');
      ip(client, 'addr', 'add', '10.99.0.20/32', 'dev', 'eth1');
      ip(client, 'link', 'set', 'eth1', 'up');
      // eth1's own sysctls as the recipe sets eth0's: it shares no subnet with the VIP, so doctor has nothing to say of them.
      await lab.output('rs1', 'sysctl -qw net.ipv4.conf.eth0.rp_filter=1');
      const dropped = async (): Promise<number> =>
        Number(
          /IPReversePathFilter: (\d+)/.exec(
            await lab.output('rs1', 'nstat -az TcpExtIPReversePathFilter | tail -1 | awk \'{print "IPReversePathFilter: " $2}\''),
          )?.[1],
        );
      const requests = 'for i in 1 2 3 4; do curl -s --max-time 2 --interface 10.99.0.20 http://192.168.9.100/ || echo -; done';
      const before = await dropped();
      const strictAnswers = await lab.output('client', requests);
      expect(strictAnswers).not.toContain('from rs1');
      expect(await dropped()).toBeGreaterThan(before);
      const strict = doctor();
      expect(named(strict.report), strict.text).toEqual(['rp-filter-strict@rs1']);
      expect(strict.report.findings.find((f) => f.id === 'rp-filter-strict')!.evidence).toContain(
        'route 10.99.0.0/24 via 10.9.1.20 dev eth1',
      );

      await lab.output('rs1', 'sysctl -qw net.ipv4.conf.eth0.rp_filter=2');
      expect(await lab.output('client', requests)).toContain('from rs1');
      expectClean(doctor());
    } finally {
      ip(rs1, 'link', 'del', 'eth1');
      await lab.output('rs1', 'sysctl -qw net.ipv4.conf.eth0.rp_filter=0');
    }
    expectClean(doctor());
  });
});
