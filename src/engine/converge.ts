/**
 * apply for one host: read everything once, then walk the resources in recipe order. A resource that
 * differs gets one batch holding its apply steps, its own re-read (verify) and fresh reads of every later
 * resource (together, for a type that reads its instances together), so later diffs see the host as it now is. Every batch goes to the host's one long-lived shell
 * (`Transport.runScript`), so the whole apply takes one exec session.
 */

import { containsSecret, script } from '../shell/index.js';
import type { Transport } from '../transport/types.js';
import type { Section, SectionResult } from './batch.js';
import type { EventSink, HandlerResult, ResourceError, ResourceResult } from './events.js';
import { type ApplyLease, applyLease, deadLocalHolder, LEASE_MARGIN_SECONDS, LEASE_RENEWAL_MS } from './hostLock.js';
import { type Assessment, assess, handlerLeftOut, readerFor } from './observe.js';
import { clearOwed, handlerRefs, owedMarker, recordOwed } from './owed.js';
import { groupedReads, interpretRead, type ReadState, readSection } from './reads.js';
import { BatchError, type InvocationLog, runSections, tail } from './remote.js';
import { desiredOf, type diffResource, type HandlerRef, type ResourceInstance, type Settle } from './resource.js';
import { type HostTarget, type StaleRead, scrub, type Timeouts } from './target.js';

function applySections(instance: ResourceInstance, current: unknown, changes: ReturnType<typeof diffResource>): Section[] {
  const steps = instance.definition.apply(instance.params, current, changes);
  const owed = instance.notify.map(recordOwed);
  const holdsSecret = containsSecret(instance.params);
  return [
    ...owed.map((command, index) => ({ name: `record notification ${index}`, command, chained: true })),
    ...steps.map((command, index) => ({ name: `apply ${instance.id} step ${index + 1}`, command, chained: true, holdsSecret })),
  ];
}

function handlerSection(ref: HandlerRef): Section {
  const steps = ref.resource.definition.actions![ref.action]!(ref.resource.params);
  return {
    name: `handler ${ref.resource.id} ${ref.action}`,
    command: script([...steps, clearOwed(ref)]),
    holdsSecret: containsSecret(ref.resource.params),
  };
}

export interface ConvergeOptions {
  timeouts: Timeouts;
  /** Checked before each change starts; once true, nothing new is started. */
  stopRequested(): boolean;
  /** Told of every invocation (`-v`). */
  log?: InvocationLog;
  /** Awaited once, before the host's first change or handler; a throw fails the host with nothing changed. */
  beforeChange?(): Promise<void>;
}

export interface ConvergeResult {
  resources: ResourceResult[];
  handlers: HandlerResult[];
  /** Set when the connection dropped part-way; owed notifications stay recorded on the host. */
  connectionError?: string;
}

/** One host's apply as it walks the resources. */
interface Converging {
  readonly target: HostTarget;
  readonly transport: Transport;
  readonly emit: EventSink;
  readonly options: ConvergeOptions;
  /**
   * Each resource's latest read. A change re-reads the resources after it only up to the next one out of sync, so a
   * read can predate the host's latest change; such a resource is read again before it is assessed.
   */
  readonly states: Map<string, ReadState>;
  /** How many changes had been sent when each resource's latest read was taken; `changesSent` how many are now. */
  readonly readAfter: Map<string, number>;
  changesSent: number;
  /** Handlers owed, by marker: those the host still owes from earlier runs, and those this run's changes notify. */
  readonly owed: Map<string, HandlerRef>;
  readonly results: ResourceResult[];
  /** Settle steps owed by this run's changes, by resource type, with the last instance that changed. */
  readonly unsettled: Map<string, { instance: ResourceInstance; settle: Settle }>;
  readonly lease: ApplyLease;
  leaseTaken: boolean;
  /** When the last invocation that took or renewed the lease was sent, once one has succeeded. */
  leaseRenewedAt?: number;
  /** Why every later resource is skipped, once one has failed. */
  halted?: string;
  /** `beforeChange` has run, or is running: a second change does not run it again. */
  prepared?: Promise<void>;
  connectionError?: string;
}

/** What one change came to: confirmed by its re-read, or failed, with the reason the resources after it are not attempted. */
type ChangeOutcome = { outcome: 'changed'; actual: unknown } | { outcome: 'failed'; actual: unknown; error: ResourceError; halt: string };

export async function convergeHost(
  target: HostTarget,
  transport: Transport,
  emit: EventSink,
  options: ConvergeOptions,
): Promise<ConvergeResult> {
  const host = await readHost(target, transport, emit, options);
  const stale = target.expectedReads?.(host.states) ?? [];
  if (stale.length > 0) return { resources: refuseStale(host, stale), handlers: [] };
  for (const [index, instance] of target.resources.entries()) await convergeResource(host, instance, target.resources.slice(index + 1));
  if (host.connectionError !== undefined) return { resources: host.results, handlers: [], connectionError: host.connectionError };
  const owed = handlersToRun(host);
  const unprepared = owed.length > 0 && host.halted === undefined ? await prepare(host) : undefined;
  if (owed.length > 0) host.leaseTaken = true;
  try {
    const handlers =
      unprepared === undefined
        ? [...(await runSettles(host)), ...(await runHandlers(host, owed))]
        : reportUnprepared(target, emit, owed, unprepared);
    for (const ref of host.owed.values()) {
      if (!handlerLeftOut(target, ref)) continue;
      const result: HandlerResult = { host: target.name, id: ref.resource.id, action: ref.action, outcome: 'left-out', durationMs: 0 };
      handlers.push(result);
      emit({ type: 'handler-result', result });
    }
    return { resources: host.results, handlers };
  } finally {
    if (host.leaseTaken) await runSections(transport, [host.lease.release], options.timeouts.readMs, options.log).catch(() => undefined);
  }
}

/** One batch reads every resource and the notifications the host still owes. */
async function readHost(target: HostTarget, transport: Transport, emit: EventSink, options: ConvergeOptions): Promise<Converging> {
  const reading = await readerFor(transport, options.timeouts.readMs, options.log).read(target.resources, {
    owed: handlerRefs(target.resources),
  });
  return {
    target,
    transport,
    emit,
    options,
    states: new Map(reading.states),
    readAfter: new Map(target.resources.map((instance) => [instance.id, 0])),
    changesSent: 0,
    owed: new Map(reading.owed.map((ref) => [owedMarker(ref), ref])),
    results: [],
    unsettled: new Map(),
    // Taken with the first change, renewed by a later one once LEASE_RENEWAL_MS has passed, dropped at the end:
    // a run that changes nothing never takes it.
    lease: applyLease(Math.ceil(options.timeouts.applyMs / 1000) + LEASE_MARGIN_SECONDS),
    leaseTaken: false,
  };
}

/** The host changed since what the caller expected was read: nothing is changed, and each stale resource is named. */
function refuseStale(host: Converging, stale: readonly StaleRead[]): ResourceResult[] {
  const reasons = new Map(stale.map((entry) => [entry.id, entry.reason]));
  const summary = `stale: the host changed since the plan (${stale.map((entry) => entry.id).join(', ')}); nothing was changed`;
  for (const instance of host.target.resources) {
    const reason = reasons.get(instance.id);
    const read = host.states.get(instance.id);
    record(host, {
      host: host.target.name,
      id: instance.id,
      type: instance.definition.type,
      outcome: reason === undefined ? 'skipped' : 'failed',
      changes: [],
      desired: desiredOf(instance),
      actual: read?.kind === 'known' ? read.state : null,
      error: { phase: 'read', message: reason === undefined ? `not attempted: ${summary}` : `stale: ${reason}` },
      durationMs: 0,
    });
  }
  return host.results;
}

function record(host: Converging, result: ResourceResult): void {
  const clean = scrub(result, host.target.secrets);
  host.results.push(clean);
  host.emit({ type: 'resource-result', result: clean });
}

/** Records a failed resource and skips every one after it, for `reason`. */
function fail(host: Converging, result: ResourceResult, reason: string): void {
  record(host, result);
  host.halted = reason;
}

/** Runs `beforeChange` once; the error's message when it failed. */
async function prepare(host: Converging): Promise<string | undefined> {
  if (!host.options.beforeChange) return undefined;
  host.prepared ??= host.options.beforeChange();
  try {
    await host.prepared;
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function reportUnprepared(target: HostTarget, emit: EventSink, owed: readonly HandlerRef[], why: string): HandlerResult[] {
  return owed.map((ref) => {
    const result = scrub<HandlerResult>(
      {
        host: target.name,
        id: ref.resource.id,
        action: ref.action,
        outcome: 'failed',
        error: { phase: 'handler', message: `not run: ${why}; it stays owed` },
        durationMs: 0,
      },
      target.secrets,
    );
    emit({ type: 'handler-result', result });
    return result;
  });
}

function failedEarlier(instance: ResourceInstance): string {
  return `not attempted: ${instance.id} failed earlier on this host`;
}

/** Skips, reports in sync, or changes one resource; `later` are the resources after it, re-read with the change. */
async function convergeResource(host: Converging, instance: ResourceInstance, later: readonly ResourceInstance[]): Promise<void> {
  const started = Date.now();
  const base = { host: host.target.name, id: instance.id, type: instance.definition.type, desired: desiredOf(instance) };
  if (host.halted !== undefined || host.options.stopRequested()) {
    const message = host.halted ?? 'interrupted before this resource started';
    return record(host, { ...base, outcome: 'skipped', changes: [], actual: null, error: { phase: 'apply', message }, durationMs: 0 });
  }
  if (host.readAfter.get(instance.id)! < host.changesSent) await reread(host, instance, later);
  const assessment = assess(instance, host.states.get(instance.id)!, []);
  if (assessment.outcome === 'failed')
    return fail(host, { ...base, ...assessment, durationMs: Date.now() - started }, failedEarlier(instance));
  if (assessment.outcome !== 'drifted') return record(host, { ...base, ...assessment, durationMs: Date.now() - started });
  const unprepared = await prepare(host);
  if (unprepared !== undefined) {
    const error = { phase: 'apply' as const, message: `not changed: ${unprepared}` };
    const result = {
      ...base,
      outcome: 'failed' as const,
      changes: assessment.changes,
      actual: assessment.actual,
      error,
      durationMs: Date.now() - started,
    };
    return fail(host, result, `not attempted: ${unprepared}`);
  }
  const change = await applyOne(host, instance, later, assessment);
  if (change.outcome === 'failed') {
    const { actual, error, halt } = change;
    return fail(host, { ...base, outcome: 'failed', changes: assessment.changes, actual, error, durationMs: Date.now() - started }, halt);
  }
  for (const ref of instance.notify) host.owed.set(owedMarker(ref), ref);
  const { settle, type } = instance.definition;
  if (settle) host.unsettled.set(type, { instance, settle });
  record(host, {
    ...base,
    outcome: 'changed',
    changes: assessment.changes,
    actual: change.actual,
    ...(instance.notify.length > 0 ? { notified: instance.notify.map((r) => `${r.resource.id} ${r.action}`) } : {}),
    durationMs: Date.now() - started,
  });
}

/**
 * One batch: take or renew the lease when due, run the apply steps, re-read this resource (verify) and the later ones
 * up to the next out of sync. The last change of a run that owes no settle or handler drops the lease in it too.
 */
async function applyOne(
  host: Converging,
  instance: ResourceInstance,
  later: readonly ResourceInstance[],
  assessment: Assessment,
): Promise<ChangeOutcome> {
  host.emit({ type: 'resource-start', host: host.target.name, id: instance.id, phase: 'apply' });
  const steps = [...takeSettles(host, instance.requires), ...applySections(instance, assessment.actual, assessment.changes)];
  const laterReads = groupedReads(upToNextOutOfSync(host, later));
  const endsTheRun = later.length === 0 && !owesAfterChanging(host, instance);
  const sections = [
    ...leaseDue(host),
    ...steps,
    readSection(instance),
    ...laterReads.sections,
    ...(endsTheRun ? [host.lease.release] : []),
  ];
  host.leaseTaken = true;
  host.changesSent += 1;
  let outputs: Map<string, SectionResult>;
  try {
    outputs = await runUnderLease(host, sections);
  } catch (error) {
    return invocationFailed(host, instance, assessment.actual, sections, steps, error);
  }
  if (endsTheRun && outputs.get(host.lease.release.name)?.code === 0) host.leaseTaken = false;
  for (const [id, state] of laterReads.states(outputs)) noteRead(host, id, state);
  const failedStep = steps.find((step) => (outputs.get(step.name)?.code ?? 0) !== 0);
  if (failedStep) {
    const output = outputs.get(failedStep.name)!;
    return {
      outcome: 'failed',
      actual: assessment.actual,
      error: {
        phase: 'apply',
        message: `command exited ${output.code}`,
        command: failedStep.command.display,
        exitCode: output.code,
        stderr: tail(output.stderr),
      },
      halt: failedEarlier(instance),
    };
  }
  return verify(instance, outputs.get(readSection(instance).name));
}

/** `later` up to the first resource its latest read shows out of sync (or not known), that one included. */
function upToNextOutOfSync(host: Converging, later: readonly ResourceInstance[]): readonly ResourceInstance[] {
  const next = later.findIndex((instance) => assess(instance, host.states.get(instance.id)!, []).outcome !== 'unchanged');
  return next < 0 ? later : later.slice(0, next + 1);
}

function noteRead(host: Converging, id: string, state: ReadState): void {
  host.states.set(id, state);
  host.readAfter.set(id, host.changesSent);
}

/** Reads `instance`, whose latest read came before a change, again, with the resources after it up to the next out of sync. */
async function reread(host: Converging, instance: ResourceInstance, later: readonly ResourceInstance[]): Promise<void> {
  const { transport, options } = host;
  try {
    const reading = await readerFor(transport, options.timeouts.readMs, options.log).read([instance, ...upToNextOutOfSync(host, later)]);
    for (const [id, state] of reading.states) noteRead(host, id, state);
  } catch (error) {
    const message = `cannot read it again after the changes before it: ${(error as Error).message}`;
    if (!(error instanceof BatchError)) host.connectionError = message;
    noteRead(host, instance.id, { kind: 'error', error: { phase: 'read', message } });
  }
}

/** The handlers owed that this run runs at the end: not those of resources it leaves out. */
function handlersToRun(host: Converging): HandlerRef[] {
  return [...host.owed.values()].filter((ref) => !handlerLeftOut(host.target, ref));
}

/** Whether a settle or a handler is owed once `instance` has changed: those run after it, under the lease. */
function owesAfterChanging(host: Converging, instance: ResourceInstance): boolean {
  return (
    instance.definition.settle !== undefined || instance.notify.length > 0 || host.unsettled.size > 0 || handlersToRun(host).length > 0
  );
}

function settleSection({ instance, settle }: { instance: ResourceInstance; settle: Settle }): Section {
  return { name: `settle ${instance.id} ${settle.name}`, command: script(settle.commands), chained: true };
}

/** The settle steps that the given resources' changes owe, taken out so that each runs once. */
function takeSettles(host: Converging, required: readonly ResourceInstance[]): Section[] {
  const types = new Set(required.map((instance) => instance.definition.type));
  const due = [...host.unsettled].filter(([type]) => types.has(type));
  for (const [type] of due) host.unsettled.delete(type);
  return due.map(([, owed]) => settleSection(owed));
}

/** The settle steps no later change took, before the handlers: reported as handlers that ran or failed. */
async function runSettles(host: Converging): Promise<HandlerResult[]> {
  const owed = [...host.unsettled.values()];
  host.unsettled.clear();
  if (owed.length === 0) return [];
  host.leaseTaken = true;
  const sections = owed.map(settleSection);
  const started = Date.now();
  let outputs: Map<string, SectionResult> | undefined;
  let failure: ResourceError | undefined;
  try {
    outputs = await runUnderLease(host, [...leaseDue(host), ...sections]);
  } catch (error) {
    if (!(error instanceof BatchError)) throw error;
    failure = { phase: 'handler', message: error.message, exitCode: error.exitCode, stderr: error.stderr };
  }
  return owed.map(({ instance, settle }, index) => {
    const output = outputs?.get(sections[index]!.name);
    const error: ResourceError | undefined =
      failure ??
      (output?.code === 0
        ? undefined
        : {
            phase: 'handler',
            message: `${settle.name} exited ${output?.code ?? 'without output'}`,
            command: sections[index]!.command.display,
            exitCode: output?.code,
            stderr: tail(output?.stderr ?? ''),
          });
    const result: HandlerResult = {
      host: host.target.name,
      id: instance.id,
      action: settle.name,
      outcome: error ? 'failed' : 'ran',
      durationMs: Date.now() - started,
      ...(error ? { error } : {}),
    };
    host.emit({ type: 'handler-result', result });
    return result;
  });
}

/** The lease's section, when this invocation must take or renew it. */
function leaseDue(host: Converging): Section[] {
  const fresh = host.leaseRenewedAt !== undefined && Date.now() - host.leaseRenewedAt < LEASE_RENEWAL_MS;
  return fresh ? [] : [host.lease.acquire];
}

/**
 * Runs a change's sections, the settles' or the handlers', which start with the lease when it is due; when the lease
 * refuses because an earlier run on this machine died holding it, takes it over.
 */
async function runUnderLease(host: Converging, sections: Section[]): Promise<Map<string, SectionResult>> {
  const { transport, lease, options } = host;
  const sentAt = Date.now();
  const renews = sections[0] === lease.acquire;
  try {
    const outputs = await runSections(transport, sections, options.timeouts.applyMs, options.log);
    if (renews) host.leaseRenewedAt = sentAt;
    return outputs;
  } catch (error) {
    const dead = error instanceof BatchError && error.section === lease.acquire.name ? deadLocalHolder(error.stderr) : undefined;
    if (dead === undefined) throw error;
    const outputs = await runSections(transport, [lease.takeOver(dead), ...sections.slice(1)], options.timeouts.applyMs, options.log);
    host.leaseRenewedAt = sentAt;
    return outputs;
  }
}

/** The invocation itself failed: the remote script (the section it names), or the connection, which ends the host's run. */
function invocationFailed(
  host: Converging,
  instance: ResourceInstance,
  actual: unknown,
  sections: readonly Section[],
  steps: readonly Section[],
  error: unknown,
): ChangeOutcome {
  if (error instanceof BatchError) {
    const command = sections.find((section) => section.name === error.section)?.command.display;
    return {
      outcome: 'failed',
      actual,
      error: { phase: 'apply', message: error.message, command, exitCode: error.exitCode, stderr: error.stderr },
      halt: failedEarlier(instance),
    };
  }
  // Which step was running is unknown: the whole invocation went down with the connection.
  const message = `the connection dropped during the change, so it may be incomplete: ${(error as Error).message}`;
  host.connectionError = message;
  const command = steps.find((step) => step.name.startsWith('apply '))?.command.display;
  return {
    outcome: 'failed',
    actual,
    error: { phase: 'apply', message, command },
    halt: `not attempted: the connection was lost during ${instance.id}`,
  };
}

/** The change counts only when the re-read finds the resource in sync. */
function verify(instance: ResourceInstance, output: SectionResult | undefined): ChangeOutcome {
  const after = assess(instance, interpretRead(instance, output), []);
  if (after.outcome === 'unchanged') return { outcome: 'changed', actual: after.actual };
  const still = after.changes.map((c) => `${c.field}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join(', ');
  return {
    outcome: 'failed',
    actual: after.actual,
    error: after.error ?? { phase: 'verify', message: `the change ran but the host still differs: ${still}` },
    halt: failedEarlier(instance),
  };
}

async function runHandlers(host: Converging, owed: HandlerRef[]): Promise<HandlerResult[]> {
  const { target, emit, options } = host;
  if (owed.length === 0) return [];
  const order = new Map(target.resources.map((r, i) => [r.id, i]));
  const pending = [...owed].sort((a, b) => (order.get(a.resource.id) ?? 0) - (order.get(b.resource.id) ?? 0));
  const results: HandlerResult[] = [];
  const started = Date.now();
  const report = (ref: HandlerRef, error?: ResourceError): void => {
    const outcome = error ? 'failed' : 'ran';
    const durationMs = Date.now() - started;
    const result = scrub<HandlerResult>(
      { host: target.name, id: ref.resource.id, action: ref.action, outcome, durationMs, ...(error ? { error } : {}) },
      target.secrets,
    );
    results.push(result);
    emit({ type: 'handler-result', result });
  };
  if (options.stopRequested()) {
    const message = 'interrupted; the notification stays owed on the host and runs on the next apply';
    for (const ref of pending) report(ref, { phase: 'handler', message });
    return results;
  }
  emit({ type: 'host-phase', host: target.name, phase: 'handlers' });
  const sections = pending.map(handlerSection);
  let outputs: Map<string, { code: number; stderr: string }>;
  try {
    outputs = await runUnderLease(host, [...leaseDue(host), ...sections]);
  } catch (error) {
    if (!(error instanceof BatchError)) throw error;
    const failure = {
      phase: 'handler' as const,
      message: `${error.message}; the notification stays owed`,
      exitCode: error.exitCode,
      stderr: error.stderr,
    };
    for (const ref of pending) report(ref, failure);
    return results;
  }
  pending.forEach((ref, index) => {
    const output = outputs.get(sections[index]!.name);
    const succeeded = output !== undefined && output.code === 0;
    report(
      ref,
      succeeded
        ? undefined
        : {
            phase: 'handler',
            message: `handler exited ${output?.code ?? 'without output'}; it stays owed`,
            command: sections[index]!.command.display,
            exitCode: output?.code,
            stderr: tail(output?.stderr ?? ''),
          },
    );
  });
  return results;
}
