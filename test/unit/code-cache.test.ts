/**
 * The built keel evaluates itself (dist/keel.cjs) and ssh2 (dist/vendor/ssh2.cjs) with V8's code cache: the first
 * run writes the cache, a later one is given it and accepts it (so it is not written again). ssh2 is never required
 * from its own files. The host is a closed port on loopback: ssh2 loads before the refusal.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
    const [entry, ...others] = readdirSync(codeCache).filter((name) => name.startsWith('ssh2-'));
    expect(others).toEqual([]);
    expect(entry).toMatch(/^ssh2-[\d.]+-v8-.+\.bin$/);
    const written = statSync(join(codeCache, entry!));
    expect(written.size).toBeGreaterThan(10_000);

    run();
    const after = statSync(join(codeCache, entry!));
    expect({ inode: after.ino, mtimeMs: after.mtimeMs }).toEqual({ inode: written.ino, mtimeMs: written.mtimeMs });
  });
});

describe("the CLI bundle's code cache", () => {
  it('is kept per command, written by its first run and used, unchanged, by the next', () => {
    const cacheHome = mkdtempSync(join(tmpdir(), 'keel-cache-'));
    const codeCache = join(cacheHome, 'keel/code');
    const entries = () => readdirSync(codeCache).filter((name) => name.startsWith('keel-'));
    expect(keel(['--version'], { env: { XDG_CACHE_HOME: cacheHome } }).code).toBe(0);
    const [version, ...others] = entries();
    expect(others).toEqual([]);
    expect(version).toMatch(/^keel-\d+-\d+-none-v8-.+\.bin$/);
    const written = statSync(join(codeCache, version!));
    expect(written.size).toBeGreaterThan(10_000);

    expect(keel(['--version'], { env: { XDG_CACHE_HOME: cacheHome } }).code).toBe(0);
    const after = statSync(join(codeCache, version!));
    expect({ inode: after.ino, mtimeMs: after.mtimeMs }).toEqual({ inode: written.ino, mtimeMs: written.mtimeMs });

    expect(keel(['check', '--help'], { env: { XDG_CACHE_HOME: cacheHome } }).code).toBe(0);
    expect(entries().sort()).toEqual([version!.replace('-none-', '-check-'), version].sort());
  });

  it('leaves out what earlier builds left', () => {
    const cacheHome = mkdtempSync(join(tmpdir(), 'keel-cache-'));
    const codeCache = join(cacheHome, 'keel/code');
    mkdirSync(codeCache, { recursive: true });
    writeFileSync(join(codeCache, 'keel-1-2-check-v8-0.bin'), 'stale');
    writeFileSync(join(codeCache, 'ssh2-0.0.0-v8-0.bin'), 'kept');
    expect(keel(['--version'], { env: { XDG_CACHE_HOME: cacheHome } }).code).toBe(0);
    const names = readdirSync(codeCache);
    expect(names).not.toContain('keel-1-2-check-v8-0.bin');
    expect(names).toContain('ssh2-0.0.0-v8-0.bin');
    expect(names.filter((name) => name.startsWith('keel-'))).toHaveLength(1);
  });
});
