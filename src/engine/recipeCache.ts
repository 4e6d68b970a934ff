import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import type { TransformOptions, TransformResult } from 'jiti';
import type { CompiledCodeCache } from '../compiledCode/index.js';
import type { CompiledValidatorCache } from '../schema/index.js';
import { packageVersion } from './version.js';

/**
 * Where keel keeps what it derives from code to save the next run the work (`recipes`: transpiled recipes,
 * `validators`: compiled vars schemas, `code`: V8's compiled code of keel's bundle and of ssh2): `$XDG_CACHE_HOME/keel/KIND`, else
 * `~/.cache/keel/KIND`, created for this user alone. Undefined when it cannot be written (a read-only home under
 * cron): the work is then done on every run, which is slower and nothing else.
 */
export function keelCacheDirectory(kind: 'recipes' | 'validators' | 'code', env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  const directory = join(base, 'keel', kind);
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    accessSync(directory, constants.W_OK);
    return directory;
  } catch {
    return undefined;
  }
}

/**
 * What a transpiled module is cached under: a hash of its source and of everything else its transpiled code depends
 * on: keel's and jiti's versions, the transform's options and the file's path (jiti writes `import.meta.url` into the
 * code as a literal). An edited recipe gets a new key; an unchanged one, moved back and forth between versions, its old.
 */
function cacheKey(options: TransformOptions, versions: string): string {
  const settings = [
    options.filename,
    options.ts ?? false,
    options.async ?? false,
    options.retainLines ?? false,
    options.interopDefault ?? false,
    options.jsx ?? false,
    options.babel ?? {},
  ];
  return createHash('sha256')
    .update(versions)
    .update('\0')
    .update(JSON.stringify(settings))
    .update('\0')
    .update(options.source)
    .digest('hex')
    .slice(0, 40);
}

let versionsOfKeelAndJiti: string | undefined;

function versions(): string {
  versionsOfKeelAndJiti ??= `keel ${packageVersion()} jiti ${(createRequire(import.meta.url)('jiti/package.json') as { version: string }).version}`;
  return versionsOfKeelAndJiti;
}

/**
 * The cache entry `file`, or what `produce` makes, which is then kept there. Entries are written whole (a file
 * renamed into place), so concurrent runs never read half of one; one that cannot be written only costs the next
 * run the same work again.
 */
function readThrough(file: string, produce: () => string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // not cached yet
  }
  const text = produce();
  writeWhole(file, text);
  return text;
}

/** Writes a cache entry whole: a file renamed into place. One that cannot be written is left out. */
function writeWhole(file: string, data: string | Buffer): void {
  const partial = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(partial, data, { mode: 0o600 });
    renameSync(partial, file);
  } catch {
    rmSync(partial, { force: true });
  }
}

/** V8's compiled code (src/compiledCode), kept under `code`; the directory is made on first use. */
export function compiledCodeCache(
  env: NodeJS.ProcessEnv = process.env,
): CompiledCodeCache & { prune(stale: (name: string) => boolean): void } {
  let directory: string | undefined | null = null;
  const entry = (name: string): string | undefined => {
    if (directory === null) directory = keelCacheDirectory('code', env);
    return directory === undefined ? undefined : join(directory, name);
  };
  return {
    read(name) {
      const file = entry(name);
      try {
        return file === undefined ? undefined : readFileSync(file);
      } catch {
        return undefined;
      }
    },
    write(name, data) {
      const file = entry(name);
      if (file !== undefined) writeWhole(file, data);
    },
    /** Removes the entries `stale` names. */
    prune(stale) {
      const file = entry('');
      if (file === undefined) return;
      try {
        for (const name of readdirSync(file)) if (stale(name)) rmSync(join(file, name), { force: true });
      } catch {
        // a cache that cannot be listed keeps its entries
      }
    },
  };
}

/**
 * Keeps the validator code compiled for the schemas the build did not know (a recipe's vars) in keel's cache, by
 * the key schema/ gives it and keel's version, for the next run to use without loading ajv. The directory is made
 * on the first such schema; none at all compiles in memory.
 */
export function compiledValidatorCache(env: NodeJS.ProcessEnv = process.env): CompiledValidatorCache {
  let directory: string | undefined | null = null;
  return (key, compile) => {
    if (directory === null) directory = keelCacheDirectory('validators', env);
    if (directory === undefined) return { source: compile() };
    const file = join(directory, `${createHash('sha256').update(`keel ${packageVersion()}\0${key}`).digest('hex').slice(0, 40)}.cjs`);
    return { source: readThrough(file, compile), file };
  };
}

/**
 * A jiti transform that keeps its output in `directory` by content hash, and calls `transpile` (jiti's own,
 * babel) only for code it has not seen.
 */
export function cachedTransform(
  directory: string,
  transpile: (options: TransformOptions) => string,
): (options: TransformOptions) => TransformResult {
  return (options) => ({ code: readThrough(join(directory, `${cacheKey(options, versions())}.js`), () => transpile(options)) });
}

/** jiti's wrapper around transpiled code, kept line for line so that a recipe's stack frames name the same lines. */
const wrapped = (code: string): string =>
  `(async function (exports, require, module, __filename, __dirname, jitiImport, jitiESMResolve) { ${code}\n});`;

/** What jiti's import gives transpiled code: the namespace, marked as an ES module, its default the namespace's own or itself. */
function asJitiImport(namespace: Record<string, unknown>): unknown {
  return new Proxy(namespace, {
    get: (target, name) => (name === '__esModule' ? true : name === 'default' ? (target['default'] ?? target) : target[name as string]),
  });
}

const IMPORT = /\bjitiImport\b/g;
const NATIVE_IMPORT = /\bjitiImport\("(keel|node:[a-z_/]+)"\)/g;

/**
 * A recipe already in the cache, evaluated without loading jiti (a tenth of a check's start-up): only one whose
 * code imports nothing but 'keel' and Node's built-ins, the same way jiti evaluates it (its wrapper, its file name
 * for stack frames). Undefined when the recipe is not cached or imports anything else; jiti then loads it.
 */
export async function importCached(directory: string, file: string): Promise<{ default?: unknown } | undefined> {
  let code: string;
  try {
    const source = readFileSync(file, 'utf8');
    const options = { filename: file, source, ts: /\.[cm]?ts$/.test(file), async: true, interopDefault: true, jsx: false, babel: {} };
    code = readFileSync(join(directory, `${cacheKey(options, versions())}.js`), 'utf8');
  } catch {
    return undefined;
  }
  const imports = [...code.matchAll(NATIVE_IMPORT)];
  if (imports.length !== [...code.matchAll(IMPORT)].length || /\brequire\s*\(|\bjitiESMResolve\b/.test(code)) return undefined;
  // Required, 'keel' is the package's CommonJS entry: the same instance of keel an import gives, the one bundle.
  const requireFromRecipe = createRequire(file);
  const evaluate = runInThisContext(wrapped(code), { filename: file }) as (...args: unknown[]) => Promise<void>;
  const module = { exports: {} as { default?: unknown } };
  const jitiImport = async (specifier: string) => asJitiImport(requireFromRecipe(specifier) as Record<string, unknown>);
  await evaluate(module.exports, requireFromRecipe, module, file, dirname(file), jitiImport, undefined);
  return module.exports;
}
