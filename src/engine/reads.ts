/** A resource's read as a batch section, and its output turned into a state. */
import { containsSecret } from '../shell/index.js';
import type { Section, SectionResult } from './batch.js';
import type { ResourceError } from './events.js';
import { tail } from './remote.js';
import { type ResourceInstance, Unknowable } from './resource.js';

export type ReadState =
  | { kind: 'known'; state: unknown }
  | { kind: 'unknowable'; reason: string }
  | { kind: 'error'; error: ResourceError };

export function readSection(instance: ResourceInstance): Section {
  return {
    name: `read ${instance.id}`,
    command: instance.definition.read(instance.params).command,
    streamed: true,
    holdsSecret: containsSecret(instance.params),
  };
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
