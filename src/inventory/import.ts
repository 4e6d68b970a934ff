/**
 * An Ansible inventory rewritten as keel's own: groups with their children and vars, hosts with their connection
 * settings, `group_vars/` and `host_vars/` folded in, comments kept where they were. The result is read back and
 * checked: where keel's order of merging would give a host another value than Ansible's, the host gets that var.
 */
import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isPair, isScalar, type YAMLMap } from 'yaml';
import { ansibleSpec, readAnsibleSource } from './ansible/index.js';
import { InventoryError } from './errors.js';
import { inventoryFromText, keelSpec } from './load.js';
import { type InventoryFormat, resolveInventory, type VarSources } from './model.js';
import type { ConnectionSettings } from './schema.js';
import { parseYaml } from './yamlSource.js';

function keelVars(sources: VarSources): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const layer of [...(sources.inline ? [sources.inline] : []), ...sources.files])
    for (const [key, value] of Object.entries(layer.vars)) if (!key.startsWith('ansible_')) merged[key] = value;
  return merged;
}

function nonEmpty(vars: Record<string, unknown>): { vars?: Record<string, unknown> } {
  return Object.keys(vars).length > 0 ? { vars } : {};
}

/** Settings every host shares go to `defaults`; the rest stay with their hosts. */
function sharedSettings(connections: ConnectionSettings[]): ConnectionSettings {
  const [first, ...rest] = connections;
  if (!first) return {};
  return Object.fromEntries(
    Object.entries(first).filter(([key, value]) =>
      rest.every((other) => isDeepStrictEqual((other as Record<string, unknown>)[key], value)),
    ),
  ) as ConnectionSettings;
}

function setCommentBefore(map: unknown, key: string, comment: string | undefined): void {
  if (!comment || !isMap(map)) return;
  const pair = (map as YAMLMap).items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
  if (pair && isScalar(pair.key)) pair.key.commentBefore = comment;
}

export interface ImportResult {
  yaml: string;
  warnings: string[];
}

/**
 * `schemaPath` is named in the `yaml-language-server` comment at the top, for editors. `file` names the inventory in
 * messages, and its directory is where `group_vars/` and `host_vars/` are looked for.
 */
export function importAnsibleInventory(file: string, text: string, schemaPath: string): ImportResult {
  const ansible = inventoryFromText(file, text);
  if (ansible.format === 'keel') throw new InventoryError(`${file}: is keel's own inventory already; there is nothing to import`);
  const format = ansible.format as Exclude<InventoryFormat, 'keel'>;
  const source = readAnsibleSource(file, text, format);
  const spec = ansibleSpec(file, source, format);
  const defaults = sharedSettings(ansible.hosts.map((host) => host.connection));

  const groups: Record<string, unknown> = {};
  for (const group of spec.groups) {
    const vars = keelVars(group);
    groups[group.name] = {
      ...(group.hosts.length > 0 ? { hosts: group.hosts } : {}),
      ...(group.children.length > 0 ? { children: group.children } : {}),
      ...(group.priority !== 1 ? { priority: group.priority } : {}),
      ...nonEmpty(vars),
    };
  }
  const hosts: Record<string, Record<string, unknown>> = {};
  for (const host of ansible.hosts) {
    const own = Object.fromEntries(Object.entries(host.connection).filter(([key]) => !(key in defaults))) as Record<string, unknown>;
    const hostSpec = spec.hosts.find((candidate) => candidate.name === host.name)!;
    hosts[host.name] = { ...(host.address !== host.name ? { address: host.address } : {}), ...own, ...nonEmpty(keelVars(hostSpec)) };
  }
  const data = {
    ...(Object.keys(defaults).length > 0 ? { defaults } : {}),
    ...nonEmpty(keelVars(spec.all)),
    ...(Object.keys(groups).length > 0 ? { groups } : {}),
    hosts,
  };

  // keel merges a group's inventory vars and its group_vars files as one level: settle every difference at the host.
  const label = `${file} as keel's inventory`;
  const written = new Document(data).toString();
  const { data: parsed, source: yaml } = parseYaml(label, written);
  const keel = resolveInventory(keelSpec(label, parsed, yaml));
  for (const host of ansible.hosts) {
    const rewritten = keel.hosts.find((candidate) => candidate.name === host.name)!;
    const settled = Object.entries(host.vars).filter(([key, value]) => !isDeepStrictEqual(rewritten.vars[key], value));
    if (settled.length === 0) continue;
    const entry = hosts[host.name]!;
    entry.vars = { ...(entry.vars as Record<string, unknown> | undefined), ...Object.fromEntries(settled) };
  }

  const document = new Document(data);
  document.commentBefore = [
    ` yaml-language-server: $schema=${schemaPath}`,
    ` Imported by keel inventory import from ${file}.`,
    source.header,
  ]
    .filter(Boolean)
    .join('\n');
  const groupsNode = document.get('groups', true);
  for (const group of source.groups.values()) setCommentBefore(groupsNode, group.name, group.comment);
  const hostsNode = document.get('hosts', true);
  for (const host of source.hosts.values()) setCommentBefore(hostsNode, host.name, host.comment);
  return { yaml: document.toString({ lineWidth: 0 }), warnings: ansible.warnings };
}
