/**
 * keel against Ansible on the same lab hosts: `npm run bench [-- --sizes 3,50 --rounds 3 --full --tools keel,ansible]`.
 *
 * For each fleet size it starts that many light lab hosts (sshd in network namespaces), then times, alternating
 * the tools round by round: a first apply (after undoing the recipe on every host), a no-change check and a second
 * apply. Both tools run inside the lab's network namespace, connect straight to the hosts and check host keys
 * against its known_hosts.
 * It prints a table with the keel/Ansible ratios and writes bench/results.json. See bench/README.md.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { $ } from 'zx';
import { type Lab, startHosts } from '../lab/hosts.js';
import type { Report } from '../src/report/json.js';
import { type ForksSweep, forksTable, parseForksList, sweepForks } from './forksSweep.js';
import { readHistory, recordRun, writeHistory } from './history.js';
import { benchmarkInventoryLoad, type InventoryLoadResult, inventoryLoadTable } from './inventoryLoad.js';
import { renderHistory } from './readme.js';
import { measureStartup, type StartupFigures, startupSummary } from './startup.js';
import { median, type Timed, timed } from './timed.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const KEEL = join(REPO, 'bin/keel.js');
const RECIPE = join(REPO, 'bench/recipe.ts');
const FACTS_RECIPE = join(REPO, 'bench/recipe-facts.ts');
const PLAYBOOK = join(REPO, 'bench/playbook.yml');
const RESULTS = join(REPO, 'bench/results.json');
const IMPORT_LOG_HOOK = pathToFileURL(join(REPO, 'test/support/importLog.mjs')).href;

const LAB = process.env['KEEL_BENCH_LAB'] ?? 'bench';
const VARS = { vip: '10.77.9.100', lanInterface: 'eth0', sysctlFile: '/etc/sysctl.d/60-lvs-dr.conf', markerFile: '/etc/lvs-dr-realserver' };
const SYSCTLS: Record<string, number> = {
  'net.ipv4.conf.all.arp_ignore': 1,
  'net.ipv4.conf.all.arp_announce': 2,
  [`net.ipv4.conf.${VARS.lanInterface}.arp_ignore`]: 1,
  [`net.ipv4.conf.${VARS.lanInterface}.arp_announce`]: 2,
};
/** What a first apply changes on a host: every resource of bench/recipe.ts, and these tasks of bench/playbook.yml. */
const KEEL_FIRST_APPLY_CHANGES = 6;
const ANSIBLE_FIRST_APPLY_CHANGES = 3;
/** Hosts for the untimed probes (Ink, Ansible's round trips per host): per-host figures, the same on any fleet. */
const PROBE_HOSTS = 3;
const CLOCK_TICKS_PER_SECOND = 100;
const HOST_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `ssh true` is the floor: OpenSSH connects to every host and runs one command there, as keel's check does. */
type Tool = 'keel' | 'keel+facts' | 'ansible' | 'ansible+facts' | 'ssh true';
type Phase = 'first apply' | 'check' | 'second apply';
const TOOLS: Tool[] = ['keel', 'keel+facts', 'ansible', 'ansible+facts', 'ssh true'];
const PHASES: Phase[] = ['first apply', 'check', 'second apply'];

interface Options {
  sizes: number[];
  rounds: number;
  full: boolean;
  tools: Tool[];
  /** --forks-sweep: the --forks (and `ssh true` clients at once) to measure at the largest size. */
  forksSweep: number[];
  /** Generated hosts for the inventory load; 0 skips it. */
  inventoryHosts: number;
}

interface Run {
  tool: Tool;
  phase: Phase;
  round: number;
  wallMs: number;
  /** user + sys of the tool and every process it started, Ansible's ControlPersist masters included. */
  cpuMs: number;
  /** Largest resident set of any one of those processes. */
  peakRssKb: number;
  /** CPU the lab hosts' sshd (with everything it started) spent meanwhile; the hosts share this machine's cores. */
  hostsCpuMs: number;
  /** keel's own count of remote invocations per host, from its JSON report (Ansible's are counted in untimed -vvv runs). */
  execsPerHost?: { total: number; read: number };
  /** What went wrong, when the run did not do what the phase expects on every host. */
  problem?: string;
}

interface Summary {
  tool: Tool;
  phase: Phase;
  runs: number;
  wallMs: number;
  cpuMs: number;
  peakRssKb: number;
  hostsCpuMs: number;
  execsPerHost?: { total: number; read: number };
  problems: string[];
}

interface SizeResult {
  hosts: number;
  loadAverageAtStart: number;
  runs: Run[];
  summaries: Summary[];
  forksSweep?: ForksSweep;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '3,50,200,1000' },
      rounds: { type: 'string', default: '3' },
      full: { type: 'boolean', default: false },
      tools: { type: 'string', default: TOOLS.join(',') },
      'forks-sweep': { type: 'string' },
      'inventory-hosts': { type: 'string', default: '10000' },
    },
  });
  const tools = values.tools.split(',').map((tool) => tool.trim());
  const unknown = tools.filter((tool) => !(TOOLS as string[]).includes(tool));
  if (unknown.length > 0) throw new Error(`--tools: ${unknown.join(', ')}: not one of ${TOOLS.join(', ')}`);
  const sizes = values.sizes.split(',').map((size) => Number(size.trim()));
  const rounds = Number(values.rounds);
  if (sizes.some((size) => !Number.isInteger(size) || size < 1)) throw new Error('--sizes: host counts, comma-separated');
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds: a positive integer');
  const inventoryHosts = Number(values['inventory-hosts']);
  if (!Number.isInteger(inventoryHosts) || inventoryHosts < 0) throw new Error('--inventory-hosts: a number of hosts (0 skips)');
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    rounds,
    full: values.full,
    tools: tools as Tool[],
    forksSweep: values['forks-sweep'] === undefined ? [] : parseForksList(values['forks-sweep']),
    inventoryHosts,
  };
}

/** How many rounds of each phase a tool runs at a fleet size; a phase left out does not run. */
type Schedule = Partial<Record<Phase, number>>;

/**
 * Every tool, phase and round at 3 hosts. Above that, what fits the time: a first apply costs the lab hosts seconds
 * of CPU per host, and Ansible takes minutes for any run from 50 hosts on. So at 50 hosts keel applies once, at 200
 * it finds hosts converged by hand, and Ansible only checks. --full runs every tool, phase and round at every size.
 */
function schedule(tool: Tool, hosts: number, options: Options): Schedule {
  const { rounds } = options;
  if (!options.tools.includes(tool)) return {};
  if (tool === 'ssh true') return { check: hosts <= 50 ? rounds : 1 };
  // Facts cost the same in every phase (one invocation before the read): the check, beside keel's, shows it.
  if (tool === 'keel+facts') return { check: hosts <= 50 ? rounds : 1 };
  if (options.full || hosts <= 3) {
    if (tool === 'ansible+facts' && !options.full) return { check: 1 };
    return { 'first apply': rounds, check: rounds, 'second apply': rounds };
  }
  if (tool === 'keel') return hosts <= 50 ? { 'first apply': 1, check: rounds, 'second apply': rounds } : { check: 1, 'second apply': 1 };
  return tool === 'ansible' && hosts <= 200 ? { check: 1 } : {};
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

let interrupted = false;

/** Called between steps: after a Ctrl-C the current step ends, then the lab comes down on the way out. */
function stopIfInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

export async function ensureTools(): Promise<string> {
  const missing = ['/usr/bin/ansible-playbook', '/usr/bin/time'].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    log(`installing Debian's ansible and time (missing: ${missing.join(', ')})`);
    const install = () => $({ env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`apt-get install -y -q ansible time`.quiet();
    // A fresh machine may not have package lists yet.
    await install().catch(async () => {
      await $`apt-get update -q`.quiet();
      await install();
    });
  }
  return (await $`ansible-playbook --version`.quiet()).stdout.split('\n')[0]!.trim();
}

/**
 * work/ansible.cfg: Ansible's defaults except where noted: forks = N, pipelining, no compression (loopback) and
 * masters that outlive the slowest task, so that no host reconnects within a run.
 */
export function writeAnsibleConfig(work: string, forks: number, controlPaths: string, defaults: string[] = []): void {
  const config = [
    '[defaults]',
    `forks = ${forks}`,
    'host_key_checking = True',
    'interpreter_python = /usr/bin/python3',
    'retry_files_enabled = False',
    `local_tmp = ${join(work, 'ansible-tmp')}`,
    ...defaults,
    '[ssh_connection]',
    'pipelining = True',
    'ssh_args = -o ControlMaster=auto -o ControlPersist=900s',
    `control_path_dir = ${controlPaths}`,
  ];
  writeFileSync(join(work, 'ansible.cfg'), `${config.join('\n')}\n`);
}

/** The fleet of one size, with what both tools need to reach it. */
class Fleet {
  readonly keelInventory: string;
  readonly ansibleInventory: string;
  readonly addresses: string;
  readonly controlPaths: string;

  constructor(
    readonly lab: Lab,
    readonly work: string,
  ) {
    this.keelInventory = join(work, 'inventory.yaml');
    this.ansibleInventory = join(work, 'inventory.ini');
    this.addresses = join(work, 'addresses');
    this.controlPaths = join(work, 'cp');
    writeFileSync(this.addresses, lab.hosts.map((host) => `${host.address}\n`).join(''));
    const keel = [
      'defaults:',
      '  user: root',
      `  identityFile: ${lab.keyPath}`,
      `  knownHostsFile: ${lab.knownHostsPath}`,
      'vars:',
      ...Object.entries(VARS).map(([name, value]) => `  ${name}: ${value}`),
      'hosts:',
      ...lab.hosts.flatMap((host) => [`  ${host.name}:`, `    address: ${host.address}`]),
    ];
    writeFileSync(this.keelInventory, `${keel.join('\n')}\n`);
    const sshArgs = `-o UserKnownHostsFile=${lab.knownHostsPath}`;
    const ansible = [
      '[realservers]',
      ...lab.hosts.map((host) => `${host.name} ansible_host=${host.address}`),
      '[realservers:vars]',
      'ansible_user=root',
      `ansible_ssh_private_key_file=${lab.keyPath}`,
      `ansible_ssh_common_args='${sshArgs}'`,
      `vip=${VARS.vip}`,
      `lan_interface=${VARS.lanInterface}`,
      `sysctl_file=${VARS.sysctlFile}`,
      `marker_file=${VARS.markerFile}`,
    ];
    writeFileSync(this.ansibleInventory, `${ansible.join('\n')}\n`);
    writeAnsibleConfig(work, lab.hosts.length, this.controlPaths);
  }

  get size(): number {
    return this.lab.hosts.length;
  }

  /**
   * Every tool runs inside the lab's network namespace and connects straight to the hosts, as to a real fleet; the
   * lab's ProxyCommand (a netcat started in that namespace for every connection) would cost each tool as much.
   */
  command(tool: Tool, phase: Phase, extra: string[] = [], atOnce = this.size): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
    const { file, args, env } = this.#commandOutsideTheLab(tool, phase, extra, atOnce);
    return { file: 'ip', args: ['netns', 'exec', this.lab.netns, file, ...args], env };
  }

  #commandOutsideTheLab(
    tool: Tool,
    phase: Phase,
    extra: string[],
    atOnce: number,
  ): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
    if (tool === 'keel' || tool === 'keel+facts') {
      const mode = phase === 'check' ? 'check' : 'apply';
      // keel's default --forks (25 per CPU, at most 200), as a user runs it; --forks-sweep measures others.
      return {
        file: process.execPath,
        args: [KEEL, mode, tool === 'keel' ? RECIPE : FACTS_RECIPE, '-i', this.keelInventory, ...extra],
        env: { ...process.env, NO_COLOR: '1' },
      };
    }
    if (tool === 'ssh true') {
      const ssh = [
        '-i',
        this.lab.keyPath,
        '-o',
        `UserKnownHostsFile=${this.lab.knownHostsPath}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
      ];
      return {
        file: 'xargs',
        args: ['-a', this.addresses, '-P', String(atOnce), '-I', '{}', 'ssh', ...ssh, 'root@{}', 'true'],
        env: process.env,
      };
    }
    return {
      file: '/usr/bin/ansible-playbook',
      args: ['-i', this.ansibleInventory, PLAYBOOK, ...(phase === 'check' ? ['--check'] : []), ...extra],
      env: {
        ...process.env,
        ANSIBLE_CONFIG: join(this.work, 'ansible.cfg'),
        ANSIBLE_GATHERING: tool === 'ansible+facts' ? 'implicit' : 'explicit',
        ANSIBLE_NOCOLOR: '1',
      },
    };
  }

  /** Runs a script in every host's namespaces, bypassing ssh; returns each host's stdout. */
  async onEveryHost(script: string): Promise<Map<string, string>> {
    const leaders = this.lab.hosts.map((host) => `${host.name} ${host.leaderPid}`).join('\n');
    const perHost = `nsenter --target "$2" --all --root --wd env -i ${HOST_PATH} sh -c "$0" | sed "s/^/$1 /"`;
    const { stdout } = await $({ input: `${leaders}\n` })`xargs -P 4 -L 1 sh -c ${perHost} ${script}`.quiet();
    const outputs = new Map<string, string>(this.lab.hosts.map((host) => [host.name, '']));
    for (const line of stdout.split('\n').filter(Boolean)) {
      const space = line.indexOf(' ');
      const host = line.slice(0, space);
      outputs.set(host, `${outputs.get(host)}${line.slice(space + 1)}\n`);
    }
    return outputs;
  }

  /** Undoes the recipe by hand, so that the next first apply has everything to do. */
  async reset(): Promise<void> {
    const sysctls = Object.keys(SYSCTLS).map((key) => `echo 0 > /proc/sys/${key.replaceAll('.', '/')}`);
    await this.onEveryHost(
      [...sysctls, `ip addr del ${VARS.vip}/32 dev lo 2>/dev/null`, `rm -f ${VARS.sysctlFile} ${VARS.markerFile}`, 'true'].join('; '),
    );
  }

  /** Puts the recipe's state in place by hand, as keel's first apply leaves it, for sizes that skip that phase. */
  async converge(): Promise<void> {
    const sysctlFile = Object.entries(SYSCTLS)
      .map(([key, value]) => `${key} = ${value}\\n`)
      .join('');
    const script = [
      ...Object.entries(SYSCTLS).map(([key, value]) => `echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`),
      `printf '${sysctlFile}' > ${VARS.sysctlFile}`,
      `ip addr replace ${VARS.vip}/32 dev lo label lo:8`,
      `printf 'vip %s\\nhost %s\\n' ${VARS.vip} "$(hostname)" > ${VARS.markerFile}`,
      `chmod 0644 ${VARS.markerFile}`,
    ].join('; ');
    await this.onEveryHost(script);
    const deviations = await this.deviations();
    if (deviations.length > 0)
      throw new Error(`converging by hand left ${deviations.length} hosts off the recipe's state, e.g. ${deviations[0]}`);
  }

  /** The hosts where the recipe's state is not fully in place, with what is wrong there. */
  async deviations(): Promise<string[]> {
    const script = [
      ...Object.keys(SYSCTLS).map((key) => `echo "${key}=$(cat /proc/sys/${key.replaceAll('.', '/')})"`),
      `grep -q '^ *net.ipv4.conf.all.arp_ignore *= *1 *$' ${VARS.sysctlFile} && echo persisted`,
      `ip -o -4 addr show dev lo | grep -q ' ${VARS.vip}/32 .* lo:8' && echo vip`,
      `cat ${VARS.markerFile}`,
    ].join('; ');
    const outputs = await this.onEveryHost(script);
    const problems: string[] = [];
    for (const [host, output] of outputs) {
      const expected = [
        ...Object.entries(SYSCTLS).map(([key, value]) => `${key}=${value}`),
        'persisted',
        'vip',
        `vip ${VARS.vip}`,
        `host ${host}`,
        '',
      ].join('\n');
      if (output !== expected) problems.push(`${host}: ${JSON.stringify(output)}`);
    }
    return problems;
  }

  /** Cumulative CPU of every host's sshd and its reaped descendants. */
  hostsCpuMs(): number {
    return this.lab.hosts.reduce((sum, host) => sum + processCpuMs(host.leaderPid), 0);
  }
}

function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime + cutime + cstime (its own and its reaped descendants'), from /proc/PID/stat. */
function processCpuMs(pid: number): number {
  const fields = procStatFields(pid);
  if (fields === undefined) return 0;
  const ticks = fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

function processCommandLine(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Ansible's ssh ControlPersist masters detach, so their CPU never reaches the rusage of ansible-playbook: count it
 * here, then end them, so that every run starts with fresh connections as keel's do.
 */
export async function collectMasters(controlPaths: string): Promise<number> {
  const pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  const masters = new Set(pids.filter((pid) => processCommandLine(pid).includes(controlPaths)).map(Number));
  if (masters.size === 0) return 0;
  let cpuMs = 0;
  for (const pid of pids.map(Number)) {
    if (masters.has(pid)) cpuMs += processCpuMs(pid);
    else if (masters.has(Number(procStatFields(pid)?.[1]))) cpuMs += processCpuMs(pid);
  }
  for (const pid of masters) process.kill(pid, 'SIGTERM');
  for (let attempt = 0; attempt < 50 && [...masters].some((pid) => existsSync(`/proc/${pid}`)); attempt++) await sleep(100);
  return cpuMs;
}

/** Whether a keel run did what its phase expects on every host. */
function keelProblem(phase: Phase, result: Timed, report: Report | undefined, hosts: number): string | undefined {
  if (report === undefined) return `exit ${result.exitCode}, no JSON report: ${result.stderr.trim().slice(-300)}`;
  const failed = report.hosts.filter((host) => host.outcome !== 'ok').map((host) => `${host.host}: ${host.error ?? host.outcome}`);
  if (failed.length > 0) return `exit ${result.exitCode}: ${failed.slice(0, 3).join('; ')}`;
  const changed = report.hosts.reduce((sum, host) => sum + host.counts.changed + host.counts.drifted, 0);
  const expected = phase === 'first apply' ? hosts * KEEL_FIRST_APPLY_CHANGES : 0;
  if (result.exitCode !== 0 || changed !== expected)
    return `exit ${result.exitCode}, ${changed} resources changed or drifted (expected ${expected})`;
  return undefined;
}

interface RecapLine {
  changed: number;
  unreachable: number;
  failed: number;
}

function ansibleRecap(stdout: string): Map<string, RecapLine> {
  const recap = new Map<string, RecapLine>();
  for (const match of stdout.matchAll(/^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    recap.set(match[1]!, { changed: Number(match[2]), unreachable: Number(match[3]), failed: Number(match[4]) });
  }
  return recap;
}

function ansibleProblem(phase: Phase, result: Timed, hosts: number): string | undefined {
  const recap = ansibleRecap(result.stdout);
  const expected = phase === 'first apply' ? ANSIBLE_FIRST_APPLY_CHANGES : 0;
  const wrong = [...recap].filter(([, line]) => line.unreachable > 0 || line.failed > 0 || line.changed !== expected);
  if (result.exitCode === 0 && recap.size === hosts && wrong.length === 0) return undefined;
  const detail = wrong
    .slice(0, 3)
    .map(([host, line]) => `${host}: changed=${line.changed} unreachable=${line.unreachable} failed=${line.failed}`);
  return `exit ${result.exitCode}, ${recap.size}/${hosts} hosts in the recap${detail.length > 0 ? `; ${detail.join('; ')}` : ''}`;
}

async function runPhase(fleet: Fleet, tool: Tool, phase: Phase, round: number): Promise<Run> {
  stopIfInterrupted();
  const jsonReport = join(fleet.work, 'report.json');
  rmSync(jsonReport, { force: true });
  const hostsBefore = fleet.hostsCpuMs();
  const result = await timed(fleet.command(tool, phase, tool.startsWith('keel') ? ['--json', jsonReport] : []), fleet.work);
  const mastersCpuMs = tool.startsWith('ansible') ? await collectMasters(fleet.controlPaths) : 0;
  // Give the hosts' sshd a moment to reap the sessions that just ended.
  await sleep(1000);
  const hostsCpuMs = fleet.hostsCpuMs() - hostsBefore;
  const run: Run = {
    tool,
    phase,
    round,
    wallMs: result.wallMs,
    cpuMs: result.cpuMs + mastersCpuMs,
    peakRssKb: result.peakRssKb,
    hostsCpuMs,
  };
  let problem: string | undefined;
  if (tool.startsWith('keel')) {
    const report = existsSync(jsonReport) ? (JSON.parse(readFileSync(jsonReport, 'utf8')) as Report) : undefined;
    problem = keelProblem(phase, result, report, fleet.size);
    if (report !== undefined && report.hosts.length > 0) {
      run.execsPerHost = {
        total: Math.max(...report.hosts.map((host) => host.execs.total)),
        read: Math.max(...report.hosts.map((host) => host.execs.read)),
      };
    }
  } else if (tool === 'ssh true') {
    if (result.exitCode !== 0) problem = `exit ${result.exitCode}: ${result.stderr.trim().slice(-300)}`;
  } else {
    problem = ansibleProblem(phase, result, fleet.size);
  }
  if (phase === 'first apply' && problem === undefined) {
    const deviations = await fleet.deviations();
    if (deviations.length > 0) problem = `${deviations.length} hosts not in the recipe's state, e.g. ${deviations[0]}`;
  }
  if (problem !== undefined) run.problem = problem;
  log(
    `  [${fleet.size} hosts, round ${round + 1}] ${tool.padEnd(13)} ${phase.padEnd(12)} ${(run.wallMs / 1000).toFixed(2).padStart(7)} s${problem ? `  PROBLEM: ${problem}` : ''}`,
  );
  return run;
}

/** The rounds of one tool and phase: medians of wall time and CPU, the largest RSS, and what went wrong in which round. */
export function summarizeRounds(rounds: { round: number; wallMs: number; cpuMs: number; peakRssKb: number; problem?: string }[]): {
  runs: number;
  wallMs: number;
  cpuMs: number;
  peakRssKb: number;
  problems: string[];
} {
  return {
    runs: rounds.length,
    wallMs: median(rounds.map((run) => run.wallMs)),
    cpuMs: median(rounds.map((run) => run.cpuMs)),
    peakRssKb: Math.max(...rounds.map((run) => run.peakRssKb)),
    problems: rounds.flatMap((run) => (run.problem ? [`round ${run.round + 1}: ${run.problem}`] : [])),
  };
}

/** A no-change check with `forks` hosts at once (keel's --forks, or as many `ssh true` clients), for the sweep. */
async function measureForks(
  fleet: Fleet,
  tool: 'keel' | 'ssh true',
  forks: number,
): Promise<{ result: Timed; hostsCpuMs: number; problem?: string }> {
  stopIfInterrupted();
  const jsonReport = join(fleet.work, 'report.json');
  rmSync(jsonReport, { force: true });
  const hostsBefore = fleet.hostsCpuMs();
  const extra = tool === 'keel' ? ['--forks', String(forks), '--json', jsonReport] : [];
  const result = await timed(fleet.command(tool, 'check', extra, forks), fleet.work);
  await sleep(1000);
  const hostsCpuMs = fleet.hostsCpuMs() - hostsBefore;
  const report = tool === 'keel' && existsSync(jsonReport) ? (JSON.parse(readFileSync(jsonReport, 'utf8')) as Report) : undefined;
  const problem =
    tool === 'keel'
      ? keelProblem('check', result, report, fleet.size)
      : result.exitCode !== 0
        ? `exit ${result.exitCode}: ${result.stderr.trim().slice(-300)}`
        : undefined;
  return { result, hostsCpuMs, ...(problem ? { problem } : {}) };
}

function summarize(runs: Run[]): Summary[] {
  const summaries: Summary[] = [];
  for (const tool of TOOLS) {
    for (const phase of PHASES) {
      const mine = runs.filter((run) => run.tool === tool && run.phase === phase);
      if (mine.length === 0) continue;
      const execs = mine.map((run) => run.execsPerHost).filter((value) => value !== undefined);
      summaries.push({
        tool,
        phase,
        ...summarizeRounds(mine),
        hostsCpuMs: median(mine.map((run) => run.hostsCpuMs)),
        ...(execs.length > 0
          ? { execsPerHost: { total: Math.max(...execs.map((e) => e.total)), read: Math.max(...execs.map((e) => e.read)) } }
          : {}),
      });
    }
  }
  return summaries;
}

async function benchmarkSize(hosts: number, options: Options, work: string): Promise<SizeResult> {
  const loadAverageAtStart = loadavg()[0]!;
  log(`starting ${hosts} light lab hosts (load average ${loadAverageAtStart.toFixed(1)})`);
  const lab = await startHosts({ lab: LAB, count: hosts, kind: 'light', log });
  const runs: Run[] = [];
  try {
    const fleet = new Fleet(lab, work);
    const plans = new Map(TOOLS.map((tool) => [tool, schedule(tool, hosts, options)]));
    const rounds = Math.max(...[...plans.values()].flatMap((plan) => Object.values(plan)));
    if (plans.get('keel')!['first apply'] === undefined) await fleet.converge();
    for (let round = 0; round < rounds; round++) {
      // keel opens round 0, so that tools which only check find converged hosts; later rounds rotate the order.
      const order = TOOLS.map((_, index) => TOOLS[(index + round) % TOOLS.length]!);
      for (const tool of order) {
        const plan = plans.get(tool)!;
        for (const phase of PHASES.filter((candidate) => round < (plan[candidate] ?? 0))) {
          if (phase === 'first apply') await fleet.reset();
          runs.push(await runPhase(fleet, tool, phase, round));
        }
      }
    }
    if (options.forksSweep.length > 0 && hosts === options.sizes.at(-1)) {
      const sweep = await sweepForks(hosts, options.forksSweep, (tool, forks) => measureForks(fleet, tool, forks), loadavg()[0]!, log);
      return { hosts, loadAverageAtStart, runs, summaries: summarize(runs), forksSweep: sweep };
    }
  } finally {
    await lab.down();
  }
  return { hosts, loadAverageAtStart, runs, summaries: summarize(runs) };
}

interface Probes {
  /** Ansible's exec round trips per host, from the `SSH: EXEC` lines of -vvv runs (untimed). */
  ansibleExecs: Record<string, number>;
  inkLoaded: boolean;
}

/**
 * Untimed runs on a small fleet, which also warm both tools up (keel's bundle and recipe cache): whether keel loads
 * Ink without a terminal, and how many round trips per host Ansible makes in each phase.
 */
async function probe(hosts: number, work: string, tools: Tool[]): Promise<Probes> {
  const lab = await startHosts({ lab: LAB, count: hosts, kind: 'light', log });
  try {
    const fleet = new Fleet(lab, work);
    const importLog = join(work, 'imports.txt');
    const keel = fleet.command('keel', 'check');
    const node = keel.args.indexOf(process.execPath);
    const args = [...keel.args.slice(0, node + 1), '--import', IMPORT_LOG_HOOK, ...keel.args.slice(node + 1)];
    await timed({ file: keel.file, args, env: { ...keel.env, KEEL_IMPORT_LOG: importLog } }, work);
    const inkLoaded = /\/node_modules\/(ink|ink-spinner|react)\//.test(readFileSync(importLog, 'utf8'));
    const ansibleExecs: Record<string, number> = {};
    const variants: [Tool, Phase][] = [
      ['ansible', 'first apply'],
      ['ansible', 'check'],
      ['ansible', 'second apply'],
      ['ansible+facts', 'check'],
    ];
    for (const [tool, phase] of variants.filter(([tool]) => tools.includes(tool))) {
      stopIfInterrupted();
      if (phase === 'first apply') await fleet.reset();
      const result = await timed(fleet.command(tool, phase, ['-vvv']), work);
      await collectMasters(fleet.controlPaths);
      ansibleExecs[`${tool} ${phase}`] = [...result.stdout.matchAll(/^<[\d.]+> SSH: EXEC /gm)].length / hosts;
    }
    return { ansibleExecs, inkLoaded };
  } finally {
    await lab.down();
  }
}

/** keel's start-up and a 1-host check against `ssh true` to the same host, interleaved (bench/startup.ts). */
async function startupOnOneHost(work: string, rounds: number): Promise<StartupFigures> {
  const lab = await startHosts({ lab: LAB, count: 1, kind: 'light', log });
  try {
    const fleet = new Fleet(lab, work);
    await fleet.converge();
    const commands = {
      node: { file: process.execPath, args: ['-e', '0'], env: process.env },
      version: { file: process.execPath, args: [KEEL, '--version'], env: process.env },
      check: fleet.command('keel', 'check'),
      sshTrue: fleet.command('ssh true', 'check'),
    };
    return await measureStartup(commands, Math.max(5, rounds), (command) => timed(command, work));
  } finally {
    await lab.down();
  }
}

/** `node -e 0`, the floor under any keel run on this machine. */
async function nodeStartup(work: string): Promise<number> {
  const walls: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++)
    walls.push((await timed({ file: process.execPath, args: ['-e', '0'], env: process.env }, work)).wallMs);
  return median(walls);
}

function seconds(ms: number): string {
  return ms >= 100_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`;
}

function table(sizes: SizeResult[], ansibleExecs: Record<string, number>): string {
  const header = ['hosts', 'phase', 'tool', 'wall (median)', 'CPU user+sys', 'peak RSS', "hosts' CPU", 'execs/host', 'Ansible ÷ keel'];
  const rows: string[][] = [];
  for (const size of sizes) {
    for (const phase of PHASES) {
      const keel = size.summaries.find((s) => s.tool === 'keel' && s.phase === phase);
      for (const summary of size.summaries.filter((s) => s.phase === phase)) {
        const execs =
          summary.execsPerHost !== undefined
            ? `${summary.execsPerHost.total} (read ${summary.execsPerHost.read})`
            : summary.tool === 'ssh true'
              ? '1'
              : (ansibleExecs[`${summary.tool} ${phase}`]?.toFixed(0) ?? '');
        rows.push([
          String(size.hosts),
          phase,
          `${summary.tool}${summary.runs > 1 ? ` ×${summary.runs}` : ''}${summary.problems.length > 0 ? ' (!)' : ''}`,
          seconds(summary.wallMs),
          seconds(summary.cpuMs),
          `${(summary.peakRssKb / 1024).toFixed(0)} MB`,
          seconds(summary.hostsCpuMs),
          execs,
          summary.tool.startsWith('ansible') && keel ? `${(summary.wallMs / keel.wallMs).toFixed(1)}×` : '',
        ]);
      }
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]) =>
    row.map((cell, column) => (column <= 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [format(header), format(widths.map((width) => '-'.repeat(width))), ...rows.map(format)].join('\n');
}

interface Target {
  target: string;
  value: string;
  met: boolean | null;
}

function targets(sizes: SizeResult[], inkLoaded: boolean): Target[] {
  const keel = (hosts: number, phase: Phase) =>
    sizes.find((size) => size.hosts === hosts)?.summaries.find((s) => s.tool === 'keel' && s.phase === phase);
  // No tool that connects over SSH beats `ssh true`, run with the checks: the floor of every ratio at a size.
  const sshTrue = (size: SizeResult | undefined) => size?.summaries.find((s) => s.tool === 'ssh true' && s.phase === 'check');
  const result: Target[] = [];
  const check3 = keel(3, 'check');
  result.push({
    target: 'no-change check of 3 hosts under 1.0 s',
    value: check3 ? seconds(check3.wallMs) : 'not run',
    met: check3 ? check3.wallMs < 1000 : null,
  });
  for (const phase of PHASES) {
    const large = keel(200, phase);
    result.push({
      target: `200 hosts under 10 s (${phase})`,
      value: large ? seconds(large.wallMs) : 'not run',
      met: large ? large.wallMs < 10_000 : null,
    });
  }
  const floor3 = sshTrue(sizes.find((size) => size.hosts === 3));
  if (check3 && floor3) {
    result.push({
      target: 'check of 3 hosts within 1.15× of `ssh true`',
      value: `${(check3.wallMs / floor3.wallMs).toFixed(2)}×`,
      met: check3.wallMs <= 1.15 * floor3.wallMs,
    });
  }
  for (const size of sizes) {
    // Ansible's time over `ssh true` is the most any ratio against Ansible can reach here.
    const floor = sshTrue(size);
    for (const phase of PHASES) {
      const ours = keel(size.hosts, phase);
      const theirs = size.summaries.find((s) => s.tool === 'ansible' && s.phase === phase);
      if (!ours || !theirs) continue;
      const ratio = theirs.wallMs / ours.wallMs;
      const ceiling = floor ? ` (Ansible ÷ \`ssh true\`: ${(theirs.wallMs / floor.wallMs).toFixed(1)}×)` : '';
      result.push({
        target: `10× faster than Ansible at ${size.hosts} hosts (${phase})`,
        value: `${ratio.toFixed(1)}×${ceiling}`,
        met: ratio >= 10,
      });
    }
  }
  const reads = sizes.flatMap((size) => size.runs.filter((run) => run.tool === 'keel').map((run) => run.execsPerHost?.read));
  result.push({
    target: '1 read round trip per host',
    value: `max ${Math.max(...reads.map((read) => read ?? Infinity))}`,
    met: reads.every((read) => read === 1),
  });
  const largest = sizes.at(-1);
  const rss = largest ? Math.max(...largest.runs.filter((run) => run.tool === 'keel').map((run) => run.peakRssKb)) : 0;
  result.push({
    target: `controller peak RSS under 250 MB at ${largest?.hosts ?? '?'} hosts`,
    value: `${(rss / 1024).toFixed(0)} MB`,
    met: largest !== undefined && largest.hosts >= 200 ? rss < 250 * 1024 : null,
  });
  const fleetCheck = largest?.summaries.find((s) => s.tool === 'keel' && s.phase === 'check');
  const fleetFloor = sshTrue(largest);
  if (largest !== undefined && largest.hosts >= 1000) {
    result.push({
      target: `check of ${largest.hosts} hosts within 1.1× of \`ssh true\``,
      value: fleetCheck && fleetFloor ? `${(fleetCheck.wallMs / fleetFloor.wallMs).toFixed(2)}×` : 'not run',
      met: fleetCheck && fleetFloor ? fleetCheck.wallMs <= 1.1 * fleetFloor.wallMs : null,
    });
  }
  result.push({ target: 'runs without a terminal do not load Ink', value: inkLoaded ? 'Ink loaded' : 'not loaded', met: !inkLoaded });
  return result;
}

/** The commit measured, marked -dirty when the tree differs from it: the key of this run in the history. */
export async function measuredCommit(): Promise<string> {
  const head = (await $({ cwd: REPO, quiet: true })`git rev-parse --short HEAD`).stdout.trim();
  const dirty = (await $({ cwd: REPO, quiet: true })`git status --porcelain --untracked-files=no`).stdout.trim() !== '';
  return dirty ? `${head}-dirty` : head;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const ansibleVersion = await ensureTools();
  const work = mkdtempSync(join(tmpdir(), 'keel-bench-'));
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(
      'interrupted: the lab comes down once the current step ends (Ctrl-C again to quit now; `npm run hosts -- down --lab ${LAB}` cleans up)',
    );
  });
  try {
    const nodeStartupMs = await nodeStartup(work);
    log(`${ansibleVersion}; node ${process.version} (starts in ${seconds(nodeStartupMs)}); ${cpus().length} CPUs`);
    const { ansibleExecs, inkLoaded } = await probe(Math.min(options.sizes[0]!, PROBE_HOSTS), work, options.tools);
    const startup = await startupOnOneHost(work, options.rounds);
    for (const line of startupSummary(startup)) log(line);
    const startedAt = new Date().toISOString();
    const commit = await measuredCommit();
    const sizes: SizeResult[] = [];
    const inventoryLoad: InventoryLoadResult | undefined =
      options.inventoryHosts > 0
        ? await benchmarkInventoryLoad({
            hosts: options.inventoryHosts,
            rounds: options.rounds,
            // ansible-inventory takes about a minute for 10,000 hosts here: once, unless --full.
            ansibleRounds: options.full ? options.rounds : 1,
            keel: KEEL,
            work,
            loadAverage: loadavg()[0]!,
            log,
          })
        : undefined;
    for (const hosts of options.sizes) {
      stopIfInterrupted();
      sizes.push(await benchmarkSize(hosts, options, work));
      // Written after every size, so that an interrupted run keeps what it measured.
      const results = {
        startedAt,
        date: startedAt.slice(0, 10),
        commit,
        command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
        machine: {
          cpus: cpus().length,
          memoryGiB: Math.round(totalmem() / 2 ** 30),
          kernel: release(),
          node: process.version,
          nodeStartupMs,
          ansible: ansibleVersion,
        },
        settings: { hostKind: 'light', rounds: options.rounds, full: options.full, tools: options.tools, vars: VARS },
        ansibleExecsPerHost: ansibleExecs,
        inkLoaded,
        startup,
        sizes,
        targets: targets(sizes, inkLoaded),
        ...(inventoryLoad ? { inventoryLoad } : {}),
      };
      writeHistory(RESULTS, recordRun(readHistory(RESULTS), results));
      if (hosts !== options.sizes.at(-1)) log(`\n${table(sizes.slice(-1), ansibleExecs)}\n`);
    }
    console.log(table(sizes, ansibleExecs));
    console.log(
      `\nStart-up:\n${startupSummary(startup)
        .map((line) => `  ${line}`)
        .join('\n')}`,
    );
    for (const { forksSweep } of sizes) if (forksSweep) console.log(`\n${forksTable(forksSweep)}`);
    if (inventoryLoad) console.log(`\n${inventoryLoadTable(inventoryLoad)}`);
    console.log('\nTargets:');
    for (const { target, value, met } of targets(sizes, inkLoaded))
      console.log(`  ${met === null ? '  -   ' : met ? 'met   ' : 'MISSED'}  ${target}: ${value}`);
    console.log(`\nadded this run to ${RESULTS}; ${renderHistory()}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// bench/lab.ts imports the helpers above without running this bench.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await main();
  } catch (error) {
    if (!interrupted) throw error;
    process.exitCode = 130;
  }
}
