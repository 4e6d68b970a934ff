/**
 * Every parameter that reaches a remote command is held to a strict pattern. A table per resource parameter:
 * values that must pass, and values that must be refused before any command is built.
 */

import type { TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { type ResourceFactory, ResourceParamsError } from '../../src/engine/resource.js';
import { templateFile } from '../../src/index.js';
import { aptRepository } from '../../src/resources/aptRepository.js';
import { command } from '../../src/resources/command.js';
import { cronJob } from '../../src/resources/cronJob.js';
import { directory } from '../../src/resources/directory.js';
import { file } from '../../src/resources/file.js';
import { group } from '../../src/resources/group.js';
import { ifaceAlias } from '../../src/resources/ifaceAlias.js';
import { ipvsRule } from '../../src/resources/ipvsRule.js';
import { kernelModule } from '../../src/resources/kernelModule.js';
import { lineInFile } from '../../src/resources/lineInFile.js';
import { pkg } from '../../src/resources/package.js';
import { service } from '../../src/resources/service.js';
import { symlink } from '../../src/resources/symlink.js';
import { sysctl } from '../../src/resources/sysctl.js';
import { systemdUnit } from '../../src/resources/systemdUnit.js';
import { user } from '../../src/resources/user.js';
import { Secret } from '../../src/shell/index.js';

interface Row {
  factory: ResourceFactory<TSchema, unknown>;
  /** Valid parameters that the value is put into. */
  base: Record<string, unknown>;
  /** Where the value goes. */
  set: (value: unknown) => Record<string, unknown>;
  good: unknown[];
  bad: unknown[];
}

const vip = { device: 'lo', address: '192.168.9.100', prefix: 32 };
const service80 = { name: 'web', address: '192.168.9.100', port: 80, realServers: [{ address: '192.168.9.11' }] };
const HOSTILE = ['; rm -rf /', '$(touch /tmp/x)', '`id`', "a'b", 'a"b', 'a\nb', 'a\0b', '-rf', '--help', ''];

const table: Record<string, Row> = {
  'sysctl.key': {
    factory: sysctl as never,
    base: { value: 1 },
    set: (key) => ({ key }),
    good: ['net.ipv4.ip_forward', 'net.ipv4.conf.eth0.arp_ignore', 'net.ipv4.conf.eth0/100.rp_filter', 'net.ipv4.vs.expire_nodest_conn'],
    bad: [
      ...HOSTILE,
      'ip_forward',
      'net..ipv4',
      'net.ipv4.conf.eth0 .x',
      '/proc/sys/net',
      'net.ipv4.conf.../x',
      'Net.ipv4.x',
      'net.ipv4.conf.$(x).y',
    ],
  },
  'sysctl.value': {
    factory: sysctl as never,
    base: { key: 'net.ipv4.ip_forward' },
    set: (value) => ({ value }),
    good: [0, 1, '4096 87380 6291456', '$(touch /tmp/x)', "a'b"],
    bad: ['a\nb', 'a\0b', 'é', '\x1b[2J', 1.5, 'x'.repeat(4097)],
  },
  'sysctl.file': {
    factory: sysctl as never,
    base: { key: 'net.ipv4.ip_forward', value: 1 },
    set: (path) => ({ file: path }),
    good: ['/etc/sysctl.d/60-dr.conf', '/etc/sysctl.d/a b.conf'],
    bad: [...HOSTILE, '/etc/sysctl.d/60-dr', 'etc/sysctl.d/x.conf', '/etc/../root/x.conf', '/../x.conf', '/etc/sysctl.d/\x1b.conf'],
  },
  'file.path': {
    factory: file as never,
    base: {},
    set: (path) => ({ path }),
    good: ['/etc/motd', '/srv/www/index.html', '/opt/a b/c', '/tmp/$(x)', '/tmp/..x', '/tmp/x..'],
    bad: [
      ...HOSTILE,
      'etc/motd',
      '/etc/../shadow',
      '/..',
      '/../etc/shadow',
      '/a/./../b',
      '/tmp/a\rb',
      '/tmp/\x1b[31m',
      '/tmp/\x7f',
      `/${'a'.repeat(4096)}`,
    ],
  },
  'file.owner': {
    factory: file as never,
    base: { path: '/etc/motd' },
    set: (owner) => ({ owner }),
    good: ['root', 'www-data', '_apt', '1000', 'samba$'],
    bad: [...HOSTILE, 'Root', 'root:root', '-1', 'a'.repeat(33), '1x'],
  },
  'file.mode': {
    factory: file as never,
    base: { path: '/etc/motd' },
    set: (mode) => ({ mode }),
    good: ['0644', '644', '4755', '0600'],
    bad: [...HOSTILE, '0888', '64', 'u+x', 644, '000644'],
  },
  'file.state': {
    factory: file as never,
    base: { path: '/etc/motd' },
    set: (state) => ({ state }),
    good: ['present', 'absent'],
    bad: [...HOSTILE, 'Present', 'deleted'],
  },
  'command.creates': {
    factory: command as never,
    base: { run: 'true' },
    set: (creates) => ({ creates }),
    good: ['/opt/app/.installed', '/tmp/a b'],
    bad: [...HOSTILE, 'relative/path', '/opt/../etc', '/tmp/a\tb'],
  },
  'command.name': {
    factory: command as never,
    base: { run: 'true' },
    set: (name) => ({ name }),
    good: ['initialise the database', "it's $(fine): never sent to a host"],
    bad: ['a\nb', 'a\0b', 'a]b', '', 'a\rb', '\x1b[2J', 'x'.repeat(201)],
  },
  'package.name': {
    factory: pkg as never,
    base: {},
    set: (name) => ({ name }),
    good: ['nginx', 'libc6', 'g++', 'python3.11', ['nginx', 'ipvsadm']],
    bad: [...HOSTILE, 'Nginx', 'a', 'nginx=1.2', 'nginx ipvsadm', ['nginx', '-y'], [], ['nginx', 'nginx']],
  },
  'package.version': {
    factory: pkg as never,
    base: { name: 'nginx' },
    set: (version) => ({ version }),
    good: ['1.22.1-9', '1:2.3~rc1+deb12u1', '1.20.1-14.el9', '1.22.*', '1.*-9+deb12u*'],
    bad: [...HOSTILE.filter((value) => value !== '-rf' && value !== '--help'), '1.2 3', '1.2/3', '*', '*1', '1.2?', '1.[2]', '-*'],
  },
  'service.name': {
    factory: service as never,
    base: {},
    set: (name) => ({ name }),
    good: ['nginx', 'nginx.service', 'getty@tty1.service', 'systemd-fsck@dev-disk-by\\x2duuid.service'],
    bad: [...HOSTILE, '..', '.hidden', '-f', 'a/b', 'a b', 'x'.repeat(257)],
  },
  'kernelModule.name': {
    factory: kernelModule as never,
    base: {},
    set: (name) => ({ name }),
    good: ['ip_vs', 'ip_vs_rr', 'nf-conntrack', 'br_netfilter'],
    bad: [...HOSTILE, '--remove', '-r', 'ip vs', 'ip.vs', '../x', 'x'.repeat(65)],
  },
  'ifaceAlias.device': {
    factory: ifaceAlias as never,
    base: vip,
    set: (device) => ({ device }),
    good: ['lo', 'eth0', 'br-lan', 'eth0.100', 'veth_1'],
    bad: [...HOSTILE, 'eth0:0', 'a'.repeat(16), '.x', '-x', 'eth 0', 'eth/0'],
  },
  'ifaceAlias.address': {
    factory: ifaceAlias as never,
    base: vip,
    set: (address) => ({ address }),
    good: ['192.168.9.100', '10.0.0.1', 'fd00::1', '2001:db8::10'],
    bad: [...HOSTILE, '192.168.9.300', '192.168.9', '192.168.9.100/32', 'fd00::1::2', 'localhost', ' 10.0.0.1'],
  },
  'ifaceAlias.prefix': {
    factory: ifaceAlias as never,
    base: vip,
    set: (prefix) => ({ prefix }),
    good: [32, 24, 0],
    bad: [33, -1, 129, 24.5, '32', '/32'],
  },
  'ifaceAlias.label': {
    factory: ifaceAlias as never,
    base: vip,
    set: (label) => ({ label }),
    good: ['lo:8', 'lo:vip'],
    bad: [...HOSTILE, 'lo', 'eth0:0', 'lo:', 'lo:a b', `lo:${'x'.repeat(13)}`],
  },
  'ipvsRule.name': {
    factory: ipvsRule as never,
    base: service80,
    set: (name) => ({ name }),
    good: ['web', 'web-80', 'dns.udp_53'],
    bad: [...HOSTILE, '../etc/passwd', '..', '.', 'a b', 'a/b', 'x'.repeat(65)],
  },
  'ipvsRule.address': {
    factory: ipvsRule as never,
    base: service80,
    set: (address) => ({ address }),
    good: ['192.168.9.100', '10.1.2.3'],
    bad: [...HOSTILE, '192.168.9.100:80', '192.168.9.256', 'vip'],
  },
  'ipvsRule.scheduler': {
    factory: ipvsRule as never,
    base: service80,
    set: (scheduler) => ({ scheduler }),
    good: ['rr', 'wlc', 'sh', 'mh'],
    bad: [...HOSTILE, 'RR', 'rr -p 60', 'round-robin'],
  },
  'ipvsRule.realServers[].address': {
    factory: ipvsRule as never,
    base: service80,
    set: (address) => ({ realServers: [{ address }] }),
    good: ['192.168.9.11', '10.0.0.2'],
    bad: [...HOSTILE, '192.168.9.11:80', 'fd00::11', 'rs1'],
  },
  'template.path': {
    factory: templateFile as never,
    base: { state: 'absent' },
    set: (path) => ({ path }),
    good: ['/etc/nginx/nginx.conf', '/opt/a b/c', '/tmp/$(x)'],
    bad: [...HOSTILE, 'etc/motd', '/etc/../shadow', '/tmp/a\rb', '/tmp/\x1b[31m'],
  },
  'template.source': {
    factory: templateFile as never,
    base: { path: '/etc/motd', state: 'absent' },
    set: (source) => ({ source }),
    good: ['templates/nginx.conf.j2', '/srv/recipes/motd.j2', 'a b.j2'],
    bad: ['a\nb', 'a\0b', '', 'a\rb', '\x1b[2J', 'x'.repeat(4097)],
  },
  'template.vars (names)': {
    factory: templateFile as never,
    base: { path: '/etc/motd', state: 'absent' },
    set: (name) => ({ vars: { [name as string]: 1 } }),
    good: ['port', 'server_name', '_x', 'N1'],
    bad: [...HOSTILE, '1x', 'a-b', 'a.b', 'x'.repeat(129)],
  },
  'systemdUnit.name': {
    factory: systemdUnit as never,
    base: { state: 'absent' },
    set: (name) => ({ name }),
    good: ['keel-check.service', 'keel-check.timer', 'getty@tty1.service', 'srv-data.mount', 'a\\x2db.service'],
    bad: [
      ...HOSTILE,
      'nginx',
      '.service',
      '-x.service',
      'a/b.service',
      'a b.service',
      '../x.service',
      'x.conf',
      `${'a'.repeat(250)}.service`,
    ],
  },
  'systemdUnit.dropIn': {
    factory: systemdUnit as never,
    base: { name: 'nginx.service', state: 'absent' },
    set: (dropIn) => ({ dropIn }),
    good: ['10-limits', 'override', 'keel_1.x'],
    bad: [...HOSTILE, '.hidden', '..', 'a/b', 'a b', 'x'.repeat(201)],
  },
  'systemdUnit.state': {
    factory: systemdUnit as never,
    base: { name: 'nginx.service' },
    set: (state) => ({ state }),
    good: ['absent'],
    bad: [...HOSTILE, 'masked', 'Absent'],
  },
  'aptRepository.name': {
    factory: aptRepository as never,
    base: { state: 'absent' },
    set: (name) => ({ name }),
    good: ['nginx', 'keel-lab', 'pgdg_16'],
    bad: [...HOSTILE, 'Nginx', '.x', 'a/b', 'a.sources', 'a b', 'x'.repeat(101)],
  },
  'aptRepository.uris': {
    factory: aptRepository as never,
    base: { name: 'lab', state: 'absent' },
    set: (uri) => ({ uris: [uri] }),
    good: ['https://deb.debian.org/debian', 'http://keel-apt:8080', 'file:/srv/repo', 'https://u:p@h/x?y=1'],
    bad: [...HOSTILE, 'ftp://h/x', 'deb.debian.org', 'https://h/a b', 'https://h/\x1b', "https://h/'x"],
  },
  'aptRepository.suites': {
    factory: aptRepository as never,
    base: { name: 'lab', state: 'absent' },
    set: (suite) => ({ suites: [suite] }),
    good: ['bookworm', 'bookworm-security', './', 'stable/updates'],
    bad: [...HOSTILE, '.', '../x', 'a b', '[trusted=yes]', 'x'.repeat(201)],
  },
  'aptRepository.components': {
    factory: aptRepository as never,
    base: { name: 'lab', state: 'absent' },
    set: (component) => ({ components: [component] }),
    good: ['main', 'non-free-firmware'],
    bad: [...HOSTILE, 'a b', '[arch=amd64]'],
  },
  'aptRepository.architectures': {
    factory: aptRepository as never,
    base: { name: 'lab', state: 'absent' },
    set: (arch) => ({ architectures: [arch] }),
    good: ['amd64', 'arm64', 'i386'],
    bad: [...HOSTILE, 'AMD64', 'a,b', 'x'.repeat(33)],
  },
  'aptRepository.key': {
    factory: aptRepository as never,
    base: { name: 'lab', uris: ['file:/srv/repo'], suites: ['./'] },
    set: (key) => ({ key }),
    good: ['-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEaxAc\n-----END PGP PUBLIC KEY BLOCK-----\n'],
    bad: [
      ...HOSTILE,
      'https://example.org/key.asc',
      'mDMEaxAc',
      '-----BEGIN PGP PRIVATE KEY BLOCK-----\nx\n-----END PGP PRIVATE KEY BLOCK-----\n',
    ],
  },
  'ipvsRule.port': {
    factory: ipvsRule as never,
    base: service80,
    set: (port) => ({ port }),
    good: [80, 1, 65535],
    bad: [0, 65536, -80, '80', 8.5],
  },
  'group.name': {
    factory: group as never,
    base: {},
    set: (name) => ({ name }),
    good: ['keelops', '_apt', 'www-data', 'nogroup', 'a'.repeat(32)],
    bad: [...HOSTILE, '1000', 'Ops', 'ops group', 'a'.repeat(33), 'ops:x'],
  },
  'symlink.path': {
    factory: symlink as never,
    base: { target: '/srv/app/releases/2' },
    set: (path) => ({ path }),
    good: ['/srv/app/current', '/etc/nginx/sites-enabled/a b', '/-rf'],
    bad: [...HOSTILE, 'srv/app', '/srv/../etc/shadow', '/srv/a\x1b[2J'],
  },
  'symlink.target': {
    factory: symlink as never,
    base: { path: '/srv/app/current' },
    set: (target) => ({ target }),
    good: ['releases/2', '../shared', '/opt/app', '-rf', '$(touch /tmp/x)', "a'b", 'a b '],
    bad: ['', 'a\nb', 'a\0b', '\x1b[2J', 'x'.repeat(4097)],
  },
  'directory.path': {
    factory: directory as never,
    base: {},
    set: (path) => ({ path }),
    good: ['/srv/www', '/srv/a b', '/-rf'],
    bad: [...HOSTILE, 'srv/www', '/srv/../etc', '/srv/a\x1b[2J'],
  },
  'directory.owner': {
    factory: directory as never,
    base: { path: '/srv/www' },
    set: (owner) => ({ owner, group: owner }),
    good: ['www-data', 'root', '33', 'machine$'],
    bad: [...HOSTILE, 'Root', 'a:b', '-1', 'a'.repeat(33)],
  },
  'directory.mode': {
    factory: directory as never,
    base: { path: '/srv/www' },
    set: (mode) => ({ mode }),
    good: ['755', '0755', '2770', '1777', '00755'],
    bad: [...HOSTILE, '0855', '75', '000755', 'u+rwx', 755],
  },
  'cronJob.name': {
    factory: cronJob as never,
    base: { schedule: '@daily', command: 'true' },
    set: (name) => ({ name }),
    good: ['keel-backup', 'logrotate_extra', 'A1'],
    bad: [...HOSTILE.filter((value) => value !== '-rf' && value !== '--help'), 'a.b', 'a/b', '../x', 'a b', 'x'.repeat(65)],
  },
  'cronJob.schedule': {
    factory: cronJob as never,
    base: { name: 'job', command: 'true' },
    set: (schedule) => ({ schedule }),
    good: ['* * * * *', '*/15 0-6 1,15 jan-mar mon', '@hourly', '@annually'],
    bad: [...HOSTILE, '* * * *', '* * * * * *', '@never', '* * * * * root', '*/5 * * * *\n* * * * *', '* *  * * *'],
  },
  'cronJob.user': {
    factory: cronJob as never,
    base: { name: 'job', schedule: '@daily', command: 'true' },
    set: (user) => ({ user }),
    good: ['root', 'www-data', 'backup'],
    bad: [...HOSTILE, '0', 'Root', 'a b'],
  },
  'cronJob.command': {
    factory: cronJob as never,
    base: { name: 'job', schedule: '@daily' },
    set: (command) => ({ command }),
    good: ['date +%F > /tmp/x', '$(touch /tmp/x)', "a'b", '-rf'],
    bad: ['', 'a\nb', 'a\0b', 'a\rb', '\x1b[2J', 'x'.repeat(4097)],
  },
  'cronJob.env': {
    factory: cronJob as never,
    base: { name: 'job', schedule: '@daily', command: 'true' },
    set: (env) => ({ env }),
    good: [{ MAILTO: 'ops@example.org' }, { PATH: '/usr/bin:/bin', _X1: '' }],
    bad: [{ 'A B': 'x' }, { '1X': 'x' }, { 'X=Y': 'x' }, { X: 'a\nb' }, { X: 'a\0b' }, { '': 'x' }],
  },
  'lineInFile.path': {
    factory: lineInFile as never,
    base: { line: 'x' },
    set: (path) => ({ path }),
    good: ['/etc/ssh/sshd_config', '/etc/a b', '/-rf'],
    bad: [...HOSTILE, 'etc/motd', '/etc/../shadow', '/etc/a\x1b[2J'],
  },
  'lineInFile.line': {
    factory: lineInFile as never,
    base: { path: '/etc/motd' },
    set: (line) => ({ line }),
    good: ['PermitRootLogin no', '', '$(touch /tmp/x)', "a'b", '-rf', 'tab\there'],
    bad: ['a\nb', 'a\rb', 'a\0b', 'x'.repeat(4097), 3],
  },
  'lineInFile.regexp': {
    factory: lineInFile as never,
    base: { path: '/etc/motd', line: 'x' },
    set: (regexp) => ({ regexp, after: regexp }),
    good: ['^#?PermitRootLogin ', '$(touch /tmp/x)', '\\d+'],
    bad: ['', '(', '[a-', '*x', 'x'.repeat(1025)],
  },
  'user.name': {
    factory: user as never,
    base: {},
    set: (name) => ({ name }),
    good: ['deploy', '_apt', 'www-data', 'machine$'],
    bad: [...HOSTILE, '1000', 'Deploy', 'a b', 'a:b', 'a'.repeat(33)],
  },
  'user.group': {
    factory: user as never,
    base: { name: 'deploy' },
    set: (group) => ({ group }),
    good: ['deploy', '4100', 'www-data'],
    bad: [...HOSTILE, 'Ops', 'a,b', 'a:b'],
  },
  'user.groups[]': {
    factory: user as never,
    base: { name: 'deploy' },
    set: (entry) => ({ groups: ['adm', entry] }),
    good: ['keelops', 'www-data'],
    bad: [...HOSTILE, '4100', 'a,b', 'Ops'],
  },
  'user.home': {
    factory: user as never,
    base: { name: 'deploy' },
    set: (home) => ({ home, shell: '/bin/sh' }),
    good: ['/home/deploy', '/srv/a b', '/-rf'],
    bad: [...HOSTILE, 'home/deploy', '/home/../root', '/home/a\x1b[2J'],
  },
  'user.shell': {
    factory: user as never,
    base: { name: 'deploy' },
    set: (shell) => ({ shell }),
    good: ['/bin/bash', '/usr/sbin/nologin'],
    bad: [...HOSTILE, 'bash', '/bin/../bin/sh'],
  },
  'user.comment': {
    factory: user as never,
    base: { name: 'deploy' },
    set: (comment) => ({ comment }),
    good: ['Deploy Bot', 'Ada Lovelace,Room 1,,', '', '$(touch /tmp/x)', "a'b", '-rf'],
    bad: ['a:b', 'a\nb', 'a\0b', '\x1b[2J', 'x'.repeat(257)],
  },
  'user.password': {
    factory: user as never,
    base: { name: 'deploy' },
    set: (hash) => ({ password: typeof hash === 'string' ? new Secret(hash) : hash }),
    good: ['$6$salt$abc./XYZ', '$y$j9T$Hk1rP7M/0abc$Q5o.xyz', '!', '!$6$salt$abc'],
    bad: [...HOSTILE, 'hunter2', '$6$salt$abc\nroot::0:0:::', '$6$salt$a:b', 'x'.repeat(600), 3],
  },
};

function verdict(row: Row, value: unknown): 'accepted' | string {
  try {
    row.factory({ ...row.base, ...row.set(value) } as never);
    return 'accepted';
  } catch (error) {
    if (!(error instanceof ResourceParamsError)) throw error;
    return error.message;
  }
}

describe('strict parameter patterns', () => {
  for (const [parameter, row] of Object.entries(table)) {
    it(`${parameter}: accepts ${row.good.length} good values and refuses ${row.bad.length} bad ones`, () => {
      expect(
        row.good.filter((value) => verdict(row, value) !== 'accepted').map((value) => `${JSON.stringify(value)}: ${verdict(row, value)}`),
      ).toEqual([]);
      expect(row.bad.filter((value) => verdict(row, value) === 'accepted').map((value) => JSON.stringify(value))).toEqual([]);
    });
  }

  it('resource tags (messages and --tags name them): accepted plain, refused hostile', () => {
    const tagged = (tag: unknown): string => {
      try {
        sysctl({ key: 'net.ipv4.ip_forward', value: 1 }, { tags: [tag as string] });
        return 'accepted';
      } catch (error) {
        if (!(error instanceof ResourceParamsError)) throw error;
        return error.message;
      }
    };
    expect(['web', 'lvs', 'ipvs_rules', 'v1.2', 'role:db', 'a-b'].map(tagged)).toEqual(Array(6).fill('accepted'));
    expect([...HOSTILE, 'a b', '\x1b[2J', 'é', 'x'.repeat(65), 3].filter((tag) => tagged(tag) === 'accepted')).toEqual([]);
  });

  it('names the parameter and what it must be', () => {
    expect(verdict(table['service.name']!, '-f')).toMatch(/invalid service parameters: name must be a service name/);
    expect(verdict(table['file.path']!, '/etc/../shadow')).toMatch(/path must be an absolute path without "\.\." or control characters/);
  });
});
