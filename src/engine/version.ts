import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * keel's own package.json, found by walking up from this module: the bundle may put this code in dist/ or a chunk
 * of it, tsx runs it from src/cli/, and an installed package sits under node_modules/keel/. The name is checked so
 * that a project's own package.json above an unexpected layout is never taken for keel's.
 */
function keelManifest(from: string): { root: string; version: string } {
  for (let directory = dirname(from); ; directory = dirname(directory)) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'keel' && typeof manifest.version === 'string') return { root: directory, version: manifest.version };
    }
    if (dirname(directory) === directory) throw new Error(`keel's package.json is not in any directory above ${from}`);
  }
}

export function packageVersion(from: string = fileURLToPath(import.meta.url)): string {
  return keelManifest(from).version;
}

/** The directory of keel's package, where the files it ships beside its code are (inventory/schema.json). */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  return keelManifest(from).root;
}
