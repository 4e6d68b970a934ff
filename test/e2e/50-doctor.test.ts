/**
 * `keel doctor` against the converged lab's real kernels: clean when all is well, and each fault made by hand (one at a
 * time) named by its id on the right host and nothing else; then repaired, by `keel apply` where a recipe covers it,
 * and doctor clean again. The lab is left converged. Traffic goes only to the lab's hosts, inside its namespaces.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type LvsLab, openLvsLab } from '../../lab/lvsLab.js';
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

  const FAULTS: { name: string; host: string; make: string[]; expected: string[]; repair: (() => void) | string[] }[] = [
    {
      name: 'ARP flux on rs1 (all and eth0 arp_ignore 0)',
      host: 'rs1',
      make: ['sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.eth0.arp_ignore=0'],
      expected: ['arp-ignore@rs1'],
      repair: () => apply('rs1'),
    },
    {
      name: 'arp_announce 0 on rs2',
      host: 'rs2',
      make: ['sysctl -qw net.ipv4.conf.all.arp_announce=0 net.ipv4.conf.eth0.arp_announce=0'],
      expected: ['arp-announce@rs2'],
      repair: () => apply('rs2'),
    },
    {
      name: "the VIP on rs2's lo as /24",
      host: 'rs2',
      make: [`ip addr del ${VIP}/32 dev lo`, `ip addr add ${VIP}/24 dev lo label lo:8`],
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
        'cp /etc/nginx/sites-available/default /root/nginx-default.saved',
        "sed -i 's/^\\(\\s*\\)listen 80 default_server;/\\1listen 192.168.9.11:80 default_server;/; /listen \\[::\\]:80/d' /etc/nginx/sites-available/default",
        'systemctl restart nginx',
      ],
      expected: ['rs-bound-to-rip@rs1'],
      repair: ['mv /root/nginx-default.saved /etc/nginx/sites-available/default', 'systemctl restart nginx'],
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
        "mkdir -p /etc/keepalived && printf 'global_defs {\\n  router_id director\\n}\\n' > /etc/keepalived/keepalived.conf",
        'systemctl restart keepalived',
        'systemctl is-active keepalived',
      ],
      expected: ['ipvs-other-owner@director'],
      repair: ['DEBIAN_FRONTEND=noninteractive apt-get -qq -y purge keepalived >/dev/null', 'rm -rf /etc/keepalived'],
    },
  ];

  it.each(FAULTS)('$name: named by doctor, and nothing else; then repaired and clean', async (fault) => {
    await lab.output(fault.host, ['set -e', ...fault.make].join('\n'));
    const run = doctor();
    expect(named(run.report), run.text).toEqual(fault.expected);
    expect(run.code).toBe(2);
    if (typeof fault.repair === 'function') fault.repair();
    else await lab.output(fault.host, ['set -e', ...fault.repair].join('\n'));
    expectClean(doctor());
  });
});
