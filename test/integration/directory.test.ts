/** The directory resource against a real host over SSH: mode drift on top, and owner drift beneath when recursive. */
import { describe, expect, it } from 'vitest';
import { directory } from '../../src/resources/directory.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-directory');

describe('directory on a real host', () => {
  it('creates a directory with its parents and repairs a mode changed by hand, clearing a setgid bit', async () => {
    const { transport, sh } = host();
    const report = await testResource(directory({ path: '/srv/keel/drop', owner: 'daemon', group: 'daemon', mode: '0770' }), transport, {
      drift: async () => void (await sh('chmod 2777 /srv/keel/drop')),
    });
    expect(report.driftPlan[0]!.changes).toEqual([{ field: 'mode', from: '2777', to: '0770' }]);
    expect(await sh('stat -c %U:%G:%a /srv/keel/drop')).toBe('daemon:daemon:770\n');
  });

  it('with recursive, repairs an owner changed deep inside, and leaves what is beneath alone without it', async () => {
    const { transport, sh } = host();
    await sh('mkdir -p /srv/www/a/b && touch /srv/www/a/b/index.html');
    const www = directory({ path: '/srv/www', owner: 'www-data', group: 'www-data', recursive: true });
    const report = await testResource(www, transport, {
      drift: async () => void (await sh('chown root:root /srv/www/a/b/index.html')),
    });
    expect(report.driftPlan[0]!.changes).toEqual([{ field: 'differingBeneath', from: 1, to: 0 }]);
    expect(await sh('find /srv/www ! -user www-data | wc -l')).toBe('0\n');

    await sh('chown root /srv/www/a');
    const topOnly = directory({ path: '/srv/www', owner: 'www-data', mode: '0750' });
    expect((await runOnce('apply', [topOnly], transport)).resources[0]!.outcome).toBe('changed');
    expect(await sh('stat -c %U:%a /srv/www /srv/www/a')).toBe('www-data:750\nroot:755\n');
  });

  it('removes an empty directory and refuses a full one', async () => {
    const { transport, sh } = host();
    await sh('mkdir -p /srv/empty /srv/full && touch /srv/full/data');
    const removed = await runOnce(
      'apply',
      [directory({ path: '/srv/empty', state: 'absent' }), directory({ path: '/srv/full', state: 'absent' })],
      transport,
    );
    expect(removed.resources.map((result) => result.outcome)).toEqual(['changed', 'failed']);
    expect(removed.resources[1]!.error?.message).toContain('/srv/full is not empty; keel removes only empty directories');
    expect(await sh('ls /srv')).not.toContain('empty');
    expect(await sh('ls /srv/full')).toBe('data\n');
  });
});
