/**
 * lineInFile: one line in a text file. Found by a regular expression (or as itself) and replaced, or inserted
 * after or before an anchor line, or at the end; with `state: 'absent'`, every matching line removed. The rest
 * of the file is left as it is, and the file keeps its mode and owner.
 */

import { Type } from '@sinclair/typebox';
import { createTwoFilesPatch } from 'diff';
import { defineResource, type FieldChange, fieldChange, Unknowable } from '../engine/resource.js';
import { AbsolutePath, StringEnum, type ValidationIssue } from '../schema/index.js';
import { atomicWriteScript, printTextFile, sh } from '../shell/index.js';

const Pattern = Type.String({ minLength: 1, maxLength: 1024, title: 'a regular expression' });

const LineInFileParams = Type.Object(
  {
    path: AbsolutePath,
    /** The exact line wanted. Optional only when removing lines by `regexp`. */
    line: Type.Optional(Type.String({ pattern: '^[^\\n\\r\\x00]*$', maxLength: 4096, title: 'one line' })),
    /** A JavaScript regular expression finding the line to replace (the last one matching) or the lines to remove. */
    regexp: Type.Optional(Pattern),
    /** Where a new line goes: after the last line matching this expression. */
    after: Type.Optional(Pattern),
    /** Where a new line goes: before the first line matching this expression. */
    before: Type.Optional(Pattern),
    /** Create the file when it is missing; otherwise a missing file is pending (another resource may create it). */
    create: Type.Optional(Type.Boolean()),
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
  },
  { additionalProperties: false },
);

export type LineInFileParams = typeof LineInFileParams.static;

export interface LineInFileState {
  /** The file's text, with a final newline; null when there is no file. */
  content: string | null;
}

function compile(source: string): RegExp {
  return new RegExp(source);
}

function issues(params: LineInFileParams): ValidationIssue[] {
  const found: ValidationIssue[] = [];
  for (const field of ['regexp', 'after', 'before'] as const) {
    const source = params[field];
    if (source === undefined) continue;
    try {
      compile(source);
    } catch (error) {
      found.push({ path: [field], message: `is not a valid regular expression (${(error as Error).message})` });
    }
  }
  if (params.after !== undefined && params.before !== undefined) found.push({ path: ['before'], message: 'cannot be given with after' });
  if (params.line === undefined && (params.state !== 'absent' || params.regexp === undefined)) {
    found.push({ path: ['line'], message: 'is required, unless state is absent and regexp finds the lines to remove' });
  }
  return found;
}

const splitLines = (content: string): string[] => (content === '' ? [] : content.replace(/\n$/, '').split('\n'));
const joinLines = (lines: string[]): string => lines.map((line) => `${line}\n`).join('');

function lastIndex(lines: string[], test: (candidate: string) => boolean): number {
  for (let index = lines.length - 1; index >= 0; index -= 1) if (test(lines[index]!)) return index;
  return -1;
}

/** Pure: the lines the resource is about — those its regexp (or its line itself) finds. */
function matcher(params: LineInFileParams): (candidate: string) => boolean {
  if (params.regexp === undefined) return (candidate) => candidate === params.line;
  const expression = compile(params.regexp);
  return (candidate) => expression.test(candidate) || candidate === params.line;
}

/** Pure: the file's content as the parameters want it. */
export function rewrite(content: string, params: LineInFileParams): string {
  const lines = splitLines(content);
  const matches = matcher(params);
  if (params.state === 'absent') return joinLines(lines.filter((candidate) => !matches(candidate)));
  const line = params.line!;
  const found = lastIndex(lines, matches);
  if (found >= 0) {
    lines[found] = line;
    return joinLines(lines);
  }
  const at = insertionPoint(lines, params);
  return joinLines([...lines.slice(0, at), line, ...lines.slice(at)]);
}

function insertionPoint(lines: string[], params: LineInFileParams): number {
  if (params.after !== undefined) {
    const after = compile(params.after);
    const anchor = lastIndex(lines, (candidate) => after.test(candidate));
    if (anchor >= 0) return anchor + 1;
  }
  if (params.before !== undefined) {
    const before = compile(params.before);
    const anchor = lines.findIndex((candidate) => before.test(candidate));
    if (anchor >= 0) return anchor;
  }
  return lines.length;
}

/** Read output: `file` and the file's lines, `absent`, or `other` for what is not a regular file. */
export function parseLineInFileRead(stdout: string, path: string): LineInFileState {
  const newline = stdout.indexOf('\n');
  const head = newline < 0 ? stdout : stdout.slice(0, newline);
  if (head === 'absent') return { content: null };
  if (head === 'other') throw new Error(`${path} is not a regular file`);
  if (head !== 'file') throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
  return { content: stdout.slice(newline + 1) };
}

export const lineInFile = defineResource({
  type: 'lineInFile',
  schema: LineInFileParams,
  check: issues,
  key: (params) => `${params.path}:${params.regexp ?? params.line}`,
  read(params) {
    const path = params.path;
    return {
      command: sh`if [ -f ${path} ]; then echo file; ${printTextFile(path)}; elif [ -e ${path} ]; then echo other; else echo absent; fi`,
      parse(output) {
        const state = parseLineInFileRead(output.stdout, path);
        if (state.content === null && params.state !== 'absent' && !params.create) {
          return new Unknowable(`${path} does not exist (set create to create it)`);
        }
        return state;
      },
    };
  },
  diff(params, current): FieldChange<'line'>[] {
    if (current.content === null && params.state === 'absent') return [];
    const before = current.content ?? '';
    const after = rewrite(before, params);
    if (current.content !== null && after === before) return [];
    const matches = matcher(params);
    const lines = splitLines(before);
    const from = lines[lastIndex(lines, matches)] ?? null;
    const change = fieldChange('line', from, params.state === 'absent' ? null : params.line!);
    return [{ ...change, patch: createTwoFilesPatch(params.path, params.path, before, after, undefined, undefined, { context: 3 }) }];
  },
  apply(params, current) {
    return [atomicWriteScript(params.path, rewrite(current.content ?? '', params))];
  },
});
