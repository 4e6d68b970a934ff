import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readlink, stat } from 'node:fs/promises';
import { $ } from 'zx';

export const BRIDGE = 'br0';
/** The host side of each veth pair is named eth0 inside the host, like a real machine's LAN interface. */
export const HOST_INTERFACE = 'eth0';

export function labNetns(lab: string): string {
  return `keel-${lab}`;
}

export function hostNetns(lab: string, host: string): string {
  return `keel-${lab}-${host}`;
}

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export function netnsExists(name: string): boolean {
  return existsSync(netnsPath(name));
}

/** Interface names are limited to 15 bytes, host names are not. */
function bridgePortName(host: string): string {
  return `vk${createHash('sha256').update(host).digest('hex').slice(0, 12)}`;
}

/**
 * Fixed MAC addresses (locally administered), so that the lab can enter every neighbour as permanent: the kernel's
 * neighbour table is shared by all namespaces and holds at most gc_thresh3 (1024 by default) entries that may be
 * collected, so a lab of 1,000 hosts, with an entry on each side of every veth, would overflow it and lose hosts
 * ("neighbor table overflow", "no route to host"). Permanent entries do not count against that limit, and they
 * save every first packet an ARP round trip. A bridge given no address of its own would take its lowest port's.
 */
export const BRIDGE_MAC = '02:6b:00:00:00:01';

export function hostMac(address: string): string {
  const octets = address.split('.').map((octet) => Number(octet).toString(16).padStart(2, '0'));
  return `02:6b:${octets.join(':')}`;
}

/** A Linux bridge takes at most this many ports (the kernel's BR_MAX_PORTS): one per host, and a VM's tap. */
export const BRIDGE_MAX_PORTS = 1024;

/** The lab namespace: a bridge holding the gateway address, and no uplink. */
export async function createLabNetwork(lab: string, gatewayCidr: string): Promise<void> {
  const ns = labNetns(lab);
  await $`ip netns add ${ns}
    ip -n ${ns} link set lo up
    ip -n ${ns} link add ${BRIDGE} address ${BRIDGE_MAC} type bridge
    ip -n ${ns} addr add ${gatewayCidr} dev ${BRIDGE}
    ip -n ${ns} link set ${BRIDGE} up`;
}

/** A host namespace whose eth0 is plugged into the lab bridge. One shell for all steps: spawning from Node is the slow part. */
export async function createHostNetwork(lab: string, host: string, addressCidr: string, gateway: string): Promise<void> {
  const ns = hostNetns(lab, host);
  const port = bridgePortName(host);
  const address = addressCidr.split('/')[0]!;
  const mac = hostMac(address);
  const labSide = [
    `link add ${port} type veth peer name ${HOST_INTERFACE} address ${mac} netns ${ns}`,
    `link set ${port} master ${BRIDGE} up`,
    `neigh replace ${address} lladdr ${mac} dev ${BRIDGE} nud permanent`,
  ];
  const hostSide = [
    'link set lo up',
    `addr add ${addressCidr} dev ${HOST_INTERFACE}`,
    `link set ${HOST_INTERFACE} up`,
    `route add default via ${gateway}`,
    `neigh replace ${gateway} lladdr ${BRIDGE_MAC} dev ${HOST_INTERFACE} nud permanent`,
  ];
  await $`ip netns add ${ns}
    ip -n ${labNetns(lab)} -batch - <<< ${labSide.join('\n')}
    ip -n ${ns} -batch - <<< ${hostSide.join('\n')}`;
}

/** Deleting a namespace also deletes the veth ends inside it; missing namespaces are skipped. */
export async function deleteNetns(names: string[]): Promise<void> {
  const existing = names.filter(netnsExists);
  if (existing.length === 0) return;
  await $({ input: existing.map((name) => `netns delete ${name}\n`).join('') })`ip -batch -`;
}

/** Pids of the processes in each named network namespace, from one pass over /proc. */
export async function netnsPids(names: string[]): Promise<Map<string, number[]>> {
  const byInode = new Map<number, string>();
  const found = new Map<string, number[]>();
  for (const name of names) {
    const info = await stat(netnsPath(name)).catch(() => undefined);
    if (info === undefined) continue;
    byInode.set(info.ino, name);
    found.set(name, []);
  }
  if (byInode.size === 0) return found;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const link = await readlink(`/proc/${entry}/ns/net`).catch(() => '');
    const name = byInode.get(Number(/^net:\[(\d+)\]$/.exec(link)?.[1]));
    if (name !== undefined) found.get(name)?.push(Number(entry));
  }
  return found;
}

export interface Subnet {
  cidr: string;
  network: number;
  prefix: number;
  containsHost(address: string): boolean;
}

export function parseIpv4(address: string): number {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) {
    throw new Error(`not an IPv4 address: ${JSON.stringify(address)}`);
  }
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function parseSubnet(cidr: string): Subnet {
  const [address = '', prefixText = ''] = cidr.split('/');
  const prefix = Number(prefixText);
  if (!/^\d+$/.test(prefixText) || prefix < 8 || prefix > 29) throw new Error(`subnet ${cidr} needs a prefix length between 8 and 29`);
  const size = 2 ** (32 - prefix);
  const network = parseIpv4(address) - (parseIpv4(address) % size);
  return {
    cidr: `${formatIpv4(network)}/${prefix}`,
    network,
    prefix,
    containsHost(host: string) {
      const value = parseIpv4(host);
      return value > network && value < network + size - 1;
    },
  };
}
