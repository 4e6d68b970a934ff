/** The command resource against a real host over SSH: a `creates` guard makes it run once, and again after drift. */
import { describe, expect, it } from 'vitest';
import { command } from '../../src/resources/command.js';
import { testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-command');

describe('command on a real host', () => {
  it('runs when its creates guard says so, and only then', async () => {
    const { transport, sh } = host();
    const install = command({
      name: 'unpack the app',
      run: 'mkdir -p /opt/app && echo unpacked >> /var/tmp/app-runs && date > /opt/app/.unpacked',
      creates: '/opt/app/.unpacked',
    });
    const report = await testResource(install, transport, { drift: async () => void (await sh('rm -rf /opt/app')) });
    expect(report.firstPlan[0]!.changes).toEqual([{ field: 'run', from: '/opt/app/.unpacked does not exist', to: install.params.run }]);
    expect(report.driftPlan[0]!.changes.map((change) => change.field)).toEqual(['run']);
    expect(await sh('cat /var/tmp/app-runs')).toBe('unpacked\nunpacked\n');
  });
});
