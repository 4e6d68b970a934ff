/** The inventory the lab writes names a `$schema` that exists beside it, or none. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSchemaBeside } from '../../lab/lvsLab.js';

let scratch: string;
let source: string;
let target: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'keel-lab-schema-'));
  mkdirSync(join(scratch, 'inventory'));
  mkdirSync(join(scratch, 'state'));
  source = join(scratch, 'inventory/lab.yaml');
  target = join(scratch, 'state/lab.yaml');
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the schema modeline of the inventory the lab writes', () => {
  it("copies the source's schema beside the written inventory, which names it", async () => {
    const schema = readFileSync(new URL('../../inventory/schema.json', import.meta.url), 'utf8');
    writeFileSync(join(scratch, 'inventory/schema.json'), schema);
    const text = await withSchemaBeside('# yaml-language-server: $schema=schema.json\n# the lab\nhosts: {}\n', source, target);
    expect(text).toBe('# yaml-language-server: $schema=schema.json\n# the lab\nhosts: {}\n');
    expect(readFileSync(join(scratch, 'state/schema.json'), 'utf8')).toBe(schema);
  });

  it('drops a modeline whose schema the source directory does not have', async () => {
    rmSync(join(scratch, 'state/schema.json'), { force: true });
    const text = await withSchemaBeside('# yaml-language-server: $schema=../nowhere.json\nhosts: {}\n', source, target);
    expect(text).toBe('hosts: {}\n');
    expect(existsSync(join(scratch, 'state/nowhere.json'))).toBe(false);
  });
});
