#!/usr/bin/env node
// Runs the bundled CLI (src/cli/boot.ts). In a source checkout (one with the build script, which the package does
// not ship) the bundle is rebuilt first whenever src/ is newer than it, so a `git pull` never leaves a stale keel.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}/dist/keel.cjs`;
const buildScript = `${root}/scripts/build.mjs`;

function newestSource(directory) {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = `${directory}/${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const sourceTime = () => Math.max(newestSource(`${root}/src`), statSync(buildScript).mtimeMs);
if (existsSync(buildScript) && (!existsSync(bundle) || sourceTime() > statSync(bundle).mtimeMs)) {
  const { buildKeel } = await import('../scripts/build.mjs');
  await buildKeel();
}
const { startKeel } = createRequire(import.meta.url)(`${root}/dist/boot.cjs`);
// Exit as soon as the work is done: sockets still saying goodbye to their servers hold nothing keel needs.
process.exit(await startKeel(bundle, process.argv.slice(2)));
