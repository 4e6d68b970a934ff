/**
 * Gathering a host's facts: one invocation of read-only shell builtins and standard tools (/etc/os-release, /proc,
 * uname, `ip -j`), and a pure parser of what it prints.
 */
import type { Transport } from '../transport/types.js';
import type { Facts, OsFamily, PackageManager } from './model.js';

const MARK = '@@keel-facts ';

/**
 * Each part prints a marker line, then its output. Nothing here writes: `command -v` and `test` only look, and no
 * part needs root.
 */
export const FACTS_SCRIPT = `exec 2>/dev/null
part() { printf '\\n${MARK}%s\\n' "$1"; }
part os-release; cat /etc/os-release || cat /usr/lib/os-release
part kernel; uname -r
part architecture; uname -m
part hostname; cat /proc/sys/kernel/hostname
part fqdn; hostname -f || cat /proc/sys/kernel/hostname
part init; if test -d /run/systemd/system; then echo systemd; else echo sysv; fi
part package-managers; for tool in apt-get dnf yum; do command -v "$tool" >/dev/null && echo "$tool"; done
part addresses; ip -j addr show
part default-route; ip -j -4 route show default
part cpus; nproc || grep -c ^processor /proc/cpuinfo
part meminfo; grep ^MemTotal: /proc/meminfo
part end
`;

/** The command sent; the script goes on stdin. */
export const FACTS_COMMAND = 'exec sh -s';

export class FactsError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(`${host}: gathering facts failed: ${message}`);
    this.name = 'FactsError';
  }
}

function parts(output: string): Map<string, string> {
  const found = new Map<string, string>();
  const chunks = output.split(`\n${MARK}`).slice(1);
  for (const chunk of chunks) {
    const newline = chunk.indexOf('\n');
    const name = newline < 0 ? chunk : chunk.slice(0, newline);
    found.set(name, newline < 0 ? '' : chunk.slice(newline + 1).trim());
  }
  return found;
}

/** /etc/os-release: KEY=value lines, values optionally quoted (os-release(5)). */
export function parseOsRelease(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) value = value.slice(1, -1);
    values.set(match[1]!, value.replace(/\\(["'`$\\])/g, '$1'));
  }
  return values;
}

const RHEL_IDS = ['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol', 'amzn'];

export function osFamily(id: string, idLike: readonly string[]): OsFamily {
  const ids = [id, ...idLike];
  if (ids.some((name) => name === 'debian' || name === 'ubuntu')) return 'debian';
  if (ids.some((name) => RHEL_IDS.includes(name))) return 'rhel';
  return 'other';
}

interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
}

interface IpLink {
  ifname?: string;
  flags?: string[];
  address?: string;
  link_type?: string;
  addr_info?: IpAddrInfo[];
}

function interfacesOf(json: string): Facts['interfaces'] {
  const links = JSON.parse(json) as IpLink[];
  return links.map((link) => ({
    name: link.ifname ?? '',
    mac: link.address && link.link_type !== 'loopback' && link.link_type !== 'none' ? link.address : null,
    up: link.flags?.includes('UP') ?? false,
    addresses: (link.addr_info ?? [])
      .filter((info) => (info.family === 'inet' || info.family === 'inet6') && info.local !== undefined)
      .map((info) => ({ family: info.family as 'inet' | 'inet6', address: info.local!, prefix: info.prefixlen ?? 0 })),
  }));
}

function defaultRouteOf(json: string): Facts['defaultRoute'] {
  const routes = JSON.parse(json || '[]') as { dst?: string; dev?: string; gateway?: string }[];
  const route = routes.find((r) => r.dst === 'default' && r.dev !== undefined);
  return route ? { interface: route.dev!, gateway: route.gateway ?? null } : null;
}

function packageManagerOf(found: string): PackageManager {
  const tools = found.split('\n');
  if (tools.includes('apt-get')) return 'apt';
  if (tools.includes('dnf')) return 'dnf';
  if (tools.includes('yum')) return 'yum';
  return 'none';
}

/** Parses what FACTS_SCRIPT printed. Throws a plain Error naming the part that is missing or malformed. */
export function parseFacts(output: string): Facts {
  const found = parts(output);
  const part = (name: string): string => {
    const value = found.get(name);
    if (value === undefined) throw new Error(`no ${name} in the output`);
    return value;
  };
  part('end');
  const release = parseOsRelease(part('os-release'));
  const id = release.get('ID') ?? 'linux';
  const hostname = part('hostname');
  const memory = /^MemTotal:\s+(\d+)\s+kB$/.exec(part('meminfo'));
  if (!memory) throw new Error(`meminfo: no MemTotal line in ${JSON.stringify(part('meminfo'))}`);
  const cpus = Number(part('cpus'));
  if (!Number.isInteger(cpus) || cpus < 1) throw new Error(`cpus: not a count: ${JSON.stringify(part('cpus'))}`);
  const json = (name: string): string => {
    const text = part(name);
    try {
      JSON.parse(text || '[]');
    } catch {
      throw new Error(`${name}: not the JSON of ip -j: ${JSON.stringify(text.slice(0, 200))}`);
    }
    return text;
  };
  return {
    os: {
      id,
      version: release.get('VERSION_ID') ?? '',
      family: osFamily(id, (release.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean)),
    },
    kernel: { release: part('kernel') },
    architecture: part('architecture'),
    hostname,
    fqdn: part('fqdn').split('\n')[0] || hostname,
    init: part('init') === 'systemd' ? 'systemd' : 'sysv',
    packageManager: packageManagerOf(part('package-managers')),
    interfaces: interfacesOf(json('addresses')),
    defaultRoute: defaultRouteOf(json('default-route')),
    cpus,
    memoryBytes: Number(memory[1]) * 1024,
  };
}

/** What one run of FACTS_SCRIPT gave: by its own invocation, or as a section of the host's read invocation. */
export interface FactsOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** The facts in what FACTS_SCRIPT printed, or a FactsError naming the host, the exit code and stderr's tail. */
export function factsFrom(host: string, output: FactsOutput, command: string): Facts {
  try {
    return parseFacts(output.stdout);
  } catch (error) {
    const stderr = output.stderr.trim();
    throw new FactsError(
      host,
      `${command} exited ${output.code}: ${(error as Error).message}${stderr ? `; stderr: ${stderr.slice(-600)}` : ''}`,
    );
  }
}

/** One invocation of its own on the host (`keel facts`); a dropped connection stays a ConnectionError, anything else is a FactsError. */
export async function gatherFacts(transport: Transport, timeoutMs: number): Promise<Facts> {
  const result = await transport.exec(FACTS_COMMAND, { stdin: FACTS_SCRIPT, timeoutMs });
  return factsFrom(
    transport.host,
    { stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8'), code: result.code },
    FACTS_COMMAND,
  );
}
