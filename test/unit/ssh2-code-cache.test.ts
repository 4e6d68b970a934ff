/**
 * The built keel evaluates ssh2 from its single-file copy (dist/vendor/ssh2.cjs) with V8's code cache: the first
 * run that connects writes the cache, a later one is given it and accepts it (so it is not written again), and
 * neither requires ssh2's own files. The host is a closed port on loopback: ssh2 loads before the refusal.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keel, REPO, recipeProject } from '../support/cli.js';

describe("ssh2's code cache", () => {
  it('is written by the first run that connects and used, unchanged, by the next', () => {
    const project = recipeProject({ 'inventory.yaml': 'hosts:\n  closed:\n    address: 127.0.0.1\n    port: 9\n' });
    const cacheHome = mkdtempSync(join(tmpdir(), 'keel-cache-'));
    const codeCache = join(cacheHome, 'keel/code');
    const run = () => {
      const log = join(mkdtempSync(join(tmpdir(), 'keel-imports-')), 'imports');
      const hook = pathToFileURL(join(REPO, 'test/support/importLog.mjs')).href;
      const result = keel(['run', '-i', 'inventory.yaml', '--', 'true'], {
        cwd: project,
        env: { XDG_CACHE_HOME: cacheHome, NODE_OPTIONS: `--import=${hook}`, KEEL_IMPORT_LOG: log },
      });
      expect(result.code, result.stderr).toBe(8);
      expect(result.stdout + result.stderr).toMatch(/closed \(127\.0\.0\.1:9\): connection refused/);
      const resolved = readFileSync(log, 'utf8');
      // Required the usual way, ssh2 would resolve its client among some forty files of its own.
      expect(resolved).not.toMatch(/\/node_modules\/ssh2\/lib\/client\.js/);
    };

    run();
    const [entry, ...others] = readdirSync(codeCache);
    expect(others).toEqual([]);
    expect(entry).toMatch(/^ssh2-[\d.]+-v8-.+\.bin$/);
    const written = statSync(join(codeCache, entry!));
    expect(written.size).toBeGreaterThan(10_000);

    run();
    const after = statSync(join(codeCache, entry!));
    expect({ inode: after.ino, mtimeMs: after.mtimeMs }).toEqual({ inode: written.ino, mtimeMs: written.mtimeMs });
  });
});
