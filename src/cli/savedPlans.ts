/** `plan --out`, `apply --plan`, `--max-age` and `keel show`: reviewing a plan, then applying exactly that plan. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT, emptyCounts, type HostSummary, type ResourceResult, type RunSummary } from '../engine/events.js';
import type { HostTarget } from '../engine/target.js';
import { packageVersion } from '../engine/version.js';
import type { Inventory } from '../inventory/load.js';
import {
  canonicalJson,
  expectedReadsOf,
  PlanRefusedError,
  type PlanSources,
  planText,
  refuseChangedSources,
  type SavedPlan,
  SavedPlanSchema,
  savedPlan,
  settledSincePlan,
  sha256,
} from '../planner/savedPlan.js';
import type { PlannedHost } from '../planner/targets.js';
import { textReporter } from '../report/text.js';
import { formatPath, validate } from '../schema/index.js';

export interface PlanFlags {
  limit?: string;
  shard?: { index: number; count: number };
  tags?: string[];
  skipTags?: string[];
  extraVars?: string[];
}

/** What a plan is made from, as it is now: keel, the recipes' and the resolved inventory's content, the selection. */
export function planSources(recipeFiles: readonly string[], inventory: Inventory, flags: PlanFlags): PlanSources {
  return {
    keel: packageVersion(),
    recipes: recipeFiles.map((file) => ({ file, sha256: sha256(readFileSync(file, 'utf8')) })),
    inventory: { file: inventory.file, sha256: sha256(canonicalJson(inventory.hosts)) },
    selection: {
      ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
      ...(flags.shard ? { shard: `${flags.shard.index}/${flags.shard.count}` } : {}),
      ...(flags.tags?.length ? { tags: flags.tags } : {}),
      ...(flags.skipTags?.length ? { skipTags: flags.skipTags } : {}),
      ...(flags.extraVars?.length ? { extraVarsSha256: sha256(canonicalJson(flags.extraVars)) } : {}),
    },
  };
}

export function readPlanFile(file: string): SavedPlan {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PlanRefusedError(`${file}: cannot read the plan: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const issues = validate(SavedPlanSchema, document);
  if (issues.length > 0)
    throw new PlanRefusedError(
      `${file}: not a keel plan (schema/plan.v1.json): ${formatPath(issues[0]!.path) || 'the document'} ${issues[0]!.message}`,
    );
  return document as SavedPlan;
}

const DURATION = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new PlanRefusedError(`--max-age ${JSON.stringify(text)}: a duration such as 90s, 30m, 4h or 1d`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/**
 * The plan an apply takes, refused as a whole when what it was made from changed. `--limit` may narrow the plan's
 * hosts, never widen them; without it, the plan's own selection holds.
 */
export function planForApply(
  file: string,
  recipeFiles: readonly string[],
  inventory: Inventory,
  flags: PlanFlags,
  maxAge?: string,
): SavedPlan {
  const plan = readPlanFile(file);
  const now = planSources(recipeFiles, inventory, { ...flags, limit: flags.limit ?? plan.selection.limit });
  refuseChangedSources(plan, now, maxAge === undefined ? undefined : parseDuration(maxAge));
  return plan;
}

/** Every target gets the plan's reads to expect; a selected host the plan does not hold refuses the whole run. */
export function expectPlannedReads(plan: SavedPlan, file: string, targets: HostTarget[]): HostTarget[] {
  const hosts = new Map(plan.hosts.map((host) => [host.host, host]));
  const outside = targets.filter((target) => !hosts.has(target.name)).map((target) => target.name);
  if (outside.length > 0)
    throw new PlanRefusedError(`${file} does not plan ${outside.join(', ')}: --limit may narrow a plan's hosts, never widen them`);
  return targets.map((target) => ({ ...target, expectedReads: expectedReadsOf(hosts.get(target.name)!, target) }));
}

export function writePlanFile(
  file: string,
  summary: RunSummary,
  planned: readonly PlannedHost[],
  targets: readonly HostTarget[],
  sources: PlanSources,
): void {
  writeFileSync(file, planText(savedPlan(summary, planned, targets, sources)));
}

/** Says which planned changes apply found already made: they became in sync by themselves. */
export function reportSettled(plan: SavedPlan, summary: RunSummary, write: (line: string) => void): void {
  for (const line of settledSincePlan(plan, summary)) write(`${line} was planned to change, and is already in sync: skipped`);
}

/** A saved plan as the plain view shows a plan: one line per change, and the diffs. */
function showPlan(plan: SavedPlan, write: (line: string) => void): number {
  const emit = textReporter({ write, diffs: true });
  const hosts: HostSummary[] = plan.hosts.map((host) => {
    const resources: ResourceResult[] = host.resources.map((resource) => ({
      host: host.host,
      id: resource.id,
      type: resource.id.slice(0, resource.id.indexOf('[')),
      outcome: resource.outcome,
      changes: resource.changes,
      desired: null,
      actual: null,
      durationMs: 0,
    }));
    const counts = emptyCounts();
    for (const result of resources) counts[result.outcome] += 1;
    return { host: host.host, outcome: 'ok', counts, resources, handlers: [], execs: { total: 0, read: 0 }, durationMs: 0 };
  });
  const recipes = plan.recipes.map((recipe) => recipe.file);
  const exitCode = hosts.some((host) => host.counts.drifted + host.counts.pending > 0) ? EXIT.drift : EXIT.ok;
  const summary: RunSummary = { mode: 'plan', recipes, startedAt: plan.createdAt, durationMs: 0, hosts, interrupted: false, exitCode };
  emit({ type: 'run-start', mode: 'plan', recipes, hosts: hosts.map((host) => host.host), at: Date.parse(plan.createdAt) });
  for (const host of hosts) for (const result of host.resources) emit({ type: 'resource-result', result });
  for (const host of hosts) emit({ type: 'host-end', summary: host });
  emit({ type: 'run-end', summary });
  write(`planned ${plan.createdAt} by keel ${plan.keel}; recipes ${recipes.join(', ')}; inventory ${plan.inventory.file}`);
  return exitCode;
}

export function registerShowCommand(program: Command): void {
  program
    .command('show')
    .description('print a saved plan (plan --out) as plan prints it, diffs included')
    .argument('<plan>', 'a plan file written by keel plan --out')
    .addHelpText(
      'after',
      `
Examples:
  keel plan recipes/*.ts -i inventory.yaml --out change-1234.plan
  keel show change-1234.plan
  keel apply recipes/*.ts -i inventory.yaml --plan change-1234.plan --max-age 4h

Exit codes:
  0    the plan changes nothing
  1    not a plan file
  2    the plan has changes`,
    )
    .action((file: string) => {
      process.exitCode = showPlan(readPlanFile(file), (line) => void process.stdout.write(`${line}\n`));
    });
}
