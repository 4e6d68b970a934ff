/**
 * Every integration test file starts its labs under names of its own: two files sharing a name would tear down
 * each other's hosts when they run at once (startHosts first stops any lab of the same name).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const TEST_DIRECTORIES = ['test/integration', 'test/ui'];
/** The names the lab's own tools and the bench use: `npm run hosts` (dev), the LVS lab, `npm run bench`. */
const TAKEN = new Map([
  ['dev', 'lab/cliHosts.ts'],
  ['lvs', 'lab/lvsLab.ts'],
  ['bench', 'bench/run.ts'],
]);
const NAMED = [/\blab: '([a-z0-9-]+)'/g, /\buseLabHost\('([a-z0-9-]+)'/g, /\bopenLab\('([a-z0-9-]+)'/g, /'--lab', '([a-z0-9-]+)'/g];

function labNames(text: string): Set<string> {
  return new Set(NAMED.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!)));
}

describe('lab names in the tests', () => {
  it('are found where a test names its lab', () => {
    expect([...labNames("startHosts({ lab: 'a-b', count: 1 }); useLabHost('c', 'light'); openLab('d'); ['up', '--lab', 'e']")]).toEqual([
      'a-b',
      'c',
      'd',
      'e',
    ]);
  });

  it('belong to one test file each, and to none of the lab tools or the bench', () => {
    const owners = new Map<string, string[]>();
    for (const directory of TEST_DIRECTORIES) {
      for (const file of readdirSync(join(REPO, directory)).filter((name) => /\.test\.tsx?$/.test(name))) {
        for (const name of labNames(readFileSync(join(REPO, directory, file), 'utf8'))) {
          owners.set(name, [...(owners.get(name) ?? []), `${directory}/${file}`]);
        }
      }
    }
    expect(owners.size).toBeGreaterThan(30);
    const shared = [...owners].filter(([name, files]) => files.length > 1 || TAKEN.has(name));
    expect(shared.map(([name, files]) => `${name}: ${[...files, ...(TAKEN.has(name) ? [TAKEN.get(name)!] : [])].join(', ')}`)).toEqual([]);
  });
});
