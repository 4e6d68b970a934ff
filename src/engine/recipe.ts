/** Recipes: typed TypeScript modules that turn a host's vars into an ordered list of resources. */
import type { Static, TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { Facts } from '../facts/model.js';
import { formatPath, Tag, type ValidationIssue, validate } from '../schema/index.js';
import { Secret } from '../shell/index.js';
import type { Transport } from '../transport/types.js';
import type { ResourceInstance } from './resource.js';
import type { HostRollout } from './target.js';

/** What a recipe may know about any host in the inventory. */
export interface HostInfo {
  name: string;
  address: string;
  groups: readonly string[];
}

export interface HostContext<Vars> extends HostInfo {
  vars: Vars;
  /** Hosts of the inventory matching a name, group or glob, in inventory order (e.g. the real servers). */
  hostsOf(pattern: string): HostInfo[];
}

/** A host a rollout runs commands on, reached when it first needs to be. */
export interface RolloutPeer extends HostInfo {
  connect(): Promise<Transport>;
}

/**
 * How a recipe's hosts leave service before their changes and rejoin it after, in a rolling apply (`--serial`).
 * A rollout module builds it (`lvsRollout`); the planner finds the hosts it names in the inventory.
 */
export interface RolloutDeclaration {
  /** The hosts whose commands take this one out and back (a load balancer's): a name, group or glob. */
  peers: string;
  /** The hosts that serve together with this one: a name, group or glob. A batch may not hold all of them. */
  pool: string;
  hooks(peers: readonly RolloutPeer[]): Omit<HostRollout, 'pool'>;
}

/** `host.facts`, there only for a recipe that declares `facts: true`: the type says so before any host is contacted. */
export type FactsOf<WithFacts extends boolean> = WithFacts extends true ? { readonly facts: Facts } : unknown;

export type ResourceList = readonly (ResourceInstance | readonly ResourceInstance[] | false | null | undefined)[];

export interface RecipeDefinition<VarsSchema extends TSchema, WithFacts extends boolean = false> {
  name: string;
  /**
   * Gather the host's facts before building its resources (one more round trip per host), and pass them as
   * `host.facts`.
   */
  facts?: WithFacts;
  /** Which hosts it applies to: a group, a host name or a glob. Default: every host. */
  hosts?: string;
  /**
   * Tags every resource it returns carries (included recipes' too), for `--tags` and `--skip-tags`; its name is
   * one already.
   */
  tags?: string[];
  /** The vars it takes, checked on every host before any is contacted. Default: none of its own (`Vars({})`). */
  vars?: VarsSchema;
  resources(host: HostContext<Static<VarsSchema>> & FactsOf<WithFacts>): ResourceList;
  /** How its hosts leave service and rejoin it around their changes, in a rolling apply. */
  rollout?(host: HostContext<Static<VarsSchema>>): RolloutDeclaration | undefined;
}

export interface Recipe<VarsSchema extends TSchema = TSchema, WithFacts extends boolean = boolean>
  extends RecipeDefinition<VarsSchema, WithFacts> {
  readonly kind: 'keel.recipe';
  vars: VarsSchema;
}

/** What a recipe without `vars` takes: no vars of its own, and the inventory's others pass through. */
const NO_VARS = Type.Object({}, { additionalProperties: true });

export function recipe<VarsSchema extends TSchema = typeof NO_VARS, WithFacts extends boolean = false>(
  definition: RecipeDefinition<VarsSchema, WithFacts>,
): Recipe<VarsSchema, WithFacts> {
  const issues = validate(Type.Array(Tag), definition.tags ?? []);
  if (issues.length > 0) {
    throw new Error(`recipe ${definition.name}: ${issues.map((issue) => `tags${formatPath(issue.path)} ${issue.message}`).join('; ')}`);
  }
  return { ...definition, vars: definition.vars ?? (NO_VARS as TSchema as VarsSchema), kind: 'keel.recipe' };
}

export function isRecipe(value: unknown): value is Recipe {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'keel.recipe';
}

/** Vars of a recipe that fail its schema, with a locator for where each value came from. */
export class RecipeVarsError extends Error {
  constructor(
    readonly recipe: string,
    readonly host: string,
    readonly issues: ValidationIssue[],
    locate: (path: (string | number)[]) => string | undefined,
  ) {
    super(
      issues
        .map((issue) => {
          const where = locate(issue.path);
          const field = `vars${issue.path.length ? '.' : ''}${formatPath(issue.path)}`;
          return `${where ? `${where}: ` : ''}${field}: ${issue.message} (recipe ${recipe}, host ${host})`;
        })
        .join('\n'),
    );
    this.name = 'RecipeVarsError';
  }
}

/** A deep copy of plain data; a Secret stays the same object (structuredClone would empty it). */
function copyKeepingSecrets<T>(value: T): T {
  if (value instanceof Secret || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyKeepingSecrets) as T;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, copyKeepingSecrets(item)])) as T;
}

/** Validates vars against a recipe's schema; defaults from the schema are filled into a copy. */
export function checkVars<VarsSchema extends TSchema>(
  target: Recipe<VarsSchema, boolean>,
  host: string,
  vars: Record<string, unknown>,
  locate: (path: (string | number)[]) => string | undefined = () => undefined,
): Static<VarsSchema> {
  const copy = copyKeepingSecrets(vars);
  const issues = validate(target.vars, copy);
  if (issues.length > 0) throw new RecipeVarsError(target.name, host, issues, locate);
  return copy as Static<VarsSchema>;
}

export function flattenResources(list: ResourceList): ResourceInstance[] {
  return list.flatMap((item) => (item ? (Array.isArray(item) ? item : [item as ResourceInstance]) : []));
}

/** Uses another recipe inside this one, with typed vars (by default the host's own). */
export function include<VarsSchema extends TSchema, WithFacts extends boolean>(
  included: Recipe<VarsSchema, WithFacts>,
  host: HostContext<unknown> & FactsOf<WithFacts>,
  vars: Static<VarsSchema> = host.vars as Static<VarsSchema>,
): ResourceInstance[] {
  const checked = checkVars(included, host.name, vars as Record<string, unknown>);
  return flattenResources(included.resources({ ...host, vars: checked }));
}

/** Recipe vars that are open to other keys: several recipes read the same inventory vars. */
export function Vars<Properties extends Parameters<typeof Type.Object>[0]>(properties: Properties) {
  // Without this, a type misspelt in a recipe run untyped (undefined) crashes deep in the validator's compiler.
  for (const [name, schema] of Object.entries(properties as Record<string, unknown>))
    if (typeof schema !== 'object' || schema === null)
      throw new TypeError(`Vars: ${name} is given ${String(schema)}, not a schema: is its type spelt as keel exports it?`);
  return Type.Object(properties, { additionalProperties: true });
}
