/**
 * The lab's preflight on a machine where its Debian packages are missing: a PATH that holds only some of
 * the programs lab/packages.txt names. With --no-install it stops with one apt-get line, whose packages are
 * those of the list (as .ci/run reads it, with bash) less the ones found, and no stack trace.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabPackage, PACKAGE_LIST, parsePackageList, readPackageList } from '../../lab/preflight.js';
import { REPO } from '../support/cli.js';

const TSX = join(REPO, 'node_modules/tsx/dist/cli.mjs');
/** Packages whose programs the fake PATH holds: these must not be in the apt-get line. */
const PRESENT = ['debootstrap', 'cpio', 'tmux'];

let scratch: string;
let bin: string;

/** The package names exactly as .ci/run reads them, by running its own line with bash. */
function packagesAsCiReadsThem(): string[] {
  const ciLine = readFileSync(join(REPO, '.ci/run'), 'utf8')
    .split('\n')
    .find((line) => line.startsWith('mapfile -t packages'));
  expect(ciLine).toBeDefined();
  const names = execFileSync('bash', ['-c', `${ciLine}\nprintf '%s\\n' "\${packages[@]}"`], { cwd: REPO, encoding: 'utf8' });
  return names.trim().split('\n');
}

function runLabScript(script: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [TSX, join(REPO, script), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { PATH: bin, HOME: scratch, NO_COLOR: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function aptLines(output: string): string[] {
  return output.split('\n').filter((line) => line.trim().startsWith('apt-get'));
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'keel-preflight-'));
  bin = join(scratch, 'bin');
  mkdirSync(bin);
  for (const name of PRESENT) {
    for (const program of readPackageList().find((pkg) => pkg.name === name)?.proofs ?? []) {
      symlinkSync('/bin/true', join(bin, program));
    }
  }
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the lab preflight', () => {
  it('reads the same package list as .ci/run, and every package says what proves it and why', () => {
    const packages = readPackageList();
    expect(packages.map((pkg) => pkg.name)).toEqual(packagesAsCiReadsThem());
    for (const name of ['debootstrap', 'qemu-system-x86', 'qemu-utils', 'systemd-container', 'openssh-server', 'arping', 'cpio', 'ansible'])
      expect(packages.map((pkg) => pkg.name)).toContain(name);
    for (const pkg of packages) expect(pkg.why.length).toBeGreaterThan(5);
  });

  it('with --no-install names the missing lab packages and the one apt-get line, and exits 1', () => {
    const run = runLabScript('lab/preflight.ts', ['--no-install']);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    // Packages proven by a file rather than a program (ca-certificates) are found whatever PATH says.
    const found = (pkg: LabPackage) => PRESENT.includes(pkg.name) || pkg.proofs.every((proof) => isAbsolute(proof) && existsSync(proof));
    const missing = readPackageList()
      .filter((pkg) => pkg.scope === 'lab' && !found(pkg))
      .map((pkg) => pkg.name);
    const expected = packagesAsCiReadsThem().filter((name) => missing.includes(name));
    expect(aptLines(run.stderr)).toEqual([`  apt-get install -y --no-install-recommends ${expected.join(' ')}`]);
    expect(run.stderr).toMatch(/^ {2}qemu-system-x86 +runs the director.*\(no qemu-system-x86_64\)$/m);
    expect(run.stderr).not.toMatch(/^ {2}debootstrap /m);
  });

  it('for the tests also asks for the packages only tests need', () => {
    const run = runLabScript('lab/preflight.ts', ['--for', 'test', '--no-install']);
    expect(run.code).toBe(1);
    const [line] = aptLines(run.stderr);
    expect(line?.trim().split(' ')).toEqual(expect.arrayContaining(['ansible', 'chromium']));
    expect(line?.trim().split(' ')).not.toContain('tmux');
  });

  it('stops npm run demo -- --no-install before anything else: exit 1, the apt-get line, no stack trace', () => {
    const run = runLabScript('lab/demo.ts', ['--no-install']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(aptLines(run.stderr)).toHaveLength(1);
    expect(aptLines(run.stderr)[0]).toContain(' qemu-system-x86 ');
    expect(run.stderr).not.toMatch(/command not found|^\s+at /m);
  });

  it('points at the line of a malformed package list', () => {
    expect(() => parsePackageList('# list\ndebootstrap lab debootstrap builds it\ncurl everywhere curl why\n', PACKAGE_LIST)).toThrow(
      `${PACKAGE_LIST}:3: expected "package lab|test program[,program] why", got: curl everywhere curl why`,
    );
  });
});
