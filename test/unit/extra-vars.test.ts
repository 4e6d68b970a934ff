import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import director from '../../recipes/director.js';
import realserver from '../../recipes/realserver.js';
import { recipe, Vars } from '../../src/engine/recipe.js';
import { Type } from '../../src/index.js';
import { loadInventory } from '../../src/inventory/load.js';
import { parseExtraVars } from '../../src/planner/extraVars.js';
import { planHosts } from '../../src/planner/targets.js';
import { sysctl } from '../../src/resources/sysctl.js';
import { Ipv4, SecretString, secretPaths } from '../../src/schema/index.js';

const LAB = 'inventory/lab.yaml';

function varsFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'keel-extra-vars-')), name);
  writeFileSync(path, text);
  return path;
}

describe('-e as Ansible takes it', () => {
  it('key=value gives strings, several to an argument, quotes grouping words', () => {
    const extra = parseExtraVars(['vip=192.168.9.101 port=8080', "page='hello world' empty="]);
    expect(extra.vars).toEqual({ vip: '192.168.9.101', port: '8080', page: 'hello world', empty: '' });
    expect(extra.locate(['vip'])).toBe('extra vars (-e vip=…)');
  });

  it('an inline JSON or YAML object keeps its types; a later -e overrides an earlier one', () => {
    const extra = parseExtraVars(['{"port": 8080, "pool": [{"address": "10.0.0.1"}]}', '{port: 8081}', 'vip=10.0.0.9']);
    expect(extra.vars).toEqual({ port: 8081, pool: [{ address: '10.0.0.1' }], vip: '10.0.0.9' });
    expect(extra.locate(['pool', 0, 'address'])).toBe('extra vars (-e {"pool": …})');
  });

  it('@FILE reads YAML or JSON and locates every value in it', () => {
    const yaml = varsFile('vars.yaml', '# overrides\nvip: 192.168.9.101\npool:\n  - address: 10.0.0.1\n');
    const json = varsFile('vars.json', '{\n  "port": 8080\n}\n');
    const extra = parseExtraVars([`@${yaml}`, `@${json}`]);
    expect(extra.vars).toEqual({ vip: '192.168.9.101', pool: [{ address: '10.0.0.1' }], port: 8080 });
    expect(extra.locate(['vip'])).toBe(`${yaml}:2:6`);
    expect(extra.locate(['pool', 0, 'address'])).toBe(`${yaml}:4:14`);
    expect(extra.locate(['port'])).toBe(`${json}:2:11`);
    expect(extra.locate(['other'])).toBeUndefined();
  });

  it('refuses what it cannot read, saying which -e and why', () => {
    expect(() => parseExtraVars(['vip'])).toThrow(/^extra vars \(-e vip\): expected key=value, @FILE, or a YAML\/JSON object/);
    expect(() => parseExtraVars(['vars.yaml'])).toThrow('extra vars (-e vars.yaml): a file of extra vars is written -e @vars.yaml');
    expect(() => parseExtraVars(['my-var=1'])).toThrow('"my-var" is not a var name');
    expect(() => parseExtraVars(["page='open"])).toThrow("a ' quote is not closed");
    expect(() => parseExtraVars(['[1, 2]'])).toThrow('extra vars (-e [1, 2]): extra vars must be a mapping of var names to values');
    expect(() => parseExtraVars(['@/nonexistent/vars.yaml'])).toThrow('cannot read /nonexistent/vars.yaml: ENOENT');
    const list = varsFile('list.yaml', '- vip\n');
    expect(() => parseExtraVars([`@${list}`])).toThrow(`${list}:1:1: extra vars must be a mapping`);
    const badKey = varsFile('bad-key.yaml', 'vip: 10.0.0.1\nlan-interface: eth1\n');
    expect(() => parseExtraVars([`@${badKey}`])).toThrow(`${badKey}:2:1: "lan-interface" is not a var name`);
  });
});

describe('extra vars in a plan', () => {
  const inventory = loadInventory(LAB);

  it('override the inventory’s vars on every host, above host vars', () => {
    const planned = planHosts(inventory, [director, realserver], { extraVars: parseExtraVars(['vip=192.168.9.101']) });
    expect(planned.map((p) => p.resources.find((r) => r.definition.type === 'ifaceAlias')!.id)).toEqual([
      'ifaceAlias[192.168.9.101@eth0]',
      'ifaceAlias[192.168.9.101@lo]',
      'ifaceAlias[192.168.9.101@lo]',
    ]);
    expect(planned[0]!.resources.at(-1)!.params).toMatchObject({ address: '192.168.9.101' });
  });

  it('are validated by each recipe’s schema, the error naming the -e', () => {
    expect(() => planHosts(inventory, [director], { extraVars: parseExtraVars(['vip=not-an-ip']) })).toThrow(
      'extra vars (-e vip=…): vars.vip: must be an IPv4 address (recipe director, host director)',
    );
    const file = varsFile('vars.yaml', 'vip: 192.168.9.300\n');
    expect(() => planHosts(inventory, [director], { extraVars: parseExtraVars([`@${file}`]) })).toThrow(
      `${file}:1:6: vars.vip: must be an IPv4 address (recipe director, host director)`,
    );
  });

  it('say how to pass a number when key=value gave a string', () => {
    expect(() => planHosts(inventory, [director], { extraVars: parseExtraVars(['port=8080']) })).toThrow(
      `extra vars (-e port=…): vars.port: must be an integer; -e key=value gives a string; -e '{"port":8080}' gives a number (recipe director, host director)`,
    );
    const planned = planHosts(inventory, [director], { extraVars: parseExtraVars(['{"port": 8080}']) });
    expect(planned[0]!.resources.at(-1)!.params).toMatchObject({ port: 8080 });
  });

  it('refuse a value for a secret var, without printing it, and say where it goes instead', () => {
    const withToken = recipe({
      name: 'token',
      vars: Vars({ vip: Ipv4, token: SecretString, nested: Type.Optional(Type.Object({ key: SecretString })) }),
      resources: () => [sysctl({ key: 'net.ipv4.ip_forward', value: 1 })],
    });
    const attempt =
      (argument: string): (() => unknown) =>
      () =>
        planHosts(inventory, [withToken], { extraVars: parseExtraVars([argument]) });
    expect(attempt('token=hunter2')).toThrow(
      'extra vars (-e token=…): vars.token is a secret (recipe token), and a command line shows in the process list; ' +
        'give it in the inventory instead, as {secret: {env: NAME}} or {secret: {file: PATH}}',
    );
    expect(attempt('{"nested": {"key": "hunter2"}}')).toThrow('extra vars (-e {"nested": …}): vars.nested.key is a secret (recipe token)');
    try {
      attempt('token=hunter2')();
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('warn of an extra var no recipe of the run declares', () => {
    const warnings: string[] = [];
    planHosts(inventory, [director, realserver], {
      extraVars: parseExtraVars(['vpi=192.168.9.101 page=hi']),
      warn: (w) => warnings.push(w),
    });
    expect(warnings).toEqual(['extra vars (-e vpi=…): no recipe of this run declares a var vpi (director, realserver)']);
  });
});

describe('secretPaths', () => {
  it('finds a SecretString slot through objects, arrays and unions, only where a value fills it', () => {
    const schema = Type.Object({
      plain: Type.String(),
      token: SecretString,
      list: Type.Array(Type.Object({ password: SecretString })),
      either: Type.Union([Type.String(), SecretString]),
    });
    expect(secretPaths(schema, { plain: 'x', list: [{ password: 'a' }, {}], either: 'y' })).toEqual([['list', 0, 'password'], ['either']]);
    expect(secretPaths(schema, { plain: 'x' })).toEqual([]);
  });
});
