// Bundles src/ into dist/ with esbuild. One bundle loads in tens of milliseconds; hundreds of small module
// files (typebox, ajv, yaml) took half a second, which every cron run would pay.

import { renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const BANNER = "import { createRequire as __keelRequire } from 'node:module'; const require = __keelRequire(import.meta.url);";

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * ajv's standalone code for every schema known at build time (scripts/validatorSchemas.ts), by schema key: compiling
 * them took tens of milliseconds of every start-up. A schema only a run knows (a recipe's vars) compiles then.
 */
async function standaloneValidators(staging) {
  const generator = `${root}/${staging}-schemas.mjs`;
  await build({
    absWorkingDir: root,
    entryPoints: ['scripts/validatorSchemas.ts'],
    outfile: generator,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  try {
    const { BUILD_TIME_SCHEMAS, createAjv, schemaKey } = await import(pathToFileURL(generator).href);
    const { default: standaloneCode } = await import('ajv/dist/standalone/index.js');
    const validators = new Map();
    for (const schema of BUILD_TIME_SCHEMAS) {
      const ajv = createAjv(true);
      validators.set(schemaKey(schema), standaloneCode(ajv, ajv.compile(schema)));
    }
    return validators;
  } finally {
    rmSync(generator, { force: true });
  }
}

/** Puts the generated validators in place of src/schema/precompiled.ts, each evaluated on its first use. */
function precompiledPlugin(validators) {
  const table = [...validators.keys()].map((key) => `  ${JSON.stringify(key)}: () => require("keel:validator/${key}"),`);
  return {
    name: 'keel-precompiled-validators',
    setup(plugin) {
      plugin.onLoad({ filter: /[\\/]src[\\/]schema[\\/]precompiled\.ts$/ }, () => ({
        contents: `export const PRECOMPILED = {\n${table.join('\n')}\n};\n`,
        loader: 'js',
        resolveDir: root,
      }));
      plugin.onResolve({ filter: /^keel:validator\// }, (args) => ({
        path: args.path.slice('keel:validator/'.length),
        namespace: 'keel-validator',
      }));
      plugin.onLoad({ filter: /.*/, namespace: 'keel-validator' }, (args) => ({
        contents: validators.get(args.path),
        loader: 'js',
        resolveDir: root,
      }));
      // The same path as every other import of it resolves to, or the bundle would carry a second Secret class.
      plugin.onResolve({ filter: /^keel:secret$/ }, () => ({ path: resolve(root, 'src/shell/secret.ts') }));
    },
  };
}

/** Builds beside dist/ and swaps it in, so a keel starting meanwhile never sees half a bundle. */
export async function buildKeel() {
  const staging = `dist.build-${process.pid}`;
  const retired = `${root}/dist.old-${process.pid}`;
  const validators = await standaloneValidators(staging);
  await build({
    absWorkingDir: root,
    entryPoints: { index: 'src/index.ts', testing: 'src/testing.ts', 'cli/main': 'src/cli/main.ts' },
    outdir: staging,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    // Loaded only when needed (ssh2, the Ink view on a terminal, recipe loading, typecheck), or with native parts.
    external: ['ssh2', 'cpu-features', 'ink', 'ink-spinner', 'react', 'react/*', 'jiti', 'esbuild', 'typescript'],
    logLevel: 'warning',
    // Bundled CommonJS dependencies (commander, ajv) call require() for Node built-ins.
    banner: { js: BANNER },
    plugins: [precompiledPlugin(validators)],
  });
  rmSync(retired, { recursive: true, force: true });
  try {
    renameSync(`${root}/dist`, retired);
  } catch {
    // no previous build
  }
  renameSync(`${root}/${staging}`, `${root}/dist`);
  rmSync(retired, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildKeel();
