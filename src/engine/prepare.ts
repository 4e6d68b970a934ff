/** A host's preparation (HostTarget.prepare), run once it is connected: the host as the run then takes it, or why not. */
import { ConnectionError } from '../transport/types.js';
import type { HostTarget, ReadSections } from './target.js';

export type Preparation = { ready: HostTarget } | { failed: { outcome: 'failed' | 'unreachable'; message: string } };

export async function prepareHost(target: HostTarget, read: ReadSections): Promise<Preparation> {
  if (!target.prepare) return { ready: target };
  try {
    const prepared = await target.prepare(read);
    return { ready: { ...target, ...prepared } };
  } catch (error) {
    const outcome = error instanceof ConnectionError ? 'unreachable' : 'failed';
    return { failed: { outcome, message: (error as Error).message } };
  }
}
