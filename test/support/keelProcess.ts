/**
 * The real `keel` CLI as a running process, for tests that act while it works: kill a connection, press Ctrl-C,
 * watch the host. It runs in a process group of its own, like a terminal's foreground job.
 */
import { spawn } from 'node:child_process';
import { type CliResult, KEEL } from './cli.js';

export interface RunningKeel {
  done: Promise<CliResult>;
  /** Ctrl-C at a terminal: SIGINT to the whole foreground process group. */
  interrupt(): void;
  /** SIGKILL to keel alone: it dies where it stands, with nothing cleaned up. */
  kill(): void;
}

export function startKeel(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): RunningKeel {
  const child = spawn(process.execPath, [KEEL, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  return { done, interrupt: () => process.kill(-child.pid!, 'SIGINT'), kill: () => child.kill('SIGKILL') };
}
