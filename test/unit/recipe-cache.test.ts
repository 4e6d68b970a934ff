/**
 * Transpiled recipes are kept in keel's cache by content hash: a second run of an unchanged recipe transpiles
 * nothing (its entry is not written again), an edited one is transpiled anew, and a cache that cannot be written
 * costs nothing but the transpile.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keelCacheDirectory } from '../../src/engine/recipeCache.js';
import { keel, REPO, recipeProject } from '../support/cli.js';

const recipeSource = (name: string): string =>
  `import { file, recipe } from 'keel';\nexport default recipe({ name: '${name}', resources: () => [file({ path: '/tmp/x', content: 'x' })] });\n`;

function entries(directory: string): Map<string, { inode: number; mtimeMs: number }> {
  const listing = new Map<string, { inode: number; mtimeMs: number }>();
  for (const name of readdirSync(directory)) {
    const stat = statSync(join(directory, name));
    listing.set(name, { inode: stat.ino, mtimeMs: stat.mtimeMs });
  }
  return listing;
}

describe('the recipe cache', () => {
  it('transpiles an unchanged recipe once, and an edited one again', () => {
    const project = recipeProject({ 'site.ts': recipeSource('first'), 'inventory.yaml': 'hosts:\n  web:\n    address: 127.0.0.1\n' });
    const cacheHome = mkdtempSync(join(tmpdir(), 'keel-cache-'));
    const validate = () =>
      keel(['inventory', 'validate', '-i', 'inventory.yaml', 'site.ts'], { cwd: project, env: { XDG_CACHE_HOME: cacheHome } });
    const cache = join(cacheHome, 'keel/recipes');

    expect(validate().code).toBe(0);
    const first = entries(cache);
    expect(first.size).toBe(1);
    expect(readFileSync(join(cache, [...first.keys()][0]!), 'utf8')).toContain("name: 'first'");

    expect(validate().code).toBe(0);
    expect(entries(cache)).toEqual(first);

    writeFileSync(join(project, 'site.ts'), recipeSource('second'));
    expect(validate().code).toBe(0);
    const edited = entries(cache);
    expect(edited.size).toBe(2);
    const added = [...edited.keys()].find((name) => !first.has(name))!;
    expect(readFileSync(join(cache, added), 'utf8')).toContain("name: 'second'");
  });

  it('evaluates a cached recipe that imports only keel and built-ins without loading jiti, and one that imports more with it', () => {
    const project = recipeProject({
      'site.ts': recipeSource('first'),
      'local.ts': `import { helper } from './helper.ts';\n${recipeSource('local').replace("name: 'local'", 'name: helper')}`,
      'helper.ts': "export const helper: string = 'from-helper';\n",
      'inventory.yaml': 'hosts:\n  web:\n    address: 127.0.0.1\n',
    });
    const cacheHome = mkdtempSync(join(tmpdir(), 'keel-cache-'));
    const jitiLoaded = (recipe: string): boolean => {
      const log = join(mkdtempSync(join(tmpdir(), 'keel-imports-')), 'imports');
      const hook = pathToFileURL(join(REPO, 'test/support/importLog.mjs')).href;
      const result = keel(['inventory', 'validate', '-i', 'inventory.yaml', recipe], {
        cwd: project,
        env: { XDG_CACHE_HOME: cacheHome, NODE_OPTIONS: `--import=${hook}`, KEEL_IMPORT_LOG: log },
      });
      expect(result.code, result.stderr).toBe(0);
      // Its package.json alone is read for the cache key.
      return /\/node_modules\/jiti\/(?!package\.json$)/m.test(readFileSync(log, 'utf8'));
    };
    expect(jitiLoaded('site.ts')).toBe(true);
    expect(jitiLoaded('site.ts')).toBe(false);
    expect(jitiLoaded('local.ts')).toBe(true);
    expect(jitiLoaded('local.ts')).toBe(true);
  });

  it("locates a recipe's own error at the same file:line whether jiti or the cache ran it", () => {
    const throwing =
      "import { recipe } from 'keel';\n\nexport default recipe({\n  name: 'bad',\n  resources: (host) => {\n    throw new Error(`boom on ${host.name}`);\n  },\n});\n";
    const project = recipeProject({ 'bad.ts': throwing, 'inventory.yaml': 'hosts:\n  web:\n    address: 127.0.0.1\n' });
    const cacheHome = mkdtempSync(join(tmpdir(), 'keel-cache-'));
    const plan = () =>
      keel(['plan', 'bad.ts', '-i', 'inventory.yaml', '--connection', 'local'], { cwd: project, env: { XDG_CACHE_HOME: cacheHome } });
    const first = plan();
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('bad.ts:6: boom on web (recipe bad, host web)');
    expect(plan()).toEqual(first);
  });

  it('runs without one where it cannot be written', () => {
    const project = recipeProject({ 'site.ts': recipeSource('first'), 'inventory.yaml': 'hosts:\n  web:\n    address: 127.0.0.1\n' });
    const notADirectory = join(mkdtempSync(join(tmpdir(), 'keel-cache-')), 'file');
    writeFileSync(notADirectory, '');
    const result = keel(['inventory', 'validate', '-i', 'inventory.yaml', 'site.ts'], {
      cwd: project,
      env: { XDG_CACHE_HOME: notADirectory },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(keelCacheDirectory('recipes', { XDG_CACHE_HOME: notADirectory })).toBeUndefined();
  });

  it('lives under $XDG_CACHE_HOME, else ~/.cache', () => {
    const home = mkdtempSync(join(tmpdir(), 'keel-home-'));
    expect(keelCacheDirectory('recipes', { HOME: home })).toBe(join(home, '.cache/keel/recipes'));
    expect(keelCacheDirectory('recipes', { HOME: home, XDG_CACHE_HOME: join(home, 'xdg') })).toBe(join(home, 'xdg/keel/recipes'));
    expect(statSync(join(home, 'xdg/keel/recipes')).mode & 0o777).toBe(0o700);
  });
});
