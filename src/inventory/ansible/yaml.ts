/**
 * Ansible's YAML inventory, read as its `yaml` plugin reads it: top-level keys are groups (usually just `all`), each
 * with `hosts:` (host patterns, each with its vars), `children:` (groups, nested the same way) and `vars:`.
 */
import { InventoryError } from '../errors.js';
import type { Path, YamlSource } from '../yamlSource.js';
import { expandHostPattern } from './hostPattern.js';
import { AnsibleSource } from './source.js';
import { parseAnsibleYaml } from './vault.js';

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SECTIONS = ['hosts', 'children', 'vars'];

/** Keys of keel's own inventory: a mapping with only these is keel's, whatever its values. */
const KEEL_KEYS = new Set(['$schema', 'defaults', 'vars', 'groups', 'hosts']);

/** True for the shape of an Ansible YAML inventory: groups at the top, each a mapping of hosts, children and vars. */
export function looksLikeAnsibleYaml(data: unknown): boolean {
  if (!isMapping(data) || Object.keys(data).length === 0) return false;
  if ('all' in data || 'plugin' in data) return true;
  if (Object.keys(data).every((key) => KEEL_KEYS.has(key))) return false;
  return Object.values(data).every(
    (group) => group === null || (isMapping(group) && Object.keys(group).every((key) => SECTIONS.includes(key))),
  );
}

/**
 * The comment lines right above a key. Read from the text: the parser hands a comment between two entries to the
 * end of the entry before when that ends in an empty value, as host entries often do.
 */
function commentAbove(lines: string[], source: YamlSource, path: Path): string | undefined {
  const comment: string[] = [];
  for (let index = source.keyLine(path) - 2; index >= 0 && /^\s*#/.test(lines[index]!); index -= 1)
    comment.unshift(lines[index]!.trim().slice(1));
  return comment.length > 0 ? comment.join('\n') : undefined;
}

export function readAnsibleYaml(file: string, text: string): AnsibleSource {
  const { data, source: yaml } = parseAnsibleYaml(file, text);
  const source = new AnsibleSource(file);
  const lines = text.split(/\r?\n/);
  const commentBefore = (path: Path) => commentAbove(lines, yaml, path);
  // A comment at the top, before `all:`, is the file's: `all` itself has no entry in keel's inventory.
  const header = yaml.document.commentBefore ?? ('all' in (isMapping(data) ? data : {}) ? commentBefore(['all']) : undefined);
  if (header) source.header = header;
  if (!isMapping(data)) throw new InventoryError(`${file}:1:1: an Ansible YAML inventory is a mapping of groups`);
  if ('plugin' in data)
    throw new InventoryError(
      `${yaml.locate(['plugin'], true)}: is the configuration of an inventory plugin; keel reads static inventories only`,
    );

  const readGroup = (name: string, value: unknown, path: Path): void => {
    const at = yaml.locate(path, true);
    if (value !== null && !isMapping(value))
      throw new InventoryError(`${at}: group ${name}: must be a mapping of hosts, children and vars`);
    const comment = commentBefore(path);
    const group = source.group(name, at, comment);
    if (value === null) return;
    for (const [key, section] of Object.entries(value)) {
      const sectionPath = [...path, key];
      const where = yaml.locate(sectionPath, true);
      if (!SECTIONS.includes(key)) throw new InventoryError(`${where}: group ${name}: "${key}" is not hosts, children or vars`);
      if (section === null) continue;
      // Ansible takes `hosts: name` as `hosts: {name: }`.
      const entries: Mapping = typeof section === 'string' ? { [section]: null } : (section as Mapping);
      if (!isMapping(entries)) throw new InventoryError(`${where}: group ${name}: ${key} must be a mapping`);
      if (key === 'vars') {
        for (const [variable, item] of Object.entries(entries))
          group.vars.set(variable, item, (rest) => yaml.locate([...sectionPath, variable, ...rest]));
      } else if (key === 'children') {
        for (const [child, childValue] of Object.entries(entries)) {
          readGroup(child, childValue, [...sectionPath, child]);
          source.addChild(name, child, yaml.locate([...sectionPath, child], true));
        }
      } else {
        for (const [pattern, hostVars] of Object.entries(entries)) {
          const hostPath = [...sectionPath, pattern];
          const hostAt = yaml.locate(hostPath, true);
          if (hostVars !== null && !isMapping(hostVars))
            throw new InventoryError(`${hostAt}: host ${pattern}: must be a mapping of vars, or empty`);
          let expanded: { names: string[]; port?: number };
          try {
            expanded = expandHostPattern(pattern);
          } catch (error) {
            throw new InventoryError(`${hostAt}: ${(error as Error).message}`);
          }
          for (const hostName of expanded.names) {
            const host = source.host(hostName, name, hostAt, commentBefore(hostPath));
            if (expanded.port !== undefined) host.vars.set('ansible_port', expanded.port, () => hostAt);
            for (const [variable, item] of Object.entries(hostVars ?? {}))
              host.vars.set(variable, item, (rest) => yaml.locate([...hostPath, variable, ...rest]));
          }
        }
      }
    }
  };
  for (const [name, value] of Object.entries(data)) readGroup(name, value, [name]);
  return source;
}
