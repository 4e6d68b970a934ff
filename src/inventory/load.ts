/**
 * Loads an inventory: keel's own YAML or JSON (validated against inventory/schema.json), or an Ansible inventory in
 * INI or YAML, told apart by content. Every error is `file:line:col: field path: problem`.
 */
import { readFileSync } from 'node:fs';
import { formatPath, validate } from '../schema/index.js';
import { loadAnsibleInventory, looksLikeAnsibleYaml } from './ansible/index.js';
import { InventoryError } from './errors.js';
import { type GroupSpec, type HostSpec, type Inventory, type InventorySpec, resolveInventory, type VarLayer } from './model.js';
import { type InventoryFile, InventorySchema } from './schema.js';
import { type Path, parseYaml, type YamlSource } from './yamlSource.js';

export { InventoryError } from './errors.js';
export type { Inventory, InventoryFormat, InventoryHost } from './model.js';

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InventoryError(`${file}: cannot read the inventory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export function loadInventory(file: string): Inventory {
  return inventoryFromText(file, readText(file));
}

/** An Ansible INI inventory: its first line that is neither blank nor a comment is a `[section]` or a host line. */
function looksLikeIni(text: string): boolean {
  const first = text.split(/\r?\n/).find((line) => line.trim() !== '' && !/^\s*[#;]/.test(line));
  if (first === undefined) return false;
  const line = first.trim();
  if (line.startsWith('[')) return /^\[[^\]]+\]\s*(?:[#;].*)?$/.test(line);
  // YAML starts with a document marker, a `key:` or a flow collection; a host line has none of them.
  return !/^(?:---|%|\{)/.test(line) && !/^("[^"]*"|'[^']*'|[^\s'"]+?)\s*:(?:\s|$)/.test(line);
}

/** `file` is where the text came from: errors name it, and an Ansible inventory's `group_vars/` are found beside it. */
export function inventoryFromText(file: string, text: string): Inventory {
  if (looksLikeIni(text)) return loadAnsibleInventory(file, text, 'ansible-ini');
  const { data, source } = parseYaml(file, text);
  if (looksLikeAnsibleYaml(data)) return loadAnsibleInventory(file, text, 'ansible-yaml');
  return resolveInventory(keelSpec(file, data, source));
}

/** The parsed inventory before its hosts are resolved, for tools that rewrite it. */
export function keelSpec(file: string, data: unknown, source: YamlSource): InventorySpec {
  const defaults = (data as { defaults?: { address?: unknown } } | null)?.defaults;
  if (typeof defaults === 'object' && defaults !== null && 'address' in defaults)
    throw new InventoryError(
      `${source.locate(['defaults', 'address'], true)}: defaults.address: an address belongs to one host; set hosts.NAME.address (a host without one is reached by its name)`,
    );
  const issues = validate(InventorySchema, data ?? {});
  if (issues.length > 0) {
    throw new InventoryError(
      issues
        .map(
          (issue) =>
            `${source.locate(issue.path, issue.message === 'is not a known key')}: ${formatPath(issue.path) || '(top level)'}: ${issue.message}`,
        )
        .join('\n'),
    );
  }
  return specOf(file, data as InventoryFile, source);
}

function layer(vars: Record<string, unknown> | undefined, at: Path, source: YamlSource): VarLayer | undefined {
  return vars ? { vars, locate: (path) => source.locate([...at, ...path]) } : undefined;
}

function specOf(file: string, data: InventoryFile, source: YamlSource): InventorySpec {
  const hostNames = Object.keys(data.hosts);
  const known = new Set(hostNames);
  const problems: string[] = [];
  const groups = new Map<string, GroupSpec>();
  for (const [name, entry] of Object.entries(data.groups ?? {})) {
    if (data.hosts[name] !== undefined) problems.push(`${source.locate(['groups', name], true)}: groups.${name}: has the name of a host`);
    (entry.hosts ?? []).forEach((member, index) => {
      if (!known.has(member))
        problems.push(
          `${source.locate(['groups', name, 'hosts', index])}: groups.${name}.hosts[${index}]: "${member}" is not a host of this inventory`,
        );
    });
    groups.set(name, {
      name,
      hosts: [...(entry.hosts ?? [])],
      children: [...(entry.children ?? [])],
      priority: entry.priority ?? 1,
      inline: layer(entry.vars, ['groups', name, 'vars'], source),
      files: [],
      at: source.locate(['groups', name], true),
      childAt: (index) => `${source.locate(['groups', name, 'children', index])}: groups.${name}.children[${index}]`,
    });
  }
  const members = new Map([...groups.values()].map((group) => [group.name, new Set(group.hosts)]));
  for (const [host, entry] of Object.entries(data.hosts)) {
    (entry?.groups ?? []).forEach((name, index) => {
      const at = source.locate(['hosts', host, 'groups', index]);
      const group = groups.get(name) ?? {
        name,
        hosts: [],
        children: [],
        priority: 1,
        files: [],
        at,
        childAt: () => at,
      };
      const listed = members.get(name) ?? new Set<string>();
      if (!listed.has(host)) group.hosts.push(host);
      listed.add(host);
      members.set(name, listed);
      groups.set(name, group);
    });
  }
  if (problems.length > 0) throw new InventoryError(problems.join('\n'));
  const hosts = hostNames.map((name): HostSpec => {
    const { vars, groups: _groups, address, ...connection } = data.hosts[name] ?? {};
    return {
      name,
      ...(address ? { address } : {}),
      connection: { ...data.defaults, ...connection },
      inline: layer(vars, ['hosts', name, 'vars'], source),
      files: [],
      at: source.locate(['hosts', name]),
    };
  });
  return { file, format: 'keel', all: { inline: layer(data.vars, ['vars'], source), files: [] }, groups: [...groups.values()], hosts };
}
