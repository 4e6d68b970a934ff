/**
 * Rolling runs (`--serial`, `--max-fail`): hosts in batches, a batch in parallel and batches in order, with one
 * failure budget for the whole run. Once the failed hosts are past the budget, or the run is interrupted, no new
 * batch starts and every host left is named as not attempted.
 */
import type { Transport } from '../transport/types.js';
import { type EventSink, emptyCounts, type HostSummary, type RolloutStep, type RolloutSummary } from './events.js';
import type { HostRollout, HostTarget, RolloutProgress } from './target.js';

/** A number of hosts, or a share of the hosts selected for the run. */
export type HostShare = { count: number } | { percent: number };

export interface RollingOptions {
  /** Hosts per batch; all of them in one batch when absent. */
  serial?: HostShare;
  /** Failed hosts the whole run may have; once past it no new batch starts. 0 when absent: the first failure stops the run. */
  maxFail?: HostShare;
}

/** `3` or `25%`; undefined when the text is neither (the CLI says so in its own words). */
export function parseHostShare(text: string): HostShare | undefined {
  const match = /^(\d+)(%?)$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  return match[2] === '%' ? (value <= 100 ? { percent: value } : undefined) : { count: value };
}

export function showShare(share: HostShare): string {
  return 'percent' in share ? `${share.percent}%` : String(share.count);
}

/** A batch size: a share rounds down, but a batch holds at least one host. */
export function batchSize(serial: HostShare | undefined, hosts: number): number {
  if (serial === undefined) return Math.max(1, hosts);
  const size = 'percent' in serial ? Math.floor((hosts * serial.percent) / 100) : serial.count;
  return Math.max(1, size);
}

/** The failed hosts allowed: a share rounds down, so `--max-fail 10%` of 5 hosts allows none. */
export function failureBudget(maxFail: HostShare | undefined, hosts: number): number {
  if (maxFail === undefined) return 0;
  return 'percent' in maxFail ? Math.floor((hosts * maxFail.percent) / 100) : maxFail.count;
}

export function batchesOf<Item>(items: readonly Item[], size: number): Item[][] {
  const batches: Item[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}

export interface RollingRun {
  hosts: HostSummary[];
  rollout: RolloutSummary;
}

/**
 * Works on the batches in order; `runBatch` works on one batch's hosts (in parallel) and returns their summaries.
 * The hosts never attempted get a summary of their own, saying why, so every report names them.
 */
export async function runRolling(
  targets: readonly HostTarget[],
  rolling: RollingOptions,
  emit: EventSink,
  stopRequested: () => boolean,
  runBatch: (batch: readonly HostTarget[]) => Promise<HostSummary[]>,
): Promise<RollingRun> {
  const size = batchSize(rolling.serial, targets.length);
  const budget = failureBudget(rolling.maxFail, targets.length);
  const batches = batchesOf(targets, size);
  const rollout: RolloutSummary = {
    serial: size,
    maxFail: budget,
    batches: batches.map((batch) => batch.map((target) => target.name)),
    failed: [],
    notAttempted: [],
  };
  const hosts: HostSummary[] = [];
  for (const [index, batch] of batches.entries()) {
    const stop = stopRequested()
      ? `interrupted before batch ${index + 1} of ${batches.length}`
      : rollout.failed.length > budget
        ? `${rollout.failed.length} failed host${rollout.failed.length === 1 ? '' : 's'} (${rollout.failed.join(', ')}) went past --max-fail ${budget} after batch ${index} of ${batches.length}`
        : undefined;
    if (stop !== undefined) {
      rollout.stopped = stop;
      for (const target of batches.slice(index).flat()) {
        const summary = notAttempted(target.name, stop);
        rollout.notAttempted.push(target.name);
        emit({ type: 'host-end', summary });
        hosts.push(summary);
      }
      break;
    }
    emit({ type: 'batch-start', batch: index + 1, of: batches.length, hosts: rollout.batches[index]!, at: Date.now() });
    const results = await runBatch(batch);
    for (const summary of results) if (summary.outcome !== 'ok') rollout.failed.push(summary.host);
    hosts.push(...results);
    emit({ type: 'batch-end', batch: index + 1, of: batches.length, at: Date.now() });
  }
  return { hosts, rollout };
}

/**
 * The hosts in the order a rolling run takes them, and those an earlier run left out of service (it died mid-change).
 * Those go first: their peers' own changes (a director's table) would otherwise put them back unchecked. They take
 * their health check even with nothing to change, and a failed one counts against the budget like any failure.
 */
export async function rollingOrder(targets: readonly HostTarget[]): Promise<{ order: HostTarget[]; outAtStart: Set<string> }> {
  const outAtStart = new Set<string>();
  for (const target of targets) {
    // A host whose peers cannot be asked counts as out: its check then says what is wrong.
    if (target.rollout && (await target.rollout.isOut().catch(() => true))) outAtStart.add(target.name);
  }
  const order = [...targets.filter((t) => outAtStart.has(t.name)), ...targets.filter((t) => !outAtStart.has(t.name))];
  return { order, outAtStart };
}

/** One host's way out of service and back within its apply: the phases it went through, and the two moves. */
export interface RolloutStage {
  steps: RolloutStep[];
  /** For the engine's `beforeChange`: out of service, then changing. */
  leave(): Promise<void>;
  /**
   * After the host's changes: when they all succeeded, the health check and the way back in; otherwise the host stays
   * out. The check's failure, when it failed; undefined otherwise.
   */
  finish(host: Transport, changesSucceeded: boolean): Promise<string | undefined>;
}

/** `outAtStart`: an earlier run left the host out of service, so it is checked and put back even with nothing to change. */
export function rolloutStage(host: string, rollout: HostRollout, emit: EventSink, outAtStart: boolean): RolloutStage {
  const steps: RolloutStep[] = [];
  let out = false;
  const progress: RolloutProgress = (phase, detail) => {
    const at = Date.now();
    if (phase === 'draining') out = true;
    // The report keeps each phase once, from when it began; the events tell of every update (ActiveConn as it falls).
    if (steps.at(-1)?.phase !== phase) steps.push({ phase, at: new Date(at).toISOString(), ...(detail === undefined ? {} : { detail }) });
    emit({ type: 'rollout-phase', host, phase, ...(detail === undefined ? {} : { detail }), at });
  };
  if (outAtStart) progress('draining', 'left out of service by an earlier run');
  return {
    steps,
    async leave() {
      await rollout.leave(progress);
      progress('changing');
    },
    async finish(transport, changesSucceeded) {
      if (!out) return undefined;
      if (!changesSucceeded) {
        progress('left out', 'its changes failed');
        return undefined;
      }
      progress('checking');
      try {
        await rollout.rejoin(transport, progress);
      } catch (error) {
        const message = `fails its health check, so it stays out of service: ${(error as Error).message}`;
        progress('left out', message);
        return message;
      }
      progress('restored');
      return undefined;
    },
  };
}

function notAttempted(host: string, why: string): HostSummary {
  return {
    host,
    outcome: 'failed',
    counts: emptyCounts(),
    resources: [],
    handlers: [],
    error: `not attempted: ${why}`,
    execs: { total: 0, read: 0 },
    durationMs: 0,
  };
}

/** A batch that would take every host of a pool out of service at once: the run refuses to start. */
export class RolloutRefused extends Error {
  override name = 'RolloutRefused';
}

/** Throws RolloutRefused when a batch would hold every member of a pool, naming the pool and the batch. */
export function refuseEmptiedPools(targets: readonly HostTarget[], rolling: RollingOptions): void {
  const batches = batchesOf(targets, batchSize(rolling.serial, targets.length));
  for (const [index, batch] of batches.entries()) {
    const pools = new Map<string, readonly string[]>();
    for (const target of batch) if (target.rollout) pools.set(target.rollout.pool.name, target.rollout.pool.members);
    for (const [pool, members] of pools) {
      const names = new Set(batch.map((target) => target.name));
      if (!members.every((member) => names.has(member))) continue;
      if (members.length === 1)
        throw new RolloutRefused(
          `${members[0]} is the only host of ${pool}: taking it out of service stops the service, so it takes no rolling change`,
        );
      throw new RolloutRefused(
        `batch ${index + 1} (${[...names].join(', ')}) would take every host of ${pool} (${members.join(', ')}) out of service at once; use a smaller --serial, at most ${members.length - 1}`,
      );
    }
  }
}
