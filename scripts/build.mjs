// Bundles src/ into dist/ with esbuild. One bundle loads in tens of milliseconds; hundreds of small module
// files (typebox, ajv, yaml) took half a second, which every cron run would pay. It is CommonJS so that it can load
// with V8's code cache (src/cli/boot.ts).

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
          // The bundle is written at the top of dist/, beside the validators' directory.
          'export function precompiledValidator(key) {',
          "  return KEYS.has(key) ? readFileSync(new URL(`./${DIRECTORY}/${key}.cjs`, import.meta.url), 'utf8') : undefined;",
          '}',
        ].join('\n'),
        loader: 'js',
      }));
    },
  };
}

/**
 * What the CLI bundle holds, each part evaluated only when asked for: `keel --version` evaluates the command line
 * alone, not the library (esbuild initializes a required ES module on its first require).
 */
const BUNDLE_ENTRY = [
  "exports.main = (argv) => require('./src/cli/main.ts').main(argv);",
  "exports.library = () => require('./src/index.ts');",
  "exports.testing = () => require('./src/testing.ts');",
].join('\n');

/** The CommonJS bundle has no import.meta: the file's URL takes its place. */
const MODULE_URL = '__keelModuleUrl';
const MODULE_URL_BANNER = `var ${MODULE_URL} = require('node:url').pathToFileURL(__filename).href;`;

/** Loads the live view's bundle (dist/ui.js) from a file Node compiles itself, which may import() an ES module. */
const LIVE_VIEW_LOADER = 'live-view.cjs';

function liveViewPlugin() {
  return {
    name: 'keel-live-view',
    setup(plugin) {
      plugin.onLoad({ filter: /[\\/]src[\\/]cli[\\/]liveView\.ts$/ }, () => ({
        contents: `export const loadLiveView = () => require('./${LIVE_VIEW_LOADER}')();`,
        loader: 'js',
      }));
      plugin.onResolve({ filter: new RegExp(`^\\./${LIVE_VIEW_LOADER.replace('.', '\\.')}$`) }, ({ path }) => ({ path, external: true }));
    },
  };
}

/**
 * What package.json exports for 'keel' and 'keel/testing', each the bundle's own part: an ES module re-exporting it by
 * name (dist/index.js, dist/testing.js), and a CommonJS one for require() (dist/index.cjs, dist/testing.cjs), which is
 * how a cached recipe gets 'keel' without starting the ES module loader.
 */
function writeFacades(directory) {
  const bundle = createRequire(import.meta.url)(`${directory}/keel.cjs`);
  for (const [name, part] of [
    ['index', 'library'],
    ['testing', 'testing'],
  ]) {
    const names = Object.keys(bundle[part]()).filter((exported) => exported !== 'default' && exported !== '__esModule');
    const esm = [
      "import { createRequire } from 'node:module';",
      `export const { ${names.join(', ')} } = createRequire(import.meta.url)('./keel.cjs').${part}();`,
      '',
    ].join('\n');
    writeFileSync(`${directory}/${name}.js`, esm);
    writeFileSync(`${directory}/${name}.cjs`, `module.exports = require('./keel.cjs').${part}();\n`);
  }
}

/** Code compiled through a code cache has no loader for import(), nor any import.meta: neither may reach the bundle. */
function assertCommonJsOnly(file) {
  const text = readFileSync(file, 'utf8');
  const found = /(?<![.\w$])import\s*\(|\bimport\.meta\b/.exec(text);
  if (found) throw new Error(`${file}: the bundle holds \`${found[0]}\` at offset ${found.index}, which cannot run in it`);
}

/** Builds beside dist/ and swaps it in, so a keel starting meanwhile never sees half a bundle. */
export async function buildKeel() {
  const staging = `dist.build-${process.pid}`;
  try {
    await buildInto(staging);
  } catch (error) {
    rmSync(`${root}/${staging}`, { recursive: true, force: true });
    throw error;
  }
  const retired = `${root}/dist.old-${process.pid}`;
  rmSync(retired, { recursive: true, force: true });
  try {
    renameSync(`${root}/dist`, retired);
  } catch {
    // no previous build
  }
  renameSync(`${root}/${staging}`, `${root}/dist`);
  rmSync(retired, { recursive: true, force: true });
}

async function buildInto(staging) {
  const validators = await standaloneValidators(staging);
  const commonJs = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Parsing is most of what loading a file costs, and minified code is half the text to parse. Names are kept:
    // errors are told apart by theirs.
    minify: true,
    keepNames: true,
    logLevel: 'warning',
  };
  // keel's own sources, which use import.meta.url.
  const keelSources = { define: { 'import.meta.url': MODULE_URL }, banner: { js: MODULE_URL_BANNER } };
  await build({
    ...commonJs,
    stdin: { contents: BUNDLE_ENTRY, resolveDir: root, sourcefile: 'keel-bundle-entry.js', loader: 'js' },
    ...keelSources,
    outfile: `${staging}/keel.cjs`,
    sourcemap: true,
    // Loaded only when needed (ssh2, recipe loading, typecheck), or with native parts.
    external: ['ssh2', 'cpu-features', 'jiti', 'esbuild', 'typescript'],
    plugins: [precompiledPlugin(validators, `${root}/${staging}/${VALIDATORS}`), liveViewPlugin()],
  });
  assertCommonJsOnly(`${root}/${staging}/keel.cjs`);
  // The start-up of the CLI: small, so compiled as usual.
  await build({
    ...commonJs,
    ...keelSources,
    entryPoints: ['src/cli/boot.ts'],
    outfile: `${staging}/boot.cjs`,
  });
  // The live view, only on a terminal: an ES module, since Ink is one with top-level await.
  await build({
    ...commonJs,
    entryPoints: { ui: 'src/ui/start.ts' },
    outdir: staging,
    format: 'esm',
    sourcemap: true,
    external: ['ink', 'ink-spinner', 'react', 'react/*'],
    banner: { js: BANNER },
  });
  writeFileSync(`${root}/${staging}/${LIVE_VIEW_LOADER}`, "module.exports = () => import('./ui.js');\n");
  // ssh2 as one file, for src/transport/ssh/ssh2Module.ts to evaluate with a code cache. Its native parts stay out.
  await build({
    ...commonJs,
    entryPoints: ['ssh2'],
    outfile: `${staging}/vendor/ssh2.cjs`,
    external: ['cpu-features', '*.node'],
  });
  writeFacades(`${root}/${staging}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildKeel();
