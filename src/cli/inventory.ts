/** `keel inventory validate|list|import`. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../engine/events.js';
import { loadRecipe } from '../engine/loadRecipe.js';
import { checkVars, type Recipe, RecipeVarsError } from '../engine/recipe.js';
import { packageRoot } from '../engine/version.js';
import { type Inventory, InventoryError, loadInventory } from '../inventory/load.js';
import { resolveSecretVars } from '../inventory/secrets.js';
import { selectHosts } from '../inventory/select.js';

/** Loads an inventory and says once, on stderr, what keel read in it but does not use. */
export function openInventory(file: string): Inventory {
  const inventory = loadInventory(file);
  for (const warning of inventory.warnings) process.stderr.write(`keel: warning: ${warning}\n`);
  return inventory;
}

function publishedSchemaPath(): string {
  return join(packageRoot(), 'inventory/schema.json');
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const VALIDATE_HELP = `
Checks the inventory itself: keel's YAML or JSON against inventory/schema.json (unknown keys, bad connection
settings, group cycles), or an Ansible INI/YAML inventory. Given recipes, it also checks every host's vars
against every recipe that applies to it (the recipe's hosts:), as plan would, and lists every problem at the
file:line:col of the value. Secrets in the vars are resolved as plan resolves them. No host is contacted.

Exit codes: 0 valid, 1 an error in the inventory, a recipe or the vars.

Examples:
  keel inventory validate -i inventory/lab.yaml
  keel inventory validate -i inventory/lab.yaml recipes/*.ts`;

/** Every problem in the vars of every host for every recipe that applies to it, in plan's words. */
function varProblems(inventory: Inventory, recipes: readonly Recipe[]): string[] {
  const problems: string[] = [];
  for (const host of inventory.hosts) {
    const applicable = recipes.filter((recipe) => selectHosts(inventory, recipe.hosts ?? 'all').some((t) => t.name === host.name));
    if (applicable.length === 0) continue;
    let vars: Record<string, unknown>;
    try {
      vars = resolveSecretVars(host).vars;
    } catch (error) {
      if (!(error instanceof InventoryError)) throw error;
      problems.push(error.message);
      continue;
    }
    for (const recipe of applicable) {
      try {
        checkVars(recipe, host.name, vars, (path) => host.locateVar(path));
      } catch (error) {
        if (!(error instanceof RecipeVarsError)) throw error;
        problems.push(error.message);
      }
    }
  }
  return problems;
}

const LIST_HELP = `
Prints each host as: name, address and groups (ancestors included), tab-separated, then its merged vars
one a line, indented. --json prints {"hosts": {NAME: {address, groups, connection, vars}}, "groups":
{NAME: {hosts, children}}}: hosts keyed by name as in ansible-inventory --list's _meta.hostvars.

The inventory may be keel's own (YAML or JSON) or Ansible's (INI or YAML, with group_vars/ and
host_vars/ beside it).

Examples:
  keel inventory list -i inventory/lab.yaml
  keel inventory list -i hosts.ini --json | jq '.hosts["web01"].vars'
  keel inventory list -i hosts.yml -l webservers`;

const IMPORT_HELP = `
Reads an Ansible inventory (INI or YAML, with the group_vars/ and host_vars/ beside it) and writes the
same hosts, groups and vars as keel's YAML inventory to stdout. Connection variables (ansible_host,
ansible_port, ansible_user, ansible_ssh_private_key_file, ansible_become, ansible_ssh_common_args'
ProxyJump/ProxyCommand, ansible_connection=local) become keel's settings; other ansible_* variables
are named in a warning on stderr and left out.

Examples:
  keel inventory import hosts.ini > inventory/site.yaml
  keel inventory list -i inventory/site.yaml`;

export function registerInventoryCommands(program: Command): void {
  const inventory = program.command('inventory').description('inspect an inventory, or import an Ansible one');
  inventory
    .command('validate')
    .description("validate an inventory (keel's or Ansible's) and, given recipes, every host's vars against them")
    .argument('[recipes...]', "recipe files whose vars schemas every host's vars must pass")
    .requiredOption('-i, --inventory <file>', 'inventory file')
    .addHelpText('after', VALIDATE_HELP)
    .action(async (recipeFiles: string[], flags: { inventory: string }) => {
      const loaded = openInventory(flags.inventory);
      const recipes: Recipe[] = [];
      for (const file of recipeFiles) recipes.push(await loadRecipe(file));
      const problems = varProblems(loaded, recipes);
      if (problems.length > 0) {
        process.stderr.write(`${problems.join('\n')}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      const checked = recipes.length === 0 ? '' : `; vars checked against ${recipes.length} recipe${recipes.length === 1 ? '' : 's'}`;
      process.stdout.write(`${flags.inventory}: ok (${loaded.hosts.length} hosts, ${loaded.groups.size} groups${checked})\n`);
    });
  inventory
    .command('list')
    .description('list hosts with their address, groups and merged vars')
    .requiredOption('-i, --inventory <file>', 'inventory file (keel YAML or JSON, Ansible INI or YAML)')
    .option('-l, --limit <patterns>', 'only these hosts')
    .option('--json', 'print JSON: every host with its address, groups, connection settings and vars')
    .addHelpText('after', LIST_HELP)
    .action(async (flags: { inventory: string; limit?: string; json?: boolean }) => {
      const loaded = openInventory(flags.inventory);
      const hosts = flags.limit ? selectHosts(loaded, flags.limit) : loaded.hosts;
      if (flags.json) {
        const document = {
          hosts: Object.fromEntries(
            hosts.map((host) => [host.name, { address: host.address, groups: host.groups, connection: host.connection, vars: host.vars }]),
          ),
          groups: Object.fromEntries(
            [...loaded.groups.entries()].map(([name, members]) => [name, { hosts: members, children: loaded.children.get(name) ?? [] }]),
          ),
        };
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
        return;
      }
      for (const host of hosts) {
        process.stdout.write(`${host.name}\t${host.address}\t${host.groups.join(',')}\n`);
        for (const [key, value] of Object.entries(host.vars)) process.stdout.write(`\t${key}: ${shown(value)}\n`);
      }
    });
  inventory
    .command('import')
    .description("write an Ansible inventory (INI or YAML) as keel's YAML inventory, to stdout")
    .argument('<file>', 'the Ansible inventory')
    .addHelpText('after', IMPORT_HELP)
    .action(async (file: string) => {
      const { importAnsibleInventory } = await import('../inventory/import.js');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new InventoryError(
          `${file}: cannot read the inventory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      const result = importAnsibleInventory(file, text, publishedSchemaPath());
      for (const warning of result.warnings) process.stderr.write(`keel: warning: ${warning}\n`);
      process.stdout.write(result.yaml);
    });
}
