/**
 * `-e` through the real CLI: a bad extra var, or a secret given on the command line, stops the run before any host
 * is contacted. The hosts point at a listener on loopback that counts connections and drops them, so a run that
 * does reach for them exits 8.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, recipeProject } from '../support/cli.js';
import { startKeel } from '../support/keelProcess.js';
import { type WatchedPort, watchPort } from '../support/watchedPort.js';

const RECIPES = ['recipes/director.ts', 'recipes/realserver.ts'];

let watched: WatchedPort;
let project: string;
let inventory: string;

beforeAll(async () => {
  watched = await watchPort();
  const { port } = watched;
  project = recipeProject({
    'token.ts': `
import { recipe, sysctl, Vars, Ipv4, SecretString } from 'keel';
export default recipe({
  name: 'token',
  vars: Vars({ vip: Ipv4, token: SecretString }),
  resources: () => [sysctl({ key: 'net.ipv4.ip_forward', value: 1 })],
});
`,
  });
  inventory = join(project, 'lab.yaml');
  writeFileSync(
    inventory,
    [
      'defaults:',
      `  port: ${port}`,
      '  connectTimeout: 5',
      'vars:',
      '  vip: 192.168.9.100',
      '  lanInterface: eth0',
      '  token: {secret: {env: KEEL_TEST_TOKEN}}',
      'groups:',
      '  directors: {hosts: [director]}',
      '  realservers: {hosts: [rs1]}',
      'hosts:',
      '  director: {address: 127.0.0.1}',
      '  rs1: {address: 127.0.0.1}',
      '',
    ].join('\n'),
  );
});

afterAll(() => watched.close());

// Run asynchronously: the listener counts connections in this process, which must not be blocked meanwhile.
const run = (args: string[]) => startKeel(args, { cwd: project, env: { KEEL_TEST_TOKEN: 'x' } }).done;
const repoRecipes = (args: string[]) => startKeel(args, { cwd: REPO, env: { KEEL_TEST_TOKEN: 'x' } }).done;

describe('-e on the command line', () => {
  it('a good extra var lets the plan go on to the hosts (here unreachable: exit 8)', async () => {
    const before = await watched.connections();
    const result = await repoRecipes(['plan', ...RECIPES, '-i', inventory, '-e', 'vip=192.168.9.101', '--ui', 'plain']);
    expect(result.code).toBe(8);
    expect(await watched.connections()).toBeGreaterThan(before);
  });

  it('vip=not-an-ip exits 1 naming the -e, and no host is contacted', async () => {
    const before = await watched.connections();
    const result = await repoRecipes(['plan', ...RECIPES, '-i', inventory, '-e', 'vip=not-an-ip']);
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'extra vars (-e vip=…): vars.vip: must be an IPv4 address (recipe director, host director)\n',
    });
    expect(await watched.connections()).toBe(before);
  });

  it('a secret var given with -e is refused, its value never printed, and no host is contacted', async () => {
    const before = await watched.connections();
    const result = await run(['check', 'token.ts', '-i', inventory, '-e', 'token=hunter2']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'extra vars (-e token=…): vars.token is a secret (recipe token), and a command line shows in the process list; ' +
        'give it in the inventory instead, as {secret: {env: NAME}} or {secret: {file: PATH}}\n',
    );
    expect(`${result.stdout}${result.stderr}`).not.toContain('hunter2');
    expect(await watched.connections()).toBe(before);
  });

  it('an extra var no recipe declares is warned of, a malformed -e refused', async () => {
    const before = await watched.connections();
    const typo = await repoRecipes([
      'plan',
      'recipes/director.ts',
      '-i',
      inventory,
      '-e',
      'vpi=192.168.9.101',
      '--limit',
      'director',
      '--ui',
      'plain',
    ]);
    expect(typo.stderr).toContain('keel: warning: extra vars (-e vpi=…): no recipe of this run declares a var vpi (director)\n');
    const malformed = await repoRecipes(['plan', 'recipes/director.ts', '-i', inventory, '-e', 'vars.yaml']);
    expect(malformed).toMatchObject({ code: 1, stderr: 'extra vars (-e vars.yaml): a file of extra vars is written -e @vars.yaml\n' });
    expect(await watched.connections()).toBe(before + 1);
  });
});
