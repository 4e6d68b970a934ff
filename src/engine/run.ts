/** Runs a mode over a fleet: hosts in parallel up to `forks`, resources in recipe order within each host. */
import pLimit from 'p-limit';
import { redact } from '../shell/index.js';
import type { Transport } from '../transport/types.js';
import { convergeHost } from './converge.js';
import {
  type EventSink,
  emptyCounts,
  exitCodeOf,
  type HandlerResult,
  type HostSummary,
  type Mode,
  type ResourceResult,
  type RunSummary,
} from './events.js';
import { observeHost, readerFor } from './observe.js';
import { prepareHost } from './prepare.js';
import { readSection } from './reads.js';
import { BatchError, invocationLog, REMOTE_SCRIPT, type Trace } from './remote.js';
import { desiredOf } from './resource.js';
import type { HostTarget, Timeouts } from './target.js';

export interface RunOptions {
  mode: Mode;
  recipes: string[];
  hosts: HostTarget[];
  forks: number;
  timeouts: Timeouts;
  emit: EventSink;
  /** Once aborted, no new change starts; in-flight ones finish, and the run ends with exit code 130. */
  signal?: AbortSignal;
  /** Emit invocation-start and invocation-end events: with the commands sent, or with their outputs too. */
  trace?: Trace;
}

export const DEFAULT_TIMEOUTS: Timeouts = { readMs: 120_000, applyMs: 900_000 };

function summarize(
  target: HostTarget,
  resources: ResourceResult[],
  handlers: HandlerResult[],
  started: number,
  execs: HostSummary['execs'],
  error?: { outcome: 'failed' | 'unreachable'; message: string },
): HostSummary {
  const counts = emptyCounts();
  for (const result of resources) counts[result.outcome] += 1;
  const failed = counts.failed > 0 || handlers.some((h) => h.outcome === 'failed');
  return {
    host: target.name,
    outcome: error?.outcome ?? (failed ? 'failed' : 'ok'),
    counts,
    resources,
    handlers,
    ...(target.leftOut ? { leftOut: [...target.leftOut] } : {}),
    ...(error ? { error: error.message } : {}),
    ...(target.gathered !== undefined ? { gathered: target.gathered } : {}),
    execs,
    durationMs: Date.now() - started,
  };
}

async function runHost(planned: HostTarget, options: RunOptions): Promise<HostSummary> {
  let target = planned;
  const { emit } = options;
  const started = Date.now();
  const clean = (text: string): string => redact(text, target.secrets ?? []);
  emit({ type: 'host-start', host: target.name, at: started });
  if (target.resources.length === 0 && !target.prepare) return summarize(target, [], [], started, { total: 0, read: 0 });
  emit({ type: 'host-phase', host: target.name, phase: 'connect' });
  let transport: Transport;
  try {
    transport = await target.connect();
  } catch (error) {
    return summarize(target, [], [], started, { total: 0, read: 0 }, { outcome: 'unreachable', message: clean((error as Error).message) });
  }
  let readExecs = 0;
  const log = options.trace ? invocationLog(target.name, options.trace, emit, target.secrets) : undefined;
  try {
    emit({ type: 'host-phase', host: target.name, phase: 'read' });
    const preparation = await prepareHost(target, transport, options.timeouts.readMs);
    const execs = () => ({ total: transport.execCount, read: transport.execCount });
    if ('failed' in preparation)
      return summarize(target, [], [], started, execs(), { ...preparation.failed, message: clean(preparation.failed.message) });
    target = preparation.ready;
    if (target.resources.length === 0) return summarize(target, [], [], started, execs());
    const preparingExecs = transport.execCount;
    if (options.mode === 'apply') {
      const outcome = await convergeHost(target, transport, emit, {
        timeouts: options.timeouts,
        stopRequested: () => options.signal?.aborted ?? false,
        log,
      });
      readExecs = preparingExecs + 1;
      const lost =
        outcome.connectionError === undefined ? undefined : { outcome: 'unreachable' as const, message: clean(outcome.connectionError) };
      return summarize(target, outcome.resources, outcome.handlers, started, { total: transport.execCount, read: readExecs }, lost);
    }
    const outcome = await observeHost(target, readerFor(transport, options.timeouts.readMs, log), emit);
    readExecs = transport.execCount;
    return summarize(target, outcome.resources, outcome.handlers, started, { total: transport.execCount, read: readExecs });
  } catch (error) {
    if (error instanceof BatchError) {
      const message = clean(`reading the host failed: ${error.message}`);
      // One failure line per host: the read that was running (or, when none ran, the first) carries the error.
      const culprit = target.resources.find((instance) => readSection(instance).name === error.section) ?? target.resources[0];
      const resources: ResourceResult[] = target.resources.map((instance) => ({
        host: target.name,
        id: instance.id,
        type: instance.definition.type,
        outcome: instance === culprit ? 'failed' : 'skipped',
        changes: [],
        desired: desiredOf(instance),
        actual: null,
        error:
          instance === culprit
            ? {
                phase: 'read',
                message,
                command: error.section ? readSection(instance).command.display : REMOTE_SCRIPT,
                exitCode: error.exitCode,
                stderr: clean(error.stderr),
              }
            : { phase: 'read', message: `not attempted: reading the host failed${culprit ? ` at ${culprit.id}` : ''}` },
        durationMs: Date.now() - started,
      }));
      for (const result of resources) emit({ type: 'resource-result', result });
      return summarize(
        target,
        resources,
        [],
        started,
        { total: transport.execCount, read: transport.execCount },
        { outcome: 'failed', message },
      );
    }
    return summarize(
      target,
      [],
      [],
      started,
      { total: transport.execCount, read: readExecs },
      { outcome: 'unreachable', message: clean(`connection lost: ${(error as Error).message}`) },
    );
  } finally {
    await transport.close().catch(() => undefined);
  }
}

export async function run(options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  options.emit({ type: 'run-start', mode: options.mode, recipes: options.recipes, hosts: options.hosts.map((h) => h.name), at: started });
  const limit = pLimit(Math.max(1, options.forks));
  const hosts = await Promise.all(
    options.hosts.map((target) =>
      limit(async () => {
        if (options.signal?.aborted) {
          const skipped = summarize(
            target,
            [],
            [],
            Date.now(),
            { total: 0, read: 0 },
            { outcome: 'failed', message: 'interrupted before this host started' },
          );
          options.emit({ type: 'host-end', summary: skipped });
          return skipped;
        }
        const summary = await runHost(target, options);
        options.emit({ type: 'host-end', summary });
        return summary;
      }),
    ),
  );
  const interrupted = options.signal?.aborted ?? false;
  const summary: RunSummary = {
    mode: options.mode,
    recipes: options.recipes,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    hosts,
    interrupted,
    exitCode: exitCodeOf(hosts, interrupted),
  };
  options.emit({ type: 'run-end', summary });
  return summary;
}
