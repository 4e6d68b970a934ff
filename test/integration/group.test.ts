/** The group resource against a real host over SSH: created, a gid changed by hand seen and repaired, then removed. */
import { describe, expect, it } from 'vitest';
import { group } from '../../src/resources/group.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-group');

describe('group on a real host', () => {
  it('creates a group with its gid and repairs a renumbering by hand', async () => {
    const { transport, sh } = host();
    const report = await testResource(group({ name: 'keelops', gid: 4100, system: true }), transport, {
      drift: async () => void (await sh('groupmod -g 4321 keelops')),
    });
    expect(report.firstPlan[0]!.changes.map((change) => change.field)).toEqual(['exists', 'gid']);
    expect(report.driftPlan[0]!.changes).toEqual([{ field: 'gid', from: 4321, to: 4100 }]);
    expect(await sh('getent group keelops')).toBe('keelops:x:4100:\n');
  });

  it('removes a group, and a second run has nothing to do', async () => {
    const { transport, sh } = host();
    await sh('groupadd keelgone');
    const gone = group({ name: 'keelgone', state: 'absent' });
    expect((await runOnce('apply', [gone], transport)).resources[0]!.outcome).toBe('changed');
    expect((await runOnce('plan', [gone], transport)).resources[0]!.outcome).toBe('unchanged');
    expect(await sh('getent group keelgone || echo none')).toBe('none\n');
  });
});
