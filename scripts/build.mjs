// Bundles src/ into dist/ with esbuild. One bundle loads in tens of milliseconds; hundreds of small module
// files (typebox, ajv, yaml) took half a second, which every cron run would pay.

import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const BANNER = "import { createRequire as __keelRequire } from 'node:module'; const require = __keelRequire(import.meta.url);";

const root = fileURLToPath(new URL('..', import.meta.url));
/** Where in dist/ the generated validators are written, one file each. */
const VALIDATORS = 'validators';

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
    const { BUILD_TIME_SCHEMAS, schemaKey, standaloneSource } = await import(pathToFileURL(generator).href);
    const validators = new Map();
    for (const schema of BUILD_TIME_SCHEMAS) {
      validators.set(schemaKey(schema), standaloneSource(schema));
    }
    return validators;
  } finally {
    rmSync(generator, { force: true });
  }
}

/**
 * Writes each generated validator to VALIDATORS/KEY.cjs and puts, in place of src/schema/precompiled.ts, the list of
 * keys and the reading of one: a run reads and evaluates only the validators it uses, and --version none at all.
 */
function precompiledPlugin(validators, directory) {
  mkdirSync(directory, { recursive: true });
  for (const [key, code] of validators) writeFileSync(`${directory}/${key}.cjs`, code);
  const keys = JSON.stringify([...validators.keys()]);
  return {
    name: 'keel-precompiled-validators',
    setup(plugin) {
      plugin.onLoad({ filter: /[\\/]src[\\/]schema[\\/]precompiled\.ts$/ }, () => ({
        contents: [
          "import { readFileSync } from 'node:fs';",
          `const KEYS = new Set(${keys});`,
          `const DIRECTORY = ${JSON.stringify(VALIDATORS)};`,
          // Chunks are written at the top of dist/, beside the validators' directory.
          'export function precompiledValidator(key) {',
          "  return KEYS.has(key) ? readFileSync(new URL(`./${DIRECTORY}/${key}.cjs`, import.meta.url), 'utf8') : undefined;",
          '}',
        ].join('\n'),
        loader: 'js',
      }));
    },
  };
}

/** Builds beside dist/ and swaps it in, so a keel starting meanwhile never sees half a bundle. */
export async function buildKeel() {
  const staging = `dist.build-${process.pid}`;
  const retired = `${root}/dist.old-${process.pid}`;
  const validators = await standaloneValidators(staging);
  const { metafile } = await build({
    absWorkingDir: root,
    metafile: true,
    entryPoints: { index: 'src/index.ts', testing: 'src/testing.ts', 'cli/main': 'src/cli/main.ts' },
    outdir: staging,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    // Parsing is most of what loading a chunk costs, and minified code is half the text to parse. Names are kept:
    // errors are told apart by theirs.
    minify: true,
    keepNames: true,
    // Loaded only when needed (ssh2, the Ink view on a terminal, recipe loading, typecheck), or with native parts.
    external: ['ssh2', 'cpu-features', 'ink', 'ink-spinner', 'react', 'react/*', 'jiti', 'esbuild', 'typescript'],
    logLevel: 'warning',
    // Bundled CommonJS dependencies (commander, ajv) call require() for Node built-ins.
    banner: { js: BANNER },
    plugins: [precompiledPlugin(validators, `${root}/${staging}/${VALIDATORS}`)],
  });
  // ssh2 as one file, for src/transport/ssh/ssh2Module.ts to evaluate with a code cache. Its native parts stay out.
  await build({
    absWorkingDir: root,
    entryPoints: ['ssh2'],
    outfile: `${staging}/vendor/ssh2.cjs`,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    keepNames: true,
    external: ['cpu-features', '*.node'],
    logLevel: 'warning',
  });
  // Which sources each chunk holds, for test/unit/startup-imports.test.ts: minified chunks no longer say.
  writeFileSync(`${root}/${staging}/meta.json`, JSON.stringify(metafile));
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
