/** What an Ansible inventory file declares, INI or YAML alike, before `group_vars/` and `host_vars/` are added. */
import type { VarLayer } from '../model.js';
import type { Path } from '../yamlSource.js';

/** Vars set one key at a time, possibly from several places: each key remembers where it was last set. */
export class KeyedVars implements VarLayer {
  readonly vars: Record<string, unknown> = {};
  private readonly where = new Map<string, (rest: Path) => string>();

  constructor(private readonly fallback: string) {}

  set(key: string, value: unknown, locate: (rest: Path) => string): void {
    this.vars[key] = value;
    this.where.set(key, locate);
  }

  locate(path: Path): string {
    const [key, ...rest] = path;
    return this.where.get(String(key))?.(rest) ?? this.fallback;
  }
}

export interface AnsibleGroup {
  name: string;
  hosts: string[];
  children: string[];
  /** Where each child is named. */
  childLines: string[];
  vars: KeyedVars;
  at: string;
  comment?: string;
}

export interface AnsibleHost {
  name: string;
  vars: KeyedVars;
  at: string;
  comment?: string;
}

export class AnsibleSource {
  readonly groups = new Map<string, AnsibleGroup>();
  readonly hosts = new Map<string, AnsibleHost>();
  /** Comment lines at the top of the file. */
  header?: string;

  constructor(readonly file: string) {
    this.group('all', `${file}:1`);
    this.group('ungrouped', `${file}:1`);
  }

  group(name: string, at: string, comment?: string): AnsibleGroup {
    let group = this.groups.get(name);
    if (!group) {
      group = { name, hosts: [], children: [], childLines: [], vars: new KeyedVars(at), at, ...(comment ? { comment } : {}) };
      this.groups.set(name, group);
    }
    return group;
  }

  host(name: string, group: string, at: string, comment?: string): AnsibleHost {
    let host = this.hosts.get(name);
    if (!host) {
      host = { name, vars: new KeyedVars(at), at, ...(comment ? { comment } : {}) };
      this.hosts.set(name, host);
    }
    const members = this.groups.get(group)!.hosts;
    if (!members.includes(name)) members.push(name);
    return host;
  }

  addChild(parent: string, child: string, at: string): void {
    const group = this.groups.get(parent)!;
    if (group.children.includes(child)) return;
    group.children.push(child);
    group.childLines.push(at);
  }
}
