/**
 * How the built CLI starts (bin/keel.js). The build puts the whole of keel in one CommonJS file, dist/keel.cjs, so
 * that it loads with V8's code cache (src/compiledCode); an ES module, in Node 20, is compiled again on every run.
 * The cache is kept per build and per command: what a command compiled is what its next run needs. The bundle is
 * registered under its own path, so the 'keel' a recipe imports or requires (dist/index.js and dist/index.cjs
 * re-export the bundle) is the same instance the CLI runs, with the same classes.
 */
import { statSync } from 'node:fs';
import { type CompiledCodeCache, evaluateCommonJs } from '../compiledCode/index.js';
import { compiledCodeCache } from '../engine/recipeCache.js';

interface KeelBundle {
  main(argv: string[]): Promise<number>;
}

const ENTRY_PREFIX = 'keel-';

/** Writes go with the removal of the entries earlier builds left: a source checkout rebuilds often. */
function keepingOnlyThisBuild(cache: CompiledCodeCache & { prune(stale: (name: string) => boolean): void }, build: string) {
  return {
    read: (name: string) => cache.read(name),
    write(name: string, data: Buffer) {
      cache.prune((other) => other.startsWith(ENTRY_PREFIX) && !other.startsWith(build));
      cache.write(name, data);
    },
  };
}

export function startKeel(bundle: string, argv: string[]): Promise<number> {
  const { size, mtimeMs } = statSync(bundle);
  const build = `${ENTRY_PREFIX}${size}-${Math.trunc(mtimeMs)}-`;
  const command = argv.find((arg) => !arg.startsWith('-')) ?? 'none';
  const entry = `${build}${/^[a-z]+$/.test(command) ? command : 'other'}-v8-${process.versions.v8}.bin`;
  const cache = keepingOnlyThisBuild(compiledCodeCache(), build);
  const keel = evaluateCommonJs(bundle, { cache, entry, register: true }) as KeelBundle;
  return keel.main(argv);
}
