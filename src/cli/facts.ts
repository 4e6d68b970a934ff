/** `keel facts -i INV [-l PATTERN]`: each selected host's facts as JSON (schema/facts.v1.json). Reads only. */
import type { Command } from 'commander';
import { EXIT } from '../engine/events.js';
import { connector } from '../planner/connect.js';
import { factsExitCode, gatherFleetFacts } from '../planner/facts.js';
import { adhocTargets } from '../planner/targets.js';
import { openInventory } from './inventory.js';
import { addConnectionOptions, addHostOptions, type HostFlags, localTakesOneHost } from './options.js';
import { promptSecret } from './prompt.js';

const DEFAULT_TIMEOUT_SECONDS = 120;

const FACTS_HELP = `
Prints one JSON document on stdout: {"version": "keel.facts/v1", "hosts": [...]}, one object per selected host in
inventory order, {"host", "facts"} or, for a host whose facts did not come, {"host", "outcome", "error"}. Each host
gets one read-only invocation (/etc/os-release, /proc, uname, ip -j); nothing on it changes. These are the facts a
recipe with \`facts: true\` sees as host.facts (docs/facts.md).

Examples:
  keel facts -i inventory/lab.yaml
  keel facts -i inventory/lab.yaml -l realservers | jq -r '.hosts[] | "\\(.host) \\(.facts.defaultRoute.interface)"'

Exit codes (OR-ed together when several apply):
  0    every selected host's facts were gathered
  1    usage or inventory error (no host was contacted)
  4    gathering failed on a host (its error says why)
  8    a host was unreachable`;

async function printFacts(flags: HostFlags): Promise<number> {
  const inventory = openInventory(flags.inventory);
  const becomePassword = flags.askBecomePass ? await promptSecret('BECOME password: ') : undefined;
  const hosts = adhocTargets(
    inventory,
    { limit: flags.limit, shard: flags.shard },
    connector({ kind: flags.connection, acceptNew: flags.acceptNew, knownHostsFile: flags.knownHosts, becomePassword }),
    becomePassword ? [becomePassword] : [],
  );
  if (hosts.length === 0) {
    process.stderr.write(`keel: ${flags.inventory} has no host to gather facts from\n`);
    return EXIT.usage;
  }
  if (
    !localTakesOneHost(
      flags.connection,
      hosts.map((host) => host.name),
    )
  )
    return EXIT.usage;
  const document = await gatherFleetFacts(hosts, flags.forks, (flags.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000);
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  for (const host of document.hosts) if ('error' in host) process.stderr.write(`keel: ${host.host}: ${host.error}\n`);
  return factsExitCode(document);
}

export function registerFactsCommand(program: Command): void {
  addConnectionOptions(
    addHostOptions(program.command('facts').description("print each selected host's facts as JSON (what recipes see as host.facts)")),
  )
    .addHelpText('after', FACTS_HELP)
    .action(async (flags: HostFlags) => {
      process.exitCode = await printFacts(flags);
    });
}
