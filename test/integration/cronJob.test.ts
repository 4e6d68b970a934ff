/** The cronJob resource against a real host over SSH: an edited schedule repaired, then the job removed. */
import { describe, expect, it } from 'vitest';
import { cronJob } from '../../src/resources/cronJob.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-cronjob');

describe('cronJob on a real host', () => {
  it('writes /etc/cron.d/NAME and repairs a schedule edited by hand', async () => {
    const { transport, sh } = host();
    const job = cronJob({
      name: 'keel-backup',
      schedule: '30 2 * * *',
      user: 'daemon',
      command: 'date +%F > /tmp/last-backup',
      env: { MAILTO: '' },
    });
    const report = await testResource(job, transport, {
      drift: async () => void (await sh(`sed -i 's/^30 2 /0 3 /' /etc/cron.d/keel-backup`)),
    });
    const drift = report.driftPlan[0]!.changes;
    expect(drift.map((change) => change.field)).toEqual(['content']);
    expect(drift[0]!.patch).toContain('-0 3 * * * daemon date +\\%F > /tmp/last-backup\n+30 2 * * * daemon date +\\%F > /tmp/last-backup');
    expect(await sh('stat -c %a:%U /etc/cron.d/keel-backup; cat /etc/cron.d/keel-backup')).toBe(
      '644:root\n# Written by keel (cronJob keel-backup).\nMAILTO=\n30 2 * * * daemon date +\\%F > /tmp/last-backup\n',
    );
    const removed = await runOnce(
      'apply',
      [cronJob({ name: 'keel-backup', schedule: '@daily', command: 'true', state: 'absent' })],
      transport,
    );
    expect(removed.resources[0]!.outcome).toBe('changed');
    expect(await sh('ls /etc/cron.d')).not.toContain('keel-backup');
  });
});
