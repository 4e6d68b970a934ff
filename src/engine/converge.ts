/**
 * apply for one host: read everything once, then walk the resources in recipe order. A resource that
 * differs gets one remote invocation holding its apply steps, its own re-read (verify) and fresh reads of
 * every later resource, so later diffs see the host as it now is.
 */
import type { Section } from './batch.js';
import type { EventSink, HandlerResult, ResourceResult } from './events.js';
import { applyLease, deadLocalHolder } from './hostLock.js';
import { assess, readerFor } from './observe.js';
import { clearOwed, handlerRefs, owedMarker, recordOwed } from './owed.js';
import { interpretRead, readSection, type ReadState } from './reads.js';
import { BatchError, runSections, tail } from './remote.js';
import { desiredOf, diffResource, type HandlerRef, type ResourceInstance } from './resource.js';
import { scrub, type HostTarget, type Timeouts } from './target.js';
import { script } from '../shell/index.js';
import type { Transport } from '../transport/types.js';

function applySections(instance: ResourceInstance, current: unknown, changes: ReturnType<typeof diffResource>): Section[] {
  const steps = instance.definition.apply(instance.params, current, changes);
  const owed = instance.notify.map(recordOwed);
  return [
    ...owed.map((command, index) => ({ name: `record notification ${index}`, command, chained: true })),
    ...steps.map((command, index) => ({ name: `apply ${instance.id} step ${index + 1}`, command, chained: true })),
  ];
}

function handlerSection(ref: HandlerRef): Section {
  const steps = ref.resource.definition.actions![ref.action]!(ref.resource.params);
  return { name: `handler ${ref.resource.id} ${ref.action}`, command: script([...steps, clearOwed(ref)]) };
}

export interface ConvergeOptions {
  timeouts: Timeouts;
  /** Checked before each change starts; once true, nothing new is started. */
  stopRequested(): boolean;
}

export interface ConvergeResult {
  resources: ResourceResult[];
  handlers: HandlerResult[];
  /** Set when the connection dropped part-way; owed notifications stay recorded on the host. */
  connectionError?: string;
}

export async function convergeHost(
  target: HostTarget,
  transport: Transport,
  emit: EventSink,
  options: ConvergeOptions,
): Promise<ConvergeResult> {
  const refs = handlerRefs(target.resources);
  const reading = await readerFor(transport, options.timeouts.readMs).read(target.resources, { owed: refs });
  const states = new Map<string, ReadState>(reading.states);
  const owed = new Map<string, HandlerRef>(reading.owed.map((ref) => [owedMarker(ref), ref]));
  const results: ResourceResult[] = [];
  let halted: string | undefined;
  let connectionError: string | undefined;
  // Taken with the first change, renewed with every later one, dropped at the end: a run that changes
  // nothing never takes it.
  const lease = applyLease(Math.ceil(options.timeouts.applyMs / 1000) + 120);
  let leaseTaken = false;

  const record = (result: ResourceResult): void => {
    const clean = scrub(result, target.secrets);
    results.push(clean);
    emit({ type: 'resource-result', result: clean });
  };

  for (let index = 0; index < target.resources.length; index += 1) {
    const instance = target.resources[index]!;
    const started = Date.now();
    const base = { host: target.name, id: instance.id, type: instance.definition.type, desired: desiredOf(instance) };
    if (halted !== undefined || options.stopRequested()) {
      record({ ...base, outcome: 'skipped', changes: [], actual: null, error: { phase: 'apply', message: halted ?? 'interrupted before this resource started' }, durationMs: 0 });
      continue;
    }
    const assessment = assess(instance, states.get(instance.id)!, []);
    if (assessment.outcome !== 'drifted') {
      record({ ...base, ...assessment, durationMs: Date.now() - started });
      if (assessment.outcome === 'failed') halted = `not attempted: ${instance.id} failed earlier on this host`;
      continue;
    }
    emit({ type: 'resource-start', host: target.name, id: instance.id, phase: 'apply' });
    const steps = applySections(instance, assessment.actual, assessment.changes);
    const later = target.resources.slice(index + 1);
    const sections = [lease.acquire, ...steps, readSection(instance), ...later.map(readSection)];
    leaseTaken = true;
    let outputs;
    try {
      outputs = await runSections(transport, sections, options.timeouts.applyMs).catch((error: unknown) => {
        const dead = error instanceof BatchError && error.section === lease.acquire.name ? deadLocalHolder(error.stderr) : undefined;
        if (dead === undefined) throw error;
        return runSections(transport, [lease.takeOver(dead), ...sections.slice(1)], options.timeouts.applyMs);
      });
    } catch (error) {
      if (error instanceof BatchError) {
        const command = sections.find((section) => section.name === error.section)?.command.display;
        record({ ...base, outcome: 'failed', changes: assessment.changes, actual: assessment.actual, error: { phase: 'apply', message: error.message, command, exitCode: error.exitCode, stderr: error.stderr }, durationMs: Date.now() - started });
        halted = `not attempted: ${instance.id} failed earlier on this host`;
      } else {
        // Which step was running is unknown: the whole invocation went down with the connection.
        connectionError = `the connection dropped during the change, so it may be incomplete: ${(error as Error).message}`;
        const command = steps.find((step) => step.name.startsWith('apply '))?.command.display;
        record({ ...base, outcome: 'failed', changes: assessment.changes, actual: assessment.actual, error: { phase: 'apply', message: connectionError, command }, durationMs: Date.now() - started });
        halted = `not attempted: the connection was lost during ${instance.id}`;
      }
      continue;
    }
    for (const other of later) states.set(other.id, interpretRead(other, outputs.get(readSection(other).name)));
    const failedStep = steps.find((step) => (outputs.get(step.name)?.code ?? 0) !== 0);
    if (failedStep) {
      const output = outputs.get(failedStep.name)!;
      record({
        ...base,
        outcome: 'failed',
        changes: assessment.changes,
        actual: assessment.actual,
        error: { phase: 'apply', message: `command exited ${output.code}`, command: failedStep.command.display, exitCode: output.code, stderr: tail(output.stderr) },
        durationMs: Date.now() - started,
      });
      halted = `not attempted: ${instance.id} failed earlier on this host`;
      continue;
    }
    const verify = interpretRead(instance, outputs.get(readSection(instance).name));
    const after = assess(instance, verify, []);
    if (after.outcome !== 'unchanged') {
      const still = after.changes.map((c) => `${c.field}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join(', ');
      record({
        ...base,
        outcome: 'failed',
        changes: assessment.changes,
        actual: after.actual,
        error: after.error ?? { phase: 'verify', message: `the change ran but the host still differs: ${still}` },
        durationMs: Date.now() - started,
      });
      halted = `not attempted: ${instance.id} failed earlier on this host`;
      continue;
    }
    for (const ref of instance.notify) owed.set(owedMarker(ref), ref);
    record({
      ...base,
      outcome: 'changed',
      changes: assessment.changes,
      actual: after.actual,
      ...(instance.notify.length > 0 ? { notified: instance.notify.map((r) => `${r.resource.id} ${r.action}`) } : {}),
      durationMs: Date.now() - started,
    });
  }

  if (connectionError !== undefined) return { resources: results, handlers: [], connectionError };
  const handlerRefsOwed = [...owed.values()];
  if (handlerRefsOwed.length > 0) leaseTaken = true;
  try {
    const handlers = await runHandlers(target, transport, emit, handlerRefsOwed, options, lease.acquire);
    return { resources: results, handlers };
  } finally {
    if (leaseTaken) await runSections(transport, [lease.release], options.timeouts.readMs).catch(() => undefined);
  }
}

async function runHandlers(
  target: HostTarget,
  transport: Transport,
  emit: EventSink,
  owed: HandlerRef[],
  options: ConvergeOptions,
  leaseSection: Section,
): Promise<HandlerResult[]> {
  if (owed.length === 0) return [];
  const order = new Map(target.resources.map((r, i) => [r.id, i]));
  const pending = [...owed].sort((a, b) => (order.get(a.resource.id) ?? 0) - (order.get(b.resource.id) ?? 0));
  const results: HandlerResult[] = [];
  if (options.stopRequested()) {
    for (const ref of pending) {
      const result: HandlerResult = { host: target.name, id: ref.resource.id, action: ref.action, outcome: 'failed', durationMs: 0, error: { phase: 'handler', message: 'interrupted; the notification stays owed on the host and runs on the next apply' } };
      results.push(result);
      emit({ type: 'handler-result', result });
    }
    return results;
  }
  emit({ type: 'host-phase', host: target.name, phase: 'handlers' });
  const started = Date.now();
  const sections = pending.map(handlerSection);
  let outputs: Map<string, { code: number; stderr: string }>;
  try {
    outputs = await runSections(transport, [leaseSection, ...sections], options.timeouts.applyMs);
  } catch (error) {
    if (!(error instanceof BatchError)) throw error;
    for (const ref of pending) {
      const result: HandlerResult = { host: target.name, id: ref.resource.id, action: ref.action, outcome: 'failed', durationMs: Date.now() - started, error: { phase: 'handler', message: `${error.message}; the notification stays owed`, exitCode: error.exitCode, stderr: error.stderr } };
      results.push(scrub(result, target.secrets));
      emit({ type: 'handler-result', result: results.at(-1)! });
    }
    return results;
  }
  pending.forEach((ref, index) => {
    const output = outputs.get(sections[index]!.name);
    const result: HandlerResult =
      output && output.code === 0
        ? { host: target.name, id: ref.resource.id, action: ref.action, outcome: 'ran', durationMs: Date.now() - started }
        : {
            host: target.name,
            id: ref.resource.id,
            action: ref.action,
            outcome: 'failed',
            durationMs: Date.now() - started,
            error: { phase: 'handler', message: `handler exited ${output?.code ?? 'without output'}; it stays owed`, command: sections[index]!.command.display, exitCode: output?.code, stderr: tail(output?.stderr ?? '') },
          };
    const clean = scrub(result, target.secrets);
    results.push(clean);
    emit({ type: 'handler-result', result: clean });
  });
  return results;
}
