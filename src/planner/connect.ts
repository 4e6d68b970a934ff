/** Turns an inventory host into what a transport needs, and chooses how to reach it: SSH (the default) or this machine (pull mode). */
import { userInfo } from 'node:os';
import type { InventoryHost } from '../inventory/load.js';
import { resolveSecret } from '../inventory/secrets.js';
import type { Secret } from '../shell/index.js';
import { LocalTransport } from '../transport/local.js';
import { type Become, ConnectionError, type SshTarget, type Transport } from '../transport/types.js';

export type ConnectionKind = 'ssh' | 'local';

export interface ConnectOptions {
  kind: ConnectionKind;
  /** Record keys of hosts not yet in known_hosts (trust on first use). */
  acceptNew?: boolean;
  /** A known_hosts file read besides ~/.ssh/known_hosts and the inventory's; --accept-new records keys in it. */
  knownHostsFile?: string;
  /** From --ask-become-pass: the sudo password for hosts whose inventory says `become: true`. */
  becomePassword?: Secret;
  /** From `keel run --become`: sudo on every host, also where the inventory does not ask for it. */
  become?: boolean;
}

/**
 * The sudo a host's inventory asks for. `become: true` uses the password given with --ask-become-pass, if any, and
 * otherwise passwordless sudo; `forced` (`keel run --become`) asks for it where the inventory does not. Transports
 * skip it for a root login.
 */
export function becomeOf(host: InventoryHost, askedPassword?: Secret, forced = false): Become | undefined {
  const become = host.connection.become || forced;
  if (!become) return undefined;
  if (become !== true) return { password: resolveSecret(become.password, `${host.name}: become.password`) };
  return askedPassword ? { password: askedPassword } : {};
}

/** The inventory's connection settings with their secrets read, for the SSH transport. */
export function sshTargetOf(host: InventoryHost, options: Omit<ConnectOptions, 'kind'> = {}): SshTarget {
  const { user, port, identityFile, passphrase, password, proxyCommand, proxyJump, connectTimeout, knownHostsFile } = host.connection;
  const become = becomeOf(host, options.becomePassword, options.become);
  return {
    name: host.name,
    address: host.address,
    ...(user ? { user } : {}),
    ...(port ? { port } : {}),
    ...(identityFile ? { identityFile } : {}),
    ...(passphrase ? { passphrase: resolveSecret(passphrase, `${host.name}: passphrase`) } : {}),
    ...(password ? { password: resolveSecret(password, `${host.name}: password`) } : {}),
    ...(proxyCommand ? { proxyCommand } : {}),
    ...(proxyJump ? { proxyJump } : {}),
    ...(connectTimeout ? { connectTimeoutSeconds: connectTimeout } : {}),
    knownHostsFiles: [knownHostsFile, options.knownHostsFile].filter((file): file is string => file !== undefined),
    acceptNew: options.acceptNew === true,
    ...(become ? { become } : {}),
  };
}

/**
 * Opens a transport to one inventory host; a setting that cannot be resolved fails the host as unreachable. A host
 * whose inventory says `connection: local` is this machine, whatever --connection says.
 */
export async function connectHost(host: InventoryHost, options: ConnectOptions): Promise<Transport> {
  if (options.kind === 'local' || host.connection.connection === 'local') {
    const become = userInfo().username === 'root' ? undefined : becomeOf(host, options.becomePassword, options.become);
    return new LocalTransport(host.name, become);
  }
  let target: SshTarget;
  try {
    target = sshTargetOf(host, options);
  } catch (error) {
    throw new ConnectionError(host.name, (error as Error).message);
  }
  const { connectSsh } = await import('../transport/ssh/index.js');
  return connectSsh(target);
}

export function connector(options: ConnectOptions): (host: InventoryHost) => Promise<Transport> {
  return (host) => connectHost(host, options);
}
