/**
 * An Ansible inventory (INI or YAML) with the `group_vars/` and `host_vars/` beside it, as keel's inventory: the same
 * hosts, groups and merged vars `ansible-inventory --list` shows, with the connection variables as keel's settings.
 */
import { dirname, join } from 'node:path';
import { type GroupSpec, type HostSpec, type Inventory, type InventoryFormat, type InventorySpec, resolveInventory } from '../model.js';
import { mapConnectionVars } from './connection.js';
import { parseIni } from './ini.js';
import type { AnsibleSource } from './source.js';
import { varsFilesOf } from './varsFiles.js';
import { readAnsibleYaml } from './yaml.js';

export { looksLikeAnsibleYaml } from './yaml.js';

const PRIORITY = 'ansible_group_priority';

export function readAnsibleSource(file: string, text: string, format: Exclude<InventoryFormat, 'keel'>): AnsibleSource {
  const source = format === 'ansible-ini' ? parseIni(file, text) : readAnsibleYaml(file, text);
  // As Ansible reconciles: a host in no group but `all` is in `ungrouped`, and a host in another group is not.
  const grouped = new Set(
    [...source.groups.values()].filter((group) => group.name !== 'all' && group.name !== 'ungrouped').flatMap((group) => group.hosts),
  );
  const ungrouped = source.groups.get('ungrouped')!;
  ungrouped.hosts = [...source.hosts.keys()].filter((host) => !grouped.has(host));
  return source;
}

/** The inventory's spec: `all` as the base level, every other group (ungrouped only if it has something). */
export function ansibleSpec(file: string, source: AnsibleSource, format: Exclude<InventoryFormat, 'keel'>): InventorySpec {
  const directory = dirname(file);
  const groupVars = join(directory, 'group_vars');
  const hostVars = join(directory, 'host_vars');
  const all = source.groups.get('all')!;
  const groups = [...source.groups.values()]
    .filter((group) => group.name !== 'all')
    .map((group): GroupSpec => {
      const files = varsFilesOf(groupVars, group.name);
      const { [PRIORITY]: priority, ...vars } = group.vars.vars;
      return {
        name: group.name,
        hosts: group.hosts,
        children: group.children,
        priority: priority === undefined ? 1 : Number(priority),
        inline: { vars, locate: (path) => group.vars.locate(path) },
        files,
        at: group.at,
        childAt: (index) => group.childLines[index] ?? group.at,
      };
    })
    .filter(
      (group) =>
        group.name !== 'ungrouped' || group.hosts.length > 0 || group.files.length > 0 || Object.keys(group.inline!.vars).length > 0,
    );
  const hosts = [...source.hosts.values()].map(
    (host): HostSpec => ({ name: host.name, connection: {}, inline: host.vars, files: varsFilesOf(hostVars, host.name), at: host.at }),
  );
  return { file, format, all: { inline: all.vars, files: varsFilesOf(groupVars, 'all') }, groups, hosts };
}

/** Names the vars keel leaves unused in one line, each with the hosts it was set for. */
function unusedWarning(file: string, unused: Map<string, string[]>): string[] {
  if (unused.size === 0) return [];
  const list = [...unused.entries()].map(([name, hosts]) => {
    const shown = hosts.slice(0, 3).join(', ');
    return `${name} (${hosts.length > 3 ? `${shown} and ${hosts.length - 3} more` : shown})`;
  });
  return [`${file}: keel does not use these Ansible variables, and ignores them: ${list.join('; ')}`];
}

export function loadAnsibleInventory(file: string, text: string, format: Exclude<InventoryFormat, 'keel'>): Inventory {
  const resolved = resolveInventory(ansibleSpec(file, readAnsibleSource(file, text, format), format));
  const unused = new Map<string, string[]>();
  const hosts = resolved.hosts.map((host) => {
    const mapped = mapConnectionVars(host);
    for (const name of mapped.unused) unused.set(name, [...(unused.get(name) ?? []), host.name]);
    return { ...host, address: mapped.address ?? host.name, connection: mapped.connection, vars: mapped.vars };
  });
  return { ...resolved, hosts, warnings: unusedWarning(file, unused) };
}
