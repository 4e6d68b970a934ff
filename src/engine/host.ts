/** What observing and converging share: the host target, batched reads, and turning outputs into states. */
import { createHash } from 'node:crypto';
import { batchScript, type Section, type SectionResult } from './batch.js';
import type { HandlerResult, ResourceError, ResourceResult } from './events.js';
import { STATE_DIRECTORY } from './hostLock.js';
import { Unknowable, type HandlerRef, type ResourceInstance } from './resource.js';
import { redactDeep, type Secret } from '../shell/index.js';
import { sh } from '../shell/index.js';
import { TIMEOUT_EXIT_CODE, type Transport } from '../transport/types.js';

export interface HostTarget {
  name: string;
  resources: ResourceInstance[];
  connect(): Promise<Transport>;
  /** Values to scrub from every message about this host. */
  secrets?: Secret[];
}

export interface Timeouts {
  readMs: number;
  applyMs: number;
}

export type ReadState =
  | { kind: 'known'; state: unknown }
  | { kind: 'unknowable'; reason: string }
  | { kind: 'error'; error: ResourceError };

const STDERR_TAIL = 600;

export function tail(text: string, length = STDERR_TAIL): string {
  const trimmed = text.trim();
  return trimmed.length <= length ? trimmed : `…${trimmed.slice(-length)}`;
}

/** The command every remote invocation runs: a shell reading the batch script from stdin, in place of the one that started it. */
export const REMOTE_SCRIPT = 'exec sh -s';

/** Runs sections as one remote invocation; a transport failure surfaces as ConnectionError. */
export async function runSections(
  transport: Transport,
  sections: readonly Section[],
  timeoutMs: number,
): Promise<Map<string, SectionResult>> {
  const batch = batchScript(sections);
  const result = await transport.exec(REMOTE_SCRIPT, { stdin: batch.script, sudo: true, timeoutMs });
  const { sections: results, trailingStderr } = batch.parse(result.stdout, result.stderr);
  const fatal = sections.find((section) => section.fatal && (results.get(section.name)?.code ?? 0) !== 0);
  if (fatal) {
    const output = results.get(fatal.name)!;
    throw new BatchError(`${fatal.name} failed (exit ${output.code})`, output.code, tail(output.stderr), fatal.name);
  }
  if (result.code !== 0 && results.size < sections.length) {
    const ran = results.size;
    const timedOut = result.code === TIMEOUT_EXIT_CODE;
    const reason = timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exited ${result.code}`;
    // Nothing ran when the shell never started (sudo refused): then no section is to blame.
    const inFlight = ran > 0 || timedOut ? sections[ran]?.name : undefined;
    // One line: the stderr tail travels in its own field, which reports print after the command.
    throw new BatchError(`remote script ${reason}${inFlight ? ` during ${inFlight}` : ''}`, result.code, tail(trailingStderr), inFlight);
  }
  return results;
}

/** The remote script as a whole failed (timeout, sudo refused, shell killed). */
export class BatchError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly stderr: string,
    readonly section?: string,
  ) {
    super(message);
    this.name = 'BatchError';
  }
}

export function readSection(instance: ResourceInstance): Section {
  return { name: `read ${instance.id}`, command: instance.definition.read(instance.params).command, streamed: true };
}

export function interpretRead(instance: ResourceInstance, output: SectionResult | undefined): ReadState {
  const spec = instance.definition.read(instance.params);
  if (!output) {
    return { kind: 'error', error: { phase: 'read', message: 'the read produced no output', command: spec.command.display } };
  }
  try {
    const parsed = spec.parse(output);
    if (parsed instanceof Unknowable) return { kind: 'unknowable', reason: parsed.reason };
    return { kind: 'known', state: parsed };
  } catch (error) {
    return {
      kind: 'error',
      error: {
        phase: 'read',
        message: `cannot read: ${(error as Error).message}`,
        command: spec.command.display,
        exitCode: output.code,
        stderr: tail(output.stderr),
      },
    };
  }
}

export const OWED_DIRECTORY = `${STATE_DIRECTORY}/owed`;

/** A notification owed to a handler is kept on the host until the handler has run, so no failure loses it. */
export function owedMarker(ref: HandlerRef): string {
  return createHash('sha256').update(`${ref.resource.id}\0${ref.action}`).digest('hex').slice(0, 32);
}

export function owedSection(): Section {
  return { name: 'owed handlers', command: sh`ls -1 ${OWED_DIRECTORY} 2>/dev/null || true`, streamed: true };
}

export function handlerRefs(resources: readonly ResourceInstance[]): HandlerRef[] {
  const seen = new Map<string, HandlerRef>();
  for (const resource of resources) {
    for (const ref of resource.notify) seen.set(owedMarker(ref), ref);
  }
  return [...seen.values()];
}

export function owedFromListing(listing: string | undefined, refs: readonly HandlerRef[]): HandlerRef[] {
  const names = new Set((listing ?? '').split('\n').map((line) => line.trim()));
  return refs.filter((ref) => names.has(owedMarker(ref)));
}

export function desiredOf(instance: ResourceInstance): unknown {
  return instance.definition.desired ? instance.definition.desired(instance.params) : instance.params;
}

/** Every string of a result (error, diff, desired and actual state) with the host's secrets replaced. */
export function scrub<Result extends ResourceResult | HandlerResult>(result: Result, secrets: readonly Secret[] | undefined): Result {
  return secrets?.length ? redactDeep(result, secrets) : result;
}
