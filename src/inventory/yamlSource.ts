/**
 * YAML read with its positions kept: a syntax error names the offending token's file:line:col, and any value of the
 * parsed data can be located afterwards.
 */
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Pair,
  parseDocument,
  type Tags,
  type YAMLMap,
  type Node as YamlNode,
} from 'yaml';
import { InventoryError } from './errors.js';

export type Path = (string | number)[];

export class YamlSource {
  /** The pairs of each mapping by key, built on first use: yaml's own lookup scans a mapping, and an inventory locates every host. */
  private readonly pairIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();

  constructor(
    readonly file: string,
    readonly document: Document,
    private readonly lines: LineCounter,
  ) {}

  /** `file:line:col` of a character offset. */
  at(offset: number): string {
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** The position of a path; for a missing key, that of the nearest existing parent. */
  locate(path: Path, pointAtKey = false): string {
    const offset = this.offsetOf(path, pointAtKey);
    return offset === undefined ? `${this.file}:1:1` : this.at(offset);
  }

  /** The line (from 1) a key is written on. */
  keyLine(path: Path): number {
    return this.lines.linePos(this.offsetOf(path, true) ?? 0).line;
  }

  private offsetOf(path: Path, pointAtKey: boolean): number | undefined {
    for (let length = path.length; length >= 0; length -= 1) {
      const prefix = path.slice(0, length);
      const offset = pointAtKey && length === path.length ? this.keyOffset(prefix) : this.valueOffset(prefix);
      if (offset !== undefined) return offset;
    }
    return undefined;
  }

  private valueOffset(path: Path): number | undefined {
    return (this.nodeAt(path) as YamlNode | undefined)?.range?.[0];
  }

  private keyOffset(path: Path): number | undefined {
    const parent = this.nodeAt(path.slice(0, -1));
    if (!isMap(parent)) return this.valueOffset(path);
    return (this.pairOf(parent, path[path.length - 1]!)?.key as YamlNode | undefined)?.range?.[0];
  }

  private nodeAt(path: Path): unknown {
    let node: unknown = this.document.contents;
    for (const key of path) {
      if (isMap(node)) node = this.pairOf(node, key)?.value;
      else if (isSeq(node)) node = node.items[Number(key)];
      else return undefined;
    }
    return node;
  }

  private pairOf(map: YAMLMap, key: string | number): Pair | undefined {
    let index = this.pairIndexes.get(map);
    if (index === undefined) {
      index = new Map();
      for (const item of map.items) {
        if (isPair(item) && isScalar(item.key) && !index.has(String(item.key.value))) index.set(String(item.key.value), item);
      }
      this.pairIndexes.set(map, index);
    }
    return index.get(String(key));
  }
}

/**
 * Where a syntax error really is. For a line indented deeper than the key before it, the parser reports the value
 * on the line above (the start of what it took for a multi-line key): the token at fault begins the next line.
 * Other errors may point at the indentation before a token rather than at the token.
 */
function offendingToken(text: string, code: string, start: number, end: number): { offset: number; message?: string } {
  const firstNonBlank = (from: number): number => {
    let offset = from;
    while (offset < text.length && (text[offset] === ' ' || text[offset] === '\t')) offset += 1;
    return offset;
  };
  if (code === 'MULTILINE_IMPLICIT_KEY') {
    const lineEnd = text.indexOf('\n', start);
    if (lineEnd !== -1 && lineEnd < end) {
      const offset = firstNonBlank(lineEnd + 1);
      const token = /^[^\s:]*/.exec(text.slice(offset))?.[0] ?? '';
      return { offset, message: `"${token}" is indented deeper than the key on the line above` };
    }
  }
  return { offset: text[start] === ' ' ? firstNonBlank(start) : start };
}

/**
 * Parses one YAML document, or throws an InventoryError at the first syntax error. `version: '1.1'` reads scalars as
 * Ansible's YAML loader does (`yes` is true, `0755` is octal).
 */
export function parseYaml(
  file: string,
  text: string,
  options: { version?: '1.1' | '1.2'; customTags?: Tags } = {},
): { data: unknown; source: YamlSource } {
  const lines = new LineCounter();
  const document = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    version: options.version ?? '1.2',
    ...(options.customTags ? { customTags: options.customTags } : {}),
  });
  const source = new YamlSource(file, document, lines);
  const problems = document.errors;
  if (problems.length > 0) {
    // An over-indented line is reported twice; the multi-line key's range is the one that reaches the token at fault.
    const problem = problems.find((candidate) => candidate.code === 'MULTILINE_IMPLICIT_KEY') ?? problems[0]!;
    const { offset, message } = offendingToken(text, problem.code, problem.pos[0], problem.pos[1]);
    throw new InventoryError(`${source.at(offset)}: ${message ?? problem.message.split('\n')[0]}`);
  }
  return { data: document.toJS(), source };
}
