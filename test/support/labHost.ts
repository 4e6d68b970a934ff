/**
 * One real test host for a resource's integration tests: a lab host (an nspawn container with systemd and sshd,
 * or a light sshd-only one), reached over SSH through the lab's inventory, plus the lab's back door (`sh`) to
 * change it by hand.
 */
import { afterAll, beforeAll } from 'vitest';
import { type HostKind, type Lab, startHosts } from '../../lab/hosts.js';
import { loadInventory } from '../../src/inventory/load.js';
import { connectHost } from '../../src/planner/connect.js';
import type { Transport } from '../../src/transport/types.js';

export interface LabHostSession {
  lab: Lab;
  transport: Transport;
  /** Runs a command inside the host without keel, the way an operator's hand would; throws unless it exits 0. */
  sh(command: string): Promise<string>;
}

/**
 * Starts the host before the tests of the enclosing file or describe block and removes it after them.
 * `light` hosts run only sshd, without systemd.
 */
export function useLabHost(lab: string, kind: HostKind = 'nspawn'): () => LabHostSession {
  let session: LabHostSession | undefined;
  beforeAll(async () => {
    const started = await startHosts({ lab, count: 1, kind });
    try {
      const [host] = loadInventory(started.inventoryPath).hosts;
      const transport = await connectHost(host!, { kind: 'ssh' });
      session = { lab: started, transport, sh: (command) => handRun(started, command) };
    } catch (error) {
      await started.down();
      throw error;
    }
  });
  afterAll(async () => {
    await session?.transport.close();
    await session?.lab.down();
  });
  return () => {
    if (!session) throw new Error(`the lab ${lab} did not start`);
    return session;
  };
}

async function handRun(lab: Lab, command: string): Promise<string> {
  const result = await lab.exec(lab.hosts[0]!.name, command);
  if (result.code !== 0) throw new Error(`${command} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}
