// Bundles src/ into dist/ with esbuild. One bundle loads in tens of milliseconds; hundreds of small module
// files (typebox, ajv, yaml) took half a second, which every cron run would pay.

import { renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Builds beside dist/ and swaps it in, so a keel starting meanwhile never sees half a bundle. */
export async function buildKeel() {
  const staging = `dist.build-${process.pid}`;
  const retired = `${root}/dist.old-${process.pid}`;
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
    banner: { js: "import { createRequire as __keelRequire } from 'node:module'; const require = __keelRequire(import.meta.url);" },
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
