/**
 * ssh2 as keel loads it. Requiring it the usual way compiles some forty files, a tenth of a second of every run that
 * connects anywhere; Node 20 keeps no compiled code between runs. The build therefore writes ssh2 as one file
 * (dist/vendor/ssh2.cjs), and it is evaluated here with V8's code cache for it, kept in keel's cache, so that a
 * later run skips compiling it. Run from source there is no such file, and ssh2 is required as usual.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Ssh2 from 'ssh2';
import { type CompiledCodeCache, evaluateCommonJs } from '../../compiledCode/index.js';

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
  return evaluateCommonJs(bundle, {
    ...(codeCache ? { cache: codeCache } : {}),
    entry: `ssh2-${version}-v8-${process.versions.v8}.bin`,
    // Its native parts (an optional crypto binding, cpu-features) are found from where ssh2 itself is installed.
    requireFrom: requireFromHere.resolve('ssh2/lib/protocol/crypto.js'),
  }) as Ssh2Module;
}

export function ssh2(): Ssh2Module {
  if (!loaded) {
    const bundle = fileURLToPath(new URL('./vendor/ssh2.cjs', import.meta.url));
    loaded = existsSync(bundle) ? evaluateBundle(bundle) : (requireFromHere('ssh2') as Ssh2Module);
  }
  return loaded;
}
