import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TransformOptions, TransformResult } from 'jiti';

/**
 * Where transpiled recipes are kept: `$XDG_CACHE_HOME/keel/recipes`, else `~/.cache/keel/recipes`, created for
 * this user alone. Undefined when it cannot be written (a read-only home under cron): recipes then transpile on
 * every run, which is slower and nothing else.
 */
export function recipeCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  const directory = join(base, 'keel', 'recipes');
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    accessSync(directory, constants.W_OK);
    return directory;
  } catch {
    return undefined;
  }
}

/** keel's version, from the package.json above this module: src/engine in a checkout, dist/ when bundled. */
function keelVersion(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'package.json')) && dirname(directory) !== directory) directory = dirname(directory);
  return (JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * What a transpiled module is cached under: a hash of its source and of everything else its transpiled code depends
 * on: keel's and jiti's versions, the transform's options and the file's path (jiti writes `import.meta.url` into the
 * code as a literal). An edited recipe gets a new key; an unchanged one, moved back and forth between versions, its old.
 */
function cacheKey(options: TransformOptions, versions: string): string {
  const { source, ...rest } = options;
  return createHash('sha256')
    .update(versions)
    .update('\0')
    .update(JSON.stringify(rest))
    .update('\0')
    .update(source)
    .digest('hex')
    .slice(0, 40);
}

/**
 * A jiti transform that keeps its output in `directory` by content hash, and calls `transpile` (jiti's own,
 * babel) only for code it has not seen. Entries are written whole (a file renamed into place), so concurrent runs
 * never read half of one.
 */
export function cachedTransform(
  directory: string,
  transpile: (options: TransformOptions) => string,
): (options: TransformOptions) => TransformResult {
  const require = createRequire(import.meta.url);
  const versions = `keel ${keelVersion()} jiti ${(require('jiti/package.json') as { version: string }).version}`;
  return (options) => {
    const file = join(directory, `${cacheKey(options, versions)}.js`);
    try {
      return { code: readFileSync(file, 'utf8') };
    } catch {
      // not cached yet
    }
    const code = transpile(options);
    const partial = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(partial, code, { mode: 0o600 });
      renameSync(partial, file);
    } catch {
      // a cache that cannot be written only costs the next run this transpile again
      rmSync(partial, { force: true });
    }
    return { code };
  };
}
