/**
 * The diff → apply link is typed: apply sees the field names its resource's diff can produce, so a misspelt
 * one does not compile. The `@ts-expect-error` lines are the test: `npm run typecheck` fails when one of them
 * stops being an error.
 */
import { describe, expect, it } from 'vitest';
import type { FieldChange as ReportedChange } from '../../src/engine/events.js';
import { diffResource } from '../../src/engine/resource.js';
import {
  type command,
  defineResource,
  fieldChange,
  type file,
  type ifaceAlias,
  type ipvsRule,
  type kernelModule,
  type service,
  sh,
  type sysctl,
  Type,
} from '../../src/index.js';

/** Compared field by field: the fields are the keys of the state that `parse` returns. */
const counter = defineResource({
  type: 'counter',
  schema: Type.Object({ path: Type.String(), value: Type.Integer(), persist: Type.Optional(Type.Boolean()) }),
  key: (params) => params.path,
  read: (params) => ({
    command: sh`cat ${params.path}`,
    parse: ({ stdout }) => ({ value: Number(stdout.split('\n')[0]), persisted: stdout.includes('\npersisted') }),
  }),
  desired: (params) => (params.persist ? { value: params.value, persisted: true } : { value: params.value }),
  apply(params, _current, changes) {
    const changed = new Set(changes.map((change) => change.field));
    // @ts-expect-error: counter's state has no field `valeu`
    if (changed.has('valeu')) return [];
    return [
      ...(changed.has('value') ? [sh`echo ${params.value} > ${params.path}`] : []),
      ...(changes.some((change) => change.field === 'persisted') ? [sh`echo persisted >> ${params.path}`] : []),
    ];
  },
});

/** With a diff of its own: the fields are the names it gives fieldChange, which need not be keys of the state. */
const marker = defineResource({
  type: 'marker',
  schema: Type.Object({ path: Type.String() }),
  key: (params) => params.path,
  read: (params) => ({ command: sh`test -e ${params.path}; echo $?`, parse: ({ stdout }) => ({ exists: stdout.trim() === '0' }) }),
  diff: (_params, current) => (current.exists ? [] : [fieldChange('file', 'absent', 'present')]),
  apply(params, current, changes) {
    // @ts-expect-error: State is inferred from parse, so a field it lacks is an error, not `any`
    if (current.exits) return [];
    // @ts-expect-error: marker's diff names no field `exists`
    if (changes.some((change) => change.field === 'exists')) return [];
    return changes.some((change) => change.field === 'file') ? [sh`touch ${params.path}`] : [];
  },
});

/** The field names a resource's apply receives. */
type FieldOf<Factory extends { definition: { apply(...args: never[]): unknown } }> = Parameters<
  Factory['definition']['apply']
>[2][number]['field'];

describe('typed field changes', () => {
  it('give apply the changes its diff produced, by field name', () => {
    const instance = counter({ path: '/tmp/counter', value: 2, persist: true });
    const changes = diffResource(instance, { value: 1, persisted: false });
    expect(changes).toEqual([
      { field: 'value', from: 1, to: 2 },
      { field: 'persisted', from: false, to: true },
    ]);
    expect(instance.definition.apply(instance.params, { value: 1, persisted: false }, changes).map((step) => step.text)).toEqual([
      'echo 2 > /tmp/counter',
      'echo persisted >> /tmp/counter',
    ]);
    const touch = marker({ path: '/tmp/marker' });
    expect(
      touch.definition.apply(touch.params, { exists: false }, diffResource(touch, { exists: false })).map((step) => step.text),
    ).toEqual(['touch /tmp/marker']);
  });

  it('are field changes as the events carry them', () => {
    const reported: ReportedChange[] = [
      fieldChange('value', 1, 2),
      ...diffResource(counter({ path: '/tmp/c', value: 3 }), { value: 1, persisted: false }),
    ];
    expect(reported.map((change) => change.field)).toEqual(['value', 'value']);
  });

  it('name the fields of every resource keel ships', () => {
    const names: [
      FieldOf<typeof sysctl>,
      FieldOf<typeof kernelModule>,
      FieldOf<typeof service>,
      FieldOf<typeof file>,
      FieldOf<typeof command>,
    ] = ['persisted', 'loaded', 'running', 'mode', 'run'];
    const more: [FieldOf<typeof ifaceAlias>, FieldOf<typeof ipvsRule>, FieldOf<typeof ipvsRule>] = [
      'persisted',
      'boot service',
      'real server 10.0.0.2:80',
    ];
    // @ts-expect-error: sysctl has no field `persistd`
    const sysctlTypo: FieldOf<typeof sysctl> = 'persistd';
    // @ts-expect-error: kernelModule has no field `load`
    const kernelModuleTypo: FieldOf<typeof kernelModule> = 'load';
    // @ts-expect-error: service has no field `enable`
    const serviceTypo: FieldOf<typeof service> = 'enable';
    // @ts-expect-error: file has no field `modes`
    const fileTypo: FieldOf<typeof file> = 'modes';
    // @ts-expect-error: command has no field `runs`
    const commandTypo: FieldOf<typeof command> = 'runs';
    // @ts-expect-error: ifaceAlias has no field `persist`
    const ifaceAliasTypo: FieldOf<typeof ifaceAlias> = 'persist';
    // @ts-expect-error: ipvsRule has no field `boot services`
    const ipvsRuleTypo: FieldOf<typeof ipvsRule> = 'boot services';
    expect([
      ...names,
      ...more,
      sysctlTypo,
      kernelModuleTypo,
      serviceTypo,
      fileTypo,
      commandTypo,
      ifaceAliasTypo,
      ipvsRuleTypo,
    ]).toHaveLength(15);
  });
});
