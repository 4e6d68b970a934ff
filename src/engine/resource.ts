/**
 * The resource contract: identity, schema, read (command + pure parser), diff and apply.
 * A resource type is one call to `defineResource`; the engine treats every type alike.
 */

import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { createTwoFilesPatch } from 'diff';
import { formatPath, Tag, type ValidationIssue, validate } from '../schema/index.js';
import type { ShellCommand } from '../shell/index.js';
import type { FieldChange } from './events.js';

export type { FieldChange } from './events.js';

export interface ReadOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** A current state that cannot be known yet (a unit that appears only once its package is installed). */
export class Unknowable {
  constructor(readonly reason: string) {}
}

export interface ReadSpec<State> {
  /** Read-only shell command. Several resources' commands are batched into one remote invocation. */
  command: ShellCommand;
  /** Pure function of the command's output. Throws when the output makes no sense. */
  parse(output: ReadOutput): State | Unknowable;
}

export interface ReadTogether {
  /** Read-only shell command. */
  command: ShellCommand;
  /**
   * Pure: the command's output as each instance's own read command would have printed it, in the order of the
   * parameters, for `read`'s own parser. Throws when the output makes no sense.
   */
  split(output: ReadOutput): ReadOutput[];
}

/**
 * `Field` names what diff reports and apply receives. It defaults to the keys of State, which is what the
 * generic diff (`desired`) produces; a `diff` of its own may name others, and they are inferred from it.
 */
export interface ResourceDefinition<Schema extends TSchema, State, Field extends string = keyof State & string> {
  /** Type name, the first half of every id: `sysctl[net.ipv4.ip_forward]`. */
  type: string;
  schema: Schema;
  /** Rules that span several parameters (a label that must start with its device's name), which JSON Schema cannot state. */
  check?(params: Static<Schema>): ValidationIssue[];
  /** The second half of the id: what makes this instance unique on a host. */
  key(params: Static<Schema>): string;
  read(params: Static<Schema>): ReadSpec<State>;
  /**
   * One read for all of a host's instances of this type, where their own reads would each start a program there
   * (every sysctl's `cat`). The engine uses it wherever it reads two instances or more at once: the host's first
   * read, and the re-read of the resources after a change; a change's verify is the instance's own read.
   */
  readTogether?(params: readonly Static<Schema>[]): ReadTogether;
  /**
   * The fields the parameters pin down. With it, diff comes for free: every listed field whose current
   * value differs becomes a change. Supply `diff` instead for richer comparisons.
   */
  desired?(params: Static<Schema>): Partial<State>;
  diff?(params: Static<Schema>, current: State): FieldChange<Field>[];
  /** Commands that remove exactly the given difference; run as one script that stops at the first error. */
  apply(params: Static<Schema>, current: State, changes: readonly FieldChange<Field>[]): ShellCommand[];
  /** Named actions other resources can notify, such as `restart`. */
  actions?: Record<string, (params: Static<Schema>) => ShellCommand[]>;
  /**
   * What changes of this type leave to do once per host, however many instances changed (systemd's
   * `daemon-reload`): run before the first later resource that requires a changed instance is changed, else
   * before the handlers at the end of the host's run.
   */
  settle?: Settle;
}

export interface Settle {
  /** How reports name it: `systemdUnit[nginx.service] daemon-reload`. */
  name: string;
  commands: ShellCommand[];
}

// biome-ignore lint/suspicious/noExplicitAny: the engine holds resources of every state type; each definition checks its own.
export type AnyResourceDefinition = ResourceDefinition<TSchema, any, string>;

export interface HandlerRef {
  resource: ResourceInstance;
  action: string;
}

export interface ResourceOptions {
  /** Actions to run once at the end of the host's run when this resource changes. */
  notify?: HandlerRef | HandlerRef[];
  /** Resources whose changes this one's state depends on; the plan reports it as pending on them. */
  requires?: ResourceInstance | ResourceInstance[];
  /** Names `--tags` and `--skip-tags` select it by, besides its recipe's tags and name. */
  tags?: string[];
}

export interface ResourceInstance<Params = unknown> {
  readonly id: string;
  readonly definition: AnyResourceDefinition;
  readonly params: Params;
  readonly notify: readonly HandlerRef[];
  readonly requires: readonly ResourceInstance[];
  readonly tags: readonly string[];
  /** Where the recipe declared it, for error messages. */
  readonly declaredAt?: string;
  /** A handler reference to one of this resource's actions: `notify: nginx.on('reload')`. */
  on(action: string): HandlerRef;
}

export interface ResourceFactory<Schema extends TSchema, State, Field extends string = keyof State & string> {
  (params: Static<Schema>, options?: ResourceOptions): ResourceInstance<Static<Schema>>;
  readonly type: string;
  readonly definition: ResourceDefinition<Schema, State, Field>;
}

export class ResourceParamsError extends Error {
  constructor(
    readonly type: string,
    readonly issues: { path: string; message: string }[],
    readonly declaredAt?: string,
  ) {
    super(
      `${declaredAt ? `${declaredAt}: ` : ''}invalid ${type} parameters: ${issues.map((i) => `${i.path || '(root)'} ${i.message}`).join('; ')}`,
    );
    this.name = 'ResourceParamsError';
  }
}

const ENGINE_FRAME = /[\\/]src[\\/](engine|resources|shell)[\\/]/;
/** Where this module runs from: src/engine, or dist/ when keel runs bundled (the CLI), where the resources live too. */
const OWN_DIRECTORY = dirname(fileURLToPath(import.meta.url)) + sep;

/** The first frame of a stack in the user's code (a recipe, a helper of theirs) as `file:line`, relative to the cwd. */
export function recipeLocation(stack: string | undefined): string | undefined {
  const frames = (stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));
  for (const frame of frames) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?$/.exec(frame.trim());
    if (
      match &&
      !ENGINE_FRAME.test(match[1]!) &&
      !match[1]!.replace(/^file:\/\//, '').startsWith(OWN_DIRECTORY) &&
      !match[1]!.includes('node_modules')
    ) {
      const file = match[1]!.replace(/^file:\/\//, '');
      const relative = file.startsWith(`${process.cwd()}/`) ? file.slice(process.cwd().length + 1) : file;
      return `${relative}:${match[2]}`;
    }
  }
  return undefined;
}

const TagList = Type.Array(Tag);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Strings with a lone UTF-16 surrogate: UTF-8 cannot carry them, so they could never reach a host as written. */
function unencodable(value: unknown, path: (string | number)[]): ValidationIssue[] {
  if (typeof value === 'string')
    return LONE_SURROGATE.test(value) ? [{ path, message: 'must be valid Unicode (it holds a lone surrogate)' }] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => unencodable(item, [...path, index]));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value).flatMap(([key, item]) => unencodable(item, [...path, key]));
  }
  return [];
}

function toList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function defineResource<Schema extends TSchema, State, Field extends string = keyof State & string>(
  definition: ResourceDefinition<Schema, State, Field>,
): ResourceFactory<Schema, State, Field> {
  if (!definition.desired && !definition.diff) {
    throw new Error(`resource type ${definition.type} needs either desired() or diff()`);
  }
  const factory = (params: Static<Schema>, options: ResourceOptions = {}): ResourceInstance<Static<Schema>> => {
    const declaredAt = recipeLocation(new Error().stack);
    const issues = validate(definition.schema, params);
    issues.push(...unencodable(params, []));
    if (issues.length === 0 && definition.check) issues.push(...definition.check(params));
    const tags = options.tags ?? [];
    issues.push(...validate(TagList, tags).map((issue) => ({ ...issue, path: ['options', 'tags', ...issue.path] })));
    if (issues.length > 0) {
      throw new ResourceParamsError(
        definition.type,
        issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
        declaredAt,
      );
    }
    const instance: ResourceInstance<Static<Schema>> = {
      id: `${definition.type}[${definition.key(params)}]`,
      definition: definition as AnyResourceDefinition,
      params,
      notify: toList(options.notify),
      requires: toList(options.requires),
      tags: [...tags],
      declaredAt,
      on(action: string): HandlerRef {
        if (!definition.actions?.[action]) {
          throw new Error(
            `${instance.id} has no action "${action}" (it has: ${Object.keys(definition.actions ?? {}).join(', ') || 'none'})`,
          );
        }
        return { resource: instance as ResourceInstance, action };
      },
    };
    return instance;
  };
  return Object.assign(factory, { type: definition.type, definition });
}

function isMultiline(value: unknown): value is string {
  return typeof value === 'string' && value.includes('\n');
}

/** A field change; multi-line text also carries a unified diff. */
export function fieldChange<Field extends string>(field: Field, from: unknown, to: unknown): FieldChange<Field> {
  const change: FieldChange<Field> = { field, from, to };
  if ((isMultiline(from) || isMultiline(to)) && (typeof from === 'string' || from === null) && typeof to === 'string') {
    change.patch = createTwoFilesPatch(`${field} (current)`, `${field} (desired)`, from ?? '', to, undefined, undefined, { context: 3 });
  }
  return change;
}

/** The generic diff: every desired field whose current value differs. */
export function diffFields<State>(desired: Partial<State>, current: State): FieldChange<keyof State & string>[] {
  const changes: FieldChange<keyof State & string>[] = [];
  for (const [field, want] of Object.entries(desired) as [keyof State & string, unknown][]) {
    if (want === undefined) continue;
    const have = (current as Record<string, unknown>)[field];
    if (!isDeepStrictEqual(have, want)) changes.push(fieldChange(field, have ?? null, want));
  }
  return changes;
}

/** What the recipe wants of the instance, as reports show it. */
export function desiredOf(instance: ResourceInstance): unknown {
  return instance.definition.desired ? instance.definition.desired(instance.params) : instance.params;
}

export function diffResource(instance: ResourceInstance, current: unknown): FieldChange[] {
  const { definition, params } = instance;
  if (definition.diff) return definition.diff(params, current);
  return diffFields(definition.desired!(params), current);
}
