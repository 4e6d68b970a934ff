/** user's parser and commands, on its read command's output captured over SSH from a lab host by test/fixtures/user/capture.ts. */
import { describe, expect, it } from 'vitest';
import { diffResource, type ResourceInstance } from '../../src/engine/resource.js';
import { parseUserRead, type UserState, user } from '../../src/resources/user.js';
import { Secret } from '../../src/shell/index.js';
import { fixture } from '../support/fixtures.js';

/** `openssl passwd -6 -salt keelsalt0123 keel` and `… other`: test passwords, not secrets. */
const KEEL_HASH = '$6$keelsalt0123$2RI9G8hHls2k1JOGtsKU1dfirwQPG/QnDkelPpS/2vozUszTcJVea7U.KKTjfdTbeZRyH58aW1ouZBEbXS0Oo1';
const OTHER_HASH = '$6$keelsalt0123$jpR6D2yRCvIqn5wYhKHAuQdawoCObxrg/hgGzSbRRZbpG6hHKCxnRe/9nFPwI9jtF5a0C0vYHMnY/CjklucVy0';

const stateOf = (instance: ResourceInstance, name: string): UserState =>
  instance.definition.read(instance.params).parse({ stdout: fixture('user', name), stderr: '', code: 0 }) as UserState;
const commands = (instance: ResourceInstance, current: UserState): string[] =>
  instance.definition.apply(instance.params, current, diffResource(instance, current)).map((command) => command.display);

describe('user: reading', () => {
  it('reads the account, its primary and supplementary groups, and a checksum of its hash', () => {
    expect(parseUserRead(fixture('user', 'present'), 'deploy')).toEqual({
      exists: true,
      uid: 4200,
      gid: 4200,
      group: 'deploy',
      groups: ['keelops', 'keelweb'],
      home: '/home/deploy',
      shell: '/bin/bash',
      comment: 'Deploy Bot,,,',
      passwordSha256: 'f46934383e1fa134f89a047886baf31587edcd820ea601db36ce1fde50c51e53',
    });
    expect(parseUserRead(fixture('user', 'system-no-name-group'), 'keelsvc')).toMatchObject({ uid: 999, group: '4343', groups: [] });
    expect(parseUserRead(fixture('user', 'absent'), 'nosuchuser')).toMatchObject({ exists: false, groups: [] });
    expect(() => parseUserRead(fixture('user', 'present'), 'deplo')).toThrow(/unexpected output/);
  });

  it('keeps in its state only whether the hash is the wanted one', () => {
    const wanted = stateOf(user({ name: 'deploy', password: new Secret(KEEL_HASH) }), 'present');
    expect(wanted.password).toBe('wanted');
    expect(JSON.stringify(wanted)).not.toContain('f46934383e');
    expect(stateOf(user({ name: 'deploy', password: new Secret(OTHER_HASH) }), 'present').password).toBe('other');
    expect(stateOf(user({ name: 'deploy' }), 'present').password).toBeNull();
  });
});

describe('user: diff and apply', () => {
  it('changes every differing field with one usermod, and the hash through chpasswd on stdin, never shown', () => {
    const deploy = user({
      name: 'deploy',
      uid: 4201,
      groups: ['keelops'],
      shell: '/bin/sh',
      comment: 'Deploy',
      password: new Secret(OTHER_HASH),
    });
    const current = stateOf(deploy, 'present');
    const changes = diffResource(deploy, current);
    expect(changes).toEqual([
      { field: 'uid', from: 4200, to: 4201 },
      { field: 'groups', from: ['keelops', 'keelweb'], to: ['keelops'] },
      { field: 'shell', from: '/bin/bash', to: '/bin/sh' },
      { field: 'comment', from: 'Deploy Bot,,,', to: 'Deploy' },
      { field: 'password', from: '[redacted]', to: 'changed' },
    ]);
    const steps = deploy.definition.apply(deploy.params, current, changes);
    expect(steps.map((step) => step.display)).toEqual([
      'usermod -u 4201 -G keelops -s /bin/sh -c Deploy -- deploy',
      "chpasswd -e <<'__KEEL_SECRET__'\ndeploy:[redacted]\n__KEEL_SECRET__",
    ]);
    expect(steps[1]!.text).toContain(`deploy:${OTHER_HASH}\n`);
    expect(JSON.stringify(changes)).not.toContain(OTHER_HASH);
  });

  it('with append, adds only the missing groups', () => {
    const deploy = user({ name: 'deploy', groups: ['keelops', 'adm'], append: true });
    const current = stateOf(deploy, 'present');
    expect(diffResource(deploy, current)).toEqual([{ field: 'groups', from: ['keelops', 'keelweb'], to: ['adm', 'keelops', 'keelweb'] }]);
    expect(commands(deploy, current)).toEqual(['usermod -a -G adm -- deploy']);
    expect(diffResource(user({ name: 'deploy', groups: ['keelweb'], append: true }), current)).toEqual([]);
  });

  it('takes a primary group given by gid, and creates a system account without a home unless asked', () => {
    expect(diffResource(user({ name: 'keelsvc', group: '4343' }), stateOf(user({ name: 'keelsvc' }), 'system-no-name-group'))).toEqual([]);
    const svc = user({ name: 'keelsvc', system: true, shell: '/usr/sbin/nologin' });
    expect(commands(svc, stateOf(svc, 'absent'))).toEqual(['useradd -s /usr/sbin/nologin -r -M -- keelsvc']);
    const person = user({ name: 'alice', groups: ['adm', 'adm'] });
    expect(commands(person, stateOf(person, 'absent'))).toEqual(['useradd -G adm -m -- alice']);
  });

  it('never deletes a home directory unless asked', () => {
    const gone = user({ name: 'deploy', state: 'absent' });
    expect(commands(gone, stateOf(gone, 'present'))).toEqual(['userdel -- deploy']);
    const purged = user({ name: 'deploy', state: 'absent', removeHome: true });
    expect(commands(purged, stateOf(purged, 'present'))).toEqual(['userdel -r -- deploy']);
  });

  it('refuses a password that is not a Secret holding a hash, without quoting it', () => {
    expect(() => user({ name: 'deploy', password: 'hunter2' as never })).toThrow(/password must be a secret: \{secret: \{env: NAME\}\}/);
    let message = '';
    try {
      user({ name: 'deploy', password: new Secret('hunter2') });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/user\.test\.ts:\d+: invalid user parameters: password must be a crypt\(3\) hash/);
    expect(message).not.toContain('hunter2');
    expect(() => user({ name: 'deploy', password: new Secret(`${KEEL_HASH}\nroot::0:0`) })).toThrow(/password must be a crypt/);
    expect(() => user({ name: 'deploy', removeHome: true })).toThrow(/removeHome is only for state: 'absent'/);
  });
});
