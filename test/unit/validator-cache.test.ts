/**
 * A recipe's vars schema is one the build could not know, so it compiles with ajv at run time. Its standalone
 * code is kept in keel's cache: the next run validates the same vars, with the same verdicts, without loading ajv.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keel, REPO, recipeProject } from '../support/cli.js';

const RECIPE = `import { recipe, Type, Vars } from 'keel';
export default recipe({
  name: 'site',
  vars: Vars({ port: Type.Integer({ minimum: 1, maximum: 65535 }) }),
  resources: () => [],
});
`;

/** ajv itself; its package.json (for the cache key) and the runtime helpers standalone code requires are small. */
const AJV_COMPILER = /\/node_modules\/ajv(-formats)?\/dist\/(?!runtime\/)/;

describe('the cache of compiled vars validators', () => {
  it('validates vars on a second run without loading ajv, and still rejects bad ones', () => {
    const project = recipeProject({
      'site.ts': RECIPE,
      'good.yaml': 'hosts:\n  web:\n    address: 127.0.0.1\n    vars:\n      port: 8080\n',
      'bad.yaml': 'hosts:\n  web:\n    address: 127.0.0.1\n    vars:\n      port: 70000\n',
    });
    const cacheHome = mkdtempSync(join(tmpdir(), 'keel-cache-'));
    const validate = (inventory: string) => {
      const log = join(mkdtempSync(join(tmpdir(), 'keel-imports-')), 'imports');
      const hook = pathToFileURL(join(REPO, 'test/support/importLog.mjs')).href;
      const result = keel(['inventory', 'validate', '-i', inventory, 'site.ts'], {
        cwd: project,
        env: { XDG_CACHE_HOME: cacheHome, NODE_OPTIONS: `--import=${hook}`, KEEL_IMPORT_LOG: log },
      });
      return { ...result, ajvLoaded: AJV_COMPILER.test(readFileSync(log, 'utf8')) };
    };

    const first = validate('good.yaml');
    expect(first.code, first.stderr).toBe(0);
    expect(first.ajvLoaded).toBe(true);
    expect(readdirSync(join(cacheHome, 'keel/validators')).filter((name) => name.endsWith('.cjs'))).toHaveLength(1);

    const second = validate('good.yaml');
    expect(second.code, second.stderr).toBe(0);
    expect(second.ajvLoaded).toBe(false);

    const bad = validate('bad.yaml');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/port/);
    expect(bad.stderr).toMatch(/65535/);
    expect(bad.ajvLoaded).toBe(false);
  });
});
