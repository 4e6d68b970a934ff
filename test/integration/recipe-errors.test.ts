/**
 * A recipe that throws, and a Secret turned into text, stop the run before any host is contacted: one line naming
 * the recipe's file:line, exit 1. `keel typecheck` finds the Secret in a string before anything runs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keel, recipeProject } from '../support/cli.js';

const TOKEN = 'tok-interpolated-0123456789';

const THROWING = `import { recipe, Vars, sysctl } from 'keel';

export default recipe({
  name: 'throwing',
  vars: Vars({}),
  resources: () => {
    const list = [sysctl({ key: 'net.ipv4.ip_forward', value: 1 })];
    throw new Error('no upstream configured for this host');
    return list;
  },
});
`;

const AT_LOAD = `import { recipe, Vars } from 'keel';

const upstreams: string[] = [];
if (upstreams.length === 0) throw new Error('the upstream list is empty');

export default recipe({ name: 'atLoad', vars: Vars({}), resources: () => [] });
`;

// A misspelt type: untyped at run time it is undefined.
const MISSPELT_TYPE = `import { recipe, Vars } from 'keel';
import * as keel from 'keel';

export default recipe({ name: 'misspelt', vars: Vars({ vip: (keel as Record<string, never>).Ipv4Address }), resources: () => [] });
`;

const INTERPOLATING = `import { recipe, command, Vars, SecretString } from 'keel';

export default recipe({
  name: 'interpolating',
  vars: Vars({ token: SecretString }),
  resources: ({ vars }) => [
    command({ name: 'log in', run: \`echo "\${vars.token}"\` }),
  ],
});
`;

/** Every way of making text of a Secret that the compiler can see; one line each, with the column of the Secret. */
const TEXT_OF_SECRETS = `import { recipe, command, template, Vars, SecretString } from 'keel';

export default recipe({
  name: 'textOfSecrets',
  vars: Vars({ token: SecretString }),
  resources: ({ vars }) => [
    command({ run: \`curl -H "Authorization: \${vars.token}" https://example.invalid\` }),
    command({ run: 'login ' + vars.token }),
    command({ run: String(vars.token) }),
    command({ run: \`use \${template('{{t}}', { t: vars.token })}\` }),
    command({ run: 'true', env: { TOKEN: vars.token } }),
  ],
});
`;

let project: string;
let inventory: string;

beforeAll(() => {
  project = recipeProject({
    'recipes/throwing.ts': THROWING,
    'recipes/atLoad.ts': AT_LOAD,
    'recipes/misspelt.ts': MISSPELT_TYPE,
    'recipes/interpolating.ts': INTERPOLATING,
    'checked/textOfSecrets.ts': TEXT_OF_SECRETS,
  });
  // Nothing listens on port 1: a run that got as far as connecting would exit 8, not 1.
  inventory = join(project, 'inventory.yaml');
  writeFileSync(
    inventory,
    `hosts:\n  web1:\n    address: 127.0.0.1\n    port: 1\n    vars:\n      token: {secret: {env: KEEL_TEST_TOKEN}}\n`,
  );
});

describe('a recipe that throws', () => {
  it('prints one line with the recipe file:line and the message, and exits 1', () => {
    const result = keel(['plan', 'recipes/throwing.ts', '-i', inventory], { cwd: project, env: { KEEL_TEST_TOKEN: TOKEN } });
    expect(result.stderr).toBe('recipes/throwing.ts:8: no upstream configured for this host (recipe throwing, host web1)\n');
    expect(result.code).toBe(1);
  });

  it('when it throws as it loads, too', () => {
    const result = keel(['check', 'recipes/atLoad.ts', '-i', inventory], { cwd: project, env: { KEEL_TEST_TOKEN: TOKEN } });
    expect(result.stderr).toBe('recipes/atLoad.ts:4: the upstream list is empty\n');
    expect(result.code).toBe(1);
  });

  it('names the var whose type is not a schema, instead of crashing in the validator', () => {
    const result = keel(['plan', 'recipes/misspelt.ts', '-i', inventory], { cwd: project, env: { KEEL_TEST_TOKEN: TOKEN } });
    expect(result.stderr).toBe(
      'recipes/misspelt.ts:4: Vars: vip is given undefined, not a schema: is its type spelt as keel exports it?\n',
    );
    expect(result.code).toBe(1);
  });

  it('adds the stack with -v', () => {
    const result = keel(['plan', 'recipes/throwing.ts', '-i', inventory, '-v'], { cwd: project, env: { KEEL_TEST_TOKEN: TOKEN } });
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('recipes/throwing.ts:8: no upstream configured for this host (recipe throwing, host web1)');
    expect(lines.slice(1).some((line) => /^\s+at .*recipes\/throwing\.ts:8:\d+/.test(line))).toBe(true);
  });
});

describe('a Secret interpolated into a command', () => {
  it('is refused at run time, naming the recipe line and what it builds, and the secret never shows', () => {
    for (const mode of ['plan', 'apply']) {
      const result = keel([mode, 'recipes/interpolating.ts', '-i', inventory, '--json', 'report.json'], {
        cwd: project,
        env: { KEEL_TEST_TOKEN: TOKEN },
      });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toBe(
        'recipes/interpolating.ts:7: a Secret cannot be made into text (a template literal, + or String()): ' +
          'in `command({ name: \'log in\', run: `echo "${vars.token}"` }),`; give it to the command as ' +
          '`env: { NAME: secret }` (recipe interpolating, host web1)\n',
      );
      expect(result.stdout + result.stderr).not.toContain(TOKEN);
      expect(result.stdout + result.stderr).not.toContain('[redacted]');
    }
  });

  it('is a keel typecheck error at file:line:col for a template literal, + and String()', () => {
    const result = keel(['typecheck', 'checked'], { cwd: project });
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'checked/textOfSecrets.ts:7:47: error: a Secret (vars.token) in a template literal; give it to the command as `env: { NAME: secret }`',
      'checked/textOfSecrets.ts:8:31: error: a Secret (vars.token) in a + concatenation; give it to the command as `env: { NAME: secret }`',
      'checked/textOfSecrets.ts:9:27: error: a Secret (vars.token) in String(); give it to the command as `env: { NAME: secret }`',
      "checked/textOfSecrets.ts:10:27: error: a Secret (template('{{t}}', { t: vars.token })) in a template literal; give it to the command as `env: { NAME: secret }`",
    ]);
    expect(result.stdout).toBe('1 files checked, 4 errors\n');
    expect(result.code).toBe(1);
  });
});
