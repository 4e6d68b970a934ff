/**
 * What every inventory format reads into, and how hosts come out of it: groups nest, a host is a member of every
 * ancestor of its groups, and vars merge as Ansible merges them. From lowest to highest precedence: the `all` vars,
 * then each group's, ordered by depth (a parent before its children), then priority, then name, then the host's own.
 * Vars written in the inventory file come before those of `group_vars/` and `host_vars/` files at each of the three
 * levels (all, groups, host), as in Ansible.
 */
import { InventoryError } from './errors.js';
import type { ConnectionSettings } from './schema.js';
import type { Path } from './yamlSource.js';

export type InventoryFormat = 'keel' | 'ansible-ini' | 'ansible-yaml';

/** Vars written in one place, with where each value was written (`file:line:col`). */
export interface VarLayer {
  vars: Record<string, unknown>;
  locate(path: Path): string;
}

/** Vars of one level: those written in the inventory file, then those of files beside it. */
export interface VarSources {
  inline?: VarLayer;
  files: VarLayer[];
}

export interface GroupSpec extends VarSources {
  name: string;
  hosts: string[];
  children: string[];
  /** Ansible's `ansible_group_priority`: among groups of the same depth, a higher one wins. */
  priority: number;
  at: string;
  /** Where the group names its child at this index. */
  childAt(index: number): string;
}

export interface HostSpec extends VarSources {
  name: string;
  address?: string;
  connection: ConnectionSettings;
  at: string;
}

export interface InventorySpec {
  file: string;
  format: InventoryFormat;
  all: VarSources;
  /** In order of declaration. */
  groups: GroupSpec[];
  hosts: HostSpec[];
}

export interface InventoryHost {
  name: string;
  address: string;
  /** Every group the host is in, ancestors of its groups included, in order of declaration. */
  groups: string[];
  vars: Record<string, unknown>;
  connection: ConnectionSettings;
  /** Where a value of this host's merged vars was written: `inventory/lab.yaml:12:7`. */
  locateVar(path: Path): string | undefined;
}

export interface Inventory {
  file: string;
  format: InventoryFormat;
  hosts: InventoryHost[];
  /** Every group with all its hosts, those of its descendant groups included. */
  groups: Map<string, string[]>;
  /** Each group's own child groups. */
  children: Map<string, string[]>;
  /** Said once per run: what keel read but does not use. */
  warnings: string[];
}

/** Ansible's `ansible_group_priority` of a group that names none. */
export const DEFAULT_GROUP_PRIORITY = 1;

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Throws at the first child group that closes a cycle, naming the whole cycle. */
function refuseCycles(groups: Map<string, GroupSpec>): void {
  const done = new Set<string>();
  const visit = (name: string, trail: string[]): void => {
    if (done.has(name)) return;
    const group = groups.get(name)!;
    group.children.forEach((child, index) => {
      const loop = trail.indexOf(child);
      if (child === name || loop !== -1) {
        const cycle = [...(child === name ? [] : trail.slice(loop)), name, child];
        throw new InventoryError(`${group.childAt(index)}: groups form a cycle: ${cycle.join(' → ')}`);
      }
      visit(child, [...trail, name]);
    });
    done.add(name);
  };
  for (const name of groups.keys()) visit(name, []);
}

/** Distance from `all` by the longest way down: a group's vars override those of every ancestor. */
function depths(groups: Map<string, GroupSpec>): Map<string, number> {
  const parents = new Map<string, string[]>();
  for (const group of groups.values()) for (const child of group.children) parents.set(child, [...(parents.get(child) ?? []), group.name]);
  const depth = new Map<string, number>();
  const depthOf = (name: string): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const value = 1 + Math.max(0, ...(parents.get(name) ?? []).map(depthOf));
    depth.set(name, value);
    return value;
  };
  for (const name of groups.keys()) depthOf(name);
  return depth;
}

export function resolveInventory(spec: InventorySpec, warnings: string[] = []): Inventory {
  const groups = new Map(spec.groups.map((group) => [group.name, group]));
  for (const group of spec.groups)
    group.children.forEach((child, index) => {
      if (!groups.has(child)) throw new InventoryError(`${group.childAt(index)}: "${child}" is not a group of this inventory`);
    });
  refuseCycles(groups);
  const depth = depths(groups);

  const members = new Map<string, Set<string>>();
  const membersOf = (name: string): Set<string> => {
    const known = members.get(name);
    if (known) return known;
    const group = groups.get(name)!;
    const all = new Set([...group.hosts, ...group.children.flatMap((child) => [...membersOf(child)])]);
    members.set(name, all);
    return all;
  };
  const hostOrder = spec.hosts.map((host) => host.name);
  const groupHosts = new Map(spec.groups.map((group) => [group.name, hostOrder.filter((host) => membersOf(group.name).has(host))]));

  const hosts = spec.hosts.map((host): InventoryHost => {
    const memberOf = spec.groups.filter((group) => membersOf(group.name).has(host.name));
    const ordered = [...memberOf].sort(
      (a, b) => depth.get(a.name)! - depth.get(b.name)! || a.priority - b.priority || byCodePoint(a.name, b.name),
    );
    const layers: VarLayer[] = [
      ...levelLayers(spec.all),
      ...ordered.flatMap((group) => (group.inline ? [group.inline] : [])),
      ...ordered.flatMap((group) => group.files),
      ...levelLayers(host),
    ];
    const vars: Record<string, unknown> = {};
    const origin = new Map<string, VarLayer>();
    for (const layer of layers) {
      for (const [key, value] of Object.entries(layer.vars)) {
        vars[key] = value;
        origin.set(key, layer);
      }
    }
    return {
      name: host.name,
      address: host.address ?? host.name,
      groups: memberOf.map((group) => group.name),
      vars,
      connection: host.connection,
      locateVar(path) {
        const [head] = path;
        const layer = head === undefined ? undefined : origin.get(String(head));
        return layer ? layer.locate(path) : host.at;
      },
    };
  });
  return {
    file: spec.file,
    format: spec.format,
    hosts,
    groups: groupHosts,
    children: new Map(spec.groups.map((group) => [group.name, [...group.children]])),
    warnings,
  };
}

function levelLayers(level: VarSources): VarLayer[] {
  return [...(level.inline ? [level.inline] : []), ...level.files];
}
