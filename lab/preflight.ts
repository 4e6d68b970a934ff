/**
 * Before the lab or the tests start: which of the Debian packages in lab/packages.txt are missing here.
 * As root they are installed with apt-get; otherwise, or with --no-install, the exact apt-get line is
 * printed and the run stops. `tsx lab/preflight.ts [--for lab|test] [--no-install]`.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_LIST = fileURLToPath(new URL('packages.txt', import.meta.url));

export type PackageScope = 'lab' | 'test';

export interface LabPackage {
  name: string;
  scope: PackageScope;
  /** Programs looked up on the search path, or absolute paths of files the package installs. */
  proofs: string[];
  why: string;
  line: number;
}

/** Where programs are looked for: PATH, as the lab and the tests will run them. */
export const DEFAULT_SEARCH_PATH = (process.env.PATH ?? '').split(delimiter).filter(Boolean);

export function parsePackageList(text: string, source = PACKAGE_LIST): LabPackage[] {
  const packages: LabPackage[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [name, scope, proofs, ...why] = line.split(/\s+/);
    if (name === undefined || (scope !== 'lab' && scope !== 'test') || proofs === undefined || why.length === 0)
      throw new Error(`${source}:${index + 1}: expected "package lab|test program[,program] why", got: ${line}`);
    packages.push({ name, scope, proofs: proofs.split(','), why: why.join(' '), line: index + 1 });
  });
  return packages;
}

export function readPackageList(source = PACKAGE_LIST): LabPackage[] {
  return parsePackageList(readFileSync(source, 'utf8'), source);
}

function present(proof: string, searchPath: string[]): boolean {
  const candidates = isAbsolute(proof) ? [proof] : searchPath.map((dir) => join(dir, proof));
  return candidates.some((candidate) => {
    try {
      accessSync(candidate, isAbsolute(proof) ? constants.R_OK : constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface Missing {
  package: LabPackage;
  absent: string[];
}

/** The packages of `scope` (test includes lab) of which some program or file is absent. */
export function findMissing(packages: LabPackage[], scope: PackageScope, searchPath: string[] = DEFAULT_SEARCH_PATH): Missing[] {
  return packages
    .filter((pkg) => scope === 'test' || pkg.scope === 'lab')
    .map((pkg) => ({ package: pkg, absent: pkg.proofs.filter((proof) => !present(proof, searchPath)) }))
    .filter((missing) => missing.absent.length > 0);
}

export function aptGetInstallLine(missing: Missing[]): string {
  return `apt-get install -y --no-install-recommends ${missing.map((m) => m.package.name).join(' ')}`;
}

export function describeMissing(missing: Missing[]): string {
  const width = Math.max(...missing.map((m) => m.package.name.length));
  return missing.map((m) => `  ${m.package.name.padEnd(width)}  ${m.package.why} (no ${m.absent.join(', ')})`).join('\n');
}

export interface PreflightOptions {
  scope: PackageScope;
  install: boolean;
  searchPath?: string[];
  packages?: LabPackage[];
  isRoot?: boolean;
  write?: (text: string) => void;
}

/** 0 when everything is here (possibly after installing it), 1 with the apt-get line otherwise. */
export function preflight(options: PreflightOptions): number {
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const packages = options.packages ?? readPackageList();
  const missing = findMissing(packages, options.scope, options.searchPath);
  if (missing.length === 0) return 0;
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  const list = describeMissing(missing);
  if (!options.install || !isRoot) {
    const reason = options.install ? 'installing them needs root' : 'not installing them (--no-install)';
    write(
      `The lab needs Debian packages that are missing here; ${reason}:\n${list}\nInstall them as root with:\n  ${aptGetInstallLine(missing)}\n`,
    );
    return 1;
  }
  write(`Installing the Debian packages the lab needs and does not find here:\n${list}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-q'], aptGetInstallLine(missing).split(' ').slice(1)]) {
    write(`$ apt-get ${args.join(' ')}\n`);
    const run = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (run.status !== 0) {
      write(`apt-get ${args.join(' ')} exited ${run.status ?? run.signal}${run.error ? ` (${run.error.message})` : ''}\n`);
      return 1;
    }
  }
  const still = findMissing(packages, options.scope, options.searchPath);
  if (still.length > 0) {
    write(`Still missing after apt-get install:\n${describeMissing(still)}\n`);
    return 1;
  }
  return 0;
}

/** Stops this process when the preflight fails: for the lab's own entry points. */
export function preflightOrExit(scope: PackageScope, argv: string[] = process.argv): void {
  const install = !argv.includes('--no-install') && process.env.KEEL_NO_INSTALL !== '1';
  const code = preflight({ scope, install });
  if (code !== 0) process.exit(code);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const scopeIndex = process.argv.indexOf('--for');
  const scope = scopeIndex < 0 ? 'lab' : process.argv[scopeIndex + 1];
  if (scope !== 'lab' && scope !== 'test') {
    process.stderr.write(`preflight: --for takes lab or test, not ${scope}\n`);
    process.exit(1);
  }
  preflightOrExit(scope);
}
