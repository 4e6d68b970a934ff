/**
 * What `keel --version`, `keel --help` and a command load: the packages whose code runs inside the bundle
 * (dist/keel.cjs, where esbuild initializes each module on first use), found from V8's coverage of the run and the
 * bundle's source map, and every module Node resolves outside the bundle. A package that starts loading here costs
 * every run of keel; one that stops is a win to keep.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import Module, { SourceMap, type SourceMapPayload } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEEL, REPO, recipeProject } from '../support/cli.js';

const BUNDLE = join(REPO, 'dist/keel.cjs');

interface ScriptCoverage {
  url: string;
  functions: { ranges: { startOffset: number; count: number }[] }[];
}

/** Every evaluation of the bundle in the run V8's coverage was kept for. */
function bundleEvaluations(coverageDirectory: string): ScriptCoverage[] {
  const scripts = readdirSync(coverageDirectory).flatMap(
    (file) => (JSON.parse(readFileSync(join(coverageDirectory, file), 'utf8')) as { result: ScriptCoverage[] }).result,
  );
  return scripts.filter((script) => script.url === BUNDLE || script.url === pathToFileURL(BUNDLE).href);
}

/** The package each function that ran in the bundle comes from, by the bundle's source map. */
function packagesRunInBundle(coverageDirectory: string): Set<string> {
  const [bundle, ...again] = bundleEvaluations(coverageDirectory);
  expect(bundle, 'the run evaluated dist/keel.cjs').toBeDefined();
  expect(again, 'the run evaluated dist/keel.cjs once').toEqual([]);
  const text = readFileSync(BUNDLE, 'utf8');
  const lineStarts = [0];
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lineStarts.push(at + 1);
  const map = new SourceMap(JSON.parse(readFileSync(`${BUNDLE}.map`, 'utf8')) as SourceMapPayload);
  // The bundle is evaluated inside CommonJS's wrapper, which the offsets count.
  const wrapper = Module.wrap('').indexOf('{') + 1;
  const packages = new Set<string>();
  for (const { ranges } of bundle!.functions) {
    const [whole] = ranges;
    if (!whole || whole.count === 0 || whole.startOffset < wrapper) continue;
    const offset = whole.startOffset - wrapper;
    let line = lineStarts.length - 1;
    while (lineStarts[line]! > offset) line -= 1;
    const source = (map.findEntry(line, offset - lineStarts[line]!) as { originalSource?: string }).originalSource ?? '';
    const name = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source)?.[1];
    if (name) packages.add(name);
  }
  return packages;
}

function packagesLoadedBy(args: string[], cwd = REPO, scratch = mkdtempSync(join(tmpdir(), 'keel-imports-'))): string[] {
  const log = join(scratch, 'imports');
  const coverage = join(scratch, 'coverage');
  const hook = pathToFileURL(join(REPO, 'test/support/importLog.mjs')).href;
  const result = spawnSync(process.execPath, ['--import', hook, KEEL, ...args], {
    cwd,
    env: { ...process.env, KEEL_IMPORT_LOG: log, NODE_V8_COVERAGE: coverage, XDG_CACHE_HOME: join(scratch, 'cache') },
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  const packages = packagesRunInBundle(coverage);
  for (const url of readFileSync(log, 'utf8').trimEnd().split('\n')) {
    if (!url.startsWith('file:')) continue;
    const outside = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(fileURLToPath(url));
    if (outside) packages.add(outside[1]!);
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
  // In a checkout whose src/ is newer than the bundle, bin/keel.js first rebuilds it, with esbuild: not in a run measured.
  beforeAll(() => {
    expect(spawnSync(process.execPath, [KEEL, '--version']).status).toBe(0);
  }, 120_000);

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

  it('evaluates the bundle once, though the recipe imports keel: compiled by jiti, and from the recipe cache', () => {
    const project = recipeProject({
      'site.ts':
        "import { recipe, sysctl } from 'keel';\nexport default recipe({ name: 'site', resources: () => [sysctl({ key: 'net.ipv4.ip_forward', value: 1 })] });\n",
      'inventory.yaml': 'hosts:\n  web:\n    address: 127.0.0.1\n',
    });
    const scratch = mkdtempSync(join(tmpdir(), 'keel-imports-'));
    // packagesLoadedBy fails a run that evaluated the bundle twice.
    expect(packagesLoadedBy(['inventory', 'validate', '-i', 'inventory.yaml', 'site.ts'], project, scratch)).toContain('jiti');
    for (const kept of ['coverage', 'imports']) rmSync(join(scratch, kept), { recursive: true });
    packagesLoadedBy(['inventory', 'validate', '-i', 'inventory.yaml', 'site.ts'], project, scratch);
    // From the cache, only jiti's package.json is read, for its version in the cache key.
    expect(readFileSync(join(scratch, 'imports'), 'utf8')).not.toMatch(/\/node_modules\/jiti\/(?!package\.json)/);
  });

  it('sees a package loaded on demand when a run does load it', () => {
    const project = recipeProject({
      'site.ts': "import { recipe } from 'keel';\nexport default recipe({ name: 'site', resources: () => [] });\n",
      'inventory.yaml': 'hosts:\n  web:\n    address: 127.0.0.1\n',
    });
    expect(packagesLoadedBy(['inventory', 'validate', '-i', 'inventory.yaml', 'site.ts'], project)).toContain('jiti');
  });
});
