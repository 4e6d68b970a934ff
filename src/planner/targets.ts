/**
 * Joins recipes with the inventory: which recipes apply to which selected host, with vars validated
 * against each recipe's schema before any host is contacted.
 */
import type { AdhocTarget } from '../engine/adhoc.js';
import type { Section } from '../engine/batch.js';
import {
  checkVars,
  flattenResources,
  type HostContext,
  type HostInfo,
  type Recipe,
  RecipeVarsError,
  type RolloutDeclaration,
} from '../engine/recipe.js';
import type { ResourceInstance } from '../engine/resource.js';
import type { HostTarget, ReadSections } from '../engine/target.js';
import { FACTS_SCRIPT, factsFrom } from '../facts/gather.js';
import type { Facts } from '../facts/model.js';
import { type Inventory, InventoryError, type InventoryHost } from '../inventory/load.js';
import { connectionSecrets, resolveSecretVars } from '../inventory/secrets.js';
import { selectHosts, unmatchedPatterns } from '../inventory/select.js';
import { inShard, type Shard } from '../inventory/shard.js';
import { formatPath, secretPaths } from '../schema/index.js';
import { type Secret, ShellCommand } from '../shell/index.js';
import type { Transport } from '../transport/types.js';
import { type ExtraVars, ExtraVarsError } from './extraVars.js';
import {
  checkSelection,
  describeSelection,
  isSelected,
  isSelecting,
  type TagSelection,
  TagSelectionError,
  tagsOf,
  unknownTags,
} from './tags.js';

export interface PlannedHost {
  host: InventoryHost;
  recipes: string[];
  resources: ResourceInstance[];
  /** With `--tags`/`--skip-tags`: the ids of the host's resources they leave out. */
  leftOut?: string[];
  /** The secrets among the host's vars, scrubbed from every message about it. */
  secrets: Secret[];
  /** For a host whose recipes take facts: its resources (and those the tags leave out), built from its facts. */
  withFacts?(facts: Facts): Pick<PlannedHost, 'resources' | 'leftOut'>;
  /** How it leaves service and rejoins in a rolling apply, with the inventory hosts its declaration names. */
  rollout?: PlannedRollout;
}

export interface PlannedRollout {
  declaration: RolloutDeclaration;
  peers: InventoryHost[];
  pool: { name: string; members: string[] };
}

function info(host: InventoryHost): HostInfo {
  return { name: host.name, address: host.address, groups: host.groups };
}

export interface PlanOptions {
  /** `--limit`: host names, groups or globs, comma-separated; `!pattern` excludes. */
  limit?: string;
  /** `--shard K/N`: only this deterministic share of the hosts `--limit` selects. */
  shard?: Shard;
  /** `-e`: vars over every inventory var. */
  extraVars?: ExtraVars;
  /** `--tags`, `--skip-tags`: which resources the run takes. */
  tags?: TagSelection;
  /**
   * Told what the plan does not stop for: an extra var that no recipe declares, a resource that requires one the tags
   * leave out.
   */
  warn?(message: string): void;
}

export interface HostSelection {
  limit?: string;
  shard?: Shard;
}

/** The hosts `--limit` and `--shard` select, in inventory order. */
export function selectedHosts(inventory: Inventory, { limit, shard }: HostSelection): InventoryHost[] {
  const limited = limitedHosts(inventory, limit);
  return shard ? limited.filter((host) => inShard(host.name, shard)) : limited;
}

/** A `--limit` pattern that matches nothing is an error: almost always a typo. */
function limitedHosts(inventory: Inventory, limit: string | undefined): InventoryHost[] {
  if (!limit) return inventory.hosts;
  const unmatched = unmatchedPatterns(inventory, limit);
  if (unmatched.length > 0)
    throw new InventoryError(
      `--limit ${limit}: ${unmatched.map((p) => `"${p}"`).join(', ')} matches no host or group of ${inventory.file}`,
    );
  return selectHosts(inventory, limit);
}

/** A command line shows in the process list, so `-e` takes no value for a var the recipe holds as a secret. */
function refuseSecretExtraVars(recipe: Recipe, extra: ExtraVars): void {
  const paths = secretPaths(recipe.vars, extra.vars);
  if (paths.length === 0) return;
  throw new ExtraVarsError(
    paths
      .map(
        (path) =>
          `${extra.locate(path)}: vars.${formatPath(path)} is a secret (recipe ${recipe.name}), and a command line shows in the process list; ` +
          'give it in the inventory instead, as {secret: {env: NAME}} or {secret: {file: PATH}}',
      )
      .join('\n'),
  );
}

const TYPE_MISMATCH = /^must be an? (number|integer|boolean|array|object|null)$/;

/** checkVars, with a hint where a key=value extra var is a string and the recipe wants another type. */
function checkHostVars(recipe: Recipe, host: InventoryHost, vars: Record<string, unknown>, extra: ExtraVars | undefined): unknown {
  const locate = (path: (string | number)[]): string | undefined => extra?.locate(path) ?? host.locateVar(path);
  try {
    return checkVars(recipe, host.name, vars, locate);
  } catch (error) {
    if (!(error instanceof RecipeVarsError) || extra === undefined) throw error;
    const issues = error.issues.map((issue) => {
      const hint = TYPE_MISMATCH.test(issue.message) ? extra.typedHint(issue.path) : undefined;
      return hint ? { ...issue, message: `${issue.message}; ${hint}` } : issue;
    });
    throw new RecipeVarsError(recipe.name, host.name, issues, locate);
  }
}

/** What one host's recipes come to: its resources, those the tags leave out, and what the tags check across hosts. */
interface Built {
  resources: ResourceInstance[];
  leftOut?: string[];
  carried: Set<string>;
  crossings: { resource: string; required: string }[];
}

/** A recipe's resources for a host already contacted: its error names the recipe, as the host's failure. */
function resourcesFromFacts(recipe: Recipe, context: HostContext<unknown>, facts: Facts): ResourceInstance[] {
  try {
    const given = recipe.facts ? { ...context, facts } : context;
    return flattenResources(recipe.resources(given));
  } catch (error) {
    throw new Error(`recipe ${recipe.name}, building from the host's facts: ${(error as Error).message}`);
  }
}

/** Calls the host's recipes (with its facts, for recipes that take them) and applies the tag selection. */
function buildHost(
  inventory: Inventory,
  host: InventoryHost,
  applied: readonly { recipe: Recipe; vars: unknown }[],
  selection: TagSelection | undefined,
  facts?: Facts,
): Built {
  const resources: ResourceInstance[] = [];
  const tags = new Map<ResourceInstance, Set<string>>();
  for (const { recipe, vars } of applied) {
    const context = { ...info(host), vars, hostsOf: (pattern: string) => selectHosts(inventory, pattern).map(info) };
    const list = facts ? resourcesFromFacts(recipe, context, facts) : flattenResources(recipe.resources(context));
    resources.push(...list);
    for (const instance of list) tags.set(instance, tagsOf(recipe, instance));
  }
  const seen = new Set<string>();
  for (const resource of resources) {
    if (seen.has(resource.id))
      throw new InventoryError(
        `host ${host.name}: ${resource.id} is declared twice${resource.declaredAt ? ` (again at ${resource.declaredAt})` : ''}`,
      );
    seen.add(resource.id);
  }
  const carried = new Set([...tags.values()].flatMap((instanceTags) => [...instanceTags]));
  if (!isSelecting(selection)) return { resources, carried, crossings: [] };
  const taken = resources.filter((instance) => isSelected(tags.get(instance)!, selection));
  const leftOut = resources.filter((instance) => !taken.includes(instance));
  const crossings = taken.flatMap((instance) =>
    instance.requires
      .filter((required) => leftOut.includes(required))
      .map((required) => ({ resource: instance.id, required: required.id })),
  );
  return { resources: taken, leftOut: leftOut.map((instance) => instance.id), carried, crossings };
}

function crossingWarning(selection: TagSelection, resource: string, required: string, hosts: readonly string[]): string {
  return `${describeSelection(selection)}: ${resource} requires ${required}, which the selection leaves out (${hosts.join(', ')}); ${resource} is read and changed without it`;
}

/**
 * Throws InventoryError (for --limit), ExtraVarsError, TagSelectionError, or the recipe's own errors (vars, resource
 * parameters, duplicate ids). A host with a recipe that takes facts is planned with its vars checked and no resources
 * yet: `withFacts` builds them once its facts are gathered.
 */
export function planHosts(inventory: Inventory, recipes: readonly Recipe[], options: PlanOptions = {}): PlannedHost[] {
  const { extraVars, tags: selection } = options;
  if (selection) checkSelection(selection);
  const carried = new Set<string>();
  const crossings = new Map<string, { resource: string; required: string; hosts: string[] }>();
  const selected = new Set(selectedHosts(inventory, options).map((h) => h.name));
  const applied = new Set<Recipe>();
  const planned: PlannedHost[] = [];
  let anyWithFacts = false;
  for (const host of inventory.hosts) {
    if (!selected.has(host.name)) continue;
    const hostRecipes: { recipe: Recipe; vars: unknown }[] = [];
    let rollout: PlannedRollout | undefined;
    const { vars: inventoryVars, secrets } = resolveSecretVars(host);
    const hostVars = extraVars ? { ...inventoryVars, ...extraVars.vars } : inventoryVars;
    for (const recipe of recipes) {
      const targets = selectHosts(inventory, recipe.hosts ?? 'all');
      if (!targets.some((t) => t.name === host.name)) continue;
      if (extraVars && !applied.has(recipe)) refuseSecretExtraVars(recipe, extraVars);
      applied.add(recipe);
      const vars = checkHostVars(recipe, host, hostVars, extraVars);
      hostRecipes.push({ recipe, vars });
      const declaration = recipe.rollout?.({
        ...info(host),
        vars,
        hostsOf: (pattern: string) => selectHosts(inventory, pattern).map(info),
      });
      if (declaration && rollout)
        throw new InventoryError(
          `host ${host.name}: two recipes (${hostRecipes.map((entry) => entry.recipe.name).join(', ')}) say how it rolls; one may`,
        );
      if (declaration) rollout = plannedRollout(inventory, declaration);
    }
    const names = hostRecipes.map(({ recipe }) => recipe.name);
    const rolls = rollout ? { rollout } : {};
    if (hostRecipes.some(({ recipe }) => recipe.facts === true)) {
      anyWithFacts = true;
      const withFacts = (facts: Facts): Pick<PlannedHost, 'resources' | 'leftOut'> => {
        const built = buildHost(inventory, host, hostRecipes, selection, facts);
        for (const { resource, required } of built.crossings) options.warn?.(crossingWarning(selection!, resource, required, [host.name]));
        return { resources: built.resources, ...(built.leftOut ? { leftOut: built.leftOut } : {}) };
      };
      planned.push({ host, recipes: names, resources: [], secrets, withFacts, ...rolls });
      continue;
    }
    const built = buildHost(inventory, host, hostRecipes, selection);
    if (built.resources.length === 0 && (built.leftOut?.length ?? 0) === 0) continue;
    for (const tag of built.carried) carried.add(tag);
    for (const { resource, required } of built.crossings) {
      const key = `${resource} ${required}`;
      const crossing = crossings.get(key) ?? { resource, required, hosts: [] };
      crossing.hosts.push(host.name);
      crossings.set(key, crossing);
    }
    planned.push({
      host,
      recipes: names,
      resources: built.resources,
      ...(built.leftOut ? { leftOut: built.leftOut } : {}),
      secrets,
      ...rolls,
    });
  }
  if (isSelecting(selection)) {
    // Tags of resources built from facts are known only once the hosts are contacted: a run with such hosts cannot tell a typo.
    const unknown = anyWithFacts ? [] : unknownTags(selection, carried);
    if (unknown.length > 0)
      throw new TagSelectionError(
        `${describeSelection(selection)}: no resource of the selected hosts carries ${unknown.map((tag) => `"${tag}"`).join(', ')} (their tags: ${[...carried].sort().join(', ')})`,
      );
    for (const { resource, required, hosts } of crossings.values()) options.warn?.(crossingWarning(selection, resource, required, hosts));
  }
  if (extraVars) warnUndeclared(extraVars, [...applied], options.warn);
  return planned;
}

function plannedRollout(inventory: Inventory, declaration: RolloutDeclaration): PlannedRollout {
  const members = selectHosts(inventory, declaration.pool).map((member) => member.name);
  return { declaration, peers: selectHosts(inventory, declaration.peers), pool: { name: declaration.pool, members } };
}

/** An extra var no recipe of the run declares is most likely misspelt: Vars() schemas let unknown keys through. */
function warnUndeclared(extra: ExtraVars, recipes: readonly Recipe[], warn: PlanOptions['warn']): void {
  const declared = recipes.map((recipe) => (recipe.vars as { properties?: Record<string, unknown> }).properties);
  if (!warn || declared.some((properties) => properties === undefined)) return;
  for (const key of Object.keys(extra.vars)) {
    if (declared.some((properties) => properties && key in properties)) continue;
    warn(`${extra.locate([key])}: no recipe of this run declares a var ${key} (${recipes.map((r) => r.name).join(', ')})`);
  }
}

/** A host's facts, read in the first invocation of its shell, before its resources are read. */
const FACTS_SECTION: Section = { name: 'gather facts', command: new ShellCommand(FACTS_SCRIPT), streamed: true };

/**
 * Resolves every host's connection secrets first, so that a missing one stops the run before any host is contacted.
 * `sharedSecrets` (a password typed at a prompt) are scrubbed from every host's messages too.
 */
export function hostTargets(
  planned: readonly PlannedHost[],
  connect: (host: InventoryHost) => Promise<Transport>,
  sharedSecrets: readonly Secret[] = [],
): HostTarget[] {
  return planned.map(({ host, resources, leftOut, secrets, withFacts, rollout }) => ({
    name: host.name,
    resources,
    ...(leftOut ? { leftOut } : {}),
    ...(rollout
      ? {
          rollout: {
            pool: rollout.pool,
            ...rollout.declaration.hooks(rollout.peers.map((peer) => ({ ...info(peer), connect: () => connect(peer) }))),
          },
        }
      : {}),
    connect: () => connect(host),
    secrets: [...connectionSecrets(host), ...secrets, ...sharedSecrets],
    ...(withFacts
      ? {
          async prepare(read: ReadSections) {
            const output = (await read([FACTS_SECTION])).get(FACTS_SECTION.name);
            const facts = factsFrom(host.name, output ?? { stdout: '', stderr: '', code: -1 }, FACTS_SECTION.name);
            return { ...withFacts(facts), gathered: facts };
          },
        }
      : {}),
  }));
}

/**
 * The hosts `keel run` sends its command to, with their connection secrets resolved first, so that a missing one
 * stops the run before any host is contacted.
 */
export function adhocTargets(
  inventory: Inventory,
  selection: HostSelection,
  connect: (host: InventoryHost) => Promise<Transport>,
  sharedSecrets: readonly Secret[] = [],
): (AdhocTarget & { address: string })[] {
  return selectedHosts(inventory, selection).map((host) => ({
    name: host.name,
    address: host.address,
    connect: () => connect(host),
    secrets: [...connectionSecrets(host), ...sharedSecrets],
  }));
}
