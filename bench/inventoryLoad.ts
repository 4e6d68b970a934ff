/**
 * Loading a large inventory: `keel inventory list --json` against `ansible-inventory --list` on the same generated
 * Ansible INI inventory (and keel on the same hosts in its own YAML), interleaved round by round. No host is
 * contacted: this is the controller's cost of reading, merging and selecting, which Ansible issue #30534 found
 * to grow to minutes (57 s for 5,000 hosts in Ansible 2.3).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, type Timed, timed } from './timed.js';

export type InventoryTool = 'keel (INI)' | 'keel (YAML)' | 'ansible-inventory';

export interface InventoryLoadSummary {
  tool: InventoryTool;
  runs: number;
  wallMs: number;
  cpuMs: number;
  peakRssKb: number;
  problems: string[];
}

export interface InventoryLoadResult {
  hosts: number;
  groups: number;
  loadAverageAtStart: number;
  summaries: InventoryLoadSummary[];
}

const DATACENTERS = ['dc1', 'dc2'];
const ROLES = ['web', 'db', 'cache', 'queue', 'batch'];

interface GeneratedHost {
  name: string;
  address: string;
  role: string;
  datacenter: string;
  rack: string;
}

/** Hosts spread over roles and datacenters, each with an address and a host var, as a real fleet has them. */
export function generateHosts(count: number): GeneratedHost[] {
  return Array.from({ length: count }, (_, index) => {
    const role = ROLES[index % ROLES.length]!;
    const datacenter = DATACENTERS[Math.floor(index / ROLES.length) % DATACENTERS.length]!;
    const number = String(index + 1).padStart(5, '0');
    return {
      name: `${role}${number}`,
      address: `10.${Math.floor(index / 65_536) + 1}.${Math.floor(index / 256) % 256}.${(index % 256) + 1}`,
      role,
      datacenter,
      rack: `r${index % 40}`,
    };
  });
}

/** The same fleet as Ansible INI: role groups with vars, a group per role and datacenter, datacenters as parents. */
export function ansibleIni(hosts: readonly GeneratedHost[]): string {
  const lines: string[] = ['[all:vars]', 'ansible_user=root', 'ntp_server=10.0.0.1', ''];
  for (const role of ROLES) {
    for (const datacenter of DATACENTERS) {
      lines.push(`[${role}_${datacenter}]`);
      for (const host of hosts.filter((h) => h.role === role && h.datacenter === datacenter))
        lines.push(`${host.name} ansible_host=${host.address} rack=${host.rack}`);
      lines.push('');
    }
    lines.push(`[${role}:children]`, ...DATACENTERS.map((datacenter) => `${role}_${datacenter}`), '');
    lines.push(`[${role}:vars]`, `role=${role}`, `port=${8000 + ROLES.indexOf(role)}`, '');
  }
  for (const datacenter of DATACENTERS) {
    lines.push(`[${datacenter}:children]`, ...ROLES.map((role) => `${role}_${datacenter}`), '');
    lines.push(`[${datacenter}:vars]`, `datacenter=${datacenter}`, '');
  }
  return `${lines.join('\n')}\n`;
}

/** The count of groups ansibleIni writes, `all` and `ungrouped` left out. */
function groupCount(): number {
  return ROLES.length * DATACENTERS.length + ROLES.length + DATACENTERS.length;
}

/** What a listing must show of host `sample`: every host, and its vars merged from all, its groups and itself. */
function listingProblem(tool: InventoryTool, result: Timed, hosts: number, sample: GeneratedHost): string | undefined {
  if (result.exitCode !== 0) return `exit ${result.exitCode}: ${result.stderr.trim().slice(-300)}`;
  let document: {
    hosts?: Record<string, { vars?: Record<string, unknown> }>;
    _meta?: { hostvars?: Record<string, Record<string, unknown>> };
  };
  try {
    document = JSON.parse(result.stdout) as typeof document;
  } catch (error) {
    return `output is not JSON: ${(error as Error).message}`;
  }
  const vars =
    tool === 'ansible-inventory'
      ? document._meta?.hostvars
      : Object.fromEntries(Object.entries(document.hosts ?? {}).map(([name, host]) => [name, host.vars ?? {}]));
  const listed = Object.keys(vars ?? {}).length;
  if (listed !== hosts) return `${listed} hosts listed, expected ${hosts}`;
  const got = vars?.[sample.name] ?? {};
  const expected = { ntp_server: '10.0.0.1', role: sample.role, datacenter: sample.datacenter, rack: sample.rack };
  const wrong = Object.entries(expected).filter(([name, value]) => String(got[name]) !== value);
  if (wrong.length > 0)
    return `${sample.name}: ${wrong.map(([name, value]) => `${name}=${JSON.stringify(got[name])}, expected ${value}`).join('; ')}`;
  return undefined;
}

export interface InventoryLoadOptions {
  hosts: number;
  /** Rounds of keel; Ansible, which takes far longer, runs `ansibleRounds`. */
  rounds: number;
  ansibleRounds: number;
  keel: string;
  work: string;
  loadAverage: number;
  log: (line: string) => void;
}

/** Generates the inventory, then times the three listings, alternating them round by round. */
export async function benchmarkInventoryLoad(options: InventoryLoadOptions): Promise<InventoryLoadResult> {
  const dir = join(options.work, 'inventory-load');
  mkdirSync(dir, { recursive: true });
  const hosts = generateHosts(options.hosts);
  const ini = join(dir, 'hosts.ini');
  const yaml = join(dir, 'hosts.yaml');
  writeFileSync(ini, ansibleIni(hosts));
  const imported = await timed({ file: process.execPath, args: [options.keel, 'inventory', 'import', ini], env: process.env }, dir);
  if (imported.exitCode !== 0) throw new Error(`keel inventory import ${ini} failed: ${imported.stderr.trim()}`);
  writeFileSync(yaml, imported.stdout);

  const commands: Record<InventoryTool, { file: string; args: string[]; env: NodeJS.ProcessEnv }> = {
    'keel (INI)': { file: process.execPath, args: [options.keel, 'inventory', 'list', '--json', '-i', ini], env: process.env },
    'keel (YAML)': { file: process.execPath, args: [options.keel, 'inventory', 'list', '--json', '-i', yaml], env: process.env },
    'ansible-inventory': {
      file: '/usr/bin/ansible-inventory',
      args: ['-i', ini, '--list'],
      env: { ...process.env, ANSIBLE_INVENTORY_ENABLED: 'ini', ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-tmp') },
    },
  };
  const sample = hosts[hosts.length - 1]!;
  const runs = new Map<InventoryTool, { result: Timed; problem?: string }[]>();
  const tools = Object.keys(commands) as InventoryTool[];
  for (let round = 0; round < options.rounds; round++) {
    const order = tools.map((_, index) => tools[(index + round) % tools.length]!);
    for (const tool of order) {
      if (tool === 'ansible-inventory' && round >= options.ansibleRounds) continue;
      const result = await timed(commands[tool], dir);
      const problem = listingProblem(tool, result, hosts.length, sample);
      runs.set(tool, [...(runs.get(tool) ?? []), { result, ...(problem ? { problem } : {}) }]);
      options.log(
        `  [inventory of ${hosts.length} hosts, round ${round + 1}] ${tool.padEnd(17)} ${(result.wallMs / 1000).toFixed(2).padStart(7)} s${problem ? `  PROBLEM: ${problem}` : ''}`,
      );
    }
  }
  const summaries = tools.map((tool) => {
    const mine = runs.get(tool) ?? [];
    return {
      tool,
      runs: mine.length,
      wallMs: median(mine.map((run) => run.result.wallMs)),
      cpuMs: median(mine.map((run) => run.result.cpuMs)),
      peakRssKb: Math.max(...mine.map((run) => run.result.peakRssKb)),
      problems: mine.flatMap((run, round) => (run.problem ? [`round ${round + 1}: ${run.problem}`] : [])),
    };
  });
  return { hosts: hosts.length, groups: groupCount(), loadAverageAtStart: options.loadAverage, summaries };
}

export function inventoryLoadTable(result: InventoryLoadResult): string {
  const ansible = result.summaries.find((summary) => summary.tool === 'ansible-inventory');
  const rows = result.summaries.map((summary) => [
    `${summary.tool}${summary.runs > 1 ? ` ×${summary.runs}` : ''}${summary.problems.length > 0 ? ' (!)' : ''}`,
    `${(summary.wallMs / 1000).toFixed(2)} s`,
    `${(summary.cpuMs / 1000).toFixed(2)} s`,
    `${(summary.peakRssKb / 1024).toFixed(0)} MB`,
    ansible && summary.tool !== 'ansible-inventory' ? `${(ansible.wallMs / summary.wallMs).toFixed(1)}×` : '',
  ]);
  const header = [
    `inventory of ${result.hosts} hosts, ${result.groups} groups`,
    'wall (median)',
    'CPU user+sys',
    'peak RSS',
    'Ansible ÷ keel',
  ];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [format(header), format(widths.map((width) => '-'.repeat(width))), ...rows.map(format)].join('\n');
}
