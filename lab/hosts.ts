import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { $ } from 'zx';
import { ensureAptRepo, serveAptRepo } from './aptRepo.js';
import { hostDirs, prepareHostRoot } from './hostRoot.js';
import { APT_REPO_PORT, ensureImage } from './image.js';
import { startLightHost, stopLightHost } from './light.js';
import {
  BRIDGE_MAX_PORTS,
  createHostNetwork,
  createLabNetwork,
  deleteNetns,
  formatIpv4,
  hostNetns,
  labNetns,
  netnsPids,
  parseSubnet,
  type Subnet,
} from './netns.js';
import { type HostProcesses, startNspawnHost, stopNspawnHost } from './nspawn.js';
import { isRunning, type ProcessRef, signal, unmountUnder, waitForListener } from './system.js';

export const LAB_STATE_ROOT = '/run/keel-lab';
export const DEFAULT_SUBNET = '10.77.0.0/16';

export type HostKind = 'nspawn' | 'light';

export interface StartHostsOptions {
  lab: string;
  /** Hosts named h1…hN; ignored when `names` or `addresses` name the hosts. */
  count?: number;
  names?: string[];
  kind?: HostKind;
  subnet?: string;
  /** Fixed addresses by host name; other hosts get subnet base + 10 + their position (h1 → .11). */
  addresses?: Record<string, string>;
  /** Top-level packages of the lab apt repository. */
  aptPackages?: string[];
  log?: (line: string) => void;
}

export interface LabHost {
  name: string;
  kind: HostKind;
  address: string;
  netns: string;
  /** The host's root filesystem as seen from this machine. */
  root: string;
  /** Pid of the host's init (systemd, or sshd for a light host); 0 while stopped. */
  leaderPid: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface Lab {
  name: string;
  stateDir: string;
  gateway: string;
  hosts: LabHost[];
  inventoryPath: string;
  keyPath: string;
  knownHostsPath: string;
  /** The lab's own network namespace, on the hosts' bridge: a program run in it (`ip netns exec`) reaches them directly. */
  netns: string;
  /** How ssh reaches the hosts from outside the lab: a netcat in its namespace. */
  proxyCommand: string;
  /** Runs `command` with sh inside the host's namespaces, bypassing ssh. Never throws on a non-zero exit. */
  exec(host: string, command: string): Promise<ExecResult>;
  stop(host: string): Promise<void>;
  start(host: string): Promise<void>;
  down(): Promise<void>;
}

interface HostState {
  name: string;
  kind: HostKind;
  address: string;
  netns: string;
  dir: string;
  hostKey?: string;
  processes?: HostProcesses;
}

interface LabState {
  lab: string;
  subnet: string;
  gateway: string;
  netns: string;
  image: string;
  aptServer?: ProcessRef;
  hosts: HostState[];
}

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const HOST_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BOOT_PARALLELISM: Record<HostKind, number> = { nspawn: 3, light: 8 };
const SSH_READY_TIMEOUT_MS = 60_000;
const CONSOLE_TAIL_LINES = 20;

export function labDir(lab: string): string {
  return join(LAB_STATE_ROOT, lab);
}

function validateName(what: string, name: string, maxLength: number): void {
  if (!NAME.test(name) || name.length > maxLength) {
    throw new Error(
      `invalid ${what} name ${JSON.stringify(name)}: lowercase letters, digits and inner dashes, at most ${maxLength} characters`,
    );
  }
}

function hostNames(opts: StartHostsOptions): string[] {
  if (opts.names !== undefined) return opts.names;
  const fixed = Object.keys(opts.addresses ?? {});
  if (fixed.length > 0) return fixed;
  return Array.from({ length: opts.count ?? 1 }, (_, index) => `h${index + 1}`);
}

function planAddresses(names: string[], subnet: Subnet, fixed: Record<string, string>): Map<string, string> {
  const plan = new Map<string, string>();
  names.forEach((name, index) => plan.set(name, fixed[name] ?? formatIpv4(subnet.network + 10 + index + 1)));
  const used = new Set<string>([formatIpv4(subnet.network + 1)]);
  for (const [name, address] of plan) {
    if (!subnet.containsHost(address)) throw new Error(`address ${address} of ${name} is not a host address of ${subnet.cidr}`);
    if (used.has(address))
      throw new Error(`address ${address} of ${name} is already taken (the gateway is ${formatIpv4(subnet.network + 1)})`);
    used.add(address);
  }
  return plan;
}

/** Starts a lab of hosts reachable over ssh, after tearing down any earlier lab of the same name. */
export async function startHosts(opts: StartHostsOptions): Promise<Lab> {
  const log = opts.log ?? (() => {});
  const kind = opts.kind ?? 'nspawn';
  const names = hostNames(opts);
  validateName('lab', opts.lab, 24);
  for (const name of names) validateName('host', name, 32);
  if (new Set(names).size !== names.length) throw new Error('host names must be unique');
  if (names.length >= BRIDGE_MAX_PORTS)
    throw new Error(
      `${names.length} hosts do not fit on a lab's bridge: a Linux bridge takes at most ${BRIDGE_MAX_PORTS} ports, one per host and one kept for a VM`,
    );
  const subnet = parseSubnet(opts.subnet ?? DEFAULT_SUBNET);
  const addresses = planAddresses(names, subnet, opts.addresses ?? {});

  await stopLab(opts.lab);
  const [image, repo] = await Promise.all([ensureImage(undefined, log), ensureAptRepo(opts.aptPackages)]);

  const dir = labDir(opts.lab);
  await mkdir(join(dir, 'hosts'), { recursive: true });
  const lab = new RunningLab({
    lab: opts.lab,
    subnet: subnet.cidr,
    gateway: formatIpv4(subnet.network + 1),
    netns: labNetns(opts.lab),
    image,
    hosts: names.map((name) => ({
      name,
      kind,
      address: addresses.get(name) ?? '',
      netns: hostNetns(opts.lab, name),
      dir: join(dir, 'hosts', name),
    })),
  });
  lab.save();
  try {
    await createLabNetwork(opts.lab, `${lab.gateway}/${subnet.prefix}`);
    lab.state.aptServer = await serveAptRepo(lab.state.netns, lab.gateway, APT_REPO_PORT, repo, join(dir, 'apt-repo.log'));
    lab.save();
    await $`ssh-keygen -q -t ed25519 -N ${''} -C ${`keel-lab-${opts.lab}`} -f ${lab.keyPath}`;
    const started = Date.now();
    const limit = pLimit(BOOT_PARALLELISM[kind]);
    await Promise.all(
      lab.state.hosts.map((host) =>
        limit(async () => {
          await createHostNetwork(opts.lab, host.name, `${host.address}/${subnet.prefix}`, lab.gateway);
          await lab.boot(host);
        }),
      ),
    );
    log(`${names.length} ${kind} host(s) up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await lab.writeAccessFiles();
  } catch (error) {
    await stopLab(opts.lab);
    throw error;
  }
  return lab;
}

/** Reattaches to a lab started earlier, possibly by another process. */
export function openLab(name: string): Lab {
  const state = readState(name);
  if (state === undefined) throw new Error(`no lab named ${name} (no ${join(labDir(name), 'state.json')})`);
  return new RunningLab(state);
}

export function listLabs(): string[] {
  if (!existsSync(LAB_STATE_ROOT)) return [];
  return readdirSync(LAB_STATE_ROOT).filter((name) => existsSync(join(labDir(name), 'state.json')));
}

function readState(name: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(join(labDir(name), 'state.json'), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/**
 * Tears a lab down from its on-disk state, also after the process that started it crashed:
 * powers hosts off, kills whatever still runs in the lab's namespaces, unmounts, deletes the
 * namespaces and the state directory. Does nothing for a lab that does not exist.
 */
export async function stopLab(name: string): Promise<void> {
  const dir = labDir(name);
  const state = readState(name);
  if (state !== undefined) {
    const limit = pLimit(8);
    // A host that fails to stop gracefully is killed below with everything else in its namespace.
    await Promise.allSettled(state.hosts.map((host) => limit(() => stopHost(host))));
    if (state.aptServer) signal(state.aptServer, 'SIGKILL');
  }
  const namespaces = [...(state?.hosts.map((host) => host.netns) ?? []), labNetns(name)];
  await killEverythingIn(namespaces);
  if (existsSync(dir)) {
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  }
  await deleteNetns(namespaces);
}

async function stopHost(host: HostState): Promise<void> {
  if (host.processes === undefined) return;
  if (host.kind === 'nspawn') await stopNspawnHost(host.processes, hostDirs(host.dir));
  else await stopLightHost(host.processes);
  host.processes = undefined;
}

async function killEverythingIn(namespaces: string[]): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const pids = [...(await netnsPids(namespaces)).values()].flat();
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(100);
  }
  throw new Error(`processes keep running in the network namespaces of the lab: ${namespaces.join(', ')}`);
}

class RunningLab implements Lab {
  readonly name: string;
  readonly stateDir: string;
  readonly gateway: string;
  readonly hosts: LabHost[];
  readonly inventoryPath: string;
  readonly keyPath: string;
  readonly knownHostsPath: string;
  readonly netns: string;
  readonly proxyCommand: string;

  constructor(readonly state: LabState) {
    this.name = state.lab;
    this.stateDir = labDir(state.lab);
    this.gateway = state.gateway;
    this.inventoryPath = join(this.stateDir, 'inventory.yaml');
    this.keyPath = join(this.stateDir, 'id_ed25519');
    this.knownHostsPath = join(this.stateDir, 'known_hosts');
    this.netns = state.netns;
    this.proxyCommand = `ip netns exec ${state.netns} nc %h %p`;
    this.hosts = state.hosts.map((host) => ({
      name: host.name,
      kind: host.kind,
      address: host.address,
      netns: host.netns,
      root: '',
      leaderPid: 0,
    }));
    state.hosts.forEach((host) => this.refresh(host));
  }

  save(): void {
    const path = join(this.stateDir, 'state.json');
    writeFileSync(`${path}.tmp`, `${JSON.stringify(this.state, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  }

  async exec(name: string, command: string): Promise<ExecResult> {
    const { leader } = this.running(name);
    const result = await $`nsenter --target ${leader.pid} --all --root --wd env -i ${HOST_PATH} HOME=/root LANG=C.UTF-8 sh -c ${command}`
      .stdio('ignore', 'pipe', 'pipe')
      .nothrow()
      .quiet();
    return { stdout: result.stdout, stderr: result.stderr, code: result.exitCode ?? -1 };
  }

  async stop(name: string): Promise<void> {
    const host = this.hostState(name);
    await stopHost(host);
    this.refresh(host);
    this.save();
  }

  async start(name: string): Promise<void> {
    const host = this.hostState(name);
    if (host.processes !== undefined && isRunning(host.processes.leader)) return;
    await this.boot(host);
  }

  async down(): Promise<void> {
    await stopLab(this.name);
  }

  /**
   * Starts a host whose network namespace exists and waits until its sshd listens. A failure
   * carries the end of the host's console, since a failed start removes the lab and its logs.
   */
  async boot(host: HostState): Promise<void> {
    const dirs = hostDirs(host.dir);
    const authorizedKey = await readFile(`${this.keyPath}.pub`, 'utf8');
    host.hostKey = await prepareHostRoot(this.state.image, dirs, { name: host.name, gateway: this.gateway, authorizedKey });
    const launch = { machine: `keel-${this.name}-${host.name}`, hostname: host.name, lower: this.state.image, dirs, netns: host.netns };
    try {
      host.processes = host.kind === 'nspawn' ? await startNspawnHost(launch) : await startLightHost(launch);
      this.refresh(host);
      this.save();
      await waitForListener(host.processes.leader, 22, SSH_READY_TIMEOUT_MS);
    } catch (error) {
      const output = await readFile(dirs.consoleLog, 'utf8').catch(() => '');
      const tail = output.trimEnd().split('\n').slice(-CONSOLE_TAIL_LINES).join('\n');
      throw new Error(`host ${host.name} of lab ${this.name} did not come up; its console ended with:\n${tail}`, { cause: error });
    }
  }

  async writeAccessFiles(): Promise<void> {
    const knownHosts = this.state.hosts.map((host) => `${host.address} ${host.hostKey ?? ''}\n`).join('');
    await writeFile(this.knownHostsPath, knownHosts);
    const inventory = [
      `# generated by keel lab ${this.name}`,
      'defaults:',
      '  user: root',
      `  identityFile: ${this.keyPath}`,
      `  knownHostsFile: ${this.knownHostsPath}`,
      `  proxyCommand: ${this.proxyCommand}`,
      'hosts:',
      ...this.state.hosts.flatMap((host) => [`  ${host.name}:`, `    address: ${host.address}`]),
    ];
    await writeFile(this.inventoryPath, `${inventory.join('\n')}\n`);
  }

  private hostState(name: string): HostState {
    const host = this.state.hosts.find((candidate) => candidate.name === name);
    if (host === undefined) throw new Error(`lab ${this.name} has no host ${name}`);
    return host;
  }

  private running(name: string): HostProcesses {
    const { processes } = this.hostState(name);
    if (processes === undefined || !isRunning(processes.leader)) throw new Error(`host ${name} of lab ${this.name} is not running`);
    return processes;
  }

  /** Keeps the public LabHost view in step with the host's processes. */
  private refresh(host: HostState): void {
    const view = this.hosts.find((candidate) => candidate.name === host.name);
    if (view === undefined) return;
    const leader = host.processes?.leader;
    const running = leader !== undefined && isRunning(leader);
    view.leaderPid = running ? leader.pid : 0;
    view.root = host.kind === 'nspawn' ? hostDirs(host.dir).merged : running ? `/proc/${leader.pid}/root` : '';
  }
}
