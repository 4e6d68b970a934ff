/**
 * What doctor reads from a host, in one remote invocation: one batch section per kind of state, each parsed by the
 * parser of the resource that owns that output (ip addr, ipvsadm, sysctl, the kernel module), so there is no second
 * reading of the same output. Everything here is read-only.
 */
import type { Section } from '../engine/batch.js';
import { type LinkAddresses, parseIpAddrLinks } from '../resources/ifaceAlias.js';
import { type IpvsService, parseIpvsadmRules } from '../resources/ipvsRule.js';
import { type KernelModuleState, parseKernelModuleRead } from '../resources/kernelModule.js';
import { persistedValue } from '../resources/sysctl.js';
import { canonicalIp } from '../schema/index.js';
import { sh } from '../shell/index.js';

/** The programs that may own parts of the IPVS table besides keel. */
export const IPVS_OWNERS = ['keepalived', 'ldirectord', 'kube-proxy'] as const;
export type IpvsOwnerName = (typeof IPVS_OWNERS)[number];

export interface IpvsOwner {
  name: IpvsOwnerName;
  /** `systemctl is-active` says so. */
  unitActive: boolean;
  /** A process of that name runs. */
  processRunning: boolean;
  /** Virtual services its configuration names (`IP PORT` or `IP:PORT`), where that can be told. */
  services: string[];
}

export interface IpvsState {
  table: IpvsService[];
  rulesFile: string;
  /** The rules file's services; null when the file does not exist. */
  persisted: IpvsService[] | null;
}

export interface Listener {
  /** Canonical address; `*` for the IPv4 or dual-stack wildcard (0.0.0.0, *). `::` stays: nginx binds it IPv6-only. */
  address: string;
  port: number;
}

export interface Route {
  /** `default` or a CIDR. */
  destination: string;
  device: string;
  gateway: string | null;
}

/** A director's attempt to open a TCP connection to one of its real servers. */
export interface ConnectProbe {
  /** `ADDRESS:PORT` as ipvsadm prints it. */
  server: string;
  connected: boolean;
}

export interface HostState {
  links: LinkAddresses[];
  /** `net.ipv4.ip_forward` and `net.ipv4.conf.DEV.*` as `key = value` lines. */
  sysctls: string;
  /** null when ipvsadm is missing or ip_vs is not loaded. */
  ipvs: IpvsState | null;
  ipVsModule: KernelModuleState;
  listeners: Listener[];
  routes: Route[];
  owners: IpvsOwner[];
  probes: ConnectProbe[];
}

export type SectionName = 'links' | 'sysctls' | 'ipvs' | 'module' | 'listeners' | 'routes' | 'owners' | 'probes';

/**
 * The sections of doctor's read. The director's connection probes sit in the same invocation as the table they
 * follow: a real server of its table is tried with bash's /dev/tcp, bounded by timeout(1).
 */
export const DOCTOR_READS: Readonly<Record<SectionName, ReturnType<typeof sh>>> = {
  links: sh`ip -j addr show`,
  sysctls: sh`cd /proc/sys && for f in net/ipv4/ip_forward net/ipv4/conf/*/arp_ignore net/ipv4/conf/*/arp_announce net/ipv4/conf/*/rp_filter net/ipv4/conf/*/send_redirects; do [ -f "$f" ] && printf '%s = %s\\n' "$(printf '%s' "$f" | tr / .)" "$(cat "$f")"; done; true`,
  ipvs: sh`if command -v ipvsadm >/dev/null 2>&1 && [ -e /proc/net/ip_vs ]; then echo @table; ipvsadm -Sn || exit 1; if [ -f /etc/redhat-release ]; then rules=/etc/sysconfig/ipvsadm; else rules=/etc/ipvsadm.rules; fi; if [ -f "$rules" ]; then echo "@rules $rules"; cat "$rules"; else echo "@no-rules $rules"; fi; else echo @none; fi`,
  module: sh`if [ -d /sys/module/ip_vs ]; then echo loaded; else echo not-loaded; fi; cat /etc/modules-load.d/*.conf /run/modules-load.d/*.conf /usr/lib/modules-load.d/*.conf /lib/modules-load.d/*.conf /etc/modules 2>/dev/null; true`,
  listeners: sh`ss -ltnH`,
  routes: sh`ip -j -4 route show table main`,
  owners: sh`for name in ${[...IPVS_OWNERS]}; do if systemctl is-active --quiet "$name.service" 2>/dev/null; then echo "unit $name"; fi; done
cat /proc/[0-9]*/comm 2>/dev/null | grep -x -e keepalived -e ldirectord -e kube-proxy | sort -u | sed 's/^/process /'
grep -h -s -E '^[[:space:]]*virtual_server[[:space:]]' /etc/keepalived/keepalived.conf /etc/keepalived/conf.d/*.conf | sed 's/^/service keepalived /'
grep -h -s -E '^[[:space:]]*virtual[[:space:]]*=' /etc/ldirectord.cf /etc/ha.d/ldirectord.cf | sed 's/^/service ldirectord /'
true`,
  probes: sh`command -v ipvsadm >/dev/null 2>&1 && [ -e /proc/net/ip_vs ] || exit 0
ipvsadm -Sn | while read -r command kind service r server rest; do
  [ "$command" = -a ] && [ "$kind" = -t ] || continue
  port=\${server##*:}; address=\${server%:*}; address=\${address#[}; address=\${address%]}
  if timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$address" "$port" 2>/dev/null; then echo "$server connected"; else echo "$server refused"; fi
done | sort -u`,
};

export function doctorSections(): Section[] {
  return (Object.keys(DOCTOR_READS) as SectionName[]).map((name) => ({ name, command: DOCTOR_READS[name], streamed: true }));
}

function parseIpvs(stdout: string): IpvsState | null {
  if (stdout.startsWith('@none')) return null;
  if (!stdout.startsWith('@table\n')) throw new Error(`unexpected ipvs output: ${JSON.stringify(stdout.slice(0, 120))}`);
  const marker = /\n@(rules|no-rules) (\S+)\n/.exec(stdout);
  if (!marker) throw new Error('the ipvs output lacks the rules file');
  return {
    table: parseIpvsadmRules(stdout.slice('@table\n'.length, marker.index)),
    rulesFile: marker[2]!,
    persisted: marker[1] === 'rules' ? parseIpvsadmRules(stdout.slice(marker.index + marker[0].length)) : null,
  };
}

function listenAddress(text: string): Listener {
  const colon = text.lastIndexOf(':');
  const host = text
    .slice(0, colon)
    .replace(/%.*$/, '')
    .replace(/^\[(.*)\]$/, '$1');
  const port = Number(text.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port)) throw new Error(`cannot read the listening address ${JSON.stringify(text)}`);
  return { address: host === '*' || host === '0.0.0.0' ? '*' : canonicalIp(host), port };
}

/** Parses `ss -ltnH`: `LISTEN 0 511 0.0.0.0:80 0.0.0.0:*`, the fourth column the local address. */
export function parseListeners(stdout: string): Listener[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const local = line.trim().split(/\s+/)[3];
      if (local === undefined) throw new Error(`cannot read the ss line ${JSON.stringify(line)}`);
      return listenAddress(local);
    });
}

export function parseRoutes(stdout: string): Route[] {
  const routes = JSON.parse(stdout.trim() || '[]') as { dst?: unknown; dev?: unknown; gateway?: unknown }[];
  return routes
    .filter((route) => typeof route.dev === 'string')
    .map((route) => ({
      destination: String(route.dst),
      device: route.dev as string,
      gateway: typeof route.gateway === 'string' ? route.gateway : null,
    }));
}

export function parseOwners(stdout: string): IpvsOwner[] {
  const lines = stdout.split('\n').map((line) => line.trim());
  return IPVS_OWNERS.map((name) => ({
    name,
    unitActive: lines.includes(`unit ${name}`),
    processRunning: lines.includes(`process ${name}`),
    services: lines
      .filter((line) => line.startsWith(`service ${name} `))
      .map((line) =>
        line
          .slice(`service ${name} `.length)
          .replace(/^virtual_server\s+|^virtual\s*=\s*/, '')
          .replace(/\s*\{.*$/, '')
          .trim(),
      ),
  })).filter((owner) => owner.unitActive || owner.processRunning);
}

export function parseProbes(stdout: string): ConnectProbe[] {
  return stdout
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter((words) => words.length === 2)
    .map(([server, result]) => ({ server: server!, connected: result === 'connected' }));
}

/** The host's state from the outputs of doctor's sections (as captured in test/fixtures/doctor). */
export function parseHostState(outputs: Readonly<Record<SectionName, string>>): HostState {
  return {
    links: parseIpAddrLinks(outputs.links),
    sysctls: outputs.sysctls,
    ipvs: parseIpvs(outputs.ipvs),
    ipVsModule: parseKernelModuleRead(outputs.module.replace(/\n?$/, ''), 'ip_vs'),
    listeners: parseListeners(outputs.listeners),
    routes: parseRoutes(outputs.routes),
    owners: parseOwners(outputs.owners),
    probes: parseProbes(outputs.probes),
  };
}

/** A sysctl's live value as a number, from the `key = value` lines; null when the host has no such key. */
export function sysctlNumber(state: HostState, key: string): number | null {
  const value = persistedValue(state.sysctls, key);
  return value === null || !/^-?\d+$/.test(value) ? null : Number(value);
}
