/**
 * ssh2 as keel loads it. Requiring it the usual way compiles some forty files, a tenth of a second of every run that
 * connects anywhere; Node 20 keeps no compiled code between runs. The build therefore writes ssh2 as one file
 * (dist/vendor/ssh2.cjs), and it is evaluated here with V8's code cache for it, kept in keel's cache, so that a
 * later run skips compiling it. Run from source there is no such file, and ssh2 is required as usual.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import type * as Ssh2 from 'ssh2';

type Ssh2Module = typeof Ssh2;

const requireFromHere = createRequire(import.meta.url);
let codeCacheDirectory: () => string | undefined = () => undefined;
let loaded: Ssh2Module | undefined;

/** Where the compiled code of ssh2 is kept between runs; asked for on the first connection. */
export function cacheSsh2Code(directory: () => string | undefined): void {
  codeCacheDirectory = directory;
}

/** ssh2's compiled code is written once the run ends, so that it holds every function the run used. */
function keepCodeCache(script: Script, file: string): void {
  process.once('exit', () => {
    const partial = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
      renameSync(partial, file);
    } catch {
      rmSync(partial, { force: true });
    }
  });
}

function evaluateBundle(bundle: string): Ssh2Module {
  const version = (requireFromHere('ssh2/package.json') as { version: string }).version;
  const directory = codeCacheDirectory();
  const cacheFile = directory === undefined ? undefined : join(directory, `ssh2-${version}-v8-${process.versions.v8}.bin`);
  let cachedData: Buffer | undefined;
  try {
    if (cacheFile !== undefined) cachedData = readFileSync(cacheFile);
  } catch {
    // not cached yet
  }
  const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected)) keepCodeCache(script, cacheFile);
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
