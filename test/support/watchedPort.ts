/** A loopback port that counts the connections made to it and drops them: what shows that a run contacted no host. */
import { createServer } from 'node:net';

export interface WatchedPort {
  port: number;
  /**
   * The connections so far. A connection made while this process was blocked (a `spawnSync` of keel) is only
   * accepted once the event loop polls again, so this lets it poll first: counted at once, it would read 0.
   */
  connections(): Promise<number>;
  close(): Promise<void>;
}

export async function watchPort(): Promise<WatchedPort> {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: async () => {
      // From the timers phase, setImmediate runs after the poll phase, which accepts what is waiting.
      await new Promise((resolve) => setTimeout(resolve, 0));
      await new Promise((resolve) => setImmediate(resolve));
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
