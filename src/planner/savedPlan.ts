/**
 * Saved plans: `keel plan --out` writes what apply would change on each host, with a fingerprint of every state it
 * read; `keel apply --plan` refuses the whole plan when the recipes, inventory or keel differ, and a host whose
 * state changed since, so that what runs is what was reviewed. Secrets never enter the file: changes are redacted
 * as in reports, and a resource that holds a secret is recorded without a fingerprint (even a checksum of a secret
 * would tell something of it); apply resolves its secret again from the inventory.
 */
import { createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import type { RunSummary } from '../engine/events.js';
import type { ReadState } from '../engine/reads.js';
import { diffResource } from '../engine/resource.js';
import type { HostTarget, StaleRead } from '../engine/target.js';
import { StringEnum } from '../schema/index.js';
import { containsSecret, redactDeep, type Secret } from '../shell/index.js';
import type { PlannedHost } from './targets.js';

export const PLAN_VERSION = 'keel.plan/v1';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', title: 'a SHA-256 in hex' });

const PlannedChange = Type.Object(
  {
    field: Type.String(),
    from: Type.Unknown(),
    to: Type.Unknown(),
    patch: Type.Optional(Type.String({ title: 'a unified diff, for text content' })),
  },
  { additionalProperties: false },
);

const PlannedResource = Type.Object(
  {
    id: Type.String(),
    outcome: StringEnum(['unchanged', 'drifted', 'pending', 'failed', 'skipped']),
    changes: Type.Array(PlannedChange),
    fingerprint: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        title: 'per field of the state read, a hash of its value; absent when the resource holds a secret',
      }),
    ),
    holdsSecret: Type.Optional(Type.Literal(true, { title: 'its secret is resolved again from the inventory at apply time' })),
  },
  { additionalProperties: false },
);

export const SavedPlanSchema = Type.Object(
  {
    version: Type.Literal(PLAN_VERSION),
    createdAt: Type.String({ format: 'date-time' }),
    keel: Type.String({ title: "keel's version" }),
    recipes: Type.Array(Type.Object({ file: Type.String(), sha256: Sha256 }, { additionalProperties: false })),
    inventory: Type.Object(
      { file: Type.String(), sha256: Sha256 },
      { additionalProperties: false, title: 'the resolved inventory, vars files included' },
    ),
    selection: Type.Object(
      {
        limit: Type.Optional(Type.String()),
        shard: Type.Optional(Type.String()),
        tags: Type.Optional(Type.Array(Type.String())),
        skipTags: Type.Optional(Type.Array(Type.String())),
        extraVarsSha256: Type.Optional(Sha256),
      },
      { additionalProperties: false },
    ),
    hosts: Type.Array(
      Type.Object(
        { host: Type.String(), resources: Type.Array(PlannedResource, { title: 'in recipe order' }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, title: 'keel saved plan, version 1' },
);

export type SavedPlan = Static<typeof SavedPlanSchema>;
export type PlanSources = Pick<SavedPlan, 'keel' | 'recipes' | 'inventory' | 'selection'>;

export class PlanRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanRefusedError';
  }
}

/** JSON with object keys sorted, so that the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Per top-level field of a state, a hash of its value; a state that could not be read is one field of its own. */
export function fingerprintOf(actual: unknown, secrets: readonly Secret[]): Record<string, string> {
  const clean = redactDeep(actual, secrets);
  if (clean === null || typeof clean !== 'object' || Array.isArray(clean)) return { '(state)': sha256(canonicalJson(clean ?? null)) };
  return Object.fromEntries(
    Object.entries(clean as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([field, value]) => [field, sha256(canonicalJson(value ?? null)).slice(0, 32)]),
  );
}

/** The plan of a run: every host of `summary`, each resource with its changes and the fingerprint of its read. */
export function savedPlan(
  summary: RunSummary,
  planned: readonly PlannedHost[],
  targets: readonly HostTarget[],
  sources: PlanSources,
): SavedPlan {
  const byName = new Map(planned.map((entry) => [entry.host.name, entry]));
  const secretsOf = new Map(targets.map((target) => [target.name, target.secrets ?? []]));
  return {
    version: PLAN_VERSION,
    createdAt: new Date().toISOString(),
    ...sources,
    hosts: summary.hosts.map((host) => {
      const instances = new Map(byName.get(host.host)?.resources.map((instance) => [instance.id, instance]) ?? []);
      return {
        host: host.host,
        resources: host.resources.map((result) => {
          const holdsSecret = containsSecret(instances.get(result.id)?.params);
          return {
            id: result.id,
            outcome: result.outcome === 'changed' ? 'drifted' : result.outcome,
            changes: result.changes.map(({ field, from, to, patch }) => ({ field, from, to, ...(patch !== undefined ? { patch } : {}) })),
            ...(holdsSecret
              ? { holdsSecret: true as const }
              : { fingerprint: fingerprintOf(result.actual, secretsOf.get(host.host) ?? []) }),
          };
        }),
      };
    }),
  };
}

/** The plan file's text: deterministic, so two plans of an unchanged fleet differ only in `createdAt`. */
export function planText(plan: SavedPlan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

/** Refuses the whole plan when what it was made from differs from now, or it is older than `maxAgeMs`. */
export function refuseChangedSources(plan: SavedPlan, now: PlanSources, maxAgeMs?: number): void {
  const problems: string[] = [];
  if (plan.keel !== now.keel) problems.push(`keel is ${now.keel}, the plan was made by ${plan.keel}`);
  const before = new Map(plan.recipes.map((recipe) => [recipe.file, recipe.sha256]));
  for (const recipe of now.recipes) {
    if (!before.has(recipe.file)) problems.push(`recipe ${recipe.file} is not in the plan`);
    else if (before.get(recipe.file) !== recipe.sha256) problems.push(`recipe ${recipe.file} changed since the plan`);
  }
  for (const file of before.keys())
    if (!now.recipes.some((recipe) => recipe.file === file)) problems.push(`recipe ${file} is in the plan but not given`);
  if (plan.inventory.sha256 !== now.inventory.sha256) problems.push(`the inventory ${now.inventory.file} changed since the plan`);
  for (const key of ['tags', 'skipTags', 'extraVarsSha256', 'shard'] as const) {
    if (canonicalJson(plan.selection[key] ?? null) !== canonicalJson(now.selection[key] ?? null))
      problems.push(
        `${key === 'extraVarsSha256' ? 'the extra vars (-e)' : `--${key === 'skipTags' ? 'skip-tags' : key}`} differ from the plan's`,
      );
  }
  if (maxAgeMs !== undefined) {
    const age = Date.now() - Date.parse(plan.createdAt);
    if (age > maxAgeMs)
      problems.push(`the plan is ${Math.round(age / 1000)} s old, more than --max-age allows (${Math.round(maxAgeMs / 1000)} s)`);
  }
  if (problems.length > 0) throw new PlanRefusedError(`the plan is refused: ${problems.join('; ')}`);
}

/**
 * What apply's first read must find on a host: the states the plan read. A resource that became in sync by itself
 * is not stale (apply finds nothing to do for it, and says so); any other difference is.
 */
export function expectedReadsOf(
  planHost: SavedPlan['hosts'][number],
  target: HostTarget,
): (states: ReadonlyMap<string, ReadState>) => StaleRead[] {
  const planned = new Map(planHost.resources.map((resource) => [resource.id, resource]));
  return (states) => {
    const stale: StaleRead[] = [];
    for (const instance of target.resources) {
      const entry = planned.get(instance.id);
      if (!entry) {
        stale.push({ id: instance.id, reason: `${instance.id} is not in the plan` });
        continue;
      }
      if (entry.fingerprint === undefined) continue;
      const read = states.get(instance.id);
      const now = fingerprintOf(read?.kind === 'known' ? read.state : null, target.secrets ?? []);
      const fields = [...new Set([...Object.keys(entry.fingerprint), ...Object.keys(now)])].filter(
        (field) => entry.fingerprint![field] !== now[field],
      );
      if (fields.length === 0) continue;
      const settled = entry.changes.length > 0 && read?.kind === 'known' && diffResource(instance, read.state).length === 0;
      if (!settled) stale.push({ id: instance.id, reason: `${instance.id}: ${fields.join(', ')} changed since the plan` });
    }
    return stale;
  };
}

/** Ids planned to change that apply found in sync: they became so by themselves, and are reported. */
export function settledSincePlan(plan: SavedPlan, summary: RunSummary): string[] {
  const planned = new Map(plan.hosts.map((host) => [host.host, host]));
  return summary.hosts.flatMap((host) =>
    host.resources
      .filter((result) => result.outcome === 'unchanged')
      .filter((result) => planned.get(host.host)?.resources.find((resource) => resource.id === result.id)?.changes.length)
      .map((result) => `${host.host}: ${result.id}`),
  );
}
