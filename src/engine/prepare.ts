/** A host's preparation (HostTarget.prepare), run once it is connected: the host as the run then takes it, or why not. */
import { ConnectionError, type Transport } from '../transport/types.js';
import type { HostTarget } from './target.js';

export type Preparation = { ready: HostTarget } | { failed: { outcome: 'failed' | 'unreachable'; message: string } };

export async function prepareHost(target: HostTarget, transport: Transport, timeoutMs: number): Promise<Preparation> {
  if (!target.prepare) return { ready: target };
  try {
    const prepared = await target.prepare(transport, timeoutMs);
    return { ready: { ...target, ...prepared } };
  } catch (error) {
    const outcome = error instanceof ConnectionError ? 'unreachable' : 'failed';
    return { failed: { outcome, message: (error as Error).message } };
  }
}
