/** The parallel fan-out over hosts that `keel run`, `keel doctor` and `keel facts` share: one connection a host, `forks` at once. */
import pLimit from 'p-limit';
import type { Transport } from '../transport/types.js';
import type { HostTarget } from './target.js';

/** `work` for every target, at most `forks` at a time; the results in the order the targets were given. */
export function forEachHost<T, R>(targets: readonly T[], forks: number, work: (target: T) => Promise<R>): Promise<R[]> {
  const limit = pLimit(Math.max(1, forks));
  return Promise.all(targets.map((target) => limit(() => work(target))));
}

/**
 * Connects to the host, gives `use` the transport and closes it after. An error of the connection, or one `use`
 * throws, goes to `failed` with whether the host was connected by then, which tells a lost connection from none.
 */
export async function withConnection<R>(
  target: Pick<HostTarget, 'connect'>,
  use: (transport: Transport) => Promise<R>,
  failed: (error: Error, connected: boolean) => R,
): Promise<R> {
  let transport: Transport;
  try {
    transport = await target.connect();
  } catch (error) {
    return failed(error as Error, false);
  }
  try {
    return await use(transport);
  } catch (error) {
    return failed(error as Error, true);
  } finally {
    await transport.close().catch(() => undefined);
  }
}
