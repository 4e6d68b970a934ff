/** `--limit` and recipe `hosts:` selectors: host names, group names and globs; `!pattern` excludes. */
import type { Inventory, InventoryHost } from './load.js';

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function matches(inventory: Inventory, host: InventoryHost, pattern: string): boolean {
  if (pattern === 'all' || pattern === '*') return true;
  const regexp = globToRegExp(pattern);
  if (regexp.test(host.name)) return true;
  return host.groups.some((group) => regexp.test(group)) || (inventory.groups.get(pattern)?.includes(host.name) ?? false);
}

/** Hosts selected by a comma-separated list of patterns, in inventory order. */
export function selectHosts(inventory: Inventory, selector: string): InventoryHost[] {
  const patterns = selector
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const include = patterns.filter((p) => !p.startsWith('!'));
  const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  return inventory.hosts.filter(
    (host) =>
      (include.length === 0 || include.some((p) => matches(inventory, host, p))) && !exclude.some((p) => matches(inventory, host, p)),
  );
}

/** Patterns that match nothing: almost always a typo worth stopping for. */
export function unmatchedPatterns(inventory: Inventory, selector: string): string[] {
  return selector
    .split(',')
    .map((p) => p.trim().replace(/^!/, ''))
    .filter((p) => p && !inventory.hosts.some((host) => matches(inventory, host, p)));
}
