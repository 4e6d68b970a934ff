/** The engine's first read of a host: one section for all the instances of a type that reads them together. */
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { SectionResult } from '../../src/engine/batch.js';
import { hostRead } from '../../src/engine/reads.js';
import { defineResource, type ReadOutput } from '../../src/engine/resource.js';
import { sh } from '../../src/shell/index.js';

const Params = Type.Object({ name: Type.String() });

/** A value per name, read by one program per instance or by one for them all. */
const counter = defineResource({
  type: 'counter',
  schema: Params,
  key: (params) => params.name,
  read: (params) => ({ command: sh`cat /counters/${params.name}`, parse: (output: ReadOutput) => ({ value: output.stdout.trim() }) }),
  readTogether: (all) => ({
    command: sh`grep -H '' ${all.map((params) => `/counters/${params.name}`).join(' ')}`,
    split: (output) =>
      all.map((params) => {
        const line = output.stdout.split('\n').find((candidate) => candidate.startsWith(`/counters/${params.name}:`));
        if (line === undefined) throw new Error(`no value for ${params.name}`);
        return { stdout: `${line.slice(line.indexOf(':') + 1)}\n`, stderr: '', code: 0 };
      }),
  }),
  desired: () => ({ value: '1' }),
  apply: () => [],
});

const alone = defineResource({
  type: 'alone',
  schema: Params,
  key: (params) => params.name,
  read: (params) => ({ command: sh`cat /alone/${params.name}`, parse: (output: ReadOutput) => ({ value: output.stdout.trim() }) }),
  desired: () => ({ value: '1' }),
  apply: () => [],
});

const outputs = (entries: Record<string, string>): Map<string, SectionResult> =>
  new Map(Object.entries(entries).map(([name, stdout]) => [name, { stdout, stderr: '', code: 0 }]));

describe('a host’s first read', () => {
  const instances = [counter({ name: 'a' }), alone({ name: 'x' }), counter({ name: 'b' }), alone({ name: 'y' })];

  it('reads the instances of a type that reads them together in one section, the others each in their own', () => {
    const read = hostRead(instances);
    expect(read.sections.map((section) => section.name)).toEqual(['read alone[x]', 'read alone[y]', 'read together counter']);
    expect(read.sections[2]!.command.text).toBe("grep -H '' '/counters/a /counters/b'");
    const states = read.states(
      outputs({ 'read alone[x]': '7\n', 'read alone[y]': '8\n', 'read together counter': '/counters/b:2\n/counters/a:1\n' }),
    );
    expect([...states.keys()]).toEqual(['counter[a]', 'alone[x]', 'counter[b]', 'alone[y]']);
    expect([...states.values()]).toEqual([
      { kind: 'known', state: { value: '1' } },
      { kind: 'known', state: { value: '7' } },
      { kind: 'known', state: { value: '2' } },
      { kind: 'known', state: { value: '8' } },
    ]);
  });

  it('reads a lone instance of such a type with its own read', () => {
    expect(hostRead([counter({ name: 'a' })]).sections.map((section) => section.name)).toEqual(['read counter[a]']);
  });

  it('fails every instance of the group, naming the group’s command, when its output makes no sense', () => {
    const read = hostRead(instances);
    const states = read.states(outputs({ 'read alone[x]': '7\n', 'read alone[y]': '8\n', 'read together counter': '/counters/a:1\n' }));
    for (const id of ['counter[a]', 'counter[b]']) {
      expect(states.get(id)).toEqual({
        kind: 'error',
        error: {
          phase: 'read',
          message: 'cannot read: no value for b',
          command: read.sections[2]!.command.display,
          exitCode: 0,
          stderr: '',
        },
      });
    }
    expect(states.get('alone[x]')).toEqual({ kind: 'known', state: { value: '7' } });
  });

  it('fails the group’s instances as having produced nothing when the section never ran', () => {
    const states = hostRead(instances).states(outputs({ 'read alone[x]': '7\n', 'read alone[y]': '8\n' }));
    expect(states.get('counter[b]')).toMatchObject({ kind: 'error', error: { message: 'the read produced no output' } });
  });
});
