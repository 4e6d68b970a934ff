/** Reads of several resources at once: one section for all the instances of a type that reads them together. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { SectionResult } from '../../src/engine/batch.js';
import { groupedReads } from '../../src/engine/reads.js';
import { defineResource, type ReadOutput } from '../../src/engine/resource.js';
import { sh } from '../../src/shell/index.js';
import { runOnce } from '../../src/testing.js';
import { LocalTransport } from '../../src/transport/local.js';
import { recording } from '../support/recordingTransport.js';
import { valueFile } from '../support/valueFile.js';

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

describe('reads of several resources at once', () => {
  const instances = [counter({ name: 'a' }), alone({ name: 'x' }), counter({ name: 'b' }), alone({ name: 'y' })];

  it('reads the instances of a type that reads them together in one section, the others each in their own', () => {
    const read = groupedReads(instances);
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
    expect(groupedReads([counter({ name: 'a' })]).sections.map((section) => section.name)).toEqual(['read counter[a]']);
  });

  it('fails every instance of the group, naming the group’s command, when its output makes no sense', () => {
    const read = groupedReads(instances);
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
    const states = groupedReads(instances).states(outputs({ 'read alone[x]': '7\n', 'read alone[y]': '8\n' }));
    expect(states.get('counter[b]')).toMatchObject({ kind: 'error', error: { message: 'the read produced no output' } });
  });
});

/** Lines in files, each read by `cat`, or all of them by one `grep -H`. */
const line = defineResource({
  type: 'line',
  schema: Type.Object({ path: Type.String(), value: Type.String() }),
  key: (params) => params.path,
  read: (params) => ({ command: sh`cat ${params.path}`, parse: (output: ReadOutput) => ({ value: output.stdout }) }),
  readTogether: (all) => ({
    command: sh`grep -H '' ${all.map((params) => params.path)}`,
    split: (output) =>
      all.map((params) => {
        const found = output.stdout.split('\n').find((candidate) => candidate.startsWith(`${params.path}:`));
        return { stdout: found === undefined ? '' : found.slice(params.path.length + 1), stderr: '', code: 0 };
      }),
  }),
  desired: (params) => ({ value: params.value }),
  apply: (params) => [sh`printf '%s' ${params.value} > ${params.path}`],
});

describe('an apply on a real shell', () => {
  it('re-reads the later instances of such a type together after a change, and sees what the change did', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-together-'));
    const [x, y] = [join(directory, 'x'), join(directory, 'y')];
    writeFileSync(x, 'old');
    writeFileSync(y, 'kept');
    const transport = recording(new LocalTransport('box'));
    const { scripts } = transport;
    // The first resource writes the file the last reads: only a re-read after the change finds it in sync.
    const resources = [valueFile({ path: x, value: 'new' }), line({ path: y, value: 'kept' }), line({ path: x, value: 'new' })];
    const host = await runOnce('apply', resources, transport);
    expect(host.resources.map((result) => result.outcome)).toEqual(['changed', 'unchanged', 'unchanged']);
    expect(readFileSync(x, 'utf8')).toBe('new');
    // The read, the change with its re-reads, and the release of the apply lease.
    expect(scripts).toHaveLength(3);
    for (const script of scripts.slice(0, 2)) {
      expect(script.match(/grep -H ''/g)).toHaveLength(1);
      expect(script).not.toContain(`cat '${x}'`);
    }
  });

  it('re-reads after a change only up to the next resource out of sync, and reads the rest before it assesses them', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-together-'));
    const [x, y, z] = [join(directory, 'x'), join(directory, 'y'), join(directory, 'z')];
    writeFileSync(x, 'old');
    writeFileSync(y, 'kept');
    writeFileSync(z, 'old');
    const transport = recording(new LocalTransport('box'));
    const { scripts } = transport;
    // The change to x puts the next resource in sync, so the two after it were read before that change: read again.
    const resources = [
      valueFile({ path: x, value: 'new' }),
      line({ path: x, value: 'new' }),
      line({ path: y, value: 'kept' }),
      valueFile({ path: z, value: 'new' }),
    ];
    const host = await runOnce('apply', resources, transport);
    expect(host.resources.map((result) => result.outcome)).toEqual(['changed', 'unchanged', 'unchanged', 'changed']);
    expect([readFileSync(x, 'utf8'), readFileSync(z, 'utf8')]).toEqual(['new', 'new']);
    expect(scripts).toHaveLength(4);
    const [, change, reread, last] = scripts;
    expect([change, reread, last].map((script) => script!.includes(`cat '${y}'`) || script!.includes(`cat ${y}`))).toEqual([
      false,
      true,
      false,
    ]);
    expect(reread).not.toContain(`new > ${z}`);
    expect(last).toContain(`printf '%s' new > ${z}`);
    expect(last).toContain('apply.lease');
  });
});
