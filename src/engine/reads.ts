/** A resource's read as a batch section, and its output turned into a state. */
import { containsSecret } from '../shell/index.js';
import type { Section, SectionResult } from './batch.js';
import type { ResourceError } from './events.js';
import { tail } from './remote.js';
import { type AnyResourceDefinition, type ReadOutput, type ResourceInstance, Unknowable } from './resource.js';

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

/** Reads of several resources at once: a section per instance, but one for all the instances of a type that reads them together. */
export interface GroupedReads {
  sections: Section[];
  /** Each instance's state, by id in the order given, from the invocation's outputs. */
  states(outputs: ReadonlyMap<string, SectionResult>): Map<string, ReadState>;
}

interface ReadGroup {
  members: ResourceInstance[];
  section: Section;
  split(output: ReadOutput): ReadOutput[];
}

export function groupedReads(instances: readonly ResourceInstance[]): GroupedReads {
  const byType = new Map<AnyResourceDefinition, ResourceInstance[]>();
  for (const instance of instances) {
    if (instance.definition.readTogether) byType.set(instance.definition, [...(byType.get(instance.definition) ?? []), instance]);
  }
  const groups: ReadGroup[] = [...byType]
    .filter(([, members]) => members.length > 1)
    .map(([definition, members]) => {
      const together = definition.readTogether!(members.map((member) => member.params));
      const section: Section = {
        name: `read together ${definition.type}`,
        command: together.command,
        streamed: true,
        holdsSecret: members.some((member) => containsSecret(member.params)),
      };
      return { members, section, split: together.split };
    });
  const grouped = new Set(groups.flatMap((group) => group.members));
  const alone = instances.filter((instance) => !grouped.has(instance));
  return {
    sections: [...alone.map(readSection), ...groups.map((group) => group.section)],
    states(outputs) {
      const states = new Map<string, ReadState>();
      for (const instance of alone) states.set(instance.id, interpretRead(instance, outputs.get(readSection(instance).name)));
      for (const group of groups) {
        const output = outputs.get(group.section.name);
        let split: ReadOutput[] | undefined;
        let failure: ResourceError | undefined;
        try {
          split = output && group.split(output);
        } catch (error) {
          failure = {
            phase: 'read',
            message: `cannot read: ${(error as Error).message}`,
            command: group.section.command.display,
            exitCode: output!.code,
            stderr: tail(output!.stderr),
          };
        }
        group.members.forEach((member, index) =>
          states.set(member.id, failure ? { kind: 'error', error: failure } : interpretRead(member, split?.[index])),
        );
      }
      return new Map(instances.map((instance) => [instance.id, states.get(instance.id)!]));
    },
  };
}
