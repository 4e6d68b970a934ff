import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { quote, Secret, sh } from '../../src/shell/index.js';

const directory = mkdtempSync(join(tmpdir(), 'keel-quote-'));
const canary = join(directory, 'canary');

const hostile = [
  `; touch ${canary}`,
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `' ; touch ${canary}; '`,
  `" ; touch ${canary}; "`,
  `a\nb; touch ${canary}`,
  `\\'; touch ${canary} #`,
  `$HOME \${IFS} * ? [a] ~ & | > < !`,
  '',
  ' leading and trailing ',
  'ünïcödé ✓ 𝄞',
  `-n`,
];

function echoThroughShell(shell: string, value: string): string {
  return execFileSync(shell, ['-c', sh`printf '%s' ${value}`.text]).toString();
}

describe('the quoting primitive', () => {
  for (const shell of ['/bin/sh', '/bin/bash', '/bin/dash'].filter(existsSync)) {
    it(`passes hostile values literally through ${shell}`, () => {
      for (const value of hostile) expect(echoThroughShell(shell, value)).toBe(value);
      expect(existsSync(canary)).toBe(false);
    });
  }

  it('quotes every element of an array and inserts nested commands as they are', () => {
    const inner = sh`echo ${'a b'}`;
    expect(sh`${inner} && ls ${['x y', 'z']}`.text).toBe(`echo 'a b' && ls 'x y' z`);
  });

  it('refuses NUL bytes and secrets', () => {
    expect(() => quote('a\0b')).toThrow(/NUL/);
    expect(() => sh`echo ${new Secret('hunter2') as unknown as string}`).toThrow(/stdin/);
  });

  it('leaves plain words unquoted for readable commands', () => {
    expect(sh`sysctl -w ${'net.ipv4.ip_forward'}=${1}`.text).toBe('sysctl -w net.ipv4.ip_forward=1');
  });
});
