import { createRequire } from 'node:module';
import type { TSchema } from '@sinclair/typebox';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { createAjv, evaluateStandalone, schemaKey, standaloneSource } from './compile.js';
import { precompiledValidator } from './precompiled.js';

let runtimeAjv: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();
let validatorCache: CompiledValidatorCache | undefined;

/**
 * Where the code compiled for a schema the build did not know is kept between runs: given the schema's key
 * (which covers ajv's version too) and how to compile it, the code, from the store or just compiled, and the file
 * it is kept in, if any, to name its stack frames.
 */
export type CompiledValidatorCache = (key: string, compile: () => string) => { source: string; file?: string };

/** Keeps runtime-compiled validators in `cache` from now on, so that a later run evaluates them without loading ajv. */
export function cacheCompiledValidators(cache: CompiledValidatorCache): void {
  validatorCache = cache;
}

function compileAtRunTime(schema: TSchema, key: string): ValidateFunction {
  if (validatorCache) {
    const ajvVersion = (createRequire(import.meta.url)('ajv/package.json') as { version: string }).version;
    const { source, file } = validatorCache(`ajv ${ajvVersion}\0${key}`, () => standaloneSource(schema));
    return evaluateStandalone(source, file ?? `keel:validator/${key}`);
  }
  runtimeAjv ??= createAjv();
  return runtimeAjv.compile(schema);
}

/** A schema the build knew (inventory, resources, reports) has its validator generated already; others compile now. */
function validatorFor(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    const key = schemaKey(schema);
    const generated = precompiledValidator(key);
    validate = generated === undefined ? compileAtRunTime(schema, key) : evaluateStandalone(generated, `keel:validator/${key}`);
    compiled.set(schema, validate);
  }
  return validate;
}

/** One problem in a validated value, located by its path of keys. */
export interface ValidationIssue {
  path: (string | number)[];
  message: string;
}

const FORMAT_NAMES: Record<string, string> = {
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  hostname: 'a host name',
  uri: 'a URI',
  'date-time': 'a date and time (RFC 3339)',
};

function pathOf(error: ErrorObject): (string | number)[] {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
  if (error.keyword === 'additionalProperties') segments.push(String(error.params.additionalProperty));
  if (error.keyword === 'propertyNames') segments.push(String(error.params.propertyName));
  return segments;
}

function article(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function alternatives(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

const ANNOTATIONS = new Set(['type', 'title', 'description', 'default', 'examples', '$id', '$comment']);

/**
 * What a schema accepts, in words ("an IPv4 address", "\"rr\"", "a string or an integer"), or undefined. A type
 * names a schema only when nothing else constrains it: `-1` is an integer, whatever `minimum` says.
 */
function described(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const node = schema as {
    title?: string;
    const?: unknown;
    enum?: unknown[];
    format?: string;
    type?: string | string[];
    anyOf?: unknown[];
  };
  if (node.title) return node.title;
  if ('const' in node) return JSON.stringify(node.const);
  if (node.enum) return alternatives(node.enum.map((value) => JSON.stringify(value)));
  if (node.format && FORMAT_NAMES[node.format]) return FORMAT_NAMES[node.format];
  if (node.anyOf) return branchesDescribed(node.anyOf);
  if (node.type && Object.keys(node).every((key) => ANNOTATIONS.has(key)))
    return alternatives(([] as string[]).concat(node.type).map(article));
  return undefined;
}

function branchesDescribed(branches: readonly unknown[]): string | undefined {
  const words = branches.map(described);
  return words.every((word) => word !== undefined) ? alternatives([...new Set(words)]) : undefined;
}

const BOUNDS: Record<string, string> = { '>=': 'at least', '<=': 'at most', '>': 'more than', '<': 'less than' };

/** keel's words for each error ajv (with ajv-formats and keel's keyword) can report; a schema's title, where set, names what is wanted. */
function messageOf(error: ErrorObject): string {
  const title = (error.parentSchema as { title?: string } | undefined)?.title;
  const params = error.params as Record<string, unknown>;
  const limit = Number(params['limit']);
  switch (error.keyword) {
    case 'type':
      return `must be ${alternatives(([] as string[]).concat(params['type'] as string | string[]).map(article))}`;
    case 'format':
      return `must be ${FORMAT_NAMES[String(params['format'])] ?? `a valid ${String(params['format'])}`}`;
    case 'pattern':
      return title ? `must be ${title}` : `must match ${String(params['pattern'])}`;
    case 'enum':
      return `must be one of: ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params['allowedValue'])}`;
    case 'required':
      return `is missing required key "${String(params['missingProperty'])}"`;
    case 'dependencies':
      return `is missing key "${String(params['missingProperty'])}", which "${String(params['property'])}" needs`;
    case 'additionalProperties':
      return 'is not a known key';
    case 'propertyNames':
      return 'is not an allowed key';
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${plural(limit, 'character')}`;
    case 'maxLength':
      return `must be at most ${plural(limit, 'character')}`;
    case 'minItems':
      return limit === 1 ? 'must not be empty' : `must have at least ${plural(limit, 'item')}`;
    case 'maxItems':
    case 'additionalItems':
      return `must have at most ${plural(limit, 'item')}`;
    case 'minProperties':
      return limit === 1 ? 'must not be empty' : `must have at least ${plural(limit, 'key')}`;
    case 'maxProperties':
      return `must have at most ${plural(limit, 'key')}`;
    case 'uniqueItems': {
      // ajv names the pair in either order, depending on the items' type.
      const [earlier, later] = [Number(params['i']), Number(params['j'])].sort((a, b) => a - b);
      return `must not repeat an item ([${earlier}] and [${later}] are the same)`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${BOUNDS[String(params['comparison'])]} ${limit}`;
    case 'multipleOf':
      return `must be a multiple of ${String(params['multipleOf'])}`;
    case 'contains': {
      const item = described(error.schema);
      const matching = item ? ` that is ${item}` : ' that matches';
      const least = Number(params['minContains'] ?? 1);
      return params['maxContains'] === undefined
        ? `must have at least ${plural(least, 'item')}${matching}`
        : `must have ${least} to ${String(params['maxContains'])} items${matching}`;
    }
    case 'anyOf':
    case 'oneOf': {
      const wanted = title ?? branchesDescribed(error.schema as unknown[]);
      if (error.keyword === 'oneOf' && Array.isArray(params['passingSchemas']))
        return `is ambiguous: it matches more than one of the forms it may take${wanted ? ` (${wanted})` : ''}`;
      return wanted ? `must be ${wanted}` : 'does not match any of the forms it may take';
    }
    case 'not': {
      const excluded = described(error.schema);
      return excluded ? `must not be ${excluded}` : 'is a value that is not allowed here';
    }
    case 'false schema':
      return 'is not allowed here';
    case 'keelSecret':
      return `must be ${title ?? 'a secret'}`;
    default:
      return title ? `must be ${title}` : `is invalid (${error.keyword})`;
  }
}

function isUnion(error: ErrorObject): boolean {
  return error.keyword === 'anyOf' || error.keyword === 'oneOf';
}

/** The branch of `union` that `error` was found in, or undefined if it lies outside the union. */
function branchOf(error: ErrorObject, union: ErrorObject): number | undefined {
  if (error === union || !error.instancePath.startsWith(union.instancePath) || !error.schemaPath.startsWith(`${union.schemaPath}/`))
    return undefined;
  return Number(error.schemaPath.slice(union.schemaPath.length + 1).split('/')[0]);
}

const KIND_KEYWORDS = new Set(['type', 'const', 'enum', 'keelSecret']);

/**
 * The one branch of a failed union that the value is of the kind of (every other branch wants another type or
 * constant), whose own errors then say more than the union's summary; undefined when there is none or several.
 */
function chosenBranch(union: ErrorObject, errors: readonly ErrorObject[]): number | undefined {
  if (!Array.isArray(union.schema)) return undefined;
  const otherKind = new Set<number>();
  for (const error of errors) {
    const branch = branchOf(error, union);
    if (branch !== undefined && KIND_KEYWORDS.has(error.keyword) && error.schemaPath === `${union.schemaPath}/${branch}/${error.keyword}`)
      otherKind.add(branch);
  }
  const candidates = union.schema.map((_branch, index) => index).filter((index) => !otherKind.has(index));
  return candidates.length === 1 ? candidates[0] : undefined;
}

/**
 * Errors that only restate others: those of a union's branches other than its chosen one (or all of them, when the
 * union's summary is kept), the names checked by propertyNames and the items tried by contains (their summary
 * names them), and `if`, whose `then`/`else` branch reports what failed.
 */
function restates(error: ErrorObject, errors: readonly ErrorObject[], chosen: ReadonlyMap<ErrorObject, number | undefined>): boolean {
  if (error.keyword === 'if') return true;
  if ((error as ErrorObject & { propertyName?: string }).propertyName !== undefined) return true;
  if (error.schemaPath.includes('/contains/')) return true;
  if (isUnion(error) && chosen.get(error) !== undefined) return true;
  return errors.some((union) => {
    if (!isUnion(union)) return false;
    const branch = branchOf(error, union);
    return branch !== undefined && branch !== chosen.get(union);
  });
}

/**
 * Validates (and fills defaults into) a value, and says what is wrong in keel's words. A union's branches produce
 * errors each; where the value is of the kind of one branch only, that branch's are kept, else the union's summary.
 */
export function validate(schema: TSchema, value: unknown): ValidationIssue[] {
  const check = validatorFor(schema);
  if (check(value)) return [];
  const errors = check.errors ?? [];
  const chosen = new Map(errors.filter(isUnion).map((union) => [union, chosenBranch(union, errors)]));
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const error of errors) {
    if (restates(error, errors, chosen)) continue;
    const issue = { path: pathOf(error), message: messageOf(error) };
    const key = `${issue.path.join('.')}|${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join('');
}
