/**
 * The read-only half of the engine: plan and check. It can only run read commands: `Reader` takes resource
 * instances, not commands, and builds every section from `definition.read`. Nothing here can reach apply.
 */

import type { Transport } from '../transport/types.js';
import type { SectionResult } from './batch.js';
import type { EventSink, HandlerResult, ResourceResult } from './events.js';
import { handlerRefs, owedFromListing, owedSection } from './owed.js';
import { groupedReads, type ReadState } from './reads.js';
import { type InvocationLog, runSections } from './remote.js';
import { desiredOf, diffResource, type FieldChange, type HandlerRef, type ResourceInstance } from './resource.js';
import { type HostTarget, scrub } from './target.js';

export interface HostReading {
  states: Map<string, ReadState>;
  owed: HandlerRef[];
}

export interface Reader {
  read(instances: readonly ResourceInstance[], options?: { owed?: readonly HandlerRef[] }): Promise<HostReading>;
}

/** One remote invocation reads every given resource (and, when handlers exist, the owed notifications). */
export function readerFor(transport: Transport, timeoutMs: number, log?: InvocationLog): Reader {
  return {
    async read(instances, options = {}) {
      const reads = groupedReads(instances);
      const refs = options.owed ?? [];
      const sections = refs.length > 0 ? [...reads.sections, owedSection()] : reads.sections;
      const outputs = await runSections(transport, sections, timeoutMs, log);
      const states = reads.states(outputs);
      const owedOutput: SectionResult | undefined = refs.length > 0 ? outputs.get(owedSection().name) : undefined;
      return { states, owed: owedFromListing(owedOutput?.stdout, refs) };
    },
  };
}

/** A handler whose resource the run leaves out does not run: its notification stays owed on the host. */
export function handlerLeftOut(target: HostTarget, ref: HandlerRef): boolean {
  return target.leftOut?.includes(ref.resource.id) ?? false;
}

export type Assessment = Pick<ResourceResult, 'outcome' | 'changes' | 'actual' | 'pendingOn' | 'error'>;

/** Turns a read state into an outcome. `changingBefore` lists earlier resources on the host that will change. */
export function assess(instance: ResourceInstance, state: ReadState, changingBefore: readonly string[]): Assessment {
  if (state.kind === 'error') return { outcome: 'failed', changes: [], actual: null, error: state.error };
  if (state.kind === 'unknowable') {
    const required = instance.requires.map((r) => r.id);
    const pendingOn = required.length > 0 ? changingBefore.filter((id) => required.includes(id)) : [...changingBefore];
    if (pendingOn.length > 0) return { outcome: 'pending', changes: [], actual: null, pendingOn };
    return {
      outcome: 'failed',
      changes: [],
      actual: null,
      error: { phase: 'read', message: `cannot read: ${state.reason}`, command: instance.definition.read(instance.params).command.display },
    };
  }
  let changes: FieldChange[];
  try {
    changes = diffResource(instance, state.state);
  } catch (error) {
    return {
      outcome: 'failed',
      changes: [],
      actual: state.state,
      error: { phase: 'read', message: `cannot compare: ${(error as Error).message}` },
    };
  }
  return { outcome: changes.length === 0 ? 'unchanged' : 'drifted', changes, actual: state.state };
}

/** plan/check for one host: a single batched read, then diffs. Returns what a converge would do. */
export async function observeHost(
  target: HostTarget,
  reader: Reader,
  emit: EventSink,
): Promise<{ resources: ResourceResult[]; handlers: HandlerResult[] }> {
  const refs = handlerRefs(target.resources);
  const started = Date.now();
  const reading = await reader.read(target.resources, { owed: refs });
  const results: ResourceResult[] = [];
  const changing: string[] = [];
  const notified = new Map<string, HandlerRef>(reading.owed.map((ref) => [`${ref.resource.id} ${ref.action}`, ref]));
  for (const instance of target.resources) {
    const assessment = assess(instance, reading.states.get(instance.id)!, changing);
    const willChange = assessment.outcome === 'drifted' || assessment.outcome === 'pending';
    if (willChange) {
      changing.push(instance.id);
      for (const ref of instance.notify) notified.set(`${ref.resource.id} ${ref.action}`, ref);
    }
    const result = scrub(
      {
        host: target.name,
        id: instance.id,
        type: instance.definition.type,
        desired: desiredOf(instance),
        ...assessment,
        ...(willChange && instance.notify.length > 0 ? { notified: instance.notify.map((r) => `${r.resource.id} ${r.action}`) } : {}),
        durationMs: Date.now() - started,
      },
      target.secrets,
    );
    results.push(result);
    emit({ type: 'resource-result', result });
  }
  const handlers: HandlerResult[] = [...notified.values()].map((ref) => ({
    host: target.name,
    id: ref.resource.id,
    action: ref.action,
    outcome: handlerLeftOut(target, ref) ? 'left-out' : 'would-run',
    durationMs: 0,
  }));
  for (const result of handlers) emit({ type: 'handler-result', result });
  return { resources: results, handlers };
}
