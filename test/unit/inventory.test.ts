import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inventoryFromText } from '../../src/inventory/load.js';
import { InventorySchema } from '../../src/inventory/schema.js';
import { selectHosts } from '../../src/inventory/select.js';

const text = `
vars:
  vip: 192.168.9.100
  page: global
groups:
  realservers:
    hosts: [rs1, rs2]
    vars:
      page: group
  directors:
    hosts: [director]
hosts:
  director:
    address: 192.168.9.10
  rs1:
    address: 192.168.9.11
    vars:
      page: host
  rs2:
    address: 192.168.9.12
    groups: [canary]
`;

describe('the inventory', () => {
  const inventory = inventoryFromText('lab.yaml', text);

  it('merges vars: host over group over global, and remembers where each came from', () => {
    const [, rs1, rs2] = inventory.hosts;
    expect(rs1!.vars).toEqual({ vip: '192.168.9.100', page: 'host' });
    expect(rs2!.vars).toEqual({ vip: '192.168.9.100', page: 'group' });
    expect(rs1!.locateVar(['page'])).toBe('lab.yaml:18:13');
    expect(rs2!.locateVar(['page'])).toBe('lab.yaml:9:13');
    expect(rs2!.locateVar(['vip'])).toBe('lab.yaml:3:8');
  });

  it('takes group membership from groups and from hosts', () => {
    expect(inventory.hosts.find((h) => h.name === 'rs2')!.groups).toEqual(['realservers', 'canary']);
  });

  it('selects by name, group, glob and exclusion', () => {
    const names = (selector: string) => selectHosts(inventory, selector).map((h) => h.name);
    expect(names('realservers')).toEqual(['rs1', 'rs2']);
    expect(names('rs*,director')).toEqual(['director', 'rs1', 'rs2']);
    expect(names('all,!canary')).toEqual(['director', 'rs1']);
    expect(names('direct?r')).toEqual(['director']);
  });

  it('locates the hosts and members of a large inventory, each at its own line', () => {
    const names = Array.from({ length: 2000 }, (_, index) => `h${index + 1}`);
    const big = [
      'groups:',
      '  web:',
      '    hosts:',
      ...names.map((name) => `      - ${name}`),
      '      - h9999',
      'hosts:',
      ...names.flatMap((name) => [`  ${name}:`, `    groups: [fleet]`, '    vars:', `      port: ${name.length}`]),
    ].join('\n');
    expect(() => inventoryFromText('big.yaml', big)).toThrow(
      `big.yaml:${names.length + 4}:9: groups.web.hosts[2000]: "h9999" is not a host`,
    );
    const loaded = inventoryFromText('big.yaml', big.replace('      - h9999\n', ''));
    const last = loaded.hosts.at(-1)!;
    expect(last.groups).toEqual(['web', 'fleet']);
    expect(last.locateVar(['port'])).toBe(`big.yaml:${names.length * 5 + 4}:13`);
  });

  it('names a group member that is not a host', () => {
    expect(() => inventoryFromText('x.yaml', 'groups:\n  web:\n    hosts: [rs1, rs9]\nhosts:\n  rs1: {}\n')).toThrow(
      'x.yaml:3:18: groups.web.hosts[1]: "rs9" is not a host of this inventory',
    );
  });

  it('is published as inventory/schema.json, identical to the schema the loader uses', () => {
    const published = JSON.parse(readFileSync(new URL('../../inventory/schema.json', import.meta.url), 'utf8'));
    expect(published).toEqual(JSON.parse(JSON.stringify(InventorySchema)));
  });
});

describe('nested groups in keel inventory', () => {
  const nested = `
vars:
  tier: all
groups:
  prod:
    children: [web, db]
    vars: { tier: prod, zone: a }
  web:
    hosts: [w1]
    vars: { tier: web }
  db:
    hosts: [d1, w1]
    vars: { tier: db, zone: db }
  canary:
    hosts: [w1]
    priority: 0
    vars: { zone: canary }
hosts:
  w1: {}
  d1: {}
`;
  const inventory = inventoryFromText('nested.yaml', nested);
  const host = (name: string) => inventory.hosts.find((h) => h.name === name)!;

  it('puts the hosts of child groups in the parent, ancestors included in each host', () => {
    expect(inventory.groups.get('prod')).toEqual(['w1', 'd1']);
    expect(host('w1').groups).toEqual(['prod', 'web', 'db', 'canary']);
    expect(host('d1').groups).toEqual(['prod', 'db']);
    expect(selectHosts(inventory, 'prod').map((h) => h.name)).toEqual(['w1', 'd1']);
  });

  it('merges child over parent, same depth by priority then name', () => {
    // w1: prod (depth 1, priority 1) and canary (depth 1, priority 0) under db and web (depth 2, by name: web wins).
    expect(host('w1').vars).toEqual({ tier: 'web', zone: 'db' });
    expect(host('w1').locateVar(['tier'])).toBe('nested.yaml:10:19');
    expect(host('d1').vars).toEqual({ tier: 'db', zone: 'db' });
  });

  it('names a cycle', () => {
    expect(() =>
      inventoryFromText('c.yaml', 'groups:\n  a:\n    children: [b]\n  b:\n    children: [c]\n  c:\n    children: [a]\nhosts: {}\n'),
    ).toThrow('c.yaml:7:16: groups.c.children[0]: groups form a cycle: a → b → c → a');
    expect(() => inventoryFromText('s.yaml', 'groups:\n  a:\n    children: [a]\nhosts: {}\n')).toThrow('groups form a cycle: a → a');
  });

  it('names a child that is not a group', () => {
    expect(() => inventoryFromText('x.yaml', 'groups:\n  a:\n    children: [web]\nhosts: {}\n')).toThrow(
      'x.yaml:3:16: groups.a.children[0]: "web" is not a group of this inventory',
    );
  });
});

describe('mistakes in the inventory file', () => {
  it('refuses defaults.address, which would be the same address for every host', () => {
    expect(() => inventoryFromText('d.yaml', 'defaults:\n  user: root\n  address: 10.0.0.1\nhosts:\n  a: {}\n')).toThrow(
      'd.yaml:3:3: defaults.address: an address belongs to one host',
    );
  });

  it('names the line of a token indented deeper than the key above (captured case)', () => {
    const file = 'test/fixtures/inventory/bad-indent.yaml';
    expect(() => inventoryFromText(file, readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'))).toThrow(
      `${file}:4:5: "lanInterface" is indented deeper than the key on the line above`,
    );
  });

  it('points at the token, not the indentation before it', () => {
    expect(() => inventoryFromText('i.yaml', 'vars:\n  a: 1\n b: 2\nhosts: {}\n')).toThrow(
      'i.yaml:3:2: All mapping items must start at the same column',
    );
  });
});
