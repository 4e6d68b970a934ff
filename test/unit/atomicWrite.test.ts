import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atomicWriteScript } from '../../src/shell/index.js';

const runScript = (text: string): void => void execFileSync('/bin/sh', ['-c', `set -e\n${text}`]);

const PROGRAMS = ['base64', 'stat', 'chmod', 'chown', 'mv', 'rm', 'cat'];
/** Runs the script with each program it may start wrapped by a shell function that notes its name first. */
function programsStarted(text: string): string[] {
  const log = join(mkdtempSync(join(tmpdir(), 'keel-programs-')), 'log');
  const wrappers = PROGRAMS.map((name) => `${name}() { echo ${name} >> '${log}'; command ${name} "$@"; }`).join('\n');
  execFileSync('/bin/sh', ['-c', `${wrappers}\nset -e\n${text}`]);
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
}

describe('atomic writes', () => {
  it('write exact bytes (binary, no trailing newline) and leave no temporary file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-write-'));
    const bytes = Buffer.from([0, 1, 2, 255, 10, 39, 36, 96]);
    runScript(atomicWriteScript(join(directory, 'blob'), bytes).text);
    expect(readFileSync(join(directory, 'blob'))).toEqual(bytes);
    expect(readdirSync(directory)).toEqual(['blob']);
    expect(statSync(join(directory, 'blob')).mode & 0o777).toBe(0o644);
  });

  it('keep the mode of a file they replace unless told otherwise', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-write-'));
    const file = join(directory, 'shadow');
    writeFileSync(file, 'old');
    chmodSync(file, 0o640);
    runScript(atomicWriteScript(file, 'new\n').text);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    runScript(atomicWriteScript(file, 'newer\n', { mode: 0o600 }).text);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('newer\n');
  });

  it('leave the old file intact when the write fails', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-write-'));
    const file = join(directory, 'conf');
    writeFileSync(file, 'old');
    expect(() => runScript(atomicWriteScript(file, 'new', { owner: 'no-such-user-keel' }).text)).toThrow();
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(directory)).toEqual(['conf']);
  });

  it('write text exactly through the printf builtin, however it is quoted', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-write-'));
    const text = `it's $(touch ${directory}/ran) \`and\` "quoted" \\n %s\n__KEEL_CONTENT__\né ✓ no trailing newline`;
    const file = join(directory, 'text');
    expect(programsStarted(atomicWriteScript(file, text).text)).toEqual(['mv']);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(readdirSync(directory)).toEqual(['text']);
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it('start chmod only for bits a new file cannot be created with, and chown only for a file the shell does not own', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-write-'));
    const file = join(directory, 'private');
    writeFileSync(file, 'old');
    chmodSync(file, 0o600);
    expect(programsStarted(atomicWriteScript(file, 'new').text)).toEqual(['stat', 'mv']);
    expect(statSync(file).mode & 0o7777).toBe(0o600);
    chmodSync(file, 0o644);
    expect(programsStarted(atomicWriteScript(file, 'newer').text)).toEqual(['stat', 'mv']);
    expect(statSync(file).mode & 0o7777).toBe(0o644);
    chmodSync(file, 0o2755);
    expect(programsStarted(atomicWriteScript(file, 'newest').text)).toEqual(['stat', 'chmod', 'mv']);
    expect(statSync(file).mode & 0o7777).toBe(0o2755);
    expect(programsStarted(atomicWriteScript(file, 'given', { mode: 0o640 }).text)).toEqual(['mv']);
    expect(statSync(file).mode & 0o7777).toBe(0o640);
    expect(programsStarted(atomicWriteScript(file, 'run me', { mode: 0o750 }).text)).toEqual(['chmod', 'mv']);
    expect(statSync(file).mode & 0o7777).toBe(0o750);
    expect(readFileSync(file, 'utf8')).toBe('run me');
    expect(readdirSync(directory)).toEqual(['private']);
  });

  it('take the mode of the file a symlink at the path points to, and replace the symlink', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-write-'));
    writeFileSync(join(directory, 'real'), 'old');
    chmodSync(join(directory, 'real'), 0o640);
    symlinkSync('real', join(directory, 'link'));
    runScript(atomicWriteScript(join(directory, 'link'), 'new').text);
    expect(lstatSync(join(directory, 'link')).isFile()).toBe(true);
    expect(statSync(join(directory, 'link')).mode & 0o7777).toBe(0o640);
    expect(readFileSync(join(directory, 'real'), 'utf8')).toBe('old');
  });

  it('refuse a temporary name that exists, and leave what is there alone', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-write-'));
    const file = join(directory, 'conf');
    writeFileSync(file, 'old');
    const write = atomicWriteScript(file, 'new').text;
    const temporary = /^__keel_tmp=(\S+)$/m.exec(write)?.[1];
    expect(temporary).toMatch(new RegExp(`^${directory}/\\.keel\\.[0-9a-f]{12}$`));
    writeFileSync(join(directory, 'elsewhere'), 'theirs');
    symlinkSync('elsewhere', temporary!);
    expect(() => runScript(write)).toThrow();
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readFileSync(join(directory, 'elsewhere'), 'utf8')).toBe('theirs');
    expect(lstatSync(temporary!).isSymbolicLink()).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)('keep the owner of a file they replace', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-write-'));
    const file = join(directory, 'owned');
    writeFileSync(file, 'old');
    chownSync(file, 65534, 65534);
    expect(programsStarted(atomicWriteScript(file, 'new').text)).toEqual(['stat', 'chown', 'mv']);
    expect([statSync(file).uid, statSync(file).gid, readFileSync(file, 'utf8')]).toEqual([65534, 65534, 'new']);
  });
});
