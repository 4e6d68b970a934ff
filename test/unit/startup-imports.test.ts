/**
 * What `keel --version` and `keel --help` load: the bundle's chunks they evaluate, named by the packages bundled in
 * them (esbuild heads each bundled file with a `// …/node_modules/PACKAGE/…` comment), and every module Node resolves
 * outside the bundle. A package that starts loading here costs every run of keel; one that stops is a win to keep.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KEEL, REPO, recipeProject } from '../support/cli.js';

function packagesLoadedBy(args: string[], cwd = REPO): string[] {
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
      for (const [, name] of readFileSync(path, 'utf8').matchAll(/^\/\/ (?:\S*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\//gm))
        packages.add(name!);
  }
  return [...packages].sort();
}

/** Evaluated today by every command line: the command modules import what their actions use. */
const EAGER = [
  '@sinclair/typebox',
  'ajv',
  'ajv-formats',
  'commander',
  'diff',
  'fast-deep-equal',
  'fast-uri',
  'is-in-ci',
  'json-schema-traverse',
  'p-limit',
  'yaml',
  'yocto-queue',
];
/** Loaded only by the runs that use them: SSH, templates, HTML reports, the live view, recipes, typecheck. */
const ON_DEMAND = ['ssh2', 'ssh-config', 'nunjucks', 'diff2html', 'ink', 'react', 'jiti', 'typescript'];

describe('what keel loads to start', () => {
  it('--version and --help load the same few packages, and none of those a run loads on demand', () => {
    for (const args of [['--version'], ['--help'], ['check', '--help']]) {
      const loaded = packagesLoadedBy(args);
      expect(loaded, args.join(' ')).toEqual(EAGER);
      expect(loaded.filter((name) => ON_DEMAND.includes(name))).toEqual([]);
    }
  });

  it('sees a package loaded on demand when a run does load it', () => {
    const project = recipeProject({
      'site.ts': "import { recipe } from 'keel';\nexport default recipe({ name: 'site', resources: () => [] });\n",
      'inventory.yaml': 'hosts:\n  web:\n    address: 127.0.0.1\n',
    });
    expect(packagesLoadedBy(['inventory', 'validate', '-i', 'inventory.yaml', 'site.ts'], project)).toContain('jiti');
  });
});
