/**
 * Every `sh` block of the README and of docs/*.md, run as written from the checkout against the lab that
 * 00-lvs-dr left converged: as root under `env -i`, in a mount namespace of its own (test/support/sandbox.ts),
 * with this lab's state directory at /run/keel-lab/lvs, the path the docs name. Blocks the set-up stands for,
 * or that a named test runs itself, are left to those; the lab stays converged.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labDir } from '../../lab/hosts.js';
import { LVS_LAB } from '../../lab/lvsLab.js';
import { REPO } from '../support/cli.js';
import { runInSandbox } from '../support/sandbox.js';

const DOCUMENTED_LAB_DIR = '/run/keel-lab/lvs';
const BLOCK = /(?:<!-- ([^\n]*?) -->\n)?^```sh\n([\s\S]*?)^```$/gm;

interface ShellBlock {
  file: string;
  line: number;
  marker: string | undefined;
  script: string;
}

function shellBlocks(file: string): ShellBlock[] {
  const text = readFileSync(join(REPO, file), 'utf8');
  return [...text.matchAll(BLOCK)].map((match) => ({
    file,
    line: text.slice(0, match.index + (match[1] === undefined ? 0 : match[0].indexOf('```'))).split('\n').length,
    marker: match[1],
    script: match[2] ?? '',
  }));
}

const files = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const blocks = files.flatMap(shellBlocks);
const runByOthers = blocks.filter((block) => block.marker !== undefined);
const runHere = blocks.filter((block) => block.marker === undefined);

describe('the sh blocks of the README and docs', () => {
  it('are all run: here, or by the set-up or the test their marker names', () => {
    expect(runHere.length).toBeGreaterThanOrEqual(2);
    for (const block of runByOthers) {
      const where = `${block.file}:${block.line}`;
      if (block.marker === 'set-up') {
        expect(block.file, where).toBe('README.md');
        continue;
      }
      const test = /^[\w-]+: run by (test\/\S+\.test\.ts)$/.exec(block.marker ?? '')?.[1];
      expect(test, `${where}: marker "${block.marker}" names no test`).toBeDefined();
      expect(existsSync(join(REPO, test!)), where).toBe(true);
      expect(readFileSync(join(REPO, test!), 'utf8'), where).toContain(block.file);
    }
  });

  it.each(runHere.map((block) => [`${block.file}:${block.line}`, block] as const))('%s runs as written and exits 0', (_, block) => {
    const binds: [string, string][] = labDir(LVS_LAB) === DOCUMENTED_LAB_DIR ? [] : [[labDir(LVS_LAB), DOCUMENTED_LAB_DIR]];
    const run = runInSandbox(block.script, REPO, { binds, timeoutMs: 900_000 });
    expect(run.output).not.toMatch(/command not found|unreachable/);
    expect({ code: run.code, output: run.output }).toEqual({ code: 0, output: expect.any(String) });
  });
});
