/** The symlink resource against a real host over SSH: a repointed link is repaired, a file in its place refused unless forced. */
import { describe, expect, it } from 'vitest';
import { symlink } from '../../src/resources/symlink.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

const host = useLabHost('res-symlink');

describe('symlink on a real host', () => {
  it('creates a link and repairs one repointed by hand', async () => {
    const { transport, sh } = host();
    await sh('mkdir -p /srv/app/releases/1 /srv/app/releases/2');
    const current = symlink({ path: '/srv/app/current', target: 'releases/2' });
    const report = await testResource(current, transport, {
      drift: async () => void (await sh('ln -sfn releases/1 /srv/app/current')),
    });
    expect(report.driftPlan[0]!.changes).toEqual([{ field: 'target', from: 'releases/1', to: 'releases/2' }]);
    expect(await sh('readlink /srv/app/current; ls /srv/app/releases')).toBe('releases/2\n1\n2\n');
  });

  it('refuses to replace a directory without force, replaces it with force, and removes the link', async () => {
    const { transport, sh } = host();
    await sh('mkdir -p /srv/app/logs/old && touch /srv/app/logs/old/a');
    const refused = await runOnce('apply', [symlink({ path: '/srv/app/logs', target: '/var/log/app' })], transport);
    expect(refused.resources[0]!.outcome).toBe('failed');
    expect(refused.resources[0]!.error?.message).toContain(
      '/srv/app/logs is a directory; keel will not replace it with a link unless force is set',
    );
    expect(await sh('ls /srv/app/logs/old')).toBe('a\n');
    const forced = await runOnce('apply', [symlink({ path: '/srv/app/logs', target: '/var/log/app', force: true })], transport);
    expect(forced.resources[0]!.outcome).toBe('changed');
    expect(await sh('readlink /srv/app/logs')).toBe('/var/log/app\n');
    const removed = await runOnce('apply', [symlink({ path: '/srv/app/logs', target: '/var/log/app', state: 'absent' })], transport);
    expect(removed.resources[0]!.outcome).toBe('changed');
    expect(await sh('test ! -e /srv/app/logs && test ! -L /srv/app/logs && echo gone')).toBe('gone\n');
  });
});
