/** `keel facts`: each selected host's facts, gathered in one invocation per host, hosts in parallel. */
import pLimit from 'p-limit';
import type { AdhocTarget } from '../engine/adhoc.js';
import { EXIT } from '../engine/events.js';
import { gatherFacts } from '../facts/gather.js';
import { FACTS_VERSION, type FactsDocument } from '../facts/model.js';
import { redact } from '../shell/index.js';
import { ConnectionError } from '../transport/types.js';

export async function gatherFleetFacts(hosts: readonly AdhocTarget[], forks: number, timeoutMs: number): Promise<FactsDocument> {
  const limit = pLimit(Math.max(1, forks));
  const gathered = await Promise.all(
    hosts.map((target) =>
      limit(async (): Promise<FactsDocument['hosts'][number]> => {
        const clean = (error: unknown): string => redact((error as Error).message, target.secrets ?? []);
        let transport: Awaited<ReturnType<AdhocTarget['connect']>>;
        try {
          transport = await target.connect();
        } catch (error) {
          return { host: target.name, outcome: 'unreachable', error: clean(error) };
        }
        try {
          return { host: target.name, facts: await gatherFacts(transport, timeoutMs) };
        } catch (error) {
          return { host: target.name, outcome: error instanceof ConnectionError ? 'unreachable' : 'failed', error: clean(error) };
        } finally {
          await transport.close().catch(() => undefined);
        }
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
