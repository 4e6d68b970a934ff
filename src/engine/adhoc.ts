/**
 * One shell command on many hosts, as the operator typed it (`keel run`). It is not a resource: nothing is read or
 * compared first, nothing promises that running it twice changes nothing, and plan and check know nothing of it.
 */
import { redact } from '../shell/index.js';
import { EXIT } from './events.js';
import { forEachHost, withConnection } from './fanout.js';
import type { HostTarget } from './target.js';

export type AdhocTarget = Pick<HostTarget, 'name' | 'connect' | 'secrets'>;

/**
 * - `ok`: the command exited 0.
 * - `failed`: it exited otherwise (124: its timeout ended it), or it never started because the run was interrupted.
 * - `unreachable`: no connection, or the connection was lost while it ran.
 */
export type AdhocOutcome = 'ok' | 'failed' | 'unreachable';

export interface AdhocHostResult {
  host: string;
  outcome: AdhocOutcome;
  /** Absent when the command did not run to its end. */
  exitCode?: number;
  stdout: string;
  stderr: string;
  error?: string;
  durationMs: number;
}

export interface AdhocSummary {
  command: string;
  startedAt: string;
  durationMs: number;
  /** In the order the hosts were given. */
  hosts: AdhocHostResult[];
  interrupted: boolean;
  exitCode: number;
}

export type AdhocEvent =
  | { type: 'adhoc-start'; command: string; hosts: string[]; at: number }
  | { type: 'adhoc-host-start'; host: string; at: number }
  | { type: 'adhoc-host-end'; result: AdhocHostResult }
  | { type: 'adhoc-end'; summary: AdhocSummary };

export interface AdhocOptions {
  /** A shell command, sent as written. */
  command: string;
  hosts: AdhocTarget[];
  forks: number;
  timeoutMs?: number;
  emit(event: AdhocEvent): void;
  /** Once aborted, no new host starts; commands running finish, and the run ends with exit code 130. */
  signal?: AbortSignal;
}

/** 0 when it exited 0 everywhere; OR-ed: 4 it failed on a host, 8 a host was unreachable; 130 interrupted. */
export function adhocExitCode(hosts: readonly Pick<AdhocHostResult, 'outcome'>[], interrupted: boolean): number {
  if (interrupted) return EXIT.interrupted;
  let code = 0;
  for (const host of hosts) {
    if (host.outcome === 'failed') code |= EXIT.failed;
    if (host.outcome === 'unreachable') code |= EXIT.unreachable;
  }
  return code;
}

async function onHost(target: AdhocTarget, options: AdhocOptions): Promise<AdhocHostResult> {
  const started = Date.now();
  const clean = (text: string): string => redact(text, target.secrets ?? []);
  const base = { host: target.name, stdout: '', stderr: '' };
  if (options.signal?.aborted) return { ...base, outcome: 'failed', error: 'interrupted before this host started', durationMs: 0 };
  options.emit({ type: 'adhoc-host-start', host: target.name, at: started });
  return withConnection(
    target,
    async (transport): Promise<AdhocHostResult> => {
      // sudo when the host's settings ask for it (become), as every command keel sends does.
      const result = await transport.exec(options.command, { sudo: true, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
      return {
        host: target.name,
        outcome: result.code === 0 ? 'ok' : 'failed',
        exitCode: result.code,
        stdout: clean(result.stdout.toString()),
        stderr: clean(result.stderr.toString()),
        durationMs: Date.now() - started,
      };
    },
    (error, connected) => ({
      ...base,
      outcome: 'unreachable',
      error: clean(connected ? `connection lost: ${error.message}` : error.message),
      durationMs: Date.now() - started,
    }),
  );
}

export async function runAdhoc(options: AdhocOptions): Promise<AdhocSummary> {
  const started = Date.now();
  options.emit({ type: 'adhoc-start', command: options.command, hosts: options.hosts.map((host) => host.name), at: started });
  const hosts = await forEachHost(options.hosts, options.forks, async (target) => {
    const result = await onHost(target, options);
    options.emit({ type: 'adhoc-host-end', result });
    return result;
  });
  const interrupted = options.signal?.aborted ?? false;
  const summary: AdhocSummary = {
    command: options.command,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    hosts,
    interrupted,
    exitCode: adhocExitCode(hosts, interrupted),
  };
  options.emit({ type: 'adhoc-end', summary });
  return summary;
}
