/**
 * Ansible inventories read by keel. The typed values below are what ansible-inventory --list (ansible-core 2.14)
 * printed for the same lines; test/integration/ansible-inventory.test.ts compares with the real program.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandHostPattern } from '../../src/inventory/ansible/hostPattern.js';
import { literalEval, shlexSplit } from '../../src/inventory/ansible/python.js';
import { importAnsibleInventory } from '../../src/inventory/import.js';
import { type Inventory, inventoryFromText, loadInventory } from '../../src/inventory/load.js';

const DOCS = new URL('../fixtures/ansible-inventory/docs/', import.meta.url).pathname;

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'keel-ansible-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

const host = (inventory: Inventory, name: string) => inventory.hosts.find((h) => h.name === name)!;
/** What two readings of one inventory must agree on, host by host. */
const shape = (inventory: Inventory) =>
  inventory.hosts.map((h) => ({
    name: h.name,
    address: h.address,
    groups: [...h.groups].sort(),
    connection: h.connection,
    vars: h.vars,
  }));

describe('host patterns', () => {
  it('expands zero-padded numbers, letters, steps and several ranges', () => {
    expect(expandHostPattern('web[01:03].example.com').names).toEqual(['web01.example.com', 'web02.example.com', 'web03.example.com']);
    expect(expandHostPattern('db-[a:c]').names).toEqual(['db-a', 'db-b', 'db-c']);
    expect(expandHostPattern('node[1:9:4]').names).toEqual(['node1', 'node5', 'node9']);
    expect(expandHostPattern('r[1:2]c[a:b]').names).toEqual(['r1ca', 'r1cb', 'r2ca', 'r2cb']);
    expect(expandHostPattern('[:2]x').names).toEqual(['0x', '1x', '2x']);
  });

  it('takes a port', () => {
    expect(expandHostPattern('web[1:2]:2222')).toEqual({ names: ['web1', 'web2'], port: 2222 });
    expect(expandHostPattern('[2001:db8::1]:22')).toEqual({ names: ['2001:db8::1'], port: 22 });
    expect(expandHostPattern('2001:db8::1')).toEqual({ names: ['2001:db8::1'] });
  });

  it('refuses a range it cannot expand', () => {
    expect(() => expandHostPattern('web[01:100]')).toThrow('begin and end of equal length');
    expect(() => expandHostPattern('web[3:]')).toThrow('must specify an end value');
    expect(() => expandHostPattern('web[c:a]')).toThrow('begin <= end');
  });
});

describe("INI values, typed as Ansible's ast.literal_eval types them", () => {
  it.each([
    ['30', 30],
    ['True', true],
    ['FALSE', 'FALSE'],
    ['true', 'true'],
    ['"x y"', 'x y'],
    ["'30'", '30'],
    ['[1, 2]', [1, 2]],
    ['(1, 2)', [1, 2]],
    ["{'a': 1}", { a: 1 }],
    ['0x10', 16],
    ['1e3', 1000],
    ['None', null],
    ['192.168.9.100', '192.168.9.100'],
    ['eth0', 'eth0'],
    ['/usr/bin/python3', '/usr/bin/python3'],
    ["u'x'", 'x'],
    ["'a' 'b'", 'ab'],
    ['-5', -5],
    ['1_000', 1000],
    ['30 # a comment', 30],
    ['a b # not a comment', 'a b # not a comment'],
    [' 30', ' 30'],
    ["'\\n'", '\n'],
  ])('%s', (text, value) => {
    expect(literalEval(text)).toEqual(value);
  });

  it('splits host lines as shlex does', () => {
    expect(shlexSplit(`h1 a=30 c="x y" d='[1,2]' p="say \\"hi\\"" q=a\\ b j=a#b k=1`)).toEqual({
      tokens: ['h1', 'a=30', 'c=x y', 'd=[1,2]', 'p=say "hi"', 'q=a b', 'j=a'],
      comment: 'b k=1',
    });
    expect(() => shlexSplit('h1 a="open')).toThrow('No closing quotation');
  });
});

describe('an Ansible inventory', () => {
  it('is told apart by content, not by its name', () => {
    expect(inventoryFromText('hosts.yaml', '[web]\nw1\n').format).toBe('ansible-ini');
    expect(inventoryFromText('hosts', 'w1\nw2 ansible_host=10.0.0.2\n').format).toBe('ansible-ini');
    expect(inventoryFromText('hosts.ini', 'all:\n  hosts:\n    w1:\n').format).toBe('ansible-yaml');
    expect(inventoryFromText('hosts.yml', 'web:\n  hosts:\n    w1:\n').format).toBe('ansible-yaml');
    expect(inventoryFromText('lab.yaml', 'hosts:\n  w1: {}\n').format).toBe('keel');
  });

  it('reads the docs examples in INI and YAML alike', () => {
    const ini = loadInventory(join(DOCS, 'hosts.ini'));
    const yaml = loadInventory(join(DOCS, 'hosts.yml'));
    expect(shape(yaml)).toEqual(shape(ini));
    expect(host(ini, 'host2').groups).toEqual(['atlanta', 'raleigh', 'southeast', 'usa']);
    // group_vars/raleigh/ is a directory: db_settings (read last) wins over cluster_settings, and over atlanta's
    // inventory vars, since files come after every group's inventory vars.
    expect(host(ini, 'host2').vars).toMatchObject({ ntp_server: 'acme.example.org', cluster: 'raleigh-1', http_port: 303 });
    expect(host(ini, 'host1').vars).toMatchObject({ ntp_server: 'ntp.host1.example.com', maxRequestsPerChild: 1000, escape_pods: 4 });
    expect(host(ini, 'host1').locateVar(['escape_pods'])).toBe(`${join(DOCS, 'group_vars/southeast.json')}:1:18`);
    expect(host(ini, 'testhost').vars.testvar).toBe('a');
    expect(host(ini, 'typed.example.com').vars).toMatchObject({ count: 3, enabled: true, label: 'two words', quoted: '30', word: 'FALSE' });
    expect(host(ini, 'mail.example.com').groups).toEqual(['ungrouped']);
  });

  it('maps the connection variables to keel settings', () => {
    const ini = loadInventory(join(DOCS, 'hosts.ini'));
    expect(host(ini, 'jumper')).toMatchObject({ address: '192.0.2.50', connection: { port: 5555 } });
    expect(host(ini, 'some_host').connection).toEqual({ port: 2222, user: 'manager' });
    expect(host(ini, 'aws_host').connection).toEqual({ identityFile: '/home/example/.ssh/aws.pem' });
    expect(host(ini, 'gated.example.com').connection).toEqual({ proxyCommand: 'ssh -W %h:%p -q user@gateway.example.com' });
    expect(host(ini, 'jumped.example.com').connection).toEqual({ port: 2200, proxyJump: 'user@gateway.example.com', become: true });
    expect(host(ini, 'localhost').connection).toEqual({ connection: 'local' });
    expect(host(ini, 'other1.example.com').connection).toEqual({ user: 'myuser' });
    for (const h of ini.hosts) expect(Object.keys(h.vars).filter((key) => key.startsWith('ansible_'))).toEqual([]);
  });

  it('names every variable keel does not use in one warning', () => {
    const ini = loadInventory(join(DOCS, 'hosts.ini'));
    expect(ini.warnings).toEqual([
      `${join(DOCS, 'hosts.ini')}: keel does not use these Ansible variables, and ignores them: ansible_python_interpreter (freebsd_host); ansible_ruby_interpreter (ruby_module_host)`,
    ]);
    const args = inventoryFromText('h', "h1 ansible_ssh_common_args='-o StrictHostKeyChecking=no -o ProxyJump=bastion'\n");
    expect(args.hosts[0]!.connection).toEqual({ proxyJump: 'bastion' });
    expect(args.warnings[0]).toContain('ansible_ssh_common_args (-o StrictHostKeyChecking=no) (h1)');
  });

  it('reads ssh options from ansible_ssh_common_args', () => {
    const inventory = inventoryFromText(
      'h',
      `[lab]\nrs1 ansible_host=10.0.0.11\n[lab:vars]\nansible_ssh_common_args=-o ProxyCommand="ip netns exec lab nc %h %p" -o UserKnownHostsFile=/tmp/k -oConnectTimeout=60\n`,
    );
    expect(inventory.hosts[0]!.connection).toEqual({
      proxyCommand: 'ip netns exec lab nc %h %p',
      knownHostsFile: '/tmp/k',
      connectTimeout: 60,
    });
  });

  it('refuses what keel cannot do, naming file:line', () => {
    expect(() => inventoryFromText('h', '[web]\nw1 ansible_become_user=postgres\n')).toThrow(
      'h:2: host w1: ansible_become_user: keel becomes root only (with sudo), so it cannot become "postgres"',
    );
    expect(() => inventoryFromText('h', '[web]\nw1\n[web:vars]\nansible_password=hunter2\n')).toThrow(
      'h:4: host w1: ansible_password: keel never reads a password from the inventory',
    );
    expect(() => inventoryFromText('h', 'w1 ansible_connection=winrm\n')).toThrow(
      'h:1: host w1: ansible_connection: keel reaches hosts over SSH or locally',
    );
    expect(() => inventoryFromText('h', 'w1 ansible_port=99999\n')).toThrow('h:1: host w1: ansible_port: port must be');
    expect(inventoryFromText('h', 'w1 ansible_become_user=root\n').hosts[0]!.connection).toEqual({});
  });

  it('names file:line of a mistake in INI', () => {
    expect(() => inventoryFromText('h', '[web]\nw1\n[prod:children]\nweb\ndb\n')).toThrow(
      'h:5: [prod:children] names a group that is declared nowhere: db',
    );
    expect(() => inventoryFromText('h', '[web]\nw1\n[db:vars]\nx=1\n')).toThrow(
      'h:3: [db:vars] is for a group that is declared nowhere: db',
    );
    expect(() => inventoryFromText('h', '[web]\nw1 port\n')).toThrow('h:2: expected key=value after the host name, got: port');
    expect(() => inventoryFromText('h', '[web:hosts2]\n')).toThrow('h:1: section [web:hosts2] has an unknown type');
    expect(() => inventoryFromText('h', '[web]\nw1 a="x\n')).toThrow('h:2: cannot read the host line: No closing quotation');
    expect(() => inventoryFromText('h', '[web]\nw[1:]\n')).toThrow('h:2: host range in "w[1:]" must specify an end value');
    expect(() => inventoryFromText('h', '[a]\nx\n[a:children]\nb\n[b:children]\na\n')).toThrow('h:6: groups form a cycle: a → b → a');
  });

  it('names file:line:col of a mistake in YAML', () => {
    expect(() => inventoryFromText('h.yml', 'all:\n  children:\n    web:\n      hostz:\n        w1:\n')).toThrow(
      'h.yml:4:7: group web: "hostz" is not hosts, children or vars',
    );
    expect(() => inventoryFromText('h.yml', 'all:\n  hosts:\n    w1: just-a-string\n')).toThrow(
      'h.yml:3:5: host w1: must be a mapping of vars',
    );
    expect(() => inventoryFromText('h.yml', 'plugin: aws_ec2\n')).toThrow('h.yml:1:1: is the configuration of an inventory plugin');
  });

  it('refuses vault values where they are written, without decrypting them', () => {
    const vaulted = '$ANSIBLE_VAULT;1.1;AES256\n6162636465\n';
    expect(() =>
      inventoryFromText(
        'h.yml',
        `all:\n  vars:\n    db_password: !vault |\n      ${vaulted.replace('\n', '\n      ')}\n  hosts:\n    w1:\n`,
      ),
    ).toThrow('h.yml:3:25: db_password: is encrypted with Ansible Vault; keel does not decrypt Ansible Vault');
    expect(() => inventoryFromText('h', '[web]\nw1 token=$ANSIBLE_VAULT;1.1;AES256\n')).toThrow(
      'h:2: token: is encrypted with Ansible Vault',
    );
    const root = tree({ hosts: '[web]\nw1\n', 'group_vars/web/vault.yml': vaulted, 'group_vars/web/plain.yml': 'a: 1\n' });
    expect(() => loadInventory(join(root, 'hosts'))).toThrow(
      `${join(root, 'group_vars/web/vault.yml')}:1: the whole file is encrypted with Ansible Vault`,
    );
  });

  it('finds group_vars and host_vars files as Ansible does', () => {
    const root = tree({
      'inventory/hosts': '[web]\nw1\nw2\n',
      // The first of NAME, NAME.yml, NAME.yaml, NAME.json is the only one read.
      'inventory/group_vars/web.yml': 'from: yml\nweb: true\n',
      'inventory/group_vars/web.json': '{"from": "json"}',
      'inventory/group_vars/all/10-base': 'from: all\nlevel: base\n',
      'inventory/group_vars/all/20-more.yaml': 'level: more\n',
      'inventory/group_vars/all/.hidden.yml': 'level: hidden\n',
      'inventory/group_vars/all/notes.txt': 'level: text\n',
      'inventory/host_vars/w2/main.yml': 'from: host\n',
    });
    const inventory = loadInventory(join(root, 'inventory/hosts'));
    expect(host(inventory, 'w1').vars).toEqual({ from: 'yml', level: 'more', web: true });
    expect(host(inventory, 'w2').vars).toEqual({ from: 'host', level: 'more', web: true });
  });
});

describe('keel inventory import', () => {
  it("writes keel's YAML with the schema comment, comments kept, and the same hosts, groups and vars", () => {
    for (const name of ['hosts.ini', 'hosts.yml']) {
      const file = join(DOCS, name);
      const { yaml, warnings } = importAnsibleInventory(file, readFileSync(file, 'utf8'), '/opt/keel/inventory/schema.json');
      expect(yaml.split('\n')[0]).toBe('# yaml-language-server: $schema=/opt/keel/inventory/schema.json');
      expect(yaml).toContain('# The examples of Ansible\'s "How to build your inventory"');
      expect(yaml).toMatch(/# Hosts in multiple groups: by location and by environment.\n {2}east:/);
      expect(warnings).toHaveLength(1);
      const imported = inventoryFromText(join(DOCS, 'imported.yaml'), yaml);
      const original = loadInventory(file);
      expect(imported.format).toBe('keel');
      expect(shape(imported)).toEqual(shape(original));
    }
  });

  it('settles at the host a var that keel would merge in another order', () => {
    // Ansible: every group's inventory vars, then every group's files. b (later name) sets x inline, a in a file.
    const root = tree({ hosts: '[a]\nh\n[b]\nh\n[b:vars]\nx=from-b\n', 'group_vars/a.yml': 'x: from-a-file\n' });
    const file = join(root, 'hosts');
    expect(host(loadInventory(file), 'h').vars.x).toBe('from-a-file');
    const { yaml } = importAnsibleInventory(file, readFileSync(file, 'utf8'), 'schema.json');
    expect(host(inventoryFromText('out.yaml', yaml), 'h').vars.x).toBe('from-a-file');
  });

  it("refuses keel's own inventory", () => {
    expect(() => importAnsibleInventory('lab.yaml', 'hosts:\n  a: {}\n', 'schema.json')).toThrow(
      "lab.yaml: is keel's own inventory already",
    );
  });
});

describe('ansible_connection=local', () => {
  it('runs the host on this machine, whatever --connection says', async () => {
    const { connectHost } = await import('../../src/planner/connect.js');
    const { LocalTransport } = await import('../../src/transport/local.js');
    const inventory = inventoryFromText('h', 'localhost ansible_connection=local\n');
    const transport = await connectHost(inventory.hosts[0]!, { kind: 'ssh' });
    expect(transport).toBeInstanceOf(LocalTransport);
    const result = await transport.exec('echo "$((6 * 7))"');
    await transport.close();
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('42\n');
  });
});
