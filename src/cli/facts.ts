/** `keel facts -i INV [-l PATTERN]`: each selected host's facts as JSON (schema/facts.v1.json). Reads only. */
import type { Command } from 'commander';
import { EXIT } from '../engine/events.js';
import { factsExitCode, gatherFleetFacts } from '../planner/facts.js';
import { addConnectionOptions, addHostOptions, type HostFlags } from './options.js';
import { selectedTargets } from './targets.js';

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
  const hosts = await selectedTargets(flags, 'gather facts from');
  if (!hosts) return EXIT.usage;
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
