/** `keel inventory validate|list`. */
import type { Command } from 'commander';
import { loadInventory } from '../inventory/load.js';

export function registerInventoryCommands(program: Command): void {
  const inventory = program.command('inventory').description('inspect an inventory');
  inventory
    .command('validate')
    .description('validate an inventory against inventory/schema.json')
    .requiredOption('-i, --inventory <file>', 'inventory file')
    .action((flags: { inventory: string }) => {
      const loaded = loadInventory(flags.inventory);
      process.stdout.write(`${flags.inventory}: ok (${loaded.hosts.length} hosts, ${loaded.groups.size} groups)\n`);
    });
  inventory
    .command('list')
    .description('list hosts with their address and groups')
    .requiredOption('-i, --inventory <file>', 'inventory file')
    .option('-l, --limit <patterns>', 'only these hosts')
    .action(async (flags: { inventory: string; limit?: string }) => {
      const { selectHosts } = await import('../inventory/select.js');
      const loaded = loadInventory(flags.inventory);
      for (const host of flags.limit ? selectHosts(loaded, flags.limit) : loaded.hosts) {
        process.stdout.write(`${host.name}\t${host.address}\t${host.groups.join(',')}\n`);
      }
    });
}
