/** Configuration errors stop the run before any host is contacted, and say exactly where they are. */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keel, recipeProject } from '../support/cli.js';
import { type WatchedPort, watchPort } from '../support/watchedPort.js';

let watched: WatchedPort;
let port: number;
let project: string;

beforeAll(async () => {
  watched = await watchPort();
  port = watched.port;
  project = recipeProject({
    'pool.ts': `
import { recipe, sysctl, Type, Vars, Ipv4, SecretString } from 'keel';
export default recipe({
  name: 'pool',
  vars: Vars({ pool: Type.Array(Type.Object({ address: Ipv4, weight: Type.Integer({ minimum: 0 }) }, { additionalProperties: false })), token: SecretString }),
  resources: () => [sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1 })],
});
`,
    'hostile.ts': `
import { recipe, sysctl, Vars, Type } from 'keel';
export default recipe({
  name: 'hostile',
  vars: Vars({ iface: Type.String() }),
  resources: ({ vars }) => [
    sysctl({ key: \`net.ipv4.conf.\${vars.iface}.arp_ignore\`, value: 1 }),
  ],
});
`,
    'web.ts': `
import { recipe, sysctl, Vars, Ipv4 } from 'keel';
export default recipe({
  name: 'web',
  vars: Vars({ vip: Ipv4 }),
  resources: () => [sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1 })],
});
`,
  });
});

afterAll(() => watched.close());

function inventory(name: string, body: string): string {
  const file = join(project, name);
  writeFileSync(file, body);
  return name;
}

describe('configuration errors', () => {
  it('a var that violates the recipe schema gives file:line:col, exit 1, and no connection', async () => {
    const file = inventory(
      'bad-vars.yaml',
      `defaults:\n  port: ${port}\nhosts:\n  rs1:\n    address: 127.0.0.1\n    vars:\n      vip: 192.168.9.300\n`,
    );
    const result = keel(['check', 'web.ts', '-i', file], { cwd: project });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('bad-vars.yaml:7:12: vars.vip: must be an IPv4 address (recipe web, host rs1)');
    expect(await watched.connections()).toBe(0);
  });

  it('an unknown key in the inventory is named with its position', async () => {
    const file = inventory('bad-key.yaml', `hosts:\n  rs1:\n    address: 127.0.0.1\n    port: ${port}\n    adress: 127.0.0.2\n`);
    const result = keel(['plan', 'web.ts', '-i', file], { cwd: project });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('bad-key.yaml:5:5: hosts.rs1.adress: is not a known key');
    expect(await watched.connections()).toBe(0);
  });

  it('a YAML syntax error is located', () => {
    const file = inventory('broken.yaml', 'hosts:\n  rs1: {address: [\n');
    const result = keel(['apply', 'web.ts', '-i', file], { cwd: project });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^broken\.yaml:\d+:\d+: /);
  });

  it('a missing recipe file and a --limit that matches nothing are usage errors', async () => {
    const file = inventory('ok.yaml', `hosts:\n  rs1:\n    address: 127.0.0.1\n    port: ${port}\n    vars: { vip: 192.168.9.100 }\n`);
    expect(keel(['check', 'nope.ts', '-i', file], { cwd: project })).toMatchObject({ code: 1, stderr: 'nope.ts: no such recipe file\n' });
    const limited = keel(['check', 'web.ts', '-i', file, '--limit', 'rs9'], { cwd: project });
    expect(limited.code).toBe(1);
    expect(limited.stderr).toContain('"rs9" matches no host or group');
    expect(await watched.connections()).toBe(0);
  });

  it('a nested var is located at its own line, with its path, and every problem is listed', async () => {
    const file = inventory(
      'pool.yaml',
      `defaults:\n  port: ${port}\nhosts:\n  lb1:\n    address: 127.0.0.1\n    vars:\n      token: {secret: {env: KEEL_TEST_TOKEN}}\n      pool:\n        - {address: 192.168.9.11, weight: 1}\n        - {address: 192.168.9.12; reboot, weight: -1}\n        - {address: 192.168.9.13, weight: 1, wieght: 2}\n`,
    );
    const result = keel(['apply', 'pool.ts', '-i', file], { cwd: project, env: { KEEL_TEST_TOKEN: 'x' } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'pool.yaml:10:21: vars.pool[1].address: must be an IPv4 address (recipe pool, host lb1)',
      'pool.yaml:10:51: vars.pool[1].weight: must be at least 0 (recipe pool, host lb1)',
      'pool.yaml:11:54: vars.pool[2].wieght: is not a known key (recipe pool, host lb1)',
    ]);
    expect(await watched.connections()).toBe(0);
  });

  it('a secret var must come from the environment or a file, and one that is missing stops the run', async () => {
    const plain = inventory(
      'plain-secret.yaml',
      `hosts:\n  lb1:\n    address: 127.0.0.1\n    port: ${port}\n    vars:\n      pool: []\n      token: hunter2\n`,
    );
    expect(keel(['check', 'pool.ts', '-i', plain], { cwd: project }).stderr.trim()).toBe(
      'plain-secret.yaml:7:14: vars.token: must be a secret: {secret: {env: NAME}} or {secret: {file: PATH}} in the inventory (recipe pool, host lb1)',
    );
    const missing = inventory(
      'missing-secret.yaml',
      `hosts:\n  lb1:\n    address: 127.0.0.1\n    port: ${port}\n    vars:\n      pool: []\n      token: {secret: {env: KEEL_TEST_UNSET}}\n`,
    );
    expect(keel(['check', 'pool.ts', '-i', missing], { cwd: project })).toMatchObject({
      code: 1,
      stderr: 'missing-secret.yaml:7:14: vars.token: environment variable KEEL_TEST_UNSET is not set\n',
    });
    const malformed = inventory(
      'malformed-secret.yaml',
      `hosts:\n  lb1:\n    address: 127.0.0.1\n    port: ${port}\n    vars:\n      pool: []\n      token: {secret: {evn: X}}\n`,
    );
    expect(keel(['check', 'pool.ts', '-i', malformed], { cwd: project }).stderr.trim()).toBe(
      'malformed-secret.yaml:7:14: vars.token.secret: must be {env: NAME} or {file: PATH}',
    );
    expect(await watched.connections()).toBe(0);
  });

  it('a hostile var that reaches a resource parameter is refused where the recipe declares the resource', async () => {
    const file = inventory(
      'hostile.yaml',
      `hosts:\n  rs1:\n    address: 127.0.0.1\n    port: ${port}\n    vars:\n      iface: "eth0; reboot"\n`,
    );
    const result = keel(['plan', 'hostile.ts', '-i', file], { cwd: project });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /hostile\.ts:7: invalid sysctl parameters: key must be a sysctl key such as net\.ipv4\.conf\.eth0\.arp_ignore\n$/,
    );
    expect(await watched.connections()).toBe(0);
  });

  it('the listener does count a run that gets past its configuration (so the zeros above can fail)', async () => {
    const file = inventory('reached.yaml', `hosts:\n  rs1:\n    address: 127.0.0.1\n    port: ${port}\n    vars: { vip: 192.168.9.100 }\n`);
    const before = await watched.connections();
    expect(keel(['check', 'web.ts', '-i', file], { cwd: project }).code).toBe(8);
    expect(await watched.connections()).toBeGreaterThan(before);
  });

  it('inventory validate accepts a good inventory', () => {
    const file = inventory('good.yaml', `groups:\n  web:\n    hosts: [rs1]\nhosts:\n  rs1:\n    address: 127.0.0.1\n`);
    expect(keel(['inventory', 'validate', '-i', file], { cwd: project })).toMatchObject({
      code: 0,
      stdout: `${file}: ok (1 hosts, 1 groups)\n`,
    });
  });
});
