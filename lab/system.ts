import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { $ } from 'zx';

export interface ProcessRef {
  pid: number;
  /** Kernel start time of the process, so a recycled pid is never mistaken for ours. */
  startTime: string;
}

export function processRef(pid: number): ProcessRef {
  return { pid, startTime: procStat(pid)?.startTime ?? '' };
}

function procStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

export function isRunning(ref: ProcessRef): boolean {
  const stat = procStat(ref.pid);
  return stat !== undefined && stat.startTime === ref.startTime && stat.state !== 'Z';
}

/** Detached, so that a lab started by a short-lived CLI outlives it. */
export function launchDetached(command: string, args: string[], logPath: string, env: NodeJS.ProcessEnv = process.env): ProcessRef {
  const log = openSync(logPath, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log], env });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    return processRef(child.pid);
  } finally {
    closeSync(log);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signal(ref: ProcessRef, name: NodeJS.Signals): void {
  if (!isRunning(ref)) return;
  try {
    process.kill(ref.pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export async function waitForExit(refs: ProcessRef[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (refs.some(isRunning)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Waits for the child of `parent` that is pid 1 of a new pid namespace: the init of a container
 * or of a light host. Exec'ing does not change a pid, so it stays valid as that process execs on.
 */
export async function waitForNamespaceInit(parent: ProcessRef, timeoutMs: number): Promise<ProcessRef> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(parent)) throw new Error(`process ${parent.pid} exited`);
    for (const pid of childPids(parent.pid)) {
      if (namespacePids(pid).at(-1) === 1) return processRef(pid);
    }
    await sleep(20);
  }
  throw new Error(`no namespace init below process ${parent.pid} after ${timeoutMs} ms`);
}

function namespacePids(pid: number): number[] {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('NSpid:'));
    return line === undefined ? [] : line.split(/\s+/).slice(1).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Waits until some socket in the network namespace of `process` listens on TCP `port`. Reading the
 * namespace's socket table costs no process and no connection (each connection makes sshd fork and
 * re-exec itself, which adds up over hundreds of hosts).
 */
export async function waitForListener(process: ProcessRef, port: number, timeoutMs: number): Promise<void> {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(process)) throw new Error(`process ${process.pid} exited`);
    for (const table of ['tcp', 'tcp6']) {
      const lines = await readFile(`/proc/${process.pid}/net/${table}`, 'utf8').catch(() => '');
      if (lines.split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(local) && line.trim().split(/\s+/)[3] === '0A')) return;
    }
    await sleep(50);
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}

/** Mount points at or below `path` in this mount namespace, deepest first. */
export async function mountsUnder(path: string): Promise<string[]> {
  const prefix = path.replace(/\/+$/, '');
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map((point) => point.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point === prefix || point.startsWith(`${prefix}/`))
    .sort((a, b) => b.length - a.length);
}

export async function unmountUnder(path: string): Promise<void> {
  for (const point of await mountsUnder(path)) {
    const result = await $`umount ${point}`.nothrow().quiet();
    if (result.exitCode !== 0) await $`umount --lazy ${point}`.nothrow().quiet();
  }
  const left = await mountsUnder(path);
  if (left.length > 0) throw new Error(`still mounted: ${left.join(', ')}`);
}
