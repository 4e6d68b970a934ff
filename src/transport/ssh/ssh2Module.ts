/**
 * ssh2 as keel loads it. Requiring it the usual way compiles some forty files, a tenth of a second of every run that
 * connects anywhere; Node 20 keeps no compiled code between runs. The build therefore writes ssh2 as one file
 * (dist/vendor/ssh2.cjs), and it is evaluated here with V8's code cache for it, kept in keel's cache, so that a
 * later run skips compiling it. Run from source there is no such file, and ssh2 is required as usual.
 */
import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import type * as Ssh2 from 'ssh2';
import type { CompiledCodeCache } from '../types.js';

type Ssh2Module = typeof Ssh2;

const requireFromHere = createRequire(import.meta.url);
let codeCache: CompiledCodeCache | undefined;
let loaded: Ssh2Module | undefined;

/** Keeps ssh2's compiled code in `cache` from now on; asked on the first connection. */
export function cacheSsh2Code(cache: CompiledCodeCache): void {
  codeCache = cache;
}

function evaluateBundle(bundle: string): Ssh2Module {
  const version = (requireFromHere('ssh2/package.json') as { version: string }).version;
  const entry = `ssh2-${version}-v8-${process.versions.v8}.bin`;
  const cachedData = codeCache?.read(entry);
  const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  const cache = codeCache;
  // Written once the run ends, so that it holds every function the run used.
  if (cache && (cachedData === undefined || script.cachedDataRejected))
    process.once('exit', () => cache.write(entry, script.createCachedData()));
  const module = { exports: {} as Ssh2Module };
  // Its native parts (an optional crypto binding, cpu-features) are found from where ssh2 itself is installed.
  const requireForSsh2 = createRequire(requireFromHere.resolve('ssh2/lib/protocol/crypto.js'));
  (script.runInThisContext() as (...args: unknown[]) => void).call(
    module.exports,
    module.exports,
    requireForSsh2,
    module,
    bundle,
    dirname(bundle),
  );
  return module.exports;
}

export function ssh2(): Ssh2Module {
  if (!loaded) {
    const bundle = fileURLToPath(new URL('./vendor/ssh2.cjs', import.meta.url));
    loaded = existsSync(bundle) ? evaluateBundle(bundle) : (requireFromHere('ssh2') as Ssh2Module);
  }
  return loaded;
}
