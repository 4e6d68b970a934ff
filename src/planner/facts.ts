/** `keel facts`: each selected host's facts, gathered in one invocation per host, hosts in parallel. */
import type { AdhocTarget } from '../engine/adhoc.js';
import { EXIT } from '../engine/events.js';
import { forEachHost, withConnection } from '../engine/fanout.js';
import { gatherFacts } from '../facts/gather.js';
import { FACTS_VERSION, type FactsDocument } from '../facts/model.js';
import { redact } from '../shell/index.js';
import { ConnectionError } from '../transport/types.js';

export async function gatherFleetFacts(hosts: readonly AdhocTarget[], forks: number, timeoutMs: number): Promise<FactsDocument> {
  const gathered = await forEachHost(hosts, forks, (target) =>
    withConnection<FactsDocument['hosts'][number]>(
      target,
      async (transport) => ({ host: target.name, facts: await gatherFacts(transport, timeoutMs) }),
      (error, connected) => ({
        host: target.name,
        outcome: !connected || error instanceof ConnectionError ? 'unreachable' : 'failed',
        error: redact(error.message, target.secrets ?? []),
      }),
    ),
  );
  return { version: FACTS_VERSION, hosts: gathered };
}

/** 0 when every host's facts came, else 4 for a host whose gathering failed, OR-ed with 8 for one unreachable. */
export function factsExitCode(document: FactsDocument): number {
  let code = 0;
  for (const host of document.hosts) {
    if ('outcome' in host) code |= host.outcome === 'unreachable' ? EXIT.unreachable : EXIT.failed;
  }
  return code;
}
