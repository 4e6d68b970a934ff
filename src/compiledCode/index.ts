/**
 * A CommonJS file evaluated with V8's code cache. Node 20 keeps no compiled code between runs, and compiling is most
 * of what loading a large file costs: with the cache a later run skips it. The cache is written when the process
 * exits, so it holds every function the run compiled, and again whenever V8 rejects the one it was given.
 */
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Script } from 'node:vm';

/** Where compiled code is kept between runs, by entry name (keel's cache: src/engine/recipeCache.ts). */
export interface CompiledCodeCache {
  read(name: string): Buffer | undefined;
  write(name: string, data: Buffer): void;
}

export interface CommonJsEvaluation {
  /** The cache and the entry this file's code is kept under; without them the file is compiled from scratch. */
  cache?: CompiledCodeCache;
  entry?: string;
  /** What the file's `require` resolves from: by default the file itself. */
  requireFrom?: string;
  /**
   * Put in `require.cache` under the file's own path, so that a later `require` of it (from an ES module that
   * re-exports it, say) gets this same instance, not a second copy of every class in it.
   */
  register?: boolean;
}

/** The file's `module.exports`. It must not use `import()`: code compiled this way has no loader for it. */
export function evaluateCommonJs(path: string, options: CommonJsEvaluation = {}): unknown {
  const file = resolve(path);
  const { cache, entry } = options;
  const cachedData = cache && entry ? cache.read(entry) : undefined;
  const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, ...(cachedData ? { cachedData } : {}) });
  if (cache && entry && (cachedData === undefined || script.cachedDataRejected))
    process.once('exit', () => cache.write(entry, script.createCachedData()));
  const module = new Module(file);
  module.filename = file;
  const registry = createRequire(file).cache;
  if (options.register) registry[file] = module;
  try {
    const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
    wrapper.call(module.exports, module.exports, createRequire(options.requireFrom ?? file), module, file, dirname(file));
  } catch (error) {
    // As Node's own loader does: a file that failed to evaluate is not left for a later require to find half-made.
    if (options.register) delete registry[file];
    throw error;
  }
  module.loaded = true;
  return module.exports;
}
