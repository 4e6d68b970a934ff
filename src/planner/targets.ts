/**
 * Joins recipes with the inventory: which recipes apply to which selected host, with vars validated
 * against each recipe's schema before any host is contacted.
 */
import { checkVars, flattenResources, type HostInfo, type Recipe } from '../engine/recipe.js';
import type { ResourceInstance } from '../engine/resource.js';
import type { HostTarget } from '../engine/target.js';
import { type Inventory, InventoryError, type InventoryHost } from '../inventory/load.js';
import { connectionSecrets, resolveSecretVars } from '../inventory/secrets.js';
import { selectHosts, unmatchedPatterns } from '../inventory/select.js';
import type { Secret } from '../shell/index.js';
import type { Transport } from '../transport/types.js';

export interface PlannedHost {
  host: InventoryHost;
  recipes: string[];
  resources: ResourceInstance[];
  /** The secrets among the host's vars, scrubbed from every message about it. */
  secrets: Secret[];
}

function info(host: InventoryHost): HostInfo {
  return { name: host.name, address: host.address, groups: host.groups };
}

/** Throws InventoryError (for --limit) or the recipe's own errors (vars, resource parameters, duplicate ids). */
export function planHosts(inventory: Inventory, recipes: readonly Recipe[], limit?: string): PlannedHost[] {
  if (limit) {
    const unmatched = unmatchedPatterns(inventory, limit);
    if (unmatched.length > 0)
      throw new InventoryError(
        `--limit ${limit}: ${unmatched.map((p) => `"${p}"`).join(', ')} matches no host or group of ${inventory.file}`,
      );
  }
  const selected = new Set((limit ? selectHosts(inventory, limit) : inventory.hosts).map((h) => h.name));
  const planned: PlannedHost[] = [];
  for (const host of inventory.hosts) {
    if (!selected.has(host.name)) continue;
    const resources: ResourceInstance[] = [];
    const names: string[] = [];
    const { vars: hostVars, secrets } = resolveSecretVars(host);
    for (const recipe of recipes) {
      const targets = selectHosts(inventory, recipe.hosts ?? 'all');
      if (!targets.some((t) => t.name === host.name)) continue;
      const vars = checkVars(recipe, host.name, hostVars, (path) => host.locateVar(path));
      const list = flattenResources(
        recipe.resources({ ...info(host), vars, hostsOf: (pattern) => selectHosts(inventory, pattern).map(info) }),
      );
      resources.push(...list);
      names.push(recipe.name);
    }
    const seen = new Set<string>();
    for (const resource of resources) {
      if (seen.has(resource.id))
        throw new InventoryError(
          `host ${host.name}: ${resource.id} is declared twice${resource.declaredAt ? ` (again at ${resource.declaredAt})` : ''}`,
        );
      seen.add(resource.id);
    }
    if (resources.length > 0) planned.push({ host, recipes: names, resources, secrets });
  }
  return planned;
}

/**
 * Resolves every host's connection secrets first, so that a missing one stops the run before any host is contacted.
 * `sharedSecrets` (a password typed at a prompt) are scrubbed from every host's messages too.
 */
export function hostTargets(
  planned: readonly PlannedHost[],
  connect: (host: InventoryHost) => Promise<Transport>,
  sharedSecrets: readonly Secret[] = [],
): HostTarget[] {
  return planned.map(({ host, resources, secrets }) => ({
    name: host.name,
    resources,
    connect: () => connect(host),
    secrets: [...connectionSecrets(host), ...secrets, ...sharedSecrets],
  }));
}
