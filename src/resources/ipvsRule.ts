/**
 * One IPVS virtual service and its real servers, as `ipvsadm -Sn` prints them. Changes are minimal: what is
 * missing is added, what differs is edited with every field (`-E`/`-e` replace, they do not patch), real
 * servers outside the desired set are deleted, and a changed service key is added anew before the old one
 * goes. The table is never flushed and services keel does not manage are never touched.
 *
 * keel records the service key it manages under the resource's name in /var/lib/keel/ipvs/NAME, which is how
 * a later run recognises the old service after the recipe changes its port or address. Persistence rewrites
 * only this service's lines in the distribution's rules file (Debian /etc/ipvsadm.rules with AUTO="true" in
 * /etc/default/ipvsadm; RHEL /etc/sysconfig/ipvsadm) and enables the boot service that loads it.
 */
import { Type } from '@sinclair/typebox';
import { defineResource, type FieldChange, fieldChange, Unknowable } from '../engine/resource.js';
import type { ValidationIssue } from '../schema/index.js';
import { canonicalIp, IpAddress, Port, StringEnum } from '../schema/index.js';
import { atomicWriteScript, ensureDirectory, printTextFile, type ShellCommand, sh } from '../shell/index.js';

const Forwarding = StringEnum(['route', 'masq', 'tunnel']);

/** The kernel's IPVS schedulers (ipvsadm 1.31's list, and twos from Linux 5.5). */
export const IpvsScheduler = StringEnum(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']);

const RealServer = Type.Object(
  {
    address: IpAddress,
    /** Default: the service's port (none for a fwmark service). */
    port: Type.Optional(Port),
    /** `route` is direct routing (`-g`), `masq` NAT (`-m`), `tunnel` IP-in-IP (`-i`). Default: route. */
    forwarding: Type.Optional(Forwarding),
    /** Default 1; 0 takes the server out of new scheduling. */
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, title: 'a weight (0-65535)' })),
  },
  { additionalProperties: false },
);

const IpvsRuleParams = Type.Object(
  {
    /** What keel calls this service on the host: the id, and the name its key is recorded under. */
    name: Type.String({
      pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$',
      title: 'a name of letters, digits, ".", "_" and "-", not starting with "." or "-"',
    }),
    protocol: Type.Optional(StringEnum(['tcp', 'udp', 'fwmark'], { default: 'tcp' })),
    /** The virtual IP and port (tcp, udp). */
    address: Type.Optional(IpAddress),
    port: Type.Optional(Port),
    /** The firewall mark (fwmark services, IPv4). */
    fwmark: Type.Optional(Type.Integer({ minimum: 1, maximum: 4294967295, title: 'a firewall mark (1-4294967295)' })),
    /** Default: wlc, ipvsadm's own default. */
    scheduler: Type.Optional(IpvsScheduler),
    /** Persistent connections: seconds a client stays with its real server. Unset: not persistent. */
    persistence: Type.Optional(Type.Integer({ minimum: 1, maximum: 2678400, title: 'a timeout in seconds' })),
    realServers: Type.Array(RealServer),
    /** Remove real servers gracefully: weight 0, then wait up to this many seconds for active connections to end. */
    drainSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600, title: 'seconds (1-600)' })),
    /** Keep the service in the distribution's rules file, loaded at boot. */
    persist: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);

type IpvsRuleParams = (typeof IpvsRuleParams)['static'];
export type ForwardingMethod = (typeof Forwarding)['static'];

export interface IpvsRealServer {
  /** As ipvsadm prints it: `192.168.9.11:80`, `[fd00::11]:80`. */
  server: string;
  forwarding: ForwardingMethod;
  weight: number;
  /** Options keel does not set (`--tun-type gue …`), as printed. */
  options: string;
}

export interface IpvsService {
  /** The service as ipvsadm names it on the command line: `-t 192.168.9.100:80`, `-u [fd00::1]:53`, `-f 7`. */
  key: string;
  scheduler: string;
  persistence: number | null;
  /** Options keel does not set (`-M 255.255.255.0`, `--pe sip`, `-b flag-1`, `ops`), as printed. */
  options: string;
  realServers: IpvsRealServer[];
}

const FORWARDING_SWITCH: Record<ForwardingMethod, string> = { route: '-g', masq: '-m', tunnel: '-i' };
const SWITCH_FORWARDING: Record<string, ForwardingMethod> = { '-g': 'route', '-m': 'masq', '-i': 'tunnel' };
const SERVICE_SWITCHES = new Set(['-t', '-u', '-f', '--sctp-service']);

/** Splits `-a -t 192.168.9.100:80 -r …` after its command into the service key and the remaining words. */
function takeServiceKey(words: string[], line: string): { key: string; rest: string[] } {
  const [kind, value, ...rest] = words;
  if (kind === undefined || value === undefined || !SERVICE_SWITCHES.has(kind))
    throw new Error(`no virtual service in ${JSON.stringify(line)}`);
  if (kind === '-f' && rest[0] === '-6') return { key: `-f ${value} -6`, rest: rest.slice(1) };
  return { key: `${kind} ${value}`, rest };
}

/** The service key a rules line (`-A …` or `-a …`) belongs to, or null for comments and other lines. */
export function ruleLineKey(line: string): string | null {
  const words = line.trim().split(/\s+/);
  if (words[0] !== '-A' && words[0] !== '-a') return null;
  return takeServiceKey(words.slice(1), line).key;
}

/** `--tun-type ipip` is what 1.31 prints for every plain tunnel server: the default, not a setting. */
function serverOptions(words: string[]): string {
  const text = words.join(' ');
  return text === '--tun-type ipip' ? '' : text;
}

/** Parses `ipvsadm -Sn` output (and rules files in the same format, whose `#` comments are skipped). */
export function parseIpvsadmRules(text: string): IpvsService[] {
  const services = new Map<string, IpvsService>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [command, ...words] = line.split(/\s+/);
    const { key, rest } = takeServiceKey(words, line);
    if (command === '-A') {
      if (rest[0] !== '-s' || rest[1] === undefined) throw new Error(`no scheduler in ${JSON.stringify(line)}`);
      let options = rest.slice(2);
      let persistence: number | null = null;
      if (options[0] === '-p' && /^\d+$/.test(options[1] ?? '')) {
        persistence = Number(options[1]);
        options = options.slice(2);
      }
      services.set(key, { key, scheduler: rest[1], persistence, options: options.join(' '), realServers: [] });
    } else if (command === '-a') {
      const service = services.get(key);
      if (!service) throw new Error(`a real server of ${key} before its service: ${JSON.stringify(line)}`);
      const [r, server, switchWord, w, weight, ...options] = rest;
      const forwarding = SWITCH_FORWARDING[switchWord ?? ''];
      if (r !== '-r' || server === undefined || forwarding === undefined || w !== '-w' || !/^\d+$/.test(weight ?? '')) {
        throw new Error(`cannot read the real server in ${JSON.stringify(line)}`);
      }
      service.realServers.push({ server, forwarding, weight: Number(weight), options: serverOptions(options) });
    } else {
      throw new Error(`unexpected line ${JSON.stringify(line)}`);
    }
  }
  return [...services.values()];
}

export type Flavour = 'debian' | 'rhel' | 'other';

export interface IpvsPersistence {
  flavour: Flavour;
  /** The rules file's content; null when it does not exist. */
  rules: string | null;
  /** Debian: /etc/default/ipvsadm's content; null elsewhere or when missing. */
  defaults: string | null;
  bootEnabled: boolean;
}

export interface IpvsRuleState {
  table: IpvsService[];
  /** The key keel recorded for this name, or null. */
  recorded: string | null;
  persistence: IpvsPersistence;
}

const RULES_FILE: Record<Exclude<Flavour, 'other'>, string> = { debian: '/etc/ipvsadm.rules', rhel: '/etc/sysconfig/ipvsadm' };
const DEBIAN_DEFAULTS = '/etc/default/ipvsadm';
const RECORD_DIRECTORY = '/var/lib/keel/ipvs';

/** What a file field holds: each line of the file headed by this, after a `@NAME +` line (`@NAME -`: no file). */
const FILE_LINE = '|';

/**
 * Read output: `@unknowable REASON`, or `@table` followed by `ipvsadm -Sn` output, then the fields `@recorded FILE`,
 * `@flavour NAME`, `@defaults FILE`, `@boot enabled|disabled` and `@rules FILE`, each file as FILE_LINE says.
 */
export function parseIpvsRuleRead(stdout: string): IpvsRuleState | Unknowable {
  const unknowable = /^@unknowable (.*)$/m.exec(stdout);
  if (unknowable) return new Unknowable(unknowable[1]!);
  if (!stdout.startsWith('@table\n')) throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 120))}`);
  const tableEnd = stdout.indexOf('\n@recorded ');
  if (tableEnd < 0) throw new Error('the output ends before the recorded key');
  const fields = new Map<string, string>();
  const fileLines = new Map<string, string[]>();
  let lines: string[] | undefined;
  for (const line of stdout.slice(tableEnd + 1).split('\n')) {
    const match = /^@(\w+) (.*)$/.exec(line);
    if (match) {
      fields.set(match[1]!, match[2]!);
      lines = match[2] === '+' ? [] : undefined;
      if (lines) fileLines.set(match[1]!, lines);
    } else if (line.startsWith(FILE_LINE) && lines) lines.push(`${line.slice(FILE_LINE.length)}\n`);
  }
  const field = (name: string): string => {
    const value = fields.get(name);
    if (value === undefined) throw new Error(`the output lacks @${name}`);
    return value;
  };
  const file = (name: string): string | null => (field(name) === '-' ? null : (fileLines.get(name) ?? []).join(''));
  const flavour = field('flavour');
  if (flavour !== 'debian' && flavour !== 'rhel' && flavour !== 'other') throw new Error(`unknown flavour ${flavour}`);
  return {
    table: parseIpvsadmRules(stdout.slice('@table\n'.length, tableEnd)),
    recorded: file('recorded')?.trim() || null,
    persistence: { flavour, rules: file('rules'), defaults: file('defaults'), bootEnabled: field('boot') === 'enabled' },
  };
}

function hostPort(address: string, port: number): string {
  const canonical = canonicalIp(address);
  return `${canonical.includes(':') ? `[${canonical}]` : canonical}:${port}`;
}

export function serviceKey(params: IpvsRuleParams): string {
  if (params.protocol === 'fwmark') return `-f ${params.fwmark}`;
  return `${params.protocol === 'udp' ? '-u' : '-t'} ${hostPort(params.address!, params.port!)}`;
}

function desiredService(params: IpvsRuleParams): IpvsService {
  const servicePort = params.protocol === 'fwmark' ? 0 : params.port!;
  return {
    key: serviceKey(params),
    scheduler: params.scheduler ?? 'wlc',
    persistence: params.persistence ?? null,
    options: '',
    realServers: params.realServers.map((rs) => ({
      server: hostPort(rs.address, rs.port ?? servicePort),
      forwarding: rs.forwarding ?? 'route',
      weight: rs.weight ?? 1,
      options: '',
    })),
  };
}

function serviceSettings(service: IpvsService): string {
  return [`-s ${service.scheduler}`, service.persistence === null ? '' : `-p ${service.persistence}`, service.options]
    .filter(Boolean)
    .join(' ');
}

function serverSettings(server: IpvsRealServer): string {
  return [FORWARDING_SWITCH[server.forwarding], `-w ${server.weight}`, server.options].filter(Boolean).join(' ');
}

/** The lines `ipvsadm -Sn` prints for a service; what the rules file holds for it. */
export function ruleLines(service: IpvsService): string[] {
  return [
    `-A ${service.key} ${serviceSettings(service)}`,
    ...service.realServers.map((rs) => `-a ${service.key} -r ${rs.server} ${serverSettings(rs)}`),
  ];
}

/** The rules file with the managed services' lines replaced by `lines`, where the first of them stood; other lines kept. */
export function withServiceRules(content: string | null, managed: readonly string[], lines: readonly string[]): string {
  const kept: string[] = [];
  let insertAt: number | undefined;
  const existing = (content ?? '').split('\n');
  if (existing[existing.length - 1] === '') existing.pop();
  for (const line of existing) {
    const key = ruleLineKey(line);
    if (key !== null && managed.includes(key)) insertAt ??= kept.length;
    else kept.push(line);
  }
  kept.splice(insertAt ?? kept.length, 0, ...lines);
  return `${kept.join('\n')}\n`;
}

/** Debian's /etc/default/ipvsadm with AUTO="true": the AUTO line rewritten, or appended. */
export function withAutoTrue(content: string | null): string {
  const lines = (content ?? '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let found = false;
  const rewritten = lines.map((line) => {
    if (!/^\s*AUTO=/.test(line)) return line;
    found = true;
    return 'AUTO="true"';
  });
  if (!found) rewritten.push('AUTO="true"');
  return `${rewritten.join('\n')}\n`;
}

/** The value of AUTO in /etc/default/ipvsadm (the last assignment, quotes removed), or null. */
export function autoValue(content: string | null): string | null {
  let value: string | null = null;
  for (const line of (content ?? '').split('\n')) {
    const match = /^\s*AUTO=(["']?)([^"'\s]*)\1\s*(#.*)?$/.exec(line);
    if (match) value = match[2]!;
  }
  return value;
}

/** The keys this resource manages: the desired one, and the one recorded by an earlier run if it differs. */
function managedKeys(params: IpvsRuleParams, current: IpvsRuleState): string[] {
  const key = serviceKey(params);
  return current.recorded && current.recorded !== key ? [key, current.recorded] : [key];
}

function persistedLines(params: IpvsRuleParams, current: IpvsRuleState): string[] {
  const managed = managedKeys(params, current);
  return (current.persistence.rules ?? '')
    .split('\n')
    .map((line) => line.trim().split(/\s+/).join(' '))
    .filter((line) => {
      const key = ruleLineKey(line);
      return key !== null && managed.includes(key);
    });
}

/** The service and each of its real servers live, an older service this resource replaced, and their persistence. */
export type IpvsRuleField =
  | 'service'
  | 'scheduler'
  | 'persistence'
  | 'service options'
  | `real server ${string}`
  | `service ${string}`
  | 'recorded'
  | 'persisted'
  | 'persisted at boot'
  | 'boot service';

export function diffIpvsRule(params: IpvsRuleParams, current: IpvsRuleState): FieldChange<IpvsRuleField>[] {
  const changes: FieldChange<IpvsRuleField>[] = [];
  const want = desiredService(params);
  const have = current.table.find((service) => service.key === want.key);
  if (!have) {
    changes.push(fieldChange('service', null, `${want.key} ${serviceSettings(want)}`));
  } else {
    if (have.scheduler !== want.scheduler) changes.push(fieldChange('scheduler', have.scheduler, want.scheduler));
    if (have.persistence !== want.persistence) changes.push(fieldChange('persistence', have.persistence, want.persistence));
    if (have.options !== '') changes.push(fieldChange('service options', have.options, null));
  }
  for (const server of want.realServers) {
    const existing = have?.realServers.find((rs) => rs.server === server.server);
    const from = existing ? serverSettings(existing) : null;
    if (from !== serverSettings(server)) changes.push(fieldChange(`real server ${server.server}`, from, serverSettings(server)));
  }
  for (const extra of have?.realServers.filter((rs) => !want.realServers.some((w) => w.server === rs.server)) ?? []) {
    changes.push(fieldChange(`real server ${extra.server}`, serverSettings(extra), null));
  }
  const previous = current.recorded !== want.key ? current.table.find((service) => service.key === current.recorded) : undefined;
  if (previous) changes.push(fieldChange(`service ${previous.key}`, serviceSettings(previous), null));
  if (current.recorded !== want.key) changes.push(fieldChange('recorded', current.recorded, want.key));
  if (params.persist !== false) changes.push(...diffPersistence(params, current));
  return changes;
}

function diffPersistence(params: IpvsRuleParams, current: IpvsRuleState): FieldChange<IpvsRuleField>[] {
  const { flavour, defaults, bootEnabled } = current.persistence;
  if (flavour === 'other') {
    throw new Error(
      `cannot persist: this host has neither Debian's ${DEBIAN_DEFAULTS} nor /etc/redhat-release (set persist: false to manage the live table only)`,
    );
  }
  const changes: FieldChange<IpvsRuleField>[] = [];
  const lines = persistedLines(params, current);
  const wanted = ruleLines(desiredService(params));
  if (lines.join('\n') !== wanted.join('\n')) changes.push(fieldChange('persisted', lines.length === 0 ? 'no' : 'outdated', 'yes'));
  // Debian's init script loads the rules file at boot only with AUTO="true" in /etc/default/ipvsadm.
  if (flavour === 'debian' && autoValue(defaults) !== 'true') changes.push(fieldChange('persisted at boot', 'no', 'yes'));
  if (!bootEnabled) changes.push(fieldChange('boot service', 'disabled', 'enabled'));
  return changes;
}

function ipvsadm(command: string, key: string, ...rest: string[]): ShellCommand {
  return sh`ipvsadm ${[command, ...`${key} ${rest.join(' ')}`.split(' ').filter(Boolean)]}`;
}

function realServerArgument(server: string, key: string): string {
  // A fwmark service's servers print as `ADDRESS:0`; ipvsadm takes them without a port.
  return key.startsWith('-f ') ? server.replace(/:0$/, '') : server;
}

/** `ipvsadm -e` giving one real server a weight, with every other field as it is: `-e` replaces, it does not patch. */
export function realServerWeightCommand(key: string, server: IpvsRealServer, weight: number): ShellCommand {
  return ipvsadm('-e', key, '-r', realServerArgument(server.server, key), serverSettings({ ...server, weight }));
}

/** Prints the active connections of these real servers of one service, summed (`ipvsadm -Ln`, column 5). */
export function activeConnectionsCommand(key: string, servers: readonly string[]): ShellCommand {
  const activeOfNames = `BEGIN { split(names, n, " "); for (k in n) want[n[k]] = 1 } ($2 in want) { sum += $5 } END { print sum + 0 }`;
  return sh`ipvsadm -Ln ${key.split(' ')} | awk -v names=${servers.join(' ')} ${activeOfNames}`;
}

/** The live table, in the rules file's format: parse it with parseIpvsadmRules. */
export const READ_TABLE: ShellCommand = sh`ipvsadm -Sn`;

/** The distribution's rules file, which holds the table as the recipes want it; empty when there is none. */
export const READ_PERSISTED_RULES: ShellCommand = sh`cat ${RULES_FILE.debian} 2>/dev/null || cat ${RULES_FILE.rhel} 2>/dev/null || true`;

/** `ADDRESS:PORT` as ipvsadm prints it, a VIP or a real server: `192.168.9.11:80` or `[fd00::11]:80`, the address unbracketed. */
export function splitAddressPort(text: string): { address: string; port: number } {
  const colon = text.lastIndexOf(':');
  return { address: text.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(text.slice(colon + 1)) };
}

/** The address of a real server as ipvsadm prints it (`192.168.9.11:80`, `[fd00::11]:80`), canonical. */
export function realServerAddress(server: string): string {
  return canonicalIp(splitAddressPort(server).address);
}

/**
 * Steps that delete real servers of one service: with `drainSeconds`, weight 0 for all of them first, then
 * one bounded wait for their active connections to reach zero, then the deletions.
 */
function removeServers(key: string, servers: readonly IpvsRealServer[], drainSeconds: number | undefined): ShellCommand[] {
  if (servers.length === 0) return [];
  const remove = servers.map((rs) => ipvsadm('-d', key, '-r', realServerArgument(rs.server, key)));
  if (drainSeconds === undefined) return remove;
  const quiesce = servers.map((rs) => realServerWeightCommand(key, rs, 0));
  const active = activeConnectionsCommand(
    key,
    servers.map((rs) => rs.server),
  );
  const wait = sh`i=0; while [ $i -lt ${drainSeconds} ]; do active=$(${active}); [ "$active" = 0 ] && break; sleep 1; i=$((i + 1)); done`;
  return [...quiesce, wait, ...remove];
}

export function ipvsRuleSteps(
  params: IpvsRuleParams,
  current: IpvsRuleState,
  changes: readonly FieldChange<IpvsRuleField>[],
): ShellCommand[] {
  const want = desiredService(params);
  const have = current.table.find((service) => service.key === want.key);
  const steps: ShellCommand[] = [];
  if (!have) steps.push(ipvsadm('-A', want.key, serviceSettings(want)));
  else if (serviceSettings(have) !== serviceSettings(want)) steps.push(ipvsadm('-E', want.key, serviceSettings(want)));
  // Servers that gain or keep traffic first, then those whose weight drops, then removals: a change that stops
  // part-way never leaves the service without a server that takes traffic.
  const gaining: ShellCommand[] = [];
  const losing: ShellCommand[] = [];
  for (const server of want.realServers) {
    const existing = have?.realServers.find((rs) => rs.server === server.server);
    const argument = realServerArgument(server.server, want.key);
    if (!existing) gaining.push(ipvsadm('-a', want.key, '-r', argument, serverSettings(server)));
    else if (serverSettings(existing) !== serverSettings(server))
      (server.weight < existing.weight ? losing : gaining).push(ipvsadm('-e', want.key, '-r', argument, serverSettings(server)));
  }
  steps.push(...gaining, ...losing);
  const extras = have?.realServers.filter((rs) => !want.realServers.some((w) => w.server === rs.server)) ?? [];
  steps.push(...removeServers(want.key, extras, params.drainSeconds));
  const previous = current.recorded !== want.key ? current.table.find((service) => service.key === current.recorded) : undefined;
  if (previous) steps.push(...removeServers(previous.key, previous.realServers, params.drainSeconds), ipvsadm('-D', previous.key));
  if (current.recorded !== want.key)
    steps.push(ensureDirectory(RECORD_DIRECTORY), atomicWriteScript(`${RECORD_DIRECTORY}/${params.name}`, `${want.key}\n`));
  const changed = new Set(changes.map((change) => change.field));
  const { flavour } = current.persistence;
  if (flavour !== 'other') {
    if (changed.has('persisted')) {
      steps.push(
        atomicWriteScript(RULES_FILE[flavour], withServiceRules(current.persistence.rules, managedKeys(params, current), ruleLines(want))),
      );
    }
    if (changed.has('persisted at boot')) steps.push(atomicWriteScript(DEBIAN_DEFAULTS, withAutoTrue(current.persistence.defaults)));
    if (changed.has('boot service')) {
      steps.push(
        flavour === 'debian'
          ? sh`update-rc.d ipvsadm defaults >/dev/null && update-rc.d ipvsadm enable`
          : sh`systemctl enable --quiet ipvsadm.service`,
      );
    }
  }
  return steps;
}

/** A file field of the read output, printed with builtins alone: on an emulated director each program started costs a tenth of a second. */
function fileField(name: string, path: string): ShellCommand {
  return sh`if [ -f ${path} ]; then echo ${`@${name} +`}; ${printTextFile(path, FILE_LINE)}; else echo ${`@${name} -`}; fi`;
}

export const ipvsRule = defineResource({
  type: 'ipvsRule',
  schema: IpvsRuleParams,
  check(params) {
    const issues: ValidationIssue[] = [];
    const fwmark = params.protocol === 'fwmark';
    if (fwmark && params.fwmark === undefined) issues.push({ path: ['fwmark'], message: 'is required for a fwmark service' });
    if (fwmark && (params.address !== undefined || params.port !== undefined))
      issues.push({ path: [params.address !== undefined ? 'address' : 'port'], message: 'has no meaning for a fwmark service' });
    if (!fwmark && params.address === undefined)
      issues.push({ path: ['address'], message: `is required for a ${params.protocol ?? 'tcp'} service` });
    if (!fwmark && params.port === undefined)
      issues.push({ path: ['port'], message: `is required for a ${params.protocol ?? 'tcp'} service` });
    if (!fwmark && params.fwmark !== undefined) issues.push({ path: ['fwmark'], message: 'is only for fwmark services' });
    const ipv6Service = !fwmark && (params.address ?? '').includes(':');
    params.realServers.forEach((rs, index) => {
      if (rs.address.includes(':') !== ipv6Service && rs.forwarding !== 'tunnel') {
        issues.push({
          path: ['realServers', index, 'address'],
          message: `must be ${ipv6Service ? 'IPv6' : 'IPv4'} like the service (only tunnel servers may differ)`,
        });
      }
    });
    const servers = params.realServers.map((rs) => `${canonicalIp(rs.address)} ${rs.port ?? params.port ?? 0}`);
    servers.forEach((server, index) => {
      if (servers.indexOf(server) !== index) issues.push({ path: ['realServers', index], message: 'appears twice' });
    });
    return issues;
  },
  key: (params) => params.name,
  read(params) {
    return {
      command: sh`command -v ipvsadm >/dev/null 2>&1 || { echo '@unknowable ipvsadm is not installed'; exit 0; }
[ -e /proc/net/ip_vs ] || { echo '@unknowable the ip_vs kernel module is not loaded'; exit 0; }
echo @table
ipvsadm -Sn || exit 1
${fileField('recorded', `${RECORD_DIRECTORY}/${params.name}`)}
if [ -f ${DEBIAN_DEFAULTS} ] || [ -f /etc/debian_version ]; then
  echo @flavour debian; ${fileField('defaults', DEBIAN_DEFAULTS)}
  __keel_boot=disabled; for __keel_link in /etc/rc[2345].d/S[0-9][0-9]ipvsadm; do if [ -e "$__keel_link" ] || [ -L "$__keel_link" ]; then __keel_boot=enabled; fi; done
  echo "@boot $__keel_boot"
  ${fileField('rules', RULES_FILE.debian)}
elif [ -f /etc/redhat-release ]; then
  echo @flavour rhel; echo '@defaults -'
  if [ -L /etc/systemd/system/multi-user.target.wants/ipvsadm.service ]; then echo @boot enabled; else echo @boot disabled; fi
  ${fileField('rules', RULES_FILE.rhel)}
else
  echo @flavour other; echo '@defaults -'; echo '@boot disabled'; echo '@rules -'
fi`,
      parse: (output) => parseIpvsRuleRead(output.stdout),
    };
  },
  diff: diffIpvsRule,
  apply: ipvsRuleSteps,
});
