import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CompiledCodeCache, evaluateCommonJs } from '../../src/compiledCode/index.js';

function commonJsFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'keel-cjs-')), 'module.cjs');
  writeFileSync(file, text);
  return file;
}

/** Evaluates, then runs at once what the evaluation left to run when the process exits (the cache's write). */
function evaluatedAndExited(file: string, cache: CompiledCodeCache, entry: string): (n: number) => number {
  const before = new Set(process.listeners('exit'));
  const exports = evaluateCommonJs(file, { cache, entry }) as (n: number) => number;
  for (const listener of process.listeners('exit').filter((added) => !before.has(added))) {
    process.removeListener('exit', listener);
    listener(0);
  }
  return exports;
}

describe('a CommonJS file evaluated with a code cache', () => {
  it('is the instance a later require gets when registered, however its path was spelled', () => {
    const file = commonJsFile('exports.made = {}; exports.dirname = __dirname; exports.os = require("node:os").platform();');
    const spelled = file.replace('/module.cjs', '//./module.cjs');
    const evaluated = evaluateCommonJs(spelled, { register: true }) as { made: object; dirname: string; os: string };
    expect(createRequire(import.meta.url)(file)).toBe(evaluated);
    expect(evaluated.dirname).toBe(join(file, '..'));
    expect(evaluated.os).toBe(process.platform);
  });

  it('is not left registered when it throws as it evaluates', () => {
    const file = commonJsFile('exports.half = true; throw new Error("broken on purpose");');
    expect(() => evaluateCommonJs(file, { register: true })).toThrow('broken on purpose');
    expect(createRequire(import.meta.url).cache[file]).toBeUndefined();
  });

  it('writes the cache once, and again only when V8 rejects what it holds', () => {
    const file = commonJsFile('module.exports = function twice(n) { return 2 * n; };');
    const entries = new Map<string, Buffer>();
    const written: string[] = [];
    const cache: CompiledCodeCache = {
      read: (name) => entries.get(name),
      write: (name, data) => {
        written.push(name);
        entries.set(name, data);
      },
    };
    expect(evaluatedAndExited(file, cache, 'twice')(21)).toBe(42);
    expect(written).toEqual(['twice']);
    expect(evaluatedAndExited(file, cache, 'twice')(4)).toBe(8);
    expect(written).toEqual(['twice']);

    // Code the cache was not made for (a rebuild under the same entry name): V8 rejects it, and it is written anew.
    const changed = commonJsFile('module.exports = function thrice(n) { return 3 * n; };');
    expect(evaluatedAndExited(changed, cache, 'twice')(2)).toBe(6);
    expect(written).toEqual(['twice', 'twice']);
  });
});
