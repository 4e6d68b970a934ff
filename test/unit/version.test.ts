/** `keel --version` finds keel's package.json wherever its code sits: the source, the bundle or its chunks, an installed package. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/engine/version.js';

const REPO = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

describe('packageVersion', () => {
  it('reads the checkout’s version from the source, the bundle and the live view’s bundle beside it', () => {
    expect(packageVersion()).toBe(VERSION);
    expect(packageVersion(join(REPO, 'dist/keel.cjs'))).toBe(VERSION);
    expect(packageVersion(join(REPO, 'dist/ui.js'))).toBe(VERSION);
  });

  it('in an installed package takes keel’s package.json, not the project’s around it', () => {
    const project = mkdtempSync(join(tmpdir(), 'keel-version-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'site', version: '3.0.0' }));
    mkdirSync(join(project, 'node_modules/keel/dist/cli'), { recursive: true });
    writeFileSync(join(project, 'node_modules/keel/package.json'), JSON.stringify({ name: 'keel', version: '9.8.7' }));
    expect(packageVersion(join(project, 'node_modules/keel/dist/cli/main.js'))).toBe('9.8.7');
    expect(() => packageVersion(join(project, 'elsewhere/main.js'))).toThrow(/keel's package.json is not in any directory above/);
  });
});
