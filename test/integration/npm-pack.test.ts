/**
 * The published package: `npm pack` carries keel and none of the lab, and the tarball, installed in a fresh
 * directory with its dependencies from the registry, runs `keel --help`, `keel plan` over the local connection
 * and `keel typecheck` (whose types come from the shipped sources). The site set-up of docs/drift.md, taken from
 * the doc's text, runs as written (as root, in a mount namespace of its own) and its `keel` checks a lab host.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import { REPO } from '../support/cli.js';
import { writeLabInventory } from '../support/labInventory.js';
import { runInSandbox } from '../support/sandbox.js';

/** Names only the lab's code spells; each is checked to be in lab/ first, so the list cannot go stale unnoticed. */
const LAB_ONLY = ['upLvsLab', 'openLvsLab', 'startHosts', 'ensureImage', 'ensureAptRepo'];
const ZX_IMPORT = /from ["']zx["']|import\(["']zx["']\)/;

let workspace: string;
let tarball: string;
let packed: string[];
let project: string;

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function keelInProject(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join(project, 'node_modules/.bin/keel'), args, {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'keel-npm-pack-'));
  const [info] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', workspace], { cwd: REPO, encoding: 'utf8', stdio: 'pipe' }),
  ) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = join(workspace, info!.filename);
  packed = info!.files.map((file) => file.path);

  project = join(workspace, 'project');
  mkdirSync(join(project, 'recipes'), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  writeFileSync(
    join(project, 'recipes/motd.ts'),
    `import { file, recipe, Vars } from 'keel';

export default recipe({
  name: 'motd',
  vars: Vars({}),
  resources: () => [file({ path: ${JSON.stringify(join(project, 'motd'))}, content: 'managed by keel\\n' })],
});
`,
  );
  writeFileSync(join(project, 'inventory.yaml'), 'hosts:\n  self: {}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: project, stdio: 'pipe' });
});

afterAll(() => {
  rmSync(workspace, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships the CLI, its bundle and the sources of its types, and nothing of the lab', () => {
    expect(packed).toContain('bin/keel.js');
    expect(packed).toContain('dist/keel.cjs');
    expect(packed).toContain('src/index.ts');
    expect(packed.filter((path) => path.startsWith('bin/'))).toEqual(['bin/keel.js']);
    expect(packed.filter((path) => /(^|\/)lab\//.test(path))).toEqual([]);

    const labSources = filesUnder(join(REPO, 'lab'))
      .map((path) => readFileSync(path, 'utf8'))
      .join('\n');
    for (const name of LAB_ONLY) expect(labSources).toContain(name);
    expect(labSources).toMatch(ZX_IMPORT);

    const unpacked = join(workspace, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
    const offending = filesUnder(unpacked).filter((path) => {
      const text = readFileSync(path, 'utf8');
      return LAB_ONLY.some((name) => text.includes(name)) || ZX_IMPORT.test(text);
    });
    expect(offending).toEqual([]);
  });

  it('runs keel --help from the installed package, with no lab command', () => {
    const help = keelInProject(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: keel /);
    expect(help.stdout).toMatch(/^ {2}plan \[options\] <recipes\.\.\.>/m);
    expect(help.stdout).not.toMatch(/^ {2}lab\b/m);
  });

  it('prints the version of the package it was installed from', () => {
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    expect(keelInProject(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('plans a recipe over the local connection: one file to write, exit 2, nothing changed', () => {
    const plan = keelInProject(['plan', 'recipes/motd.ts', '-i', 'inventory.yaml', '--connection', 'local']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    const lines = plan.stdout.trim().split('\n');
    expect(lines[0]).toBe(`self: file[${join(project, 'motd')}] will change: type: "absent" → "file", content: (content differs)`);
    expect(lines).toContain('+managed by keel');
    expect(lines.at(-1)).toMatch(/^plan: 1 host \(1 ok\); resources: 0 unchanged, 1 to change, 0 failed in .* s; exit 2$/);
    expect(readdirSync(project)).not.toContain('motd');
  });

  it('type-checks the recipe against the types it ships', () => {
    const typecheck = keelInProject(['typecheck', 'recipes']);
    expect(typecheck.stdout).toBe('1 files checked, 0 errors\n');
    expect(typecheck.code).toBe(0);
  });
});

const driftDoc = readFileSync(join(REPO, 'docs/drift.md'), 'utf8');
const siteSetup = /<!-- site-setup: run by test\/integration\/npm-pack\.test\.ts -->\n```sh\n([\s\S]+?)```/.exec(driftDoc)?.[1];

describe('the site set-up of docs/drift.md, run as written', () => {
  let lab: Lab;
  let files: string;

  beforeAll(async () => {
    lab = await startHosts({ lab: 'sitepack', count: 1, kind: 'light' });
    // Not under /tmp, which the sandbox replaces.
    files = mkdtempSync('/var/tmp/keel-site-files-');
    mkdirSync(join(files, 'recipes'));
    writeFileSync(
      join(files, 'recipes/motd.ts'),
      `import { file, recipe, Vars } from 'keel';

export default recipe({
  name: 'motd',
  vars: Vars({}),
  resources: () => [file({ path: '/root/site-motd', content: 'managed from the site\\n' })],
});
`,
    );
    writeLabInventory(join(files, 'inventory.yaml'), lab);
  });

  afterAll(async () => {
    await lab?.down();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it('installs keel from the packed tarball into /etc/keel, and that keel checks a lab host from there', () => {
    expect(siteSetup).toBeDefined();
    const run = runInSandbox(
      `${siteSetup}
echo "keel is $(command -v keel) -> $(readlink -f "$(command -v keel)")"
test ! -L /etc/keel/node_modules/keel && echo "keel installed from $(npm pkg get dependencies.keel)"
cp -R ${files}/. /etc/keel/
cd /etc/keel
keel check recipes/*.ts -i inventory.yaml
`,
      REPO,
    );
    expect(run.output).toMatch(/^keel is \/usr\/local\/bin\/keel -> \/etc\/keel\/node_modules\/keel\/bin\/keel\.js$/m);
    expect(run.output).toMatch(/^keel installed from "file:\.\.\/\.\.\/tmp\/keel-[\d.]+\.tgz"$/m);
    expect(run.output).toMatch(/^h1: file\[\/root\/site-motd\] drifted: type: "absent" → "file"/m);
    expect(run.code).toBe(2);
  });
});
