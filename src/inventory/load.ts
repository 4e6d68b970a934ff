/**
 * Loads an inventory (YAML or JSON), validates it, and keeps enough of the source to say where any value
 * came from: every error is `file:line:col: field path: problem`.
 */
import { readFileSync } from 'node:fs';
import { type Document, isMap, isPair, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { formatPath, validate } from '../schema/index.js';
import { type ConnectionSettings, type InventoryFile, InventorySchema } from './schema.js';

type Path = (string | number)[];

export class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InventoryError';
  }
}

export interface InventoryHost {
  name: string;
  address: string;
  groups: string[];
  vars: Record<string, unknown>;
  connection: ConnectionSettings;
  /** Where a value of this host's merged vars was written: `inventory/lab.yaml:12:7`. */
  locateVar(path: Path): string | undefined;
}

export interface Inventory {
  file: string;
  hosts: InventoryHost[];
  groups: Map<string, string[]>;
}

/** Where each value of a parsed YAML (or JSON) document was written, as `file:line:col`. */
export class SourceMap {
  constructor(
    readonly file: string,
    private readonly document: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The position of a path; for a missing key, that of the nearest existing parent. */
  locate(path: Path, pointAtKey = false): string {
    for (let length = path.length; length >= 0; length -= 1) {
      const prefix = path.slice(0, length);
      const offset = pointAtKey && length === path.length ? this.keyOffset(prefix) : this.valueOffset(prefix);
      if (offset !== undefined) {
        const { line, col } = this.lines.linePos(offset);
        return `${this.file}:${line}:${col}`;
      }
    }
    return `${this.file}:1:1`;
  }

  private valueOffset(path: Path): number | undefined {
    const node = path.length === 0 ? this.document.contents : this.document.getIn(path, true);
    return (node as YamlNode | undefined)?.range?.[0];
  }

  private keyOffset(path: Path): number | undefined {
    const parent = path.length <= 1 ? this.document.contents : this.document.getIn(path.slice(0, -1), true);
    if (!isMap(parent)) return this.valueOffset(path);
    const pair = parent.items.find(
      (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(path[path.length - 1]),
    );
    return (pair?.key as YamlNode | undefined)?.range?.[0];
  }
}

/** Parses YAML (JSON is YAML) keeping positions; a syntax error throws InventoryError with `file:line:col`. */
export function parseLocatedYaml(file: string, text: string): { data: unknown; source: SourceMap } {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = new SourceMap(file, document, lines);
  const problem = document.errors[0];
  if (problem) {
    const { line, col } = lines.linePos(problem.pos[0]);
    throw new InventoryError(`${file}:${line}:${col}: ${problem.message.split('\n')[0]}`);
  }
  return { data: document.toJS(), source };
}

export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InventoryError(`${file}: cannot read the inventory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return inventoryFromText(file, text);
}

export function inventoryFromText(file: string, text: string): Inventory {
  const { data, source } = parseLocatedYaml(file, text);
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
  return build(file, data as InventoryFile, source);
}

function build(file: string, data: InventoryFile, source: SourceMap): Inventory {
  const hostNames = Object.keys(data.hosts);
  const groups = new Map<string, string[]>();
  const problems: string[] = [];
  for (const [group, entry] of Object.entries(data.groups ?? {})) {
    if (data.hosts[group] !== undefined)
      problems.push(`${source.locate(['groups', group], true)}: groups.${group}: has the name of a host`);
    (entry.hosts ?? []).forEach((member, index) => {
      if (!hostNames.includes(member))
        problems.push(
          `${source.locate(['groups', group, 'hosts', index])}: groups.${group}.hosts[${index}]: "${member}" is not a host of this inventory`,
        );
    });
    groups.set(group, [...(entry.hosts ?? [])]);
  }
  for (const [name, entry] of Object.entries(data.hosts)) {
    for (const group of entry?.groups ?? []) {
      const members = groups.get(group) ?? [];
      if (!members.includes(name)) members.push(name);
      groups.set(group, members);
    }
  }
  if (problems.length > 0) throw new InventoryError(problems.join('\n'));

  const hosts = hostNames.map((name): InventoryHost => {
    const entry = data.hosts[name] ?? {};
    const memberOf = [...groups.entries()].filter(([, members]) => members.includes(name)).map(([group]) => group);
    const layers: { vars: Record<string, unknown>; at: Path }[] = [
      { vars: data.vars ?? {}, at: ['vars'] },
      ...memberOf.map((group) => ({ vars: data.groups?.[group]?.vars ?? {}, at: ['groups', group, 'vars'] as Path })),
      { vars: entry.vars ?? {}, at: ['hosts', name, 'vars'] },
    ];
    const vars: Record<string, unknown> = {};
    const origin = new Map<string, Path>();
    for (const layer of layers) {
      for (const [key, value] of Object.entries(layer.vars)) {
        vars[key] = value;
        origin.set(key, [...layer.at, key]);
      }
    }
    const { vars: _vars, groups: _groups, ...connection } = entry;
    return {
      name,
      address: entry.address ?? name,
      groups: memberOf,
      vars,
      connection: { ...data.defaults, ...connection },
      locateVar(path) {
        const [head, ...rest] = path;
        const base = head === undefined ? undefined : origin.get(String(head));
        return base ? source.locate([...base, ...rest]) : source.locate(['hosts', name]);
      },
    };
  });
  return { file, hosts, groups };
}
