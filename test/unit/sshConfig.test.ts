/**
 * ~/.ssh/config as keel reads it, compared with what the installed OpenSSH makes of the same files (`ssh -G`, which
 * prints the configuration it would use and connects nowhere). HOME is a temporary directory, so ~ is the test's own.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandTokens, type SshConfigHost, sshConfigFor } from '../../src/transport/ssh/config.js';

let home: string;
const previousHome = process.env['HOME'];

function write(files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(home, name)), { recursive: true });
    writeFileSync(join(home, name), content);
  }
}

/** What `ssh -G ALIAS -F FILE` says, for the settings keel takes from the config. */
function openssh(alias: string, file: string): Record<string, string[]> {
  const output = execFileSync('ssh', ['-G', alias, '-F', file], { env: { ...process.env, HOME: home }, encoding: 'utf8', stdio: 'pipe' });
  const settings: Record<string, string[]> = {};
  for (const line of output.split('\n')) {
    const [key, ...rest] = line.split(' ');
    if (key) settings[key] = [...(settings[key] ?? []), rest.join(' ')];
  }
  return settings;
}

/** keel's reading in ssh -G's terms: unset settings take ssh's defaults. */
function keelSays(alias: string, config: SshConfigHost, defaults: Record<string, string[]>): Record<string, string[]> {
  return {
    hostname: [config.hostName === undefined ? alias : expandTokens(config.hostName, { h: alias })],
    user: [config.user ?? userInfo().username],
    port: [String(config.port ?? 22)],
    identityfile: config.identityFiles.length > 0 ? config.identityFiles : (defaults['identityfile'] ?? []),
    connecttimeout: [config.connectTimeoutSeconds === undefined ? 'none' : String(config.connectTimeoutSeconds)],
    proxyjump: config.proxyJump === undefined ? [] : [config.proxyJump],
    proxycommand: config.proxyCommand === undefined ? [] : [config.proxyCommand],
  };
}

function expectSameAsOpenssh(aliases: string[], file = join(home, '.ssh/config')): void {
  const defaults = openssh('keel-no-such-host-in-any-config', join(home, 'empty'));
  for (const alias of aliases) {
    const ssh = openssh(alias, file);
    const keys = ['hostname', 'user', 'port', 'identityfile', 'connecttimeout', 'proxyjump', 'proxycommand'];
    const seen = Object.fromEntries(keys.map((key) => [key, ssh[key] ?? []]));
    expect(keelSays(alias, sshConfigFor(alias, [{ path: file, scope: 'user' }]), defaults), alias).toEqual(seen);
  }
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'keel-ssh-config-'));
  process.env['HOME'] = home;
  writeFileSync(join(home, 'empty'), '');
});

afterAll(() => {
  process.env['HOME'] = previousHome;
  rmSync(home, { recursive: true, force: true });
});

describe('~/.ssh/config Include, as OpenSSH reads it', () => {
  it('expands globs relative to ~/.ssh, in sorted order, with ~, several paths, nested and absolute includes', () => {
    write({
      '.ssh/config': [
        'Include conf.d/*.conf ~/elsewhere/extra',
        `Include ${join(home, 'absolute.conf')} conf.d/missing-*.conf`,
        'Host *',
        '  ConnectTimeout 7',
        '',
      ].join('\n'),
      '.ssh/conf.d/20-db.conf': 'Host db\n  User second\n  Port 3333\nHost cache\n  HostName cache.internal\n',
      '.ssh/conf.d/10-db.conf': 'Host db\n  HostName 10.0.0.5\n  Port 2222\n  Include nested/*\n',
      '.ssh/conf.d/.hidden.conf': 'Host db\n  User hidden\n',
      '.ssh/conf.d/ignored.txt': 'Host cache\n  User ignored\n',
      '.ssh/nested/jump': 'ProxyJump bastion.example\nIdentityFile ~/.ssh/id_db\n',
      'elsewhere/extra':
        'Host extra\n  HostName %h.internal\n  IdentityFile ~/.ssh/id_extra\n  ProxyCommand nc -X 5 -x "proxy:1080" %h %p\n',
      'absolute.conf': 'Host abs\n  User absolute\n',
    });
    expectSameAsOpenssh(['db', 'cache', 'extra', 'abs', 'none']);
    expect(sshConfigFor('db', [{ path: join(home, '.ssh/config'), scope: 'user' }])).toMatchObject({
      hostName: '10.0.0.5',
      user: 'second',
      port: 2222,
      proxyJump: 'bastion.example',
    });
  });

  it('an Include inside a Host or Match block applies only where that block does, and the block goes on after it', () => {
    write({
      '.ssh/config': [
        'Host web*',
        '  Include scoped',
        '  Port 2200',
        'Match originalhost db',
        '  Include scoped',
        'Host *',
        '  User everyone',
        '',
      ].join('\n'),
      '.ssh/scoped': 'HostName %h.scoped\nHost db\n  User from-scoped\nHost web1\n  IdentityFile ~/.ssh/id_web1\n',
    });
    expectSameAsOpenssh(['web1', 'web2', 'db', 'other']);
    expect(sshConfigFor('web2', [{ path: join(home, '.ssh/config'), scope: 'user' }])).toMatchObject({ hostName: '%h.scoped', port: 2200 });
  });

  it('matches Host and Match host against the HostName so far, Host against HostName in the final pass, and never runs exec', () => {
    write({
      '.ssh/config': [
        'Include conf.d/*',
        'Match host *.lan user root',
        '  Port 2022',
        'Match !host *.lan',
        '  Port 2023',
        'Host ?b !ab',
        '  User one-letter',
        '  IdentityFile ~/.ssh/id_short',
        'Host box.lan xb',
        '  IdentityFile ~/.ssh/id_box',
        'Match final',
        '  ConnectTimeout 9',
        '',
      ].join('\n'),
      '.ssh/conf.d/hosts': 'Host lan-alias\n  HostName box.lan\n  User root\nHost wan-alias\n  HostName box.example\n',
    });
    expectSameAsOpenssh(['lan-alias', 'wan-alias', 'xb', 'ab', 'xyb']);
    // ssh would run the command on every connection; keel never does, so the block does not apply.
    write({ '.ssh/config': 'Match exec "touch ran" host *\n  User from-exec\nMatch !exec false\n  User from-negated-exec\n' });
    expect(sshConfigFor('any', [{ path: join(home, '.ssh/config'), scope: 'user' }]).user).toBeUndefined();
  });

  it('refuses an include that includes itself, as ssh does, naming the file', () => {
    write({ '.ssh/config': 'Include config\n' });
    expect(() => sshConfigFor('any', [{ path: join(home, '.ssh/config'), scope: 'user' }])).toThrow(
      `${join(home, '.ssh/config')}: too many nested Include levels (more than 16)`,
    );
  });

  it('refuses ~ in a system-wide config, whose relative includes are under /etc/ssh', () => {
    write({ system_config: 'Include ~/.ssh/extra\n', system_relative: 'Include keel-test-no-such-file-*.conf\nHost x\n  User sys\n' });
    expect(() => sshConfigFor('any', [{ path: join(home, 'system_config'), scope: 'system' }])).toThrow(
      `${join(home, 'system_config')}: Include ~/.ssh/extra: a system-wide ssh config may not name a path under ~`,
    );
    expect(sshConfigFor('x', [{ path: join(home, 'system_relative'), scope: 'system' }])).toMatchObject({ user: 'sys' });
  });

  it('reads the user config before the system one: the first value obtained wins', () => {
    write({ user_config: 'Host both\n  Port 1111\n', system_config: 'Host both\n  Port 2222\n  User from-system\n' });
    expect(
      sshConfigFor('both', [
        { path: join(home, 'user_config'), scope: 'user' },
        { path: join(home, 'system_config'), scope: 'system' },
      ]),
    ).toMatchObject({ port: 1111, user: 'from-system' });
  });
});
