/**
 * An address on a network device (`192.168.9.100/32` on `lo`, label `lo:8`), present or absent. The live
 * state is read with `ip -j addr show dev DEV`; persistence is a systemd oneshot unit per address that puts
 * the address back at every boot (see docs/resources.md). Addresses other than this one are never touched.
 */
import { Type } from '@sinclair/typebox';
import { defineResource, type FieldChange, fieldChange, Unknowable } from '../engine/resource.js';
import type { ValidationIssue } from '../schema/index.js';
import { AddressLabel, canonicalIp, InterfaceName, IpAddress, StringEnum } from '../schema/index.js';
import { atomicWriteScript, printTextFile, type ShellCommand, sh } from '../shell/index.js';

const IfaceAliasParams = Type.Object(
  {
    device: InterfaceName,
    address: IpAddress,
    prefix: Type.Integer({ minimum: 0, maximum: 128, title: 'a prefix length' }),
    /** IPv4 only; it must start with the device name (`lo:8`). Unset: the kernel's default, the device name. */
    label: Type.Optional(AddressLabel),
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
    /** Keep a boot unit that restores the address, so it survives a reboot. */
    persist: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);

type IfaceAliasParams = (typeof IfaceAliasParams)['static'];

/** One `addr_info` entry of `ip -j addr`: what the kernel holds for an address on the device. */
export interface AddressEntry {
  family: 'inet' | 'inet6';
  local: string;
  prefix: number;
  /** IPv4 only. */
  label: string | null;
  secondary: boolean;
}

/** `yes`: the unit exists as keel would write it and is enabled. `outdated`: it exists with other content. */
export type Persisted = 'yes' | 'no' | 'outdated' | 'disabled';

export interface IfaceAliasState {
  /** Every entry for this address on the device (one address can be held under several prefixes). */
  entries: AddressEntry[];
  /** Every entry on the device, to know what else a deletion would take with it. */
  device: AddressEntry[];
  /** `net.ipv4.conf.DEV.promote_secondaries`: with it off, deleting a primary also deletes its secondaries. */
  promoteSecondaries: boolean;
  persisted: Persisted;
}

/** One device of `ip -j addr`: its name, whether it is administratively up, and its addresses. */
export interface LinkAddresses {
  name: string;
  up: boolean;
  /** The link-layer address, lower case; null for a device without one. */
  mac: string | null;
  addresses: AddressEntry[];
}

/** Parses the output of `ip -j addr show`: every device. */
export function parseIpAddrLinks(json: string): LinkAddresses[] {
  const links = JSON.parse(json) as { ifname?: unknown; flags?: unknown; address?: unknown; addr_info?: Record<string, unknown>[] }[];
  if (!Array.isArray(links)) throw new Error(`expected a list of devices in the output of ip -j addr, got ${typeof links}`);
  return links.map((link) => ({
    name: String(link.ifname),
    up: Array.isArray(link.flags) && link.flags.includes('UP'),
    mac: typeof link.address === 'string' ? link.address.toLowerCase() : null,
    addresses: (link.addr_info ?? [])
      .filter((info) => info.family === 'inet' || info.family === 'inet6')
      .map((info) => {
        if (typeof info.local !== 'string' || typeof info.prefixlen !== 'number')
          throw new Error(`an address without local/prefixlen: ${JSON.stringify(info)}`);
        return {
          family: info.family as 'inet' | 'inet6',
          local: canonicalIp(info.local),
          prefix: info.prefixlen,
          label: typeof info.label === 'string' ? info.label : null,
          secondary: info.secondary === true,
        };
      }),
  }));
}

/** Parses the output of `ip -j addr show dev DEV`. */
export function parseIpAddrJson(json: string): AddressEntry[] {
  const links = parseIpAddrLinks(json);
  if (links.length !== 1) throw new Error(`expected one device in the output of ip -j addr, got ${links.length}`);
  return links[0]!.addresses;
}

export function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

export function sameIpv4Network(a: string, b: string, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(ipv4ToNumber(a) / size) === Math.floor(ipv4ToNumber(b) / size);
}

/** Other addresses the kernel deletes along with `entry`: the secondaries of a primary, unless they get promoted. */
export function deletedAlongWith(entry: AddressEntry, device: readonly AddressEntry[], promoteSecondaries: boolean): AddressEntry[] {
  if (entry.family !== 'inet' || entry.secondary || promoteSecondaries) return [];
  return device.filter(
    (other) =>
      other.family === 'inet' &&
      other.secondary &&
      other.prefix === entry.prefix &&
      other.local !== entry.local &&
      sameIpv4Network(other.local, entry.local, entry.prefix),
  );
}

function isIpv6(address: string): boolean {
  return address.includes(':');
}

function desiredLabel(params: IfaceAliasParams): string | null {
  return isIpv6(params.address) ? null : (params.label ?? params.device);
}

/** `sys-subsystem-net-devices-br\x2dlan.device`: systemd escapes a `-` inside a path component. */
export function deviceUnit(device: string): string {
  return `sys-subsystem-net-devices-${device.replace(/-/g, '\\x2d')}.device`;
}

export function unitName(params: Pick<IfaceAliasParams, 'device' | 'address'>): string {
  return `keel-addr-${params.device}-${canonicalIp(params.address)}.service`;
}

const UNIT_DIRECTORY = '/etc/systemd/system';
const WANTED_BY = 'multi-user.target';

function unitPath(params: IfaceAliasParams): string {
  return `${UNIT_DIRECTORY}/${unitName(params)}`;
}

function wantsLink(params: IfaceAliasParams): string {
  return `${UNIT_DIRECTORY}/${WANTED_BY}.wants/${unitName(params)}`;
}

function ipArguments(params: IfaceAliasParams, prefix: number, label: string | null): string {
  return `${canonicalIp(params.address)}/${prefix} dev ${params.device}${label === null ? '' : ` label ${label}`}`;
}

/** The boot unit. Every value in it passed the strict schema patterns, so none needs quoting. */
export function unitContent(params: IfaceAliasParams): string {
  const label = desiredLabel(params);
  const device = params.device === 'lo' ? [] : [`BindsTo=${deviceUnit(params.device)}`, `After=${deviceUnit(params.device)}`];
  return [
    '# Written by keel (ifaceAlias): restores this address at boot. keel sets the live address itself.',
    '[Unit]',
    `Description=keel: ${canonicalIp(params.address)}/${params.prefix} on ${params.device}${label && label !== params.device ? ` (${label})` : ''}`,
    ...device,
    'Before=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=/sbin/ip addr replace ${ipArguments(params, params.prefix, label)}`,
    '',
    '[Install]',
    `WantedBy=${WANTED_BY}`,
    '',
  ].join('\n');
}

const NO_DEVICE = 'no-device';
const NO_UNIT = 'no-unit';
const UNIT = 'unit';

/** The device's IPv4 settings, present exactly while the device exists in the host's network namespace. */
function ipv4Conf(device: string): string {
  return `/proc/sys/net/ipv4/conf/${device}`;
}

/**
 * Read output: line 1 the JSON of `ip -j addr show dev DEV` (or `no-device`), line 2 promote_secondaries,
 * line 3 `enabled`/`disabled`, line 4 `unit` followed by the unit file, or `no-unit`.
 */
export function parseIfaceAliasRead(stdout: string, params: IfaceAliasParams): IfaceAliasState | Unknowable {
  const lines = stdout.split('\n');
  const [json = '', promote = '', enabled = '', unitMarker = ''] = lines;
  if (json === NO_DEVICE) return new Unknowable(`device ${params.device} does not exist`);
  if (unitMarker !== UNIT && unitMarker !== NO_UNIT) throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 120))}`);
  const device = parseIpAddrJson(json);
  const address = canonicalIp(params.address);
  const unit = unitMarker === UNIT ? lines.slice(4).join('\n') : null;
  let persisted: Persisted = 'no';
  if (unit !== null) persisted = unit !== unitContent(params) ? 'outdated' : enabled === 'enabled' ? 'yes' : 'disabled';
  return {
    entries: device.filter((entry) => entry.local === address),
    device,
    promoteSecondaries: promote.trim() !== '0',
    persisted,
  };
}

function single<T>(values: T[]): T | T[] | null {
  return values.length === 0 ? null : values.length === 1 ? values[0]! : values;
}

/** What differs: the address itself, its prefix or label, and the unit that restores it at boot. */
export type IfaceAliasField = 'address' | 'prefix' | 'label' | 'persisted';

export function diffIfaceAlias(params: IfaceAliasParams, current: IfaceAliasState): FieldChange<IfaceAliasField>[] {
  const changes: FieldChange<IfaceAliasField>[] = [];
  const present = params.state !== 'absent';
  if (!present) {
    if (current.entries.length > 0) changes.push(fieldChange('address', 'present', 'absent'));
  } else if (current.entries.length === 0) {
    changes.push(fieldChange('address', 'absent', 'present'));
  } else {
    const prefixes = [...new Set(current.entries.map((entry) => entry.prefix))];
    if (prefixes.length !== 1 || prefixes[0] !== params.prefix) changes.push(fieldChange('prefix', single(prefixes), params.prefix));
    const labels = [...new Set(current.entries.map((entry) => entry.label))];
    const label = desiredLabel(params);
    if (labels.length !== 1 || labels[0] !== label) changes.push(fieldChange('label', single(labels), label));
  }
  if (params.persist !== false) {
    const want: Persisted = present ? 'yes' : 'no';
    if (current.persisted !== want) changes.push(fieldChange('persisted', current.persisted, want));
  }
  const doomed = entriesToDelete(params, current).flatMap((entry) => deletedAlongWith(entry, current.device, current.promoteSecondaries));
  if (doomed.length > 0) {
    throw new Error(
      `removing ${params.address} from ${params.device} would make the kernel delete ${doomed.map((d) => `${d.local}/${d.prefix}`).join(', ')} too ` +
        `(its secondaries; net.ipv4.conf.${params.device}.promote_secondaries is 0), and keel removes only the address it manages`,
    );
  }
  return changes;
}

/** Entries apply deletes: all of them for `absent`; otherwise those with another prefix, or the right one with a wrong label. */
function entriesToDelete(params: IfaceAliasParams, current: IfaceAliasState): AddressEntry[] {
  if (params.state === 'absent') return current.entries;
  const label = desiredLabel(params);
  return current.entries.filter((entry) => entry.prefix !== params.prefix || entry.label !== label);
}

function whenSystemdRuns(command: ShellCommand): ShellCommand {
  return sh`if [ -d /run/systemd/system ]; then ${command}; fi`;
}

function persistenceSteps(params: IfaceAliasParams, current: IfaceAliasState): ShellCommand[] {
  const unit = unitName(params);
  if (params.state === 'absent') {
    return [sh`systemctl disable --quiet ${unit}`, sh`rm -f ${unitPath(params)}`, whenSystemdRuns(sh`systemctl daemon-reload`)];
  }
  const steps: ShellCommand[] = [];
  if (current.persisted !== 'disabled')
    steps.push(atomicWriteScript(unitPath(params), unitContent(params)), whenSystemdRuns(sh`systemctl daemon-reload`));
  steps.push(sh`systemctl enable --quiet ${unit}`);
  return steps;
}

export const ifaceAlias = defineResource({
  type: 'ifaceAlias',
  schema: IfaceAliasParams,
  check(params) {
    const issues: ValidationIssue[] = [];
    const maximum = isIpv6(params.address) ? 128 : 32;
    if (params.prefix > maximum) issues.push({ path: ['prefix'], message: `must be at most ${maximum} for ${params.address}` });
    if (params.label !== undefined && isIpv6(params.address)) issues.push({ path: ['label'], message: 'is for IPv4 addresses only' });
    if (params.label !== undefined && !params.label.startsWith(`${params.device}:`))
      issues.push({ path: ['label'], message: `must start with "${params.device}:"` });
    return issues;
  },
  key: (params) => `${canonicalIp(params.address)}@${params.device}`,
  read(params) {
    return {
      command: sh`[ -d ${ipv4Conf(params.device)} ] || { echo ${NO_DEVICE}; exit 0; }
ip -j addr show dev ${params.device}
if [ -f ${`${ipv4Conf(params.device)}/promote_secondaries`} ]; then ${printTextFile(`${ipv4Conf(params.device)}/promote_secondaries`)}; else echo; fi
if [ -L ${wantsLink(params)} ]; then echo enabled; else echo disabled; fi
if [ -f ${unitPath(params)} ]; then echo ${UNIT}; ${printTextFile(unitPath(params))}; else echo ${NO_UNIT}; fi`,
      parse: (output) => parseIfaceAliasRead(output.stdout, params),
    };
  },
  diff: diffIfaceAlias,
  apply(params, current, changes) {
    const steps: ShellCommand[] = [];
    const doomed = entriesToDelete(params, current);
    const label = desiredLabel(params);
    // An entry with the right prefix but the wrong label goes first: the kernel cannot hold both, nor relabel one.
    const relabel = doomed.filter((entry) => entry.prefix === params.prefix);
    for (const entry of relabel) steps.push(sh`ip addr del ${`${entry.local}/${entry.prefix}`} dev ${params.device}`);
    const holdsWanted = current.entries.some((entry) => entry.prefix === params.prefix && entry.label === label);
    if (params.state !== 'absent' && !holdsWanted) {
      steps.push(
        sh`ip addr add ${`${canonicalIp(params.address)}/${params.prefix}`} dev ${params.device} ${label === null ? [] : ['label', label]}`,
      );
    }
    // Other prefixes go only once the wanted one is in place, so the address never disappears in between.
    for (const entry of doomed.filter((e) => !relabel.includes(e)))
      steps.push(sh`ip addr del ${`${entry.local}/${entry.prefix}`} dev ${params.device}`);
    if (changes.some((change) => change.field === 'persisted')) steps.push(...persistenceSteps(params, current));
    return steps;
  },
});
