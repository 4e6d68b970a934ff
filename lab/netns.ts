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

/** The lab namespace: a bridge holding the gateway address, and no uplink. */
export async function createLabNetwork(lab: string, gatewayCidr: string): Promise<void> {
  const ns = labNetns(lab);
  await $`ip netns add ${ns}
    ip -n ${ns} link set lo up
    ip -n ${ns} link add ${BRIDGE} type bridge
    ip -n ${ns} addr add ${gatewayCidr} dev ${BRIDGE}
    ip -n ${ns} link set ${BRIDGE} up`;
}

/** A host namespace whose eth0 is plugged into the lab bridge. One shell for all steps: spawning from Node is the slow part. */
export async function createHostNetwork(lab: string, host: string, addressCidr: string, gateway: string): Promise<void> {
  const ns = hostNetns(lab, host);
  const port = bridgePortName(host);
  const labSide = [`link add ${port} type veth peer name ${HOST_INTERFACE} netns ${ns}`, `link set ${port} master ${BRIDGE} up`];
  const hostSide = [
    'link set lo up',
    `addr add ${addressCidr} dev ${HOST_INTERFACE}`,
    `link set ${HOST_INTERFACE} up`,
    `route add default via ${gateway}`,
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
