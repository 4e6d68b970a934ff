/**
 * keel on the real LVS lab (a qemu director with its own kernel, nspawn real servers): `npm run bench:lab
 * [-- --rounds 5 --apply-rounds 3 --reuse]`.
 *
 * Interleaved, round by round: keel's check of the whole cluster against `ssh true` to the same hosts by the same
 * route (the lab's ProxyCommand), and the first apply from nothing, keel's against bench/lab-playbook.yml's. Before
 * every first apply the recipes are undone by hand on every host and the undo is asserted; after it, traffic through
 * the VIP from the lab's client must alternate between the real servers and a keel check must exit 0.
 * The run is added to bench/results.json (`lab`). See bench/README.md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LvsLab } from '../lab/lvsLab.js';
import { alternates, interfaceMac, observeTraffic } from '../lab/traffic.js';
import { loadInventory } from '../src/inventory/load.js';
import type { Report } from '../src/report/json.js';
import { type BenchLab, type BenchLabRun, readHistory, recordRun, writeHistory } from './history.js';
import { renderHistory } from './readme.js';
import { collectMasters, ensureTools, measuredCommit, summarizeRounds, writeAnsibleConfig } from './run.js';
import { median, type Timed, timed } from './timed.js';

// Its own lab, beside the developers' and the tests': set before the lab's module reads it.
process.env.KEEL_LVS_LAB ||= 'benchlab';
const { downLvsLab, openLvsLab, upLvsLab, LVS_LAB } = await import('../lab/lvsLab.js');

const REPO = fileURLToPath(new URL('..', import.meta.url));
const KEEL = join(REPO, 'bin/keel.js');
const RECIPES = [join(REPO, 'recipes/director.ts'), join(REPO, 'recipes/realserver.ts')];
const PLAYBOOK = join(REPO, 'bench/lab-playbook.yml');
const RESULTS = join(REPO, 'bench/results.json');
const CLIENT = 'client';
/** Requests through the VIP after each apply: enough to see both real servers in turn, each bounded by curl's 3 s. */
const REQUESTS = 4;
/** Within this of `ssh true` to the same hosts, issue 20's target for the check of the real lab. */
const CHECK_TARGET_RATIO = 1.3;

type Tool = BenchLabRun['tool'];
type Phase = BenchLabRun['phase'];

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function parseOptions(): { rounds: number; applyRounds: number; reuse: boolean; keep: boolean } {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      'apply-rounds': { type: 'string', default: '3' },
      reuse: { type: 'boolean', default: process.env.KEEL_BENCH_REUSE_LAB === '1' },
      keep: { type: 'boolean', default: false },
    },
  });
  const rounds = Number(values.rounds);
  const applyRounds = Number(values['apply-rounds']);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds: a positive integer');
  if (!Number.isInteger(applyRounds) || applyRounds < 0) throw new Error('--apply-rounds: zero or a positive integer');
  return { rounds, applyRounds, reuse: values.reuse, keep: values.keep };
}

/** What the recipes leave on a host, and how to take it away again, per group. */
function undoScripts(vip: string, lan: string): Record<'directors' | 'realservers', { undo: string; leftovers: string }> {
  const common = (packages: string, sysctls: string) => ({
    undo: [
      'export DEBIAN_FRONTEND=noninteractive',
      `for unit in /etc/systemd/system/keel-addr-*.service; do [ -e "$unit" ] && systemctl disable --now --quiet "$(basename "$unit")"; rm -f "$unit"; done`,
      'systemctl daemon-reload',
      `ip -o addr show | grep -q ' ${vip}/' && for dev in lo ${lan}; do ip addr del ${vip}/32 dev $dev 2>/dev/null; ip addr del ${vip}/24 dev $dev 2>/dev/null; done`,
      'if command -v ipvsadm >/dev/null; then ipvsadm -C; fi',
      `apt-get purge -y -q ${packages} >/dev/null`,
      'apt-get autoremove --purge -y -q >/dev/null',
      'rm -rf /etc/sysctl.d/60-lvs-dr.conf /etc/ipvsadm.rules /etc/default/ipvsadm /etc/modules-load.d/ip_vs.conf /var/lib/keel /var/www',
      'if lsmod | grep -q "^ip_vs "; then modprobe -r -a ip_vs_rr ip_vs; fi',
      `sysctl -q -w ${sysctls}`,
      // Package lists too: from nothing, both tools start with a host that has never fetched them.
      'apt-get clean',
      'rm -rf /var/lib/apt/lists/* && mkdir -p /var/lib/apt/lists/partial',
    ].join('\n'),
    leftovers: [
      `for p in ${packages}; do dpkg-query -W -f='\${Status}' $p 2>/dev/null | grep -q 'ok installed' && echo "package $p"; done`,
      'for f in /etc/sysctl.d/60-lvs-dr.conf /etc/ipvsadm.rules /etc/modules-load.d/ip_vs.conf /var/lib/keel /var/www/html/index.html /etc/systemd/system/keel-addr-*; do [ -e "$f" ] && echo "file $f"; done',
      `ip -o addr show | grep -F ' ${vip}/' | sed 's/^/address /'`,
      'lsmod | grep "^ip_vs " | sed "s/ .*//; s/^/module /"',
      `for s in ${sysctls}; do [ "$(sysctl -n \${s%=*})" = "\${s#*=}" ] || echo "sysctl $s not restored"; done`,
      'ls /var/lib/apt/lists | grep -v -x -e partial -e lock | sed "s/^/package list /"',
      'true',
    ].join('\n'),
  });
  return {
    directors: common(
      'ipvsadm python3-apt',
      `net.ipv4.ip_forward=0 net.ipv4.conf.all.send_redirects=1 net.ipv4.conf.${lan}.send_redirects=1`,
    ),
    realservers: common(
      'nginx nginx-common python3-apt',
      `net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0 net.ipv4.conf.${lan}.arp_ignore=0 net.ipv4.conf.${lan}.arp_announce=0`,
    ),
  };
}

class LabBench {
  readonly work: string;
  readonly director: string;
  readonly realServers: string[];
  readonly vip: string;
  readonly lan: string;
  readonly ansibleInventory: string;
  readonly controlPaths: string;
  readonly addresses: string;
  directorMac = '';

  constructor(
    readonly lab: LvsLab,
    work: string,
  ) {
    this.work = work;
    const inventory = loadInventory(lab.inventoryPath);
    const director = inventory.groups.get('directors')?.[0];
    const realServers = inventory.groups.get('realservers') ?? [];
    if (director === undefined || realServers.length === 0) throw new Error(`${lab.inventoryPath}: needs groups directors and realservers`);
    this.director = director;
    this.realServers = realServers;
    const vars = inventory.hosts.find((candidate) => candidate.name === director)!.vars;
    this.vip = String(vars.vip);
    this.lan = String(vars.lanInterface);
    this.ansibleInventory = join(work, 'inventory.json');
    this.controlPaths = join(work, 'cp');
    this.addresses = join(work, 'addresses');
    writeFileSync(this.addresses, this.hosts.map((name) => `${lab.address(name)}\n`).join(''));
    const host = (name: string) => [name, { ansible_host: lab.address(name) }];
    // Ansible splits ssh_common_args like a shell: the ProxyCommand (spaces, no quotes) goes in single quotes.
    const sshArgs = `-F /dev/null -o UserKnownHostsFile=${lab.knownHostsPath} -o 'ProxyCommand=${lab.proxyCommand}'`;
    const ansible = {
      all: {
        vars: {
          ansible_user: 'root',
          ansible_ssh_private_key_file: lab.keyPath,
          ansible_ssh_common_args: sshArgs,
          vip: this.vip,
          lan_interface: this.lan,
        },
        children: {
          directors: { hosts: Object.fromEntries([host(director)]) },
          realservers: { hosts: Object.fromEntries(realServers.map(host)) },
        },
      },
    };
    writeFileSync(this.ansibleInventory, `${JSON.stringify(ansible, null, 2)}\n`);
    // As in bench/run.ts, with the lab inventory's connect timeout for keel: a key exchange with the emulated
    // director takes seconds.
    writeAnsibleConfig(work, this.hosts.length, this.controlPaths, ['timeout = 60']);
  }

  /** The hosts the recipes configure: every host but the client. */
  get hosts(): string[] {
    return [this.director, ...this.realServers];
  }

  command(tool: Tool, phase: Phase, extra: string[] = []): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
    if (tool === 'keel') {
      const mode = phase === 'check' ? 'check' : 'apply';
      return {
        file: process.execPath,
        args: [KEEL, mode, ...RECIPES, '-i', this.lab.inventoryPath, ...extra],
        env: { ...process.env, NO_COLOR: '1' },
      };
    }
    if (tool === 'ssh true') {
      const ssh = ['-F', '/dev/null', '-i', this.lab.keyPath, '-o', `UserKnownHostsFile=${this.lab.knownHostsPath}`];
      const options = ['StrictHostKeyChecking=yes', 'BatchMode=yes', `ProxyCommand=${this.lab.proxyCommand}`].flatMap((o) => ['-o', o]);
      return {
        file: 'xargs',
        args: ['-a', this.addresses, '-P', String(this.hosts.length), '-I', '{}', 'ssh', ...ssh, ...options, 'root@{}', 'true'],
        env: process.env,
      };
    }
    return {
      file: '/usr/bin/ansible-playbook',
      args: ['-i', this.ansibleInventory, PLAYBOOK, ...extra],
      env: { ...process.env, ANSIBLE_CONFIG: join(this.work, 'ansible.cfg'), ANSIBLE_GATHERING: 'explicit', ANSIBLE_NOCOLOR: '1' },
    };
  }

  async keel(mode: 'check' | 'apply'): Promise<{ result: Timed; report: Report | undefined }> {
    const json = join(this.work, 'report.json');
    rmSync(json, { force: true });
    const result = await timed(this.command('keel', mode === 'check' ? 'check' : 'first apply', ['--json', json]), this.work);
    let report: Report | undefined;
    try {
      report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    } catch {
      report = undefined;
    }
    return { result, report };
  }

  /** Undoes both recipes on every host and proves it: nothing of theirs left, and keel finds every resource to do. */
  async reset(): Promise<void> {
    const scripts = undoScripts(this.vip, this.lan);
    const group = (name: string) => (name === this.director ? scripts.directors : scripts.realservers);
    await Promise.all(this.hosts.map((name) => this.lab.output(name, group(name).undo)));
    const leftovers = await Promise.all(this.hosts.map(async (name) => (await this.lab.output(name, group(name).leftovers)).trim()));
    const left = this.hosts.flatMap((name, index) => (leftovers[index] ? [`${name}: ${leftovers[index]!.replaceAll('\n', '; ')}`] : []));
    if (left.length > 0) throw new Error(`the undo left the recipes' state behind: ${left.join(' | ')}`);
    const { result, report } = await this.keel('check');
    const unchanged = report?.hosts.flatMap((host) =>
      host.resources.filter((r) => r.outcome === 'unchanged').map((r) => `${host.host} ${r.id}`),
    );
    if (result.exitCode !== 2 || unchanged === undefined || unchanged.length > 0)
      throw new Error(
        `after the undo, keel check exited ${result.exitCode} (expected 2) with in place: ${unchanged?.join(', ') ?? 'no report'}`,
      );
  }

  /** The cluster serves through the VIP, only the director answers ARP for it, and keel finds nothing to change. */
  async problemAfterApply(): Promise<string | undefined> {
    const seen = await observeTraffic(this.lab, { client: CLIENT, vip: this.vip, requests: REQUESTS, lanInterface: this.lan });
    if (!alternates(seen.answers, this.realServers))
      return `answers through the VIP: ${seen.answers.join(' ')} (expected ${this.realServers.join(', ')} in turn)`;
    if (seen.arpResponders.join(' ') !== this.directorMac)
      return `ARP for the VIP answered by ${seen.arpResponders.join(' ') || 'nobody'}, not the director alone`;
    const { result, report } = await this.keel('check');
    if (result.exitCode !== 0) {
      const pending = report?.hosts.flatMap((host) =>
        host.resources.filter((r) => r.outcome !== 'unchanged').map((r) => `${host.host} ${r.id}`),
      );
      return `keel check then exited ${result.exitCode}: ${pending?.join(', ') ?? result.stderr.trim().slice(-300)}`;
    }
    return undefined;
  }

  async run(tool: Tool, phase: Phase, round: number): Promise<BenchLabRun> {
    let result: Timed;
    let problem: string | undefined;
    let cpuMs = 0;
    let hostMs: Record<string, number> | undefined;
    if (tool === 'keel') {
      const keel = await this.keel(phase === 'check' ? 'check' : 'apply');
      result = keel.result;
      if (keel.report !== undefined) hostMs = Object.fromEntries(keel.report.hosts.map((host) => [host.host, host.durationMs]));
      const failed = keel.report?.hosts
        .filter((host) => host.outcome !== 'ok')
        .map((host) => `${host.host}: ${host.error ?? host.outcome}`);
      if (result.exitCode !== 0 || failed === undefined || failed.length > 0)
        problem = `exit ${result.exitCode}: ${failed?.join('; ') || result.stderr.trim().slice(-300)}`;
    } else {
      result = await timed(this.command(tool, phase), this.work);
      if (tool === 'ansible') cpuMs = await collectMasters(this.controlPaths);
      if (result.exitCode !== 0) problem = `exit ${result.exitCode}: ${(result.stdout + result.stderr).trim().slice(-400)}`;
    }
    if (phase === 'first apply' && problem === undefined) problem = await this.problemAfterApply();
    const run: BenchLabRun = { tool, phase, round, wallMs: result.wallMs, cpuMs: result.cpuMs + cpuMs, peakRssKb: result.peakRssKb };
    if (problem !== undefined) run.problem = problem;
    if (hostMs !== undefined) run.hostMs = hostMs;
    log(
      `  [round ${round + 1}] ${tool.padEnd(8)} ${phase.padEnd(11)} ${(run.wallMs / 1000).toFixed(2).padStart(7)} s${problem ? `  PROBLEM: ${problem}` : ''}`,
    );
    return run;
  }
}

function summarize(runs: BenchLabRun[]): BenchLab['summaries'] {
  const pairs: [Tool, Phase][] = [
    ['keel', 'check'],
    ['ssh true', 'check'],
    ['keel', 'first apply'],
    ['ansible', 'first apply'],
  ];
  return pairs.flatMap(([tool, phase]) => {
    const mine = runs.filter((run) => run.tool === tool && run.phase === phase);
    return mine.length === 0 ? [] : [{ tool, phase, ...summarizeRounds(mine) }];
  });
}

async function openOrBoot(reuse: boolean): Promise<{ lab: LvsLab; booted: boolean }> {
  if (reuse) {
    try {
      const lab = openLvsLab();
      log(`reusing the LVS lab ${LVS_LAB} that is up`);
      return { lab, booted: false };
    } catch {
      log(`no LVS lab ${LVS_LAB} is up: booting one`);
    }
  }
  log(`booting the LVS lab ${LVS_LAB} (the director under emulation takes a minute or more)`);
  return { lab: (await upLvsLab({ log })).lab, booted: true };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const ansibleVersion = await ensureTools();
  const work = mkdtempSync(join(tmpdir(), 'keel-bench-lab-'));
  const { lab, booted } = await openOrBoot(options.reuse);
  try {
    const bench = new LabBench(lab, work);
    bench.directorMac = await interfaceMac(lab, bench.director, bench.lan);
    const startedAt = new Date().toISOString();
    const loadAverageAtStart = loadavg()[0]!;
    log(`${ansibleVersion}; hosts ${bench.hosts.join(', ')}; load average ${loadAverageAtStart.toFixed(1)} on ${cpus().length} CPUs`);
    const runs: BenchLabRun[] = [];
    for (let round = 0; round < options.applyRounds; round++) {
      const order: Tool[] = round % 2 === 0 ? ['keel', 'ansible'] : ['ansible', 'keel'];
      for (const tool of order) {
        await bench.reset();
        runs.push(await bench.run(tool, 'first apply', round));
      }
    }
    // The checks need a converged cluster: the last apply left one, or this one does (untimed).
    if (options.applyRounds === 0 || runs.at(-1)?.problem !== undefined) {
      const { result } = await bench.keel('apply');
      if (result.exitCode !== 0) throw new Error(`keel apply before the checks exited ${result.exitCode}: ${result.stderr.slice(-300)}`);
    }
    for (let round = 0; round < options.rounds; round++) {
      const order: Tool[] = round % 2 === 0 ? ['keel', 'ssh true'] : ['ssh true', 'keel'];
      for (const tool of order) runs.push(await bench.run(tool, 'check', round));
    }
    const summaries = summarize(runs);
    const wall = (tool: Tool, phase: Phase) => summaries.find((s) => s.tool === tool && s.phase === phase)?.wallMs;
    const keelCheck = wall('keel', 'check')!;
    const sshTrue = wall('ssh true', 'check')!;
    const keelApply = wall('keel', 'first apply');
    const ansibleApply = wall('ansible', 'first apply');
    const keelChecks = runs.filter((run) => run.tool === 'keel' && run.phase === 'check');
    const keelCheckHostMs = Object.fromEntries(
      bench.hosts.map((name) => [name, median(keelChecks.map((run) => run.hostMs?.[name] ?? Number.NaN))]),
    );
    const record: BenchLab = {
      hosts: bench.hosts,
      route: `ProxyCommand ${lab.proxyCommand}`,
      loadAverageAtStart,
      loadAverageAtEnd: loadavg()[0]!,
      rounds: { check: options.rounds, firstApply: options.applyRounds },
      runs,
      summaries,
      checkOverSshTrue: keelCheck / sshTrue,
      ...(keelApply !== undefined && ansibleApply !== undefined ? { ansibleOverKeelFirstApply: ansibleApply / keelApply } : {}),
      keelCheckHostMs,
    };
    writeHistory(
      RESULTS,
      recordRun(readHistory(RESULTS), {
        startedAt,
        date: startedAt.slice(0, 10),
        commit: await measuredCommit(),
        command: `npm run bench:lab -- ${process.argv.slice(2).join(' ')}`.trim(),
        machine: {
          cpus: cpus().length,
          memoryGiB: Math.round(totalmem() / 2 ** 30),
          kernel: release(),
          node: process.version,
          ansible: ansibleVersion,
        },
        sizes: [],
        lab: record,
      }),
    );
    const seconds = (ms: number | undefined) => (ms === undefined ? 'not run' : `${(ms / 1000).toFixed(2)} s`);
    for (const s of summaries)
      console.log(
        `${s.phase.padEnd(12)} ${s.tool.padEnd(9)} ×${s.runs}  wall ${seconds(s.wallMs)}  CPU ${seconds(s.cpuMs)}${s.problems.length > 0 ? `  (!) ${s.problems.join('; ')}` : ''}`,
      );
    const met = record.checkOverSshTrue <= CHECK_TARGET_RATIO;
    console.log(
      `check of the cluster: ${record.checkOverSshTrue.toFixed(2)}× ssh true (target ≤ ${CHECK_TARGET_RATIO}×: ${met ? 'met' : 'MISSED'})`,
    );
    if (record.ansibleOverKeelFirstApply !== undefined)
      console.log(`first apply from nothing: Ansible ${record.ansibleOverKeelFirstApply.toFixed(1)}× keel`);
    console.log(
      `keel's check per host (median, from its report): ${Object.entries(keelCheckHostMs)
        .map(([name, ms]) => `${name} ${seconds(ms)}`)
        .join(', ')}`,
    );
    console.log(`load average ${loadAverageAtStart.toFixed(1)} at the start, ${record.loadAverageAtEnd.toFixed(1)} at the end`);
    console.log(`added this run to ${RESULTS}; ${renderHistory()}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (booted && !options.keep && !options.reuse) await downLvsLab();
    else log(`the LVS lab ${LVS_LAB} is left up: KEEL_LVS_LAB=${LVS_LAB} npm run lab -- down`);
  }
}

await main();
