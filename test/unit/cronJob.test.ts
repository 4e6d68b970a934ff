/** cronJob's file and parser, on its read command's output captured over SSH from a lab host by test/fixtures/cronJob/capture.ts. */
import { describe, expect, it } from 'vitest';
import { diffResource, ResourceParamsError } from '../../src/engine/resource.js';
import { cronFile, cronJob, parseCronJobRead } from '../../src/resources/cronJob.js';
import { fixture } from '../support/fixtures.js';

const backup = { name: 'keel-backup', schedule: '30 2 * * *', command: 'date +%F > /var/tmp/last-backup' };

describe('cronJob', () => {
  it('reads the file with its mode and owner, or its absence', () => {
    expect(parseCronJobRead(fixture('cronJob', 'present'))).toEqual({
      exists: true,
      content: 'MAILTO=ops@example.org\n30 2 * * * root date +\\%F > /var/tmp/last-backup\n',
      mode: '0664',
      owner: 'daemon',
    });
    expect(parseCronJobRead(fixture('cronJob', 'absent'))).toEqual({ exists: false, content: null, mode: null, owner: null });
  });

  it('writes env lines above the schedule line, escaping % so cron passes it on', () => {
    expect(cronFile({ ...backup, user: 'backup', env: { MAILTO: 'ops@example.org', PATH: '/usr/bin:/bin' } })).toBe(
      '# Written by keel (cronJob keel-backup).\nMAILTO=ops@example.org\nPATH=/usr/bin:/bin\n30 2 * * * backup date +\\%F > /var/tmp/last-backup\n',
    );
  });

  it('diffs the content as a unified diff, and a mode or owner cron would refuse', () => {
    const changes = diffResource(
      cronJob({ ...backup, env: { MAILTO: 'ops@example.org' } }),
      parseCronJobRead(fixture('cronJob', 'present')),
    );
    expect(changes.map((change) => [change.field, change.to])).toEqual([
      ['content', cronFile({ ...backup, env: { MAILTO: 'ops@example.org' } })],
      ['mode', '0644'],
      ['owner', 'root'],
    ]);
    expect(changes[0]!.patch).toContain('+# Written by keel (cronJob keel-backup).\n MAILTO=ops@example.org');
  });

  it('takes five fields or an @keyword, and refuses anything else before a host is contacted', () => {
    for (const schedule of ['*/5 * * * *', '0 9-17 * * mon-fri', '0,30 1 1 jan *', '@reboot', '@daily'])
      expect(() => cronJob({ ...backup, schedule })).not.toThrow();
    for (const schedule of ['* * * *', '* * * * * *', '@sometimes', '* * * * * root', '*/5 * * * *\n* * * * *', ''])
      expect(() => cronJob({ ...backup, schedule }), schedule).toThrow(ResourceParamsError);
    expect(() => cronJob({ ...backup, schedule: '* * * *' })).toThrow(
      /cronJob\.test\.ts:\d+: invalid cronJob parameters: schedule must be a cron schedule/,
    );
  });
});
