/** Chooses how to reach an inventory host: over SSH (the default) or on this machine (pull mode). */
import { userInfo } from 'node:os';
import type { Secret } from '../engine/secret.js';
import type { InventoryHost } from '../inventory/load.js';
import { becomeOf } from '../inventory/secrets.js';
import { LocalTransport } from './local.js';
import type { Transport } from './types.js';

export type ConnectionKind = 'ssh' | 'local';

export interface ConnectOptions {
  kind: ConnectionKind;
  /** Record keys of hosts not yet in known_hosts (trust on first use). */
  acceptNew?: boolean;
  /** A known_hosts file read besides ~/.ssh/known_hosts and the inventory's; --accept-new records keys in it. */
  knownHostsFile?: string;
  /** From --ask-become-pass: the sudo password for hosts whose inventory says `become: true`. */
  becomePassword?: Secret;
}

export function connector(options: ConnectOptions): (host: InventoryHost) => Promise<Transport> {
  if (options.kind === 'local') return async (host) => new LocalTransport(host.name, becomeOf(host, userInfo().username, options.becomePassword));
  return async (host) => {
    const { connectSsh } = await import('./ssh.js');
    return connectSsh(host, options);
  };
}
