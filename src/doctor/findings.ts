/**
 * doctor's checks: pure functions of the hosts' parsed states. The topology comes from the kernel: a host whose IPVS
 * table has virtual services is a director, and each real server address in it is matched to an inventory host.
 */

import { sameIpv4Network } from '../resources/ifaceAlias.js';
import type { IpvsService } from '../resources/ipvsRule.js';
import { ruleLines, splitAddressPort } from '../resources/ipvsRule.js';
import type { ArpProbe } from './arpProbe.js';
import type { HostState } from './state.js';
import { sysctlNumber } from './state.js';

/** `error`: DR traffic is lost or misrouted now. `warning`: it will be, at a reboot or by another owner. `info`: a note. */
export type Severity = 'error' | 'warning' | 'info';

export const FINDING_IDS = [
  'arp-ignore',
  'arp-announce',
  'arp-flux-observed',
  'rs-vip-missing',
  'rs-vip-prefix',
  'rs-vip-on-lan',
  'director-vip-missing',
  'director-vip-down',
  'rp-filter-strict',
  'rs-bound-to-rip',
  'rs-not-serving',
  'rs-not-in-inventory',
  'ipvs-other-owner',
  'ip-vs-not-at-boot',
  'ipvs-not-persisted',
  'send-redirects',
  'director-self-test',
] as const;
export type FindingId = (typeof FINDING_IDS)[number];

export interface Finding {
  id: FindingId;
  severity: Severity;
  host: string;
  /** What was seen on the host, quoted. */
  evidence: string[];
  /** Why it matters, in one sentence. */
  why: string;
  /** How to fix it, naming the keel resource. */
  fix: string;
}

/** A selected host, with its state when it could be read. */
export interface DoctorHost {
  name: string;
  address: string;
  state: HostState | null;
}

/** A real server of a director's table the inventory has no host for: the checks that log in to it are skipped. */
export interface SkippedCheck {
  host: string;
  reason: string;
  checks: FindingId[];
}

export interface Diagnosis {
  directors: string[];
  realServers: string[];
  findings: Finding[];
  skipped: SkippedCheck[];
}

/** The checks that read a real server's own state. */
const REAL_SERVER_CHECKS: FindingId[] = [
  'arp-ignore',
  'arp-announce',
  'rs-vip-missing',
  'rs-vip-prefix',
  'rs-vip-on-lan',
  'rp-filter-strict',
  'rs-bound-to-rip',
];

interface VirtualService {
  director: string;
  key: string;
  vip: string;
  port: number;
}

interface RealServerUse {
  service: VirtualService;
  /** As ipvsadm prints it. */
  server: string;
  address: string;
  port: number;
}

/** TCP and UDP services of a table (fwmark services name no VIP). */
function virtualServices(director: string, table: readonly IpvsService[]): VirtualService[] {
  return table.flatMap((service) => {
    const [kind, value] = service.key.split(' ');
    if ((kind !== '-t' && kind !== '-u') || value === undefined) return [];
    return [{ director, key: service.key, ...vipPort(value) }];
  });
}

function vipPort(value: string): { vip: string; port: number } {
  const { address, port } = splitAddressPort(value);
  return { vip: address, port };
}

function effective(state: HostState, device: string, name: string): { value: number | null; all: number | null; own: number | null } {
  const all = sysctlNumber(state, `net.ipv4.conf.all.${name}`);
  const own = sysctlNumber(state, `net.ipv4.conf.${device}.${name}`);
  return { value: all === null && own === null ? null : Math.max(all ?? 0, own ?? 0), all, own };
}

function quoteSysctl(device: string, name: string, seen: { all: number | null; own: number | null }): string {
  return `net.ipv4.conf.all.${name} = ${seen.all ?? '(absent)'}, net.ipv4.conf.${device}.${name} = ${seen.own ?? '(absent)'}`;
}

/** Interfaces other than lo with an IPv4 address whose subnet holds the VIP: where ARP for it arrives. */
function lanInterfaces(state: HostState, vip: string): { device: string; address: string; prefix: number }[] {
  return state.links.flatMap((link) =>
    link.name === 'lo'
      ? []
      : link.addresses
          .filter((entry) => entry.family === 'inet' && entry.local !== vip && sameIpv4Network(entry.local, vip, entry.prefix))
          .map((entry) => ({ device: link.name, address: entry.local, prefix: entry.prefix })),
  );
}

/** The real server's ARP settings on the VIP's subnet, and what a value below the minimum does. */
const ARP_SETTINGS: { id: FindingId; name: string; minimum: number; effect(vip: string, device: string): string }[] = [
  {
    id: 'arp-ignore',
    name: 'arp_ignore',
    minimum: 1,
    effect: (vip, device) => `answers ARP for the VIP ${vip} on ${device}, so clients may send the VIP's traffic straight to it`,
  },
  {
    id: 'arp-announce',
    name: 'arp_announce',
    minimum: 2,
    effect: (vip, device) =>
      `may put the VIP ${vip} as the sender of its ARP requests on ${device}, and its neighbours learn its MAC for the VIP`,
  },
];

function realServerFindings(host: DoctorHost, state: HostState, uses: readonly RealServerUse[]): Finding[] {
  const findings: Finding[] = [];
  const vips = [...new Set(uses.map((use) => use.service.vip))];
  for (const vip of vips) {
    const lans = lanInterfaces(state, vip);
    for (const lan of lans) {
      for (const arp of ARP_SETTINGS) {
        const seen = effective(state, lan.device, arp.name);
        if (seen.value === null || seen.value >= arp.minimum) continue;
        findings.push({
          id: arp.id,
          severity: 'error',
          host: host.name,
          evidence: [
            quoteSysctl(lan.device, arp.name, seen),
            `${lan.device} has ${lan.address}/${lan.prefix}, the subnet of the VIP ${vip}`,
          ],
          why: `With an effective ${arp.name} below ${arp.minimum} this real server ${arp.effect(vip, lan.device)} (ARP flux).`,
          fix: `sysctl net.ipv4.conf.all.${arp.name} and net.ipv4.conf.${lan.device}.${arp.name} = ${arp.minimum} (keel: sysctl, as in recipes/realserver.ts)`,
        });
      }
      findings.push(...rpFilterFindings(host, state, lan.device));
    }
    const onLo = state.links.find((link) => link.name === 'lo')?.addresses.filter((entry) => entry.local === vip) ?? [];
    const onLan = state.links.filter((link) => link.name !== 'lo' && link.addresses.some((entry) => entry.local === vip));
    if (onLan.length > 0) {
      findings.push({
        id: 'rs-vip-on-lan',
        severity: 'error',
        host: host.name,
        evidence: onLan.map(
          (link) =>
            `${vip} on ${link.name}: ${link.addresses
              .filter((e) => e.local === vip)
              .map((e) => `${e.local}/${e.prefix}`)
              .join(', ')}`,
        ),
        why: `A real server holding the VIP ${vip} on a LAN interface answers ARP for it like the director, so clients bypass the director.`,
        fix: `remove ${vip} from ${onLan.map((link) => link.name).join(', ')} (keel: ifaceAlias with state: absent) and keep it on lo as /32 (ifaceAlias device lo, prefix 32)`,
      });
    }
    if (onLo.length === 0) {
      findings.push({
        id: 'rs-vip-missing',
        severity: 'error',
        host: host.name,
        evidence: [`lo holds ${loAddresses(state)}; no ${vip}`],
        why: `Without the VIP ${vip} on lo the real server drops the packets the director forwards to it for the VIP.`,
        fix: `${vip}/32 on lo (keel: ifaceAlias { device: 'lo', address: '${vip}', prefix: 32 }, as in recipes/realserver.ts)`,
      });
    } else if (onLo.some((entry) => entry.prefix !== 32)) {
      findings.push({
        id: 'rs-vip-prefix',
        severity: 'error',
        host: host.name,
        evidence: [`lo holds ${onLo.map((entry) => `${entry.local}/${entry.prefix}`).join(', ')}`],
        why: `On lo a prefix wider than /32 makes the whole subnet local, so the real server answers its neighbours (the director, the clients) to itself instead of over the LAN.`,
        fix: `${vip}/32 on lo (keel: ifaceAlias { device: 'lo', address: '${vip}', prefix: 32 }, which replaces the wider prefix)`,
      });
    }
    for (const port of new Set(uses.filter((use) => use.service.vip === vip).map((use) => use.port))) {
      const onPort = state.listeners.filter((listener) => listener.port === port);
      if (onPort.length > 0 && !onPort.some((listener) => listener.address === '*' || listener.address === vip)) {
        findings.push({
          id: 'rs-bound-to-rip',
          severity: 'error',
          host: host.name,
          evidence: [
            `ss -ltnH: ${onPort.map((listener) => `${listener.address}:${listener.port}`).join(', ')} (nothing on *:${port} or ${vip}:${port})`,
          ],
          why: `Direct routing delivers packets addressed to ${vip}:${port}, and a web server listening only on other addresses refuses them.`,
          fix: `make the web server listen on the wildcard address or on ${vip} (keel: file for its configuration, with a service notified to restart it)`,
        });
      }
    }
  }
  return findings;
}

function loAddresses(state: HostState): string {
  const entries = state.links.find((link) => link.name === 'lo')?.addresses ?? [];
  return entries.length === 0 ? 'nothing' : entries.map((entry) => `${entry.local}/${entry.prefix}`).join(', ');
}

/** A route that leaves by another interface than `device`, for destinations beyond `device`'s own subnets. */
function rpFilterFindings(host: DoctorHost, state: HostState, device: string): Finding[] {
  const rp = effective(state, device, 'rp_filter');
  if (rp.value !== 1) return [];
  const away = state.routes.filter((route) => route.device !== device && route.device !== 'lo' && route.gateway !== null);
  if (away.length === 0) return [];
  return [
    {
      id: 'rp-filter-strict',
      severity: 'error',
      host: host.name,
      evidence: [
        quoteSysctl(device, 'rp_filter', rp),
        ...away.map((route) => `route ${route.destination} via ${route.gateway} dev ${route.device}`),
      ],
      why: `Strict rp_filter drops a packet that arrives on ${device} from a source whose route back leaves by another interface, so VIP traffic from clients behind ${away.map((route) => route.destination).join(', ')} is dropped.`,
      fix: `sysctl net.ipv4.conf.all.rp_filter and net.ipv4.conf.${device}.rp_filter = 2, loose mode (keel: sysctl)`,
    },
  ];
}

function directorFindings(host: DoctorHost, state: HostState, services: readonly VirtualService[]): Finding[] {
  const findings: Finding[] = [];
  for (const vip of new Set(services.map((service) => service.vip))) {
    const holding = state.links.filter((link) => link.addresses.some((entry) => entry.local === vip));
    if (holding.length === 0) {
      findings.push({
        id: 'director-vip-missing',
        severity: 'error',
        host: host.name,
        evidence: [
          `no interface holds ${vip}, the address of ${services
            .filter((s) => s.vip === vip)
            .map((s) => s.key)
            .join(', ')}`,
        ],
        why: `Nothing answers ARP for the VIP ${vip} from the director, so its virtual services receive no traffic.`,
        fix: `${vip} on the LAN interface (keel: ifaceAlias, as in recipes/director.ts)`,
      });
    } else if (holding.every((link) => !link.up)) {
      findings.push({
        id: 'director-vip-down',
        severity: 'error',
        host: host.name,
        evidence: holding.map((link) => `${vip} on ${link.name}, which is down`),
        why: `The VIP ${vip} sits on an interface that is down, so the director receives none of its traffic.`,
        fix: `bring ${holding.map((link) => link.name).join(', ')} up (ip link set dev ${holding[0]!.name} up) and keep ${vip} there (keel: ifaceAlias)`,
      });
    }
  }
  const ipvs = state.ipvs!;
  if (!state.ipVsModule.persisted) {
    findings.push({
      id: 'ip-vs-not-at-boot',
      severity: 'warning',
      host: host.name,
      evidence: ['ip_vs is loaded and the table is live, but no modules-load.d file (nor /etc/modules) names ip_vs'],
      why: 'After a reboot ip_vs is not loaded before the saved table is restored, so the virtual services do not come back.',
      fix: "/etc/modules-load.d/ip_vs.conf naming ip_vs (keel: kernelModule { name: 'ip_vs' })",
    });
  }
  const live = ipvs.table.flatMap(ruleLines).sort();
  const saved = (ipvs.persisted ?? []).flatMap(ruleLines).sort();
  const missing = live.filter((line) => !saved.includes(line));
  const stale = saved.filter((line) => !live.includes(line));
  if (ipvs.persisted === null || missing.length > 0 || stale.length > 0) {
    findings.push({
      id: 'ipvs-not-persisted',
      severity: 'warning',
      host: host.name,
      evidence:
        ipvs.persisted === null
          ? [`${ipvs.rulesFile} does not exist`]
          : [
              ...missing.map((line) => `live, not in ${ipvs.rulesFile}: ${line}`),
              ...stale.map((line) => `in ${ipvs.rulesFile}, not live: ${line}`),
            ],
      why: 'At the next boot the table is restored from the rules file, so the live table as it is now is lost.',
      fix: 'keep the services in the rules file (keel: ipvsRule, persist: true, its default)',
    });
  }
  const forward = sysctlNumber(state, 'net.ipv4.ip_forward');
  if (forward === 1) {
    const devices = [...new Set(holdingDevices(state, services))];
    const sending = ['all', ...devices].filter((device) => sysctlNumber(state, `net.ipv4.conf.${device}.send_redirects`) === 1);
    // The kernel sends redirects on an interface when all OR the interface says so.
    if (sending.length > 0) {
      findings.push({
        id: 'send-redirects',
        severity: 'warning',
        host: host.name,
        evidence: ['net.ipv4.ip_forward = 1', ...sending.map((device) => `net.ipv4.conf.${device}.send_redirects = 1`)],
        why: 'A forwarding director that sends ICMP redirects tells the LAN to bypass it for traffic it routes back out the same interface.',
        fix: `sysctl net.ipv4.conf.all.send_redirects and net.ipv4.conf.${devices[0] ?? 'DEV'}.send_redirects = 0 (keel: sysctl, as in recipes/director.ts)`,
      });
    }
  }
  for (const owner of state.owners) {
    findings.push({
      id: 'ipvs-other-owner',
      severity: 'warning',
      host: host.name,
      evidence: [
        `${owner.name}: ${[owner.unitActive ? `unit ${owner.name}.service active` : '', owner.processRunning ? 'process running' : ''].filter(Boolean).join(', ')}`,
        owner.services.length > 0
          ? `${owner.name} configures virtual services ${owner.services.join(', ')}`
          : `${owner.name}'s configuration names no virtual service keel could read`,
      ],
      why: `${owner.name} also writes this host's IPVS table, and two owners undo each other's changes to the same services.`,
      fix: `leave each virtual service to one owner: stop ${owner.name} (keel: service { name: '${owner.name}', running: false, enabled: false }) or drop the ipvsRule of the services it owns`,
    });
  }
  findings.push({
    id: 'director-self-test',
    severity: 'info',
    host: host.name,
    evidence: [`${host.name} holds ${[...new Set(services.map((s) => s.vip))].join(', ')}`],
    why: 'A request to the VIP from the director itself is answered locally or sent without the DR path, so it proves nothing about the real servers; test from a client on the LAN.',
    fix: 'curl the VIP from another host of the LAN',
  });
  return findings;
}

function holdingDevices(state: HostState, services: readonly VirtualService[]): string[] {
  const vips = new Set(services.map((service) => service.vip));
  return state.links.filter((link) => link.name !== 'lo' && link.addresses.some((entry) => vips.has(entry.local))).map((link) => link.name);
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Who owns a MAC among the hosts read: `rs1 eth0`. */
function macOwner(hosts: readonly DoctorHost[], mac: string): { host: string; device: string } | undefined {
  for (const host of hosts) {
    const link = host.state?.links.find((candidate) => candidate.mac === mac);
    if (link) return { host: host.name, device: link.name };
  }
  return undefined;
}

/**
 * The active probe's answers: on the host's own ARP finding as evidence, or, where no finding explains a MAC that
 * answered, a finding of its own on the director.
 */
function arpProbeFindings(hosts: readonly DoctorHost[], director: string, probes: readonly ArpProbe[], findings: Finding[]): Finding[] {
  const added: Finding[] = [];
  for (const probe of probes) {
    const unexplained: string[] = [];
    for (const mac of probe.answeredBy) {
      const owner = macOwner(hosts, mac);
      const seen = `arping from ${director} on ${probe.device}: ${mac}${owner ? ` (${owner.host} ${owner.device})` : ''} answers for ${probe.vip}`;
      const explained = owner && findings.find((f) => f.host === owner.host && (f.id === 'arp-ignore' || f.id === 'rs-vip-on-lan'));
      if (explained) explained.evidence.push(seen);
      else unexplained.push(seen);
    }
    if (unexplained.length > 0) {
      added.push({
        id: 'arp-flux-observed',
        severity: 'error',
        host: director,
        evidence: unexplained,
        why: `Another host than the director answers ARP for the VIP ${probe.vip}, so clients on the LAN may send its traffic past the director.`,
        fix: 'on that host: arp_ignore = 1 and arp_announce = 2 (keel: sysctl), and the VIP on lo only (keel: ifaceAlias)',
      });
    }
  }
  return added;
}

function notServing(host: string, refused: readonly RealServerUse[], seenOnHost: readonly string[]): Finding {
  return {
    id: 'rs-not-serving',
    severity: 'error',
    host,
    evidence: [...refused.map((use) => `${use.service.director} cannot connect to ${use.server} (${use.service.key})`), ...seenOnHost],
    why: 'The director keeps scheduling connections to a real server that refuses them, so that share of the clients fails.',
    fix: "start the web server (keel: service { running: true }, with its pkg) or take the server out (ipvsRule's realServers, weight 0)",
  };
}

/** What the active ARP probe gave: each VIP's answers, or why the probe did not run to its end. */
export type ArpProbeResult = { director: string; probes: readonly ArpProbe[] } | { director: string; failed: string };

export function diagnose(hosts: readonly DoctorHost[], arp?: ArpProbeResult): Diagnosis {
  const directors = hosts.filter((host) => (host.state?.ipvs?.table.length ?? 0) > 0);
  const uses: RealServerUse[] = directors.flatMap((director) =>
    virtualServices(director.name, director.state!.ipvs!.table).flatMap((service) =>
      director
        .state!.ipvs!.table.find((s) => s.key === service.key)!
        .realServers.map((rs) => ({ service, server: rs.server, ...splitAddressPort(rs.server) })),
    ),
  );
  const findings: Finding[] = [];
  const skipped: SkippedCheck[] = [];
  for (const director of directors) {
    findings.push(...directorFindings(director, director.state!, virtualServices(director.name, director.state!.ipvs!.table)));
  }
  const realServerNames = new Set<string>();
  for (const address of new Set(uses.map((use) => use.address))) {
    const own = uses.filter((use) => use.address === address);
    const host = hosts.find((candidate) => candidate.address === address);
    const probesOf = (use: RealServerUse) =>
      hosts.find((h) => h.name === use.service.director)?.state?.probes.find((p) => p.server === use.server);
    const refused = own.filter((use) => probesOf(use)?.connected === false);
    if (!host) {
      findings.push({
        id: 'rs-not-in-inventory',
        severity: 'warning',
        host: own[0]!.service.director,
        evidence: [
          ...own.map((use) => `${use.service.key} has the real server ${use.server}`),
          ...refused.map((use) => `${use.service.director} cannot connect to ${use.server}`),
        ],
        why: `No selected inventory host has the address ${address}, so nothing about that real server can be checked, and a server nobody manages may be left in the table by mistake.`,
        fix: `add the host to the inventory, or remove ${address} from the table (keel: ipvsRule's realServers)`,
      });
      skipped.push({ host: address, reason: 'no selected inventory host has this address', checks: REAL_SERVER_CHECKS });
      continue;
    }
    realServerNames.add(host.name);
    if (!host.state) {
      // The real server could not be read, but what its director saw still counts.
      if (refused.length > 0) findings.push(notServing(host.name, refused, ['its own state could not be read']));
      continue;
    }
    const ownFindings = realServerFindings(host, host.state, own);
    findings.push(...ownFindings);
    // A wide prefix on lo makes the director's own address local to the real server: that finding explains the refusal.
    const widePrefix = ownFindings.find((finding) => finding.id === 'rs-vip-prefix');
    if (widePrefix) widePrefix.evidence.push(...refused.map((use) => `${use.service.director} cannot connect to ${use.server}`));
    else if (refused.length > 0) {
      const listening = host.state.listeners.filter((listener) => refused.some((use) => use.port === listener.port));
      findings.push(
        notServing(host.name, refused, [
          listening.length === 0
            ? `ss -ltnH on ${host.name}: nothing listens on port ${refused.map((use) => use.port).join(', ')}`
            : `ss -ltnH on ${host.name}: ${listening.map((l) => `${l.address}:${l.port}`).join(', ')}`,
        ]),
      );
    }
  }
  if (arp && 'failed' in arp) {
    skipped.push({ host: arp.director, reason: arp.failed, checks: ['arp-flux-observed'] });
  } else if (arp) {
    findings.push(...arpProbeFindings(hosts, arp.director, arp.probes, findings));
    if (arp.probes.some((probe) => !probe.tool))
      skipped.push({ host: arp.director, reason: 'the director has no arping', checks: ['arp-flux-observed'] });
  }
  findings.sort(
    (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.host.localeCompare(b.host) || a.id.localeCompare(b.id),
  );
  return { directors: directors.map((director) => director.name), realServers: [...realServerNames], findings, skipped };
}
