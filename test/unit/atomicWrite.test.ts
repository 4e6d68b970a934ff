import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atomicWriteScript } from '../../src/shell/index.js';

const runScript = (text: string): void => void execFileSync('/bin/sh', ['-c', `set -e\n${text}`]);

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
});
