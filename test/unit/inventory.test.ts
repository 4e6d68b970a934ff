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
