/**
 * The LVS-DR lab: the hosts of an inventory (by default inventory/lab.yaml) brought up on one bridge
 * in a lab network namespace. Directors are qemu guests with Debian's kernel (IPVS); every other host
 * is a systemd container. The lab writes an inventory of its own: the same hosts, groups and vars,
 * plus how to reach them (key, known_hosts, ProxyCommand into the lab namespace).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDocument } from 'yaml';
import { $ } from 'zx';
import { loadInventory } from '../src/inventory/load.js';
import { sh } from '../src/shell/index.js';
import { type ExecResult, type Lab, labDir, openLab, startHosts, stopLab } from './hosts.js';
import { createHostNetwork, deleteNetns, HOST_INTERFACE, hostNetns, parseSubnet, type Subnet } from './netns.js';
import { isRunning, type ProcessRef } from './system.js';
import { ensureVmArtifacts, startVm, stopVm, waitForVmSsh } from './vm.js';

/** KEEL_LVS_LAB names another LVS lab, so that several can run side by side, each in namespaces of its own. */
export const LVS_LAB = process.env.KEEL_LVS_LAB || 'lvs';
export const DEFAULT_LAB_INVENTORY = 'inventory/lab.yaml';
/** Hosts of this group need a kernel of their own (IPVS), so they are guests rather than containers. */
const GUEST_GROUP = 'directors';
const LAB_PREFIX = 24;
/** Several emulated guests booting on two cores take minutes, one takes well under one. */
const GUEST_BOOT_TIMEOUT_MS = 300_000;
const GUEST_CONNECT_TIMEOUT_SECONDS = 60;
const HOST_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export type LvsHostKind = 'guest' | 'container';

export interface LvsHost {
  name: string;
  address: string;
  kind: LvsHostKind;
  running: boolean;
}

interface GuestState {
  name: string;
  address: string;
  dir: string;
  qemu: ProcessRef;
  hostKey: string;
  consoleLog: string;
}

interface LvsState {
  source: string;
  subnet: string;
  guests: GuestState[];
}

export interface LvsTimings {
  /** Image, kernel, guest disk and apt repository: long on a cold cache, near zero afterwards. */
  buildMs: number;
  containersMs: number;
  guestsMs: number;
}

interface LabPlan {
  source: string;
  subnet: Subnet;
  containers: Record<string, string>;
  guests: Record<string, string>;
}

function statePath(): string {
  return join(labDir(LVS_LAB), 'lvs.json');
}

function planFromInventory(source: string): LabPlan {
  const inventory = loadInventory(source);
  const guestNames = new Set(inventory.groups.get(GUEST_GROUP) ?? []);
  const first = inventory.hosts[0];
  if (first === undefined) throw new Error(`${source} has no hosts`);
  const subnet = parseSubnet(`${first.address}/${LAB_PREFIX}`);
  const plan: LabPlan = { source, subnet, containers: {}, guests: {} };
  for (const host of inventory.hosts) {
    if (!subnet.containsHost(host.address))
      throw new Error(`${source}: host ${host.name} at ${host.address} is outside the lab subnet ${subnet.cidr}`);
    (guestNames.has(host.name) ? plan.guests : plan.containers)[host.name] = host.address;
  }
  if (Object.keys(plan.guests).length === 0) throw new Error(`${source}: no host in group ${GUEST_GROUP}; the lab needs a director`);
  return plan;
}

/** Boots the lab from scratch (an earlier lab is torn down first) and writes its inventory. */
export async function upLvsLab(
  options: { inventory?: string; log?: (line: string) => void } = {},
): Promise<{ lab: LvsLab; timings: LvsTimings }> {
  const log = options.log ?? (() => {});
  const plan = planFromInventory(resolve(options.inventory ?? DEFAULT_LAB_INVENTORY));
  if (existsSync(labDir(LVS_LAB))) log(`the lab ${LVS_LAB} is up (${labDir(LVS_LAB)}): replacing it with a fresh one`);
  await downLvsLab();
  const started = Date.now();
  const [artifacts, containers] = await Promise.all([
    ensureVmArtifacts(log),
    startHosts({ lab: LVS_LAB, addresses: plan.containers, subnet: plan.subnet.cidr, log }).then((lab) => ({ lab, readyAt: Date.now() })),
  ]);
  const built = Date.now();
  const state: LvsState = { source: plan.source, subnet: plan.subnet.cidr, guests: [] };
  try {
    const authorizedKey = await readFile(`${containers.lab.keyPath}.pub`, 'utf8');
    for (const [name, address] of Object.entries(plan.guests)) {
      const dir = join(labDir(LVS_LAB), 'guests', name);
      await mkdir(dir, { recursive: true });
      const vm = await startVm(
        { lab: LVS_LAB, name, dir, address, prefix: LAB_PREFIX, identity: { name, gateway: containers.lab.gateway, authorizedKey } },
        artifacts,
      );
      state.guests.push({ name, address, dir, qemu: vm.qemu, hostKey: vm.hostKey, consoleLog: vm.consoleLog });
      saveState(state);
    }
    for (const guest of state.guests)
      await waitForVmSsh(LVS_LAB, { qemu: guest.qemu, consoleLog: guest.consoleLog }, guest.address, GUEST_BOOT_TIMEOUT_MS);
    const lab = new LvsLab(containers.lab, state);
    await lab.writeAccessFiles();
    const timings = { buildMs: built - started, containersMs: containers.readyAt - started, guestsMs: Date.now() - built };
    return { lab, timings };
  } catch (error) {
    await downLvsLab();
    throw error;
  }
}

function saveState(state: LvsState): void {
  writeFileSync(`${statePath()}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${statePath()}.tmp`, statePath());
}

function readState(): LvsState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(), 'utf8')) as LvsState;
  } catch {
    return undefined;
  }
}

/** Reattaches to the running lab, possibly started by another process. */
export function openLvsLab(): LvsLab {
  const state = readState();
  if (state === undefined) throw new Error(`the LVS lab is not up (no ${statePath()}); start it with: npm run lab -- up`);
  return new LvsLab(openLab(LVS_LAB), state);
}

/** Tears the lab down from its state on disk, also after a crash; a lab that is not up is fine. */
export async function downLvsLab(): Promise<void> {
  for (const guest of readState()?.guests ?? []) await stopVm(guest.qemu);
  // Also kills whatever still runs in the lab's namespaces, qemu of a lost state file included.
  await stopLab(LVS_LAB);
}

const SCHEMA_MODELINE = /^# yaml-language-server: \$schema=(\S+)\n/m;

/**
 * An inventory written to `target` from `source`: the schema the source names is copied beside it, so that
 * the modeline names a file that exists; one naming no file of the source is dropped (a URL stays as it is).
 */
export async function withSchemaBeside(text: string, source: string, target: string): Promise<string> {
  const named = SCHEMA_MODELINE.exec(text)?.[1];
  if (named === undefined || /^[a-z]+:\/\//.test(named)) return text;
  const schema = resolve(dirname(source), named);
  if (!existsSync(schema)) return text.replace(SCHEMA_MODELINE, '');
  await copyFile(schema, join(dirname(target), basename(schema)));
  return text.replace(SCHEMA_MODELINE, `# yaml-language-server: $schema=${basename(schema)}\n`);
}

export class LvsLab {
  readonly inventoryPath: string;
  readonly knownHostsPath: string;
  readonly keyPath: string;
  readonly proxyCommand: string;

  constructor(
    private readonly containers: Lab,
    private readonly state: LvsState,
  ) {
    this.inventoryPath = join(containers.stateDir, 'lab.yaml');
    this.knownHostsPath = join(containers.stateDir, 'lab.known_hosts');
    this.keyPath = containers.keyPath;
    this.proxyCommand = containers.proxyCommand;
  }

  get hosts(): LvsHost[] {
    return [
      ...this.state.guests.map((guest) => ({
        name: guest.name,
        address: guest.address,
        kind: 'guest' as const,
        running: isRunning(guest.qemu),
      })),
      ...this.containers.hosts.map((host) => ({
        name: host.name,
        address: host.address,
        kind: 'container' as const,
        running: host.leaderPid > 0,
      })),
    ];
  }

  address(name: string): string {
    const host = this.hosts.find((candidate) => candidate.name === name);
    if (host === undefined) throw new Error(`the lab has no host ${name}`);
    return host.address;
  }

  /** Runs `command` with sh on the host, around keel: for making drift and looking, never for configuring. */
  async exec(name: string, command: string): Promise<ExecResult> {
    const guest = this.guest(name);
    if (guest === undefined) return this.containers.exec(name, command);
    await this.ensureSshMaster(guest);
    // ssh joins its arguments into one string for the remote shell: hand it one, quoted once more.
    const remote = sh`env -i ${HOST_PATH} HOME=/root LANG=C.UTF-8 sh -c ${command}`.text;
    const result = await $`ssh ${this.sshOptions(guest)} -o ControlMaster=no ${remote}`.stdio('ignore', 'pipe', 'pipe').nothrow().quiet();
    return { stdout: result.stdout, stderr: result.stderr, code: result.exitCode ?? -1 };
  }

  /** The output of `command` on the host; a failing command throws. */
  async output(name: string, command: string): Promise<string> {
    const result = await this.exec(name, command);
    if (result.code !== 0) throw new Error(`${name}: ${command} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  }

  /**
   * A real restart: a guest reboots its own kernel; a container is powered off and booted again in
   * a fresh network namespace, since sysctls and addresses live in the namespace, not the container.
   */
  async reboot(name: string): Promise<void> {
    const guest = this.guest(name);
    if (guest === undefined) {
      const netns = hostNetns(LVS_LAB, name);
      // A rebooted machine keeps its NIC: with a new MAC, the neighbours' caches would black-hole it for a while.
      const link = await $`ip -n ${netns} -o link show ${HOST_INTERFACE}`;
      const mac = /link\/ether ([0-9a-f:]{17})/.exec(link.stdout)?.[1];
      if (mac === undefined) throw new Error(`no MAC address on ${HOST_INTERFACE} of ${name}: ${link.stdout}`);
      await this.containers.stop(name);
      await deleteNetns([netns]);
      await createHostNetwork(LVS_LAB, name, `${this.address(name)}/${LAB_PREFIX}`, this.containers.gateway);
      await $`ip -n ${netns} link set ${HOST_INTERFACE} address ${mac}`;
      await this.containers.start(name);
      return;
    }
    const consoleBefore = readFileSync(guest.consoleLog, 'utf8').length;
    // Later, so that this session and the shared SSH connection close cleanly before sshd goes down; a
    // connection cut by the reset would leave its commands waiting for minutes. Two seconds were too few on a
    // loaded machine: the session outlived sshd and the reboot waited out its five minutes.
    const asked = await this.exec(name, 'systemd-run --quiet --on-active=10 systemctl reboot');
    // 255: ssh lost the connection, the reboot having come first; the console below tells whether it did.
    if (asked.code !== 0 && asked.code !== 255) throw new Error(`${name}: the reboot was refused (exit ${asked.code}): ${asked.stderr}`);
    await $`ssh ${this.sshOptions(guest)} -O exit`.nothrow().quiet();
    const deadline = Date.now() + GUEST_BOOT_TIMEOUT_MS;
    while (!readFileSync(guest.consoleLog, 'utf8').slice(consoleBefore).includes('Linux version')) {
      if (Date.now() > deadline || !isRunning(guest.qemu)) throw new Error(`${name} did not restart its kernel; see ${guest.consoleLog}`);
      await sleep(200);
    }
    await waitForVmSsh(LVS_LAB, { qemu: guest.qemu, consoleLog: guest.consoleLog }, guest.address, GUEST_BOOT_TIMEOUT_MS);
  }

  async down(): Promise<void> {
    await downLvsLab();
  }

  /** The source inventory with a `defaults` section that says how to reach the lab's hosts. */
  async writeAccessFiles(): Promise<void> {
    const containerKeys = existsSync(this.containers.knownHostsPath) ? await readFile(this.containers.knownHostsPath, 'utf8') : '';
    const guestKeys = this.state.guests.map((guest) => `${guest.address} ${guest.hostKey}\n`).join('');
    await writeFile(this.knownHostsPath, containerKeys + guestKeys);
    const document = parseDocument(await readFile(this.state.source, 'utf8'));
    document.set('defaults', {
      user: 'root',
      identityFile: this.keyPath,
      knownHostsFile: this.knownHostsPath,
      proxyCommand: this.proxyCommand,
      // An emulated director needs seconds of CPU for a key exchange, more on a busy machine.
      connectTimeout: GUEST_CONNECT_TIMEOUT_SECONDS,
    });
    document.commentBefore = ` Written by npm run lab -- up from ${this.state.source}, with how to reach the lab's hosts.`;
    await writeFile(this.inventoryPath, await withSchemaBeside(document.toString(), this.state.source, this.inventoryPath));
  }

  private guest(name: string): GuestState | undefined {
    return this.state.guests.find((guest) => guest.name === name);
  }

  private sshOptions(guest: GuestState): string[] {
    return [
      '-F',
      '/dev/null',
      '-i',
      this.keyPath,
      '-o',
      `UserKnownHostsFile=${this.knownHostsPath}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'LogLevel=error',
      '-o',
      `ProxyCommand=${this.proxyCommand}`,
      '-o',
      `ControlPath=${join(this.containers.stateDir, `ssh-${guest.name}`)}`,
      `root@${guest.address}`,
    ];
  }

  /**
   * Every new SSH session to an emulated guest costs seconds of key exchange, so commands share one
   * connection. The master gets no stdio of ours: a backgrounded master holding our pipes would keep
   * every later command from seeing end of output.
   */
  private async ensureSshMaster(guest: GuestState): Promise<void> {
    const check = await $`ssh ${this.sshOptions(guest)} -O check`.nothrow().quiet();
    if (check.exitCode === 0) return;
    // Keepalives, so that a connection the guest's reboot cut fails in half a minute instead of hanging.
    await $`ssh ${this.sshOptions(guest)} -M -N -f -o ControlPersist=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=6`
      .stdio('ignore', 'ignore', 'ignore')
      .nothrow();
  }
}
