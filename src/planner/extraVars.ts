/**
 * Extra vars from the command line, taken as Ansible's `-e` takes them: `key=value` (several to an argument,
 * separated by spaces; each value a string, as Ansible documents), `@FILE` (YAML or JSON) and an inline YAML or
 * JSON object. They override every var of the inventory, and a later `-e` overrides an earlier one.
 */
import { readFileSync } from 'node:fs';
import { parseYaml as parseLocatedYaml, type YamlSource as SourceMap } from '../inventory/yamlSource.js';

type Path = (string | number)[];

export class ExtraVarsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExtraVarsError';
  }
}

/** Where one top-level extra var was given. */
interface Origin {
  /** `-e vip=…`, `-e {"vip": …}`: the value is left out, since it may be what must not be printed. */
  label: string;
  /** The file it was read from, which locates every value inside it. */
  source?: SourceMap;
  /** A key=value string that reads as another type in YAML (`8080`, `true`): typed JSON would have given that. */
  typedAs?: unknown;
}

export interface ExtraVars {
  vars: Record<string, unknown>;
  /** Where the value at a path came from: `extra vars (-e vip=…)`, or `vars.yaml:3:6` for a file. */
  locate(path: Path): string | undefined;
  /** For a key=value string the recipe wanted as another type: the -e that passes it typed. */
  typedHint(path: Path): string | undefined;
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SHOWN_ARGUMENT = 40;

function shown(argument: string): string {
  return argument.length <= SHOWN_ARGUMENT ? argument : `${argument.slice(0, SHOWN_ARGUMENT - 1)}…`;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits `a=1 b='two words'` into its pairs; quotes group and are removed, as a shell would. */
function splitPairs(argument: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let started = false;
  let quote: string | undefined;
  for (const char of argument) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started) tokens.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (quote !== undefined) throw new ExtraVarsError(`extra vars (-e ${shown(argument)}): a ${quote} quote is not closed`);
  if (started) tokens.push(current);
  return tokens;
}

/** What YAML would make of a bare string: `8080` a number, `true` a boolean; undefined when it stays a string. */
function typedReading(text: string): unknown {
  try {
    const { data } = parseLocatedYaml('-e', text);
    return typeof data === 'string' || data === null || typeof data === 'object' ? undefined : data;
  } catch {
    return undefined;
  }
}

function keyValuePairs(argument: string, into: Map<string, { value: unknown; origin: Origin }>): void {
  const tokens = splitPairs(argument);
  if (tokens.length === 0) throw new ExtraVarsError('extra vars (-e ""): empty; expected key=value, @FILE or a YAML/JSON object');
  for (const token of tokens) {
    const equals = token.indexOf('=');
    if (equals < 0) {
      const looksLikeFile = /^[./~]|\.(ya?ml|json)$/.test(token);
      throw new ExtraVarsError(
        looksLikeFile
          ? `extra vars (-e ${shown(token)}): a file of extra vars is written -e @${shown(token)}`
          : `extra vars (-e ${shown(token)}): expected key=value, @FILE, or a YAML/JSON object such as '{"vip": "192.168.9.100"}'`,
      );
    }
    const key = token.slice(0, equals);
    const value = token.slice(equals + 1);
    if (!VAR_NAME.test(key))
      throw new ExtraVarsError(`extra vars (-e ${shown(token)}): "${shown(key)}" is not a var name (letters, digits and _)`);
    const typed = typedReading(value);
    into.set(key, { value, origin: { label: `-e ${key}=…`, ...(typed === undefined ? {} : { typedAs: typed }) } });
  }
}

/** `where(key)` locates a key, `where()` the document. */
function mapping(data: unknown, where: (key?: string) => string): Record<string, unknown> {
  if (!isMapping(data)) throw new ExtraVarsError(`${where()}: extra vars must be a mapping of var names to values`);
  for (const key of Object.keys(data)) {
    if (!VAR_NAME.test(key)) throw new ExtraVarsError(`${where(key)}: "${shown(key)}" is not a var name (letters, digits and _)`);
  }
  return data;
}

function fromFile(argument: string, into: Map<string, { value: unknown; origin: Origin }>): void {
  const file = argument.slice(1);
  if (file === '') throw new ExtraVarsError('extra vars (-e @): the file name is missing');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ExtraVarsError(
      `extra vars (-e ${shown(argument)}): cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const { data, source } = parseLocatedYaml(file, text);
  const vars = mapping(data, (key) => source.locate(key === undefined ? [] : [key], true));
  for (const [key, value] of Object.entries(vars)) into.set(key, { value, origin: { label: `-e @${file}`, source } });
}

function inline(argument: string, into: Map<string, { value: unknown; origin: Origin }>): void {
  const label = `extra vars (-e ${shown(argument)})`;
  const { data } = parseLocatedYaml(label, argument);
  const vars = mapping(data, () => label);
  for (const [key, value] of Object.entries(vars)) into.set(key, { value, origin: { label: `-e {"${key}": …}` } });
}

export function parseExtraVars(argumentsGiven: readonly string[]): ExtraVars {
  const given = new Map<string, { value: unknown; origin: Origin }>();
  for (const argument of argumentsGiven) {
    const trimmed = argument.trim();
    if (trimmed.startsWith('@')) fromFile(trimmed, given);
    else if (trimmed.startsWith('{') || trimmed.startsWith('[')) inline(trimmed, given);
    else keyValuePairs(argument, given);
  }
  const origin = (path: Path): Origin | undefined => (path.length === 0 ? undefined : given.get(String(path[0]))?.origin);
  return {
    vars: Object.fromEntries([...given].map(([key, { value }]) => [key, value])),
    locate(path) {
      const from = origin(path);
      if (!from) return undefined;
      return from.source ? from.source.locate(path) : `extra vars (${from.label})`;
    },
    typedHint(path) {
      const from = origin(path);
      if (path.length !== 1 || from?.typedAs === undefined) return undefined;
      return `-e key=value gives a string; -e '${JSON.stringify({ [String(path[0])]: from.typedAs })}' gives a ${typeof from.typedAs}`;
    },
  };
}
