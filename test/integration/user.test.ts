/** The user resource against a real host over SSH: created with groups and a password hash, drift in each repaired. */
import { describe, expect, it } from 'vitest';
import { group } from '../../src/resources/group.js';
import { user } from '../../src/resources/user.js';
import { Secret } from '../../src/shell/index.js';
import { runOnce, testResource } from '../../src/testing.js';
import { useLabHost } from '../support/labHost.js';

/** `openssl passwd -6 -salt keelsalt0123 keel` and `… other`: test passwords, not secrets. */
const KEEL_HASH = '$6$keelsalt0123$2RI9G8hHls2k1JOGtsKU1dfirwQPG/QnDkelPpS/2vozUszTcJVea7U.KKTjfdTbeZRyH58aW1ouZBEbXS0Oo1';
const OTHER_HASH = '$6$keelsalt0123$jpR6D2yRCvIqn5wYhKHAuQdawoCObxrg/hgGzSbRRZbpG6hHKCxnRe/9nFPwI9jtF5a0C0vYHMnY/CjklucVy0';

const host = useLabHost('res-user');

describe('user on a real host', () => {
  it('creates an account with its groups and hash, and repairs a hash and a shell changed by hand', async () => {
    const { transport, sh } = host();
    const resources = [
      group({ name: 'keelops', gid: 4100 }),
      group({ name: 'keelweb', gid: 4101 }),
      user({
        name: 'deploy',
        uid: 4200,
        groups: ['keelops', 'keelweb'],
        shell: '/bin/bash',
        comment: 'Deploy Bot',
        password: new Secret(KEEL_HASH),
      }),
    ];
    const report = await testResource(resources, transport, {
      drift: async () =>
        void (await sh(`echo 'deploy:${OTHER_HASH}' | chpasswd -e && usermod -s /bin/sh deploy && gpasswd -d deploy keelweb`)),
    });
    expect(report.driftPlan[2]!.changes).toEqual([
      { field: 'groups', from: ['keelops'], to: ['keelops', 'keelweb'] },
      { field: 'shell', from: '/bin/sh', to: '/bin/bash' },
      { field: 'password', from: '[redacted]', to: 'changed' },
    ]);
    expect(JSON.stringify(report)).not.toContain(KEEL_HASH);
    expect(await sh('getent passwd deploy; id -Gn deploy; getent shadow deploy | cut -d: -f2; test -d /home/deploy && echo home')).toBe(
      `deploy:x:4200:4200:Deploy Bot:/home/deploy:/bin/bash\ndeploy keelops keelweb\n${KEEL_HASH}\nhome\n`,
    );
  });

  it('with append, adds a group and keeps one added by hand; removes the account but keeps its home', async () => {
    const { transport, sh } = host();
    await sh('useradd -m -G adm alice');
    const alice = user({ name: 'alice', groups: ['keelops'], append: true });
    const report = await testResource(alice, transport, { drift: async () => void (await sh('gpasswd -d alice keelops')) });
    expect(report.driftPlan[0]!.changes).toEqual([{ field: 'groups', from: ['adm'], to: ['adm', 'keelops'] }]);
    expect(await sh('id -Gn alice')).toBe('alice adm keelops\n');
    const removed = await runOnce('apply', [user({ name: 'alice', state: 'absent' })], transport);
    expect(removed.resources[0]!.outcome).toBe('changed');
    expect(await sh('getent passwd alice || echo gone; test -d /home/alice && echo home kept')).toBe('gone\nhome kept\n');
  });
});
