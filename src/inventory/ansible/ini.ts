/**
 * Ansible's INI inventory, read as its `ini` plugin reads it: `[group]` sections of host lines (`name key=value…`,
 * split as shlex splits them), `[group:children]` naming groups declared anywhere in the file, `[group:vars]` with
 * one `key=value` a line, and host lines before any section in `ungrouped`. Values are typed as `ast.literal_eval`
 * types them.
 */
import { InventoryError } from '../errors.js';
import { expandHostPattern } from './hostPattern.js';
import { literalEval, shlexSplit } from './python.js';
import { AnsibleSource } from './source.js';
import { refuseVaultText } from './vault.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#(.*))?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

/** A group named before it is declared: by `[name:vars]`, or as a child of other groups. */
interface Pending {
  at: string;
  state: 'vars' | 'children';
  parents: { name: string; at: string }[];
}

export function parseIni(file: string, text: string): AnsibleSource {
  const source = new AnsibleSource(file);
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state = 'hosts';
  let comments: string[] = [];
  let seenEntry = false;
  const takeComment = (): string | undefined => {
    const comment = comments.length > 0 ? comments.join('\n') : undefined;
    comments = [];
    return comment;
  };
  text.split(/\r?\n/).forEach((raw, index) => {
    const at = `${file}:${index + 1}`;
    const fail = (message: string): never => {
      throw new InventoryError(`${at}: ${message}`);
    };
    const line = raw.trim();
    if (line === '') {
      if (!seenEntry && comments.length > 0) source.header = takeComment();
      return;
    }
    if (line.startsWith('#') || line.startsWith(';')) {
      comments.push(line.slice(1));
      return;
    }
    seenEntry = true;
    const section = SECTION.exec(line);
    if (section) {
      group = section[1]!;
      state = section[2] ?? 'hosts';
      if (!['hosts', 'children', 'vars'].includes(state)) fail(`section [${group}:${state}] has an unknown type: ${state}`);
      const comment = [takeComment(), section[3]?.trim() ? section[3] : undefined].filter(Boolean).join('\n') || undefined;
      const declared = source.groups.has(group);
      if (!declared && state === 'vars' && !pending.has(group)) pending.set(group, { at, state: 'vars', parents: [] });
      source.group(group, at, comment);
      const waiting = pending.get(group);
      if (waiting && state !== 'vars') {
        if (waiting.state === 'children') addPendingChildren(source, group, pending);
        else pending.delete(group);
      }
      return;
    }
    if (line.startsWith('[') && line.endsWith(']'))
      fail(`invalid section "${line}": a section is [name], [name:children] or [name:vars], with no spaces`);
    if (state === 'hosts') {
      let split: { tokens: string[]; comment?: string };
      try {
        split = shlexSplit(line);
      } catch (error) {
        return fail(`cannot read the host line: ${(error as Error).message}`);
      }
      const [pattern, ...assignments] = split.tokens;
      if (pattern === undefined) return;
      let expanded: { names: string[]; port?: number };
      try {
        expanded = expandHostPattern(pattern);
      } catch (error) {
        return fail((error as Error).message);
      }
      const comment = [takeComment(), split.comment?.trim() ? split.comment : undefined].filter(Boolean).join('\n') || undefined;
      const vars: [string, unknown][] = assignments.map((assignment) => {
        const equals = assignment.indexOf('=');
        if (equals === -1) fail(`expected key=value after the host name, got: ${assignment}`);
        const value = assignment.slice(equals + 1);
        refuseVaultText(value, at, assignment.slice(0, equals));
        return [assignment.slice(0, equals), literalEval(value)];
      });
      for (const name of expanded.names) {
        const host = source.host(name, group, at, comment);
        if (expanded.port !== undefined) host.vars.set('ansible_port', expanded.port, () => at);
        for (const [key, value] of vars) host.vars.set(key, value, () => at);
      }
    } else if (state === 'vars') {
      const equals = line.indexOf('=');
      if (equals === -1) fail(`expected key=value in [${group}:vars], got: ${line}`);
      const key = line.slice(0, equals).trim();
      const value = line.slice(equals + 1).trim();
      refuseVaultText(value, at, key);
      source.groups.get(group)!.vars.set(key, literalEval(value), () => at);
      takeComment();
    } else {
      const child = GROUP_NAME.exec(line)?.[1];
      if (child === undefined) return fail(`expected a group name in [${group}:children], got: ${line}`);
      takeComment();
      if (source.groups.has(child)) source.addChild(group, child, at);
      else {
        const waiting = pending.get(child);
        if (waiting) waiting.parents.push({ name: group, at });
        else pending.set(child, { at, state: 'children', parents: [{ name: group, at }] });
      }
    }
  });
  for (const [name, waiting] of pending) {
    if (waiting.state === 'vars')
      throw new InventoryError(`${waiting.at}: [${name}:vars] is for a group that is declared nowhere: ${name}`);
    throw new InventoryError(`${waiting.at}: [${waiting.parents.at(-1)?.name}:children] names a group that is declared nowhere: ${name}`);
  }
  if (comments.length > 0 && !seenEntry) source.header = takeComment();
  return source;
}

function addPendingChildren(source: AnsibleSource, group: string, pending: Map<string, Pending>): void {
  const waiting = pending.get(group)!;
  for (const parent of waiting.parents) {
    source.addChild(parent.name, group, parent.at);
    if (pending.get(parent.name)?.state === 'children') addPendingChildren(source, parent.name, pending);
  }
  pending.delete(group);
}
