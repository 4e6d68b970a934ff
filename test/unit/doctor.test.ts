/**
 * doctor's findings on states captured from the LVS lab (test/fixtures/doctor/capture.ts): the converged lab, and
 * each fault made by hand there. Every finding's text and its JSON report are checked.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parseArpProbe } from '../../src/doctor/arpProbe.js';
import { type DoctorHost, diagnose, type Finding } from '../../src/doctor/findings.js';
import { doctorCluster } from '../../src/doctor/html.js';
import { DoctorReportSchema, doctorLines, groupByHost, toDoctorReport } from '../../src/doctor/report.js';
import { type DoctorSummary, doctorExitCode } from '../../src/doctor/run.js';
import { parseHostState, type SectionName } from '../../src/doctor/state.js';
import { fixture } from '../support/fixtures.js';

type Captured = Record<string, { address: string; outputs: Record<SectionName, string> }>;

function captured(name: string): Captured {
  return JSON.parse(readFileSync(new URL(`../fixtures/doctor/${name}.captured.json`, import.meta.url), 'utf8')) as Captured;
}

function hostsOf(capture: Captured, only?: string[]): DoctorHost[] {
  return Object.entries(capture)
    .filter(([name]) => only === undefined || only.includes(name))
    .map(([name, host]) => ({ name, address: host.address, state: parseHostState(host.outputs) }));
}

/** The findings above information, as `id@host`. */
function named(findings: readonly Finding[]): string[] {
  return findings.filter((finding) => finding.severity !== 'info').map((finding) => `${finding.id}@${finding.host}`);
}

function summaryOf(hosts: DoctorHost[]): DoctorSummary {
  const diagnosis = diagnose(hosts);
  const results = hosts.map((host) => ({
    host: host.name,
    address: host.address,
    outcome: 'ok' as const,
    state: host.state,
    durationMs: 5,
  }));
  return {
    ...diagnosis,
    startedAt: '2026-12-02T13:00:00.000Z',
    durationMs: 1200,
    hosts: results,
    exitCode: doctorExitCode(diagnosis, results),
  };
}

const ajv = new Ajv({ strict: false });
addFormats.default(ajv);
const validReport = ajv.compile(DoctorReportSchema);

describe('doctor on the converged lab', () => {
  const diagnosis = diagnose(hostsOf(captured('converged')));

  it('finds the topology in the kernel: the director from its table, the real servers by address', () => {
    expect(diagnosis.directors).toEqual(['director']);
    expect(diagnosis.realServers.sort()).toEqual(['rs1', 'rs2']);
  });

  it('finds nothing wrong, and notes that testing from the director does not take the DR path', () => {
    expect(named(diagnosis.findings)).toEqual([]);
    expect(diagnosis.findings.map((f) => `${f.id}@${f.host}`)).toEqual(['director-self-test@director']);
    expect(diagnosis.skipped).toEqual([]);
  });

  it('exits 0: a note never changes the exit code', () => {
    expect(summaryOf(hostsOf(captured('converged'))).exitCode).toBe(0);
  });

  it("draws the cluster from the director's table, a node failing a check where a finding is about its host", () => {
    const states = (scenario: string) =>
      doctorCluster(summaryOf(hostsOf(captured(scenario)))).map((service) => [
        service.key,
        service.directors.map((d) => `${d.host}: ${d.state}`),
        service.realServers.map((rs) => `${rs.server} ${rs.host}: ${rs.state}`),
      ]);
    expect(states('converged')).toEqual([
      ['-t 192.168.9.100:80', ['director: in sync'], ['192.168.9.11:80 rs1: in sync', '192.168.9.12:80 rs2: in sync']],
    ]);
    expect(states('arp-ignore-rs1')[0]![2]).toEqual(['192.168.9.11:80 rs1: failing a doctor check', '192.168.9.12:80 rs2: in sync']);
  });

  it('without the director selected there is no topology and nothing to say', () => {
    expect(diagnose(hostsOf(captured('converged'), ['rs1', 'rs2']))).toEqual({ directors: [], realServers: [], findings: [], skipped: [] });
  });
});

const FAULTS: [scenario: string, expected: string[]][] = [
  ['arp-ignore-rs1', ['arp-ignore@rs1']],
  ['arp-announce-rs2', ['arp-announce@rs2']],
  ['vip-prefix-rs2', ['rs-vip-prefix@rs2']],
  ['vip-missing-rs1', ['rs-vip-missing@rs1']],
  ['rip-only-rs1', ['rs-bound-to-rip@rs1']],
  ['nginx-stopped-rs2', ['rs-not-serving@rs2']],
  ['ip-vs-not-at-boot', ['ip-vs-not-at-boot@director']],
  ['foreign-real-server', ['rs-not-in-inventory@director', 'ipvs-not-persisted@director']],
];

describe.each(FAULTS)('doctor on the lab with the fault %s', (scenario, expected) => {
  const hosts = hostsOf(captured(scenario));
  const summary = summaryOf(hosts);

  it(`names ${expected.join(', ')} and nothing else`, () => {
    expect(named(summary.findings).sort()).toEqual([...expected].sort());
    expect(summary.exitCode).toBe(2);
  });

  it('says what it saw, why it matters and which keel resource fixes it', () => {
    for (const finding of summary.findings.filter((f) => f.severity !== 'info')) {
      expect(finding.evidence.length).toBeGreaterThan(0);
      expect(finding.why).toMatch(/^[A-Z].*\.$/);
      expect(finding.why.split('. ').length).toBe(1);
      expect(finding.fix).toMatch(/keel: (sysctl|ifaceAlias|ipvsRule|kernelModule|service|file)/);
    }
    expect(summary.findings).toMatchSnapshot();
  });

  it('prints the findings grouped by host, worst first, and a valid JSON report', () => {
    const lines = doctorLines(summary);
    expect(lines.join('\n')).toMatchSnapshot();
    const report = toDoctorReport(summary);
    expect(validReport(report), JSON.stringify(validReport.errors)).toBe(true);
    expect(JSON.parse(JSON.stringify(report)).findings).toEqual(summary.findings);
  });
});

describe('doctor, one fault at a time', () => {
  it('reads ARP flux from the effective value, the max of all and the interface', () => {
    const finding = diagnose(hostsOf(captured('arp-ignore-rs1'))).findings.find((f) => f.id === 'arp-ignore')!;
    expect(finding.evidence[0]).toBe('net.ipv4.conf.all.arp_ignore = 0, net.ipv4.conf.eth0.arp_ignore = 0');
    expect(finding.evidence[1]).toBe('eth0 has 192.168.9.11/24, the subnet of the VIP 192.168.9.100');
    // all = 1 alone is enough: the kernel takes the max.
    const rs1 = captured('arp-ignore-rs1');
    rs1.rs1!.outputs.sysctls = rs1.rs1!.outputs.sysctls.replace('net.ipv4.conf.all.arp_ignore = 0', 'net.ipv4.conf.all.arp_ignore = 1');
    expect(named(diagnose(hostsOf(rs1)).findings)).toEqual([]);
  });

  it('skips the checks that need a login to a real server the inventory lacks, and names them', () => {
    const { skipped, findings } = diagnose(hostsOf(captured('foreign-real-server')));
    expect(skipped).toEqual([
      {
        host: '192.168.9.13',
        reason: 'no selected inventory host has this address',
        checks: ['arp-ignore', 'arp-announce', 'rs-vip-missing', 'rs-vip-prefix', 'rs-vip-on-lan', 'rp-filter-strict', 'rs-bound-to-rip'],
      },
    ]);
    expect(findings.find((f) => f.id === 'rs-not-in-inventory')!.evidence).toEqual([
      '-t 192.168.9.100:80 has the real server 192.168.9.13:80',
      'director cannot connect to 192.168.9.13:80',
    ]);
  });

  it('a real server left out with -l is one the selection lacks', () => {
    const { findings, skipped } = diagnose(hostsOf(captured('converged'), ['director', 'rs1']));
    expect(named(findings)).toEqual(['rs-not-in-inventory@director']);
    expect(skipped.map((s) => s.host)).toEqual(['192.168.9.12']);
  });

  it('rp_filter: strict on a multi-homed real server whose route back leaves by another interface; loose and single-homed are fine', () => {
    const capture = captured('converged');
    const rs1 = capture.rs1!.outputs;
    const routes = JSON.parse(rs1.routes) as object[];
    rs1.routes = JSON.stringify([...routes, { dst: '10.9.0.0/24', gateway: '10.8.0.1', dev: 'eth1', protocol: 'static', flags: [] }]);
    rs1.sysctls = rs1.sysctls.replace('net.ipv4.conf.eth0.rp_filter = 0', 'net.ipv4.conf.eth0.rp_filter = 1');
    const finding = diagnose(hostsOf(capture)).findings.find((f) => f.id === 'rp-filter-strict');
    expect(finding?.host).toBe('rs1');
    expect(finding?.evidence).toContain('route 10.9.0.0/24 via 10.8.0.1 dev eth1');
    rs1.sysctls = rs1.sysctls.replace('net.ipv4.conf.eth0.rp_filter = 1', 'net.ipv4.conf.eth0.rp_filter = 2');
    expect(named(diagnose(hostsOf(capture)).findings)).toEqual([]);
    // Strict but single-homed: the route back is the interface the traffic came in on.
    rs1.routes = JSON.stringify(routes);
    rs1.sysctls = rs1.sysctls.replace('net.ipv4.conf.eth0.rp_filter = 2', 'net.ipv4.conf.eth0.rp_filter = 1');
    expect(named(diagnose(hostsOf(capture)).findings)).toEqual([]);
  });

  it('a director that forwards and sends redirects', () => {
    const capture = captured('converged');
    const director = capture.director!.outputs;
    director.sysctls = director.sysctls.replace('net.ipv4.conf.all.send_redirects = 0', 'net.ipv4.conf.all.send_redirects = 1');
    const findings = diagnose(hostsOf(capture)).findings;
    expect(named(findings)).toEqual(['send-redirects@director']);
    expect(findings[0]!.evidence).toEqual(['net.ipv4.ip_forward = 1', 'net.ipv4.conf.all.send_redirects = 1']);
  });

  it('the VIP missing from the director, and on an interface that is down', () => {
    const capture = captured('converged');
    const director = capture.director!.outputs;
    const links = JSON.parse(director.links) as { ifname: string; flags: string[]; addr_info: { local: string }[] }[];
    const eth0 = links.find((link) => link.ifname === 'eth0')!;
    eth0.flags = eth0.flags.filter((flag) => flag !== 'UP');
    director.links = JSON.stringify(links);
    expect(named(diagnose(hostsOf(capture)).findings)).toEqual(['director-vip-down@director']);
    eth0.addr_info = eth0.addr_info.filter((entry) => entry.local !== '192.168.9.100');
    director.links = JSON.stringify(links);
    expect(named(diagnose(hostsOf(capture)).findings)).toEqual(['director-vip-missing@director']);
  });

  it('the VIP on a real server LAN interface', () => {
    const capture = captured('converged');
    const rs2 = capture.rs2!.outputs;
    const links = JSON.parse(rs2.links) as { ifname: string; addr_info: object[] }[];
    links
      .find((link) => link.ifname === 'eth0')!
      .addr_info.push({ family: 'inet', local: '192.168.9.100', prefixlen: 32, label: 'eth0:1' });
    rs2.links = JSON.stringify(links);
    expect(named(diagnose(hostsOf(capture)).findings)).toEqual(['rs-vip-on-lan@rs2']);
  });

  it('another owner of the IPVS table, with the services its configuration names', () => {
    const capture = captured('converged');
    capture.director!.outputs.owners = 'unit keepalived\nprocess keepalived\nservice keepalived virtual_server 192.168.9.200 443 {\n';
    const findings = diagnose(hostsOf(capture)).findings;
    expect(named(findings)).toEqual(['ipvs-other-owner@director']);
    expect(findings[0]!.evidence).toEqual([
      'keepalived: unit keepalived.service active, process running',
      'keepalived configures virtual services 192.168.9.200 443',
    ]);
  });

  it('groups by host with the worst host first', () => {
    const finding = (id: Finding['id'], host: string, severity: Finding['severity']): Finding => ({
      id,
      host,
      severity,
      evidence: [],
      why: '',
      fix: '',
    });
    const groups = groupByHost([
      finding('director-self-test', 'director', 'info'),
      finding('ip-vs-not-at-boot', 'director', 'warning'),
      finding('arp-ignore', 'rs2', 'error'),
    ]);
    expect(groups.map(([host, list]) => [host, list.map((f) => f.id)])).toEqual([
      ['rs2', ['arp-ignore']],
      ['director', ['ip-vs-not-at-boot', 'director-self-test']],
    ]);
  });

  it('exit codes: 2 for a finding, OR-ed with 4 and 8 for hosts not read', () => {
    const warning = { findings: [{ severity: 'warning' }] } as Parameters<typeof doctorExitCode>[0];
    expect(doctorExitCode(warning, [{ outcome: 'failed' }, { outcome: 'unreachable' }])).toBe(14);
    expect(doctorExitCode({ findings: [] }, [{ outcome: 'unreachable' }])).toBe(8);
  });

  it('the active ARP probe: each MAC that answers once, as evidence on the ARP finding of the host that owns it', () => {
    const probe = parseArpProbe('192.168.9.100', 'eth0', fixture('doctor', 'arping-habets.captured'));
    expect(probe).toEqual({ vip: '192.168.9.100', device: 'eth0', tool: true, answeredBy: ['52:54:00:a8:09:0a'] });
    const capture = captured('arp-ignore-rs1');
    const links = JSON.parse(capture.rs1!.outputs.links) as { ifname: string; address: string }[];
    const rs1Mac = links.find((link) => link.ifname === 'eth0')!.address;
    const heard = { director: 'director', probes: [{ ...probe, answeredBy: [rs1Mac] }] };
    const findings = diagnose(hostsOf(capture), heard).findings;
    expect(named(findings)).toEqual(['arp-ignore@rs1']);
    expect(findings[0]!.evidence).toContain(`arping from director on eth0: ${rs1Mac} (rs1 eth0) answers for 192.168.9.100`);
  });

  it('the active ARP probe: an answer no finding explains is ARP flux of its own; no arping is a skipped check', () => {
    const hosts = hostsOf(captured('converged'));
    const stranger = {
      director: 'director',
      probes: [{ vip: '192.168.9.100', device: 'eth0', tool: true, answeredBy: ['02:00:00:00:00:99'] }],
    };
    const findings = diagnose(hosts, stranger).findings;
    expect(named(findings)).toEqual(['arp-flux-observed@director']);
    expect(findings[0]!.evidence).toEqual(['arping from director on eth0: 02:00:00:00:00:99 answers for 192.168.9.100']);
    expect(parseArpProbe('192.168.9.100', 'eth0', '@no-arping\n').tool).toBe(false);
    const none = { director: 'director', probes: [parseArpProbe('192.168.9.100', 'eth0', '@no-arping\n')] };
    expect(diagnose(hosts, none).skipped).toEqual([
      { host: 'director', reason: 'the director has no arping', checks: ['arp-flux-observed'] },
    ]);
  });

  it('the active ARP probe: one that fails is a skipped check with its reason, not a finding', () => {
    const hosts = hostsOf(captured('converged'));
    const failed = {
      director: 'director',
      failed: 'the ARP probe failed: remote script timed out after 60 s during arp 192.168.9.100 eth0',
    };
    const diagnosis = diagnose(hosts, failed);
    expect(named(diagnosis.findings)).toEqual([]);
    expect(diagnosis.skipped).toEqual([{ host: 'director', reason: failed.failed, checks: ['arp-flux-observed'] }]);
    const summary = { ...summaryOf(hosts), skipped: diagnosis.skipped };
    expect(doctorLines(summary)).toContain(
      'director: skipped arp-flux-observed (the ARP probe failed: remote script timed out after 60 s during arp 192.168.9.100 eth0)',
    );
    expect(validReport(toDoctorReport(summary)), JSON.stringify(validReport.errors)).toBe(true);
  });
});
