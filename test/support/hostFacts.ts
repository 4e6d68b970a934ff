/** Facts as keel gathered them, held against what the host itself says: `ip -j addr`, /etc/os-release, nproc, MemTotal. */
import { expect } from 'vitest';
import { parseOsRelease } from '../../src/facts/gather.js';
import type { Facts, FactsDocument } from '../../src/facts/model.js';

interface IpLink {
  ifname: string;
  address: string;
  flags: string[];
  addr_info: { local: string; prefixlen: number }[];
}

export function factsOf(document: FactsDocument, host: string): Facts {
  const entry = document.hosts.find((h) => h.host === host);
  if (!entry || !('facts' in entry)) throw new Error(`no facts for ${host}: ${JSON.stringify(entry)}`);
  return entry.facts;
}

/** `output` runs a command on the host, bypassing keel, and returns its stdout. */
export async function expectFactsOfHost(facts: Facts, output: (command: string) => Promise<string>): Promise<void> {
  const release = parseOsRelease(await output('cat /etc/os-release'));
  expect(facts.os).toMatchObject({ id: release.get('ID'), version: release.get('VERSION_ID') ?? '' });
  expect(facts.cpus).toBe(Number((await output('nproc')).trim()));
  expect(facts.hostname).toBe((await output('cat /proc/sys/kernel/hostname')).trim());
  expect(facts.kernel.release).toBe((await output('uname -r')).trim());
  const links = JSON.parse(await output('ip -j addr show')) as IpLink[];
  expect(facts.interfaces.map((i) => [i.name, i.up, i.addresses.map((a) => `${a.address}/${a.prefix}`)])).toEqual(
    links.map((link) => [link.ifname, link.flags.includes('UP'), link.addr_info.map((a) => `${a.local}/${a.prefixlen}`)]),
  );
  for (const link of links.filter((l) => l.ifname !== 'lo'))
    expect(facts.interfaces.find((i) => i.name === link.ifname)?.mac).toBe(link.address);
  const memTotal = Number(/MemTotal:\s+(\d+) kB/.exec(await output('cat /proc/meminfo'))![1]) * 1024;
  expect(facts.memoryBytes).toBe(memTotal);
}
