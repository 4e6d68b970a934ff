/** `keel new` writes files that compile; `keel typecheck` reports a misspelt parameter with the compiler's words. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keel, recipeProject } from '../support/cli.js';

describe('keel new and keel typecheck', () => {
  const project = recipeProject({});

  it('scaffolds a recipe and a resource that type-check', () => {
    expect(keel(['new', 'recipe', 'web'], { cwd: project })).toMatchObject({ code: 0, stdout: 'wrote recipes/web.ts\n' });
    expect(keel(['new', 'resource', 'hostsEntry'], { cwd: project })).toMatchObject({ code: 0, stdout: 'wrote resources/hostsEntry.ts\n' });
    const result = keel(['typecheck', 'recipes', 'resources'], { cwd: project });
    expect(result).toMatchObject({ code: 0, stdout: '2 files checked, 0 errors\n' });
  });

  it('never overwrites, and refuses unusable names', () => {
    expect(keel(['new', 'recipe', 'web'], { cwd: project })).toMatchObject({
      code: 1,
      stderr: 'keel new: recipes/web.ts exists already; keel new never overwrites\n',
    });
    expect(keel(['new', 'resource', '../evil'], { cwd: project }).code).toBe(1);
  });

  it('fails a recipe with a misspelt resource parameter, quoting the compiler', () => {
    const file = join(project, 'recipes/web.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('value: 2', 'valeu: 2'));
    const result = keel(['typecheck'], { cwd: project });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /recipes\/web\.ts\(\d+,\d+\): error TS2561: Object literal may only specify known properties, but 'valeu' does not exist .* Did you mean to write 'value'\?/,
    );
    expect(result.stdout).toBe('1 files checked, 1 errors\n');
  });
});
