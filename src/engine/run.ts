/** Runs a mode over a fleet: hosts in parallel up to `forks`, resources in recipe order within each host. */
import pLimit from 'p-limit';
import { redact, SecretInterpolationError } from '../shell/index.js';
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
import { BatchError, invocationLog, REMOTE_SCRIPT, runSections, type Trace } from './remote.js';
import { desiredOf, recipeLocation } from './resource.js';
import { type RollingOptions, refuseEmptiedPools, rollingOrder, rolloutStage, runRolling } from './rollout.js';
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
  /** Hosts in batches with one failure budget (`--serial`, `--max-fail`); apply only. */
  rolling?: RollingOptions;
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

/** A host the interrupt reached before it started: each of its resources not attempted. */
function notStarted(target: HostTarget, emit: EventSink): HostSummary {
  const started = Date.now();
  emit({ type: 'host-start', host: target.name, at: started });
  const resources = target.resources.map(
    (instance): ResourceResult => ({
      host: target.name,
      id: instance.id,
      type: instance.definition.type,
      outcome: 'skipped',
      changes: [],
      desired: desiredOf(instance),
      actual: null,
      error: { phase: 'read', message: 'interrupted before this host started' },
      durationMs: 0,
    }),
  );
  for (const result of resources) emit({ type: 'resource-result', result });
  return summarize(target, resources, [], started, { total: 0, read: 0 });
}

/** Skipped resources on a host that did not fail are the interrupt's: the host reads as interrupted, not ok. */
function withInterruption(summary: HostSummary): HostSummary {
  if (summary.outcome !== 'ok' || summary.counts.skipped === 0) return summary;
  return { ...summary, outcome: 'interrupted', notAttempted: summary.counts.skipped };
}

/** `outAtStart`: in a rolling run, an earlier run left this host out of service. */
async function runHost(planned: HostTarget, options: RunOptions, outAtStart = false): Promise<HostSummary> {
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
    const preparation = await prepareHost(target, (sections) => runSections(transport, sections, options.timeouts.readMs, log));
    const execs = () => ({ total: transport.execCount, read: transport.execCount });
    if ('failed' in preparation)
      return summarize(target, [], [], started, execs(), { ...preparation.failed, message: clean(preparation.failed.message) });
    target = preparation.ready;
    if (target.resources.length === 0) return summarize(target, [], [], started, execs());
    const preparingExecs = transport.execCount;
    if (options.mode === 'apply') {
      const stage = options.rolling && target.rollout ? rolloutStage(target.name, target.rollout, emit, outAtStart) : undefined;
      const outcome = await convergeHost(target, transport, emit, {
        timeouts: options.timeouts,
        stopRequested: () => options.signal?.aborted ?? false,
        log,
        ...(stage ? { beforeChange: stage.leave } : {}),
      });
      // The first read opens the host's shell, unless preparation already did.
      readExecs = Math.max(preparingExecs, 1);
      const lost =
        outcome.connectionError === undefined ? undefined : { outcome: 'unreachable' as const, message: clean(outcome.connectionError) };
      const succeeded =
        lost === undefined &&
        outcome.resources.every((result) => result.outcome !== 'failed') &&
        outcome.handlers.every((result) => result.outcome !== 'failed');
      const unhealthy = stage ? await stage.finish(transport, succeeded) : undefined;
      const summary = summarize(
        target,
        outcome.resources,
        outcome.handlers,
        started,
        { total: transport.execCount, read: readExecs },
        lost ?? (unhealthy === undefined ? undefined : { outcome: 'failed', message: clean(unhealthy) }),
      );
      return stage?.steps.length ? { ...summary, rollout: stage.steps } : summary;
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
    if (error instanceof SecretInterpolationError) {
      // A resource's own code made text of a Secret as it built a command: refused, nothing of it was sent.
      const where = recipeLocation(error.stack);
      const message = `${where ? `${where}: ` : ''}${error.message}`;
      return summarize(target, [], [], started, { total: transport.execCount, read: readExecs }, { outcome: 'failed', message });
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

/** Throws RolloutRefused, before any host is changed, for a rolling run whose batch would empty a pool. */
export async function run(options: RunOptions): Promise<RunSummary> {
  const rolling = options.rolling && options.mode === 'apply' ? options.rolling : undefined;
  const { order, outAtStart } = rolling ? await rollingOrder(options.hosts) : { order: options.hosts, outAtStart: new Set<string>() };
  if (rolling) refuseEmptiedPools(order, rolling);
  const started = Date.now();
  options.emit({ type: 'run-start', mode: options.mode, recipes: options.recipes, hosts: order.map((h) => h.name), at: started });
  const limit = pLimit(Math.max(1, options.forks));
  const runHosts = (targets: readonly HostTarget[]): Promise<HostSummary[]> =>
    Promise.all(
      targets.map((target) =>
        limit(async () => {
          const summary = withInterruption(
            options.signal?.aborted ? notStarted(target, options.emit) : await runHost(target, options, outAtStart.has(target.name)),
          );
          options.emit({ type: 'host-end', summary });
          return summary;
        }),
      ),
    );
  const rolled = rolling ? await runRolling(order, rolling, options.emit, () => options.signal?.aborted ?? false, runHosts) : undefined;
  const hosts = rolled?.hosts ?? (await runHosts(order));
  const interrupted = options.signal?.aborted ?? false;
  const summary: RunSummary = {
    mode: options.mode,
    recipes: options.recipes,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    hosts,
    interrupted,
    ...(rolled ? { rollout: rolled.rollout } : {}),
    exitCode: exitCodeOf(hosts, interrupted, rolled?.rollout),
  };
  options.emit({ type: 'run-end', summary });
  return summary;
}
