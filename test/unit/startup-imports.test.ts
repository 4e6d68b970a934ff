/**
 * What `keel --version`, `keel --help` and a command load: the bundle's chunks they evaluate, named by the packages
 * bundled in them (the build's esbuild metafile, dist/meta.json, lists each chunk's inputs), and every module Node
 * resolves outside the bundle. A package that starts loading here costs every run of keel; one that stops is a win to keep.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KEEL, REPO, recipeProject } from '../support/cli.js';

/** The packages bundled into each chunk, by its path under dist/. */
function packagesByChunk(): Map<string, string[]> {
  const meta = JSON.parse(readFileSync(join(REPO, 'dist/meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const chunks = new Map<string, string[]>();
  for (const [output, { inputs }] of Object.entries(meta.outputs)) {
    const packages = Object.keys(inputs).flatMap((input) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? []);
    // The build writes into a staging directory that then becomes dist/.
    chunks.set(output.replace(/^[^/]+\//, ''), packages);
  }
  return chunks;
}

function packagesLoadedBy(args: string[], cwd = REPO): string[] {
  const chunks = packagesByChunk();
  const log = join(mkdtempSync(join(tmpdir(), 'keel-imports-')), 'imports');
  const hook = pathToFileURL(join(REPO, 'test/support/importLog.mjs')).href;
  const result = spawnSync(process.execPath, ['--import', hook, KEEL, ...args], {
    cwd,
    env: { ...process.env, KEEL_IMPORT_LOG: log },
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  const packages = new Set<string>();
  for (const url of readFileSync(log, 'utf8').trimEnd().split('\n')) {
    if (!url.startsWith('file:')) continue;
    const path = fileURLToPath(url);
    const outside = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    if (outside) packages.add(outside[1]!);
    else if (path.startsWith(join(REPO, 'dist/')))
      for (const name of chunks.get(path.slice(join(REPO, 'dist/').length)) ?? []) packages.add(name);
  }
  return [...packages].sort();
}

/** Evaluated by the help and by every command: the command modules import what their actions use. */
const EAGER = ['@sinclair/typebox', 'commander', 'diff', 'is-in-ci', 'p-limit', 'yaml', 'yocto-queue'];
/**
 * Loaded only by the runs that use them: SSH, schemas the build did not know (a recipe's vars), templates, HTML
 * reports, the live view, recipes, typecheck.
 */
const ON_DEMAND = ['ssh2', 'ajv', 'ssh-config', 'nunjucks', 'diff2html', 'ink', 'react', 'jiti', 'typescript'];

describe('what keel loads to start', () => {
  it('--help loads the same few packages as a command does, and none of those a run loads on demand', () => {
    for (const args of [['--help'], ['check', '--help'], ['help', 'apply']]) {
      const loaded = packagesLoadedBy(args);
      expect(loaded, args.join(' ')).toEqual(EAGER);
      expect(loaded.filter((name) => ON_DEMAND.includes(name))).toEqual([]);
    }
  });

  it('--version loads no command module, and so nothing but the command-line parser', () => {
    expect(packagesLoadedBy(['--version'])).toEqual(['commander']);
  });

  it('sees a package loaded on demand when a run does load it', () => {
    const project = recipeProject({
      'site.ts': "import { recipe } from 'keel';\nexport default recipe({ name: 'site', resources: () => [] });\n",
      'inventory.yaml': 'hosts:\n  web:\n    address: 127.0.0.1\n',
    });
    expect(packagesLoadedBy(['inventory', 'validate', '-i', 'inventory.yaml', 'site.ts'], project)).toContain('jiti');
  });
});
