/**
 * `group_vars/` and `host_vars/` beside an inventory, found as Ansible finds them: for a group or host NAME, the first
 * of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json` that exists; a directory of that name is read whole, its files
 * (no extension or one of those, hidden and backup files skipped) in name order, its subdirectories likewise.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InventoryError } from '../errors.js';
import type { VarLayer } from '../model.js';
import { parseAnsibleYaml } from './vault.js';

const EXTENSIONS = ['.yml', '.yaml', '.json'];

function kind(path: string): 'file' | 'directory' | undefined {
  try {
    const stat = statSync(path);
    return stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

function filesIn(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => !name.startsWith('.') && !name.endsWith('~'))
    .sort()
    .flatMap((name) => {
      const path = join(directory, name);
      const extension = extname(name);
      const found = kind(path);
      if (found === 'directory' && extension === '') return filesIn(path);
      if (found === 'file' && (extension === '' || EXTENSIONS.includes(extension))) return [path];
      return [];
    });
}

function varsFile(path: string): VarLayer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InventoryError(`${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const { data, source } = parseAnsibleYaml(path, text);
  if (data === null || data === undefined) return { vars: {}, locate: () => `${path}:1:1` };
  if (typeof data !== 'object' || Array.isArray(data)) throw new InventoryError(`${path}:1:1: must be a mapping of vars`);
  return { vars: data as Record<string, unknown>, locate: (varPath) => source.locate(varPath) };
}

/** The vars files of one group or host, in the order Ansible merges them (later wins). */
export function varsFilesOf(directory: string, name: string): VarLayer[] {
  for (const extension of ['', ...EXTENSIONS]) {
    const path = join(directory, name + extension);
    const found = kind(path);
    if (found === 'directory') return filesIn(path).map(varsFile);
    if (found === 'file') return [varsFile(path)];
  }
  return [];
}
