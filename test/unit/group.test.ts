/** group's parser, on its read command's output captured over SSH from a lab host by test/fixtures/group/capture.ts. */
import { describe, expect, it } from 'vitest';
import { diffResource, ResourceParamsError } from '../../src/engine/resource.js';
import { group, parseGroupRead } from '../../src/resources/group.js';
import { fixture } from '../support/fixtures.js';

describe('group', () => {
  it('reads a group with members, and a missing one', () => {
    expect(parseGroupRead(fixture('group', 'present'), 'keelops')).toEqual({ exists: true, gid: 4100 });
    expect(parseGroupRead(fixture('group', 'absent'), 'nosuchgroup')).toEqual({ exists: false, gid: null });
  });

  it('refuses output about another group', () => {
    expect(() => parseGroupRead(fixture('group', 'present'), 'keel')).toThrow(/unexpected output/);
  });

  it('diffs the gid, and builds groupadd with only the options asked for', () => {
    const ops = group({ name: 'keelops', gid: 4200, system: true });
    const current = parseGroupRead(fixture('group', 'present'), 'keelops');
    expect(diffResource(ops, current)).toEqual([{ field: 'gid', from: 4100, to: 4200 }]);
    const absent = parseGroupRead(fixture('group', 'absent'), 'keelops');
    const changes = diffResource(ops, absent);
    expect(ops.definition.apply(ops.params, absent, changes).map(String)).toEqual(['groupadd -g 4200 -r -- keelops']);
    expect(ops.definition.apply(ops.params, current, diffResource(ops, current)).map(String)).toEqual(['groupmod -g 4200 -- keelops']);
  });

  it('refuses a numeric or option-like name before any host is contacted', () => {
    expect(() => group({ name: '1000' })).toThrow(ResourceParamsError);
    expect(() => group({ name: '-r' })).toThrow(/group\.test\.ts:\d+: invalid group parameters: name must be a user or group name/);
  });
});
