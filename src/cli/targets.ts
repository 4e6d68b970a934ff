/** The hosts a command that needs no recipe reaches (run, doctor, facts): the selection, with a way to reach each. */
import type { AdhocTarget } from '../engine/adhoc.js';
import { connector } from '../planner/connect.js';
import { adhocTargets } from '../planner/targets.js';
import { openInventory } from './inventory.js';
import { type HostFlags, localTakesOneHost } from './options.js';
import { promptSecret } from './prompt.js';

/**
 * The selected hosts, with a way to reach each; undefined (and said why) when none is selected, or several with
 * --connection local. `become` asks for sudo on every host (keel run --become).
 */
export async function selectedTargets(
  flags: HostFlags,
  purpose: string,
  become = false,
): Promise<(AdhocTarget & { address: string })[] | undefined> {
  const inventory = openInventory(flags.inventory);
  const becomePassword = flags.askBecomePass ? await promptSecret('BECOME password: ') : undefined;
  const hosts = adhocTargets(
    inventory,
    { limit: flags.limit, shard: flags.shard },
    connector({ kind: flags.connection, acceptNew: flags.acceptNew, knownHostsFile: flags.knownHosts, becomePassword, become }),
    becomePassword ? [becomePassword] : [],
  );
  if (hosts.length === 0) {
    process.stderr.write(`keel: ${flags.inventory} has no host to ${purpose}\n`);
    return undefined;
  }
  return localTakesOneHost(
    flags.connection,
    hosts.map((host) => host.name),
  )
    ? hosts
    : undefined;
}
