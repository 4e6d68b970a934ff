/** What the engine tells the world. The UI, the text printer and the reports consume these; nothing else. */
export type Mode = 'plan' | 'check' | 'apply';

/**
 * - `unchanged`: in sync.
 * - `drifted`: differs; plan/check only (nothing was changed).
 * - `changed`: differed, was changed, and a re-read confirmed it.
 * - `pending`: cannot be known until the resources in `pendingOn` change (plan/check only).
 * - `failed`: could not be read, could not be changed, or still differs after the change.
 * - `skipped`: not attempted, because an earlier resource on the host failed or the run was interrupted.
 */
export type ResourceOutcome = 'unchanged' | 'drifted' | 'changed' | 'pending' | 'failed' | 'skipped';

/**
 * One field of a resource's state that differs: `from` is what the host has, `to` what the recipe wants.
 * A resource types its own field names (`FieldChange<'value' | 'persisted'>`); reports and the UI read them as strings.
 */
export interface FieldChange<Field extends string = string> {
  field: Field;
  from: unknown;
  to: unknown;
  /** A unified diff, for text content. */
  patch?: string;
}

export interface ResourceError {
  /** Which step failed. `read` failures make the exit code 4 in every mode. */
  phase: 'read' | 'apply' | 'verify' | 'handler';
  message: string;
  command?: string;
  exitCode?: number;
  stderr?: string;
}

export interface ResourceResult {
  host: string;
  id: string;
  type: string;
  outcome: ResourceOutcome;
  changes: FieldChange[];
  desired: unknown;
  actual: unknown;
  pendingOn?: string[];
  notified?: string[];
  error?: ResourceError;
  durationMs: number;
}

/**
 * - `left-out`: notified, but its resource was left out of the run (`--tags`); the notification stays owed on the
 *   host, for the next apply that includes it.
 */
export interface HandlerResult {
  host: string;
  id: string;
  action: string;
  outcome: 'ran' | 'would-run' | 'failed' | 'left-out';
  error?: ResourceError;
  durationMs: number;
}

/** `interrupted`: the run was interrupted (Ctrl-C) before every resource of the host was attempted. */
export type HostOutcome = 'ok' | 'failed' | 'unreachable' | 'interrupted';

export interface HostCounts {
  unchanged: number;
  drifted: number;
  changed: number;
  pending: number;
  failed: number;
  skipped: number;
}

/** Where a host is on its way out of service and back, in a rolling run whose recipes say how (`HostRollout`). */
export type RolloutPhase = 'draining' | 'changing' | 'checking' | 'restored' | 'left out';

export interface RolloutStep {
  phase: RolloutPhase;
  /** ISO time the phase began. */
  at: string;
  /** What it waits on (`ActiveConn 3 on director`), or why the host was left out. */
  detail?: string;
}

export interface HostSummary {
  host: string;
  outcome: HostOutcome;
  counts: HostCounts;
  resources: ResourceResult[];
  handlers: HandlerResult[];
  /** Resources of the host's recipes the caller left out of the run (`--tags`): neither read nor changed. */
  leftOut?: string[];
  error?: string;
  /** In a rolling run, the host's way out of service and back, phase by phase. */
  rollout?: RolloutStep[];
  /** Of an interrupted host: how many of its resources were never attempted (skipped). */
  notAttempted?: number;
  /** What the host's preparation gathered from it before planning its resources (HostTarget.gathered). */
  gathered?: unknown;
  /** Exec round trips to the host, in total and in the read phase. */
  execs: { total: number; read: number };
  durationMs: number;
}

export interface RunSummary {
  mode: Mode;
  recipes: string[];
  startedAt: string;
  durationMs: number;
  hosts: HostSummary[];
  interrupted: boolean;
  /** Only for a rolling run (`--serial`, `--max-fail`). */
  rollout?: RolloutSummary;
  exitCode: number;
}

/** How a rolling run went: its batches in order, the failure budget, and where and why it stopped. */
export interface RolloutSummary {
  /** Hosts per batch. */
  serial: number;
  /** Failed hosts allowed over the whole run; one more and no new batch starts. */
  maxFail: number;
  batches: string[][];
  /** Hosts that failed or were unreachable, counted against the budget. */
  failed: string[];
  /** Hosts of the batches that never started. */
  notAttempted: string[];
  /** Why the batches after some point never started. */
  stopped?: string;
}

/** One section of a remote invocation as sent: file content shown by size, the host's secrets redacted. */
export interface InvocationCommand {
  name: string;
  command: string;
}

/** What one section printed, decoded as UTF-8 and redacted; `withheld` when its resource holds a Secret. */
export interface InvocationOutput {
  name: string;
  code: number;
  stdout: string;
  stderr: string;
  withheld?: boolean;
}

export type EngineEvent =
  | { type: 'run-start'; mode: Mode; recipes: string[]; hosts: string[]; at: number }
  /** A rolling run starts batch `batch` (from 1) of `of`. */
  | { type: 'batch-start'; batch: number; of: number; hosts: string[]; at: number }
  | { type: 'batch-end'; batch: number; of: number; at: number }
  | { type: 'host-start'; host: string; at: number }
  | { type: 'rollout-phase'; host: string; phase: RolloutPhase; detail?: string; at: number }
  | { type: 'host-phase'; host: string; phase: 'connect' | 'read' | 'handlers' }
  | { type: 'resource-start'; host: string; id: string; phase: 'apply' }
  | { type: 'resource-result'; result: ResourceResult }
  /** Only when the run is asked to trace its invocations (`-v`). */
  | { type: 'invocation-start'; host: string; invocation: number; sections: InvocationCommand[]; at: number }
  /**
   * `code` is the remote shell's exit code; `error` says why there is none (the connection dropped). `outputs` and
   * `stderr` (what the shell printed after the last section) only when the trace asks for output (`-vv`).
   */
  | {
      type: 'invocation-end';
      host: string;
      invocation: number;
      durationMs: number;
      code?: number;
      error?: string;
      outputs?: InvocationOutput[];
      stderr?: string;
    }
  | { type: 'handler-result'; result: HandlerResult }
  | { type: 'host-end'; summary: HostSummary }
  | { type: 'run-end'; summary: RunSummary };

export type EventSink = (event: EngineEvent) => void;

export const EXIT = { ok: 0, usage: 1, drift: 2, failed: 4, unreachable: 8, interrupted: 130 } as const;

export function emptyCounts(): HostCounts {
  return { unchanged: 0, drifted: 0, changed: 0, pending: 0, failed: 0, skipped: 0 };
}

/**
 * Exit codes OR-ed together: 2 drift or pending change (a handler that would run is one), 4 a resource failed or a
 * rolling run left hosts not attempted, 8 a host unreachable.
 */
export function exitCodeOf(hosts: readonly HostSummary[], interrupted: boolean, rollout?: RolloutSummary): number {
  if (interrupted) return EXIT.interrupted;
  let code = rollout?.notAttempted.length ? EXIT.failed : 0;
  for (const host of hosts) {
    if (host.outcome === 'unreachable') code |= EXIT.unreachable;
    if (host.outcome === 'failed' || host.counts.failed > 0 || host.handlers.some((h) => h.outcome === 'failed')) code |= EXIT.failed;
    if (host.counts.drifted > 0 || host.counts.pending > 0 || host.handlers.some((h) => h.outcome === 'would-run')) code |= EXIT.drift;
  }
  return code;
}
