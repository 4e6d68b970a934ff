// The SSH transport on ssh2, one connection per host: host keys checked like OpenSSH, ~/.ssh/config, proxies, jumps.
import { ConnectionError, type SshTarget, type Transport } from '../types.js';
import { expandHome } from './config.js';
import { type Credentials, type Endpoint, resolveEndpoint, where } from './endpoint.js';
import { type Attempt, openClient } from './handshake.js';
import { knownHostsPolicy } from './hostKeys.js';
import { endProxy } from './proxy.js';
import { SshTransport } from './transport.js';

export async function connectSsh(target: SshTarget): Promise<Transport> {
  const { user, port, proxyCommand, proxyJump, connectTimeoutSeconds, identityFile, passphrase, password } = target;
  const credentials: Credentials = {
    ...(identityFile ? { identityFile: expandHome(identityFile) } : {}),
    ...(passphrase ? { passphrase } : {}),
    ...(password ? { password } : {}),
  };
  let endpoint: Endpoint;
  try {
    endpoint = resolveEndpoint(
      target.name,
      target.name,
      target.address,
      {
        ...(user ? { user } : {}),
        ...(port ? { port } : {}),
        ...(proxyCommand ? { proxyCommand } : {}),
        ...(proxyJump ? { proxyJump } : {}),
        ...(connectTimeoutSeconds ? { connectTimeoutSeconds } : {}),
      },
      credentials,
    );
  } catch (error) {
    throw new ConnectionError(target.name, (error as Error).message);
  }
  const become = endpoint.user === 'root' ? undefined : target.become;
  const opened: Attempt['opened'] = { clients: [], proxies: [] };
  const closeAll = (): void => {
    for (const client of opened.clients) client.end();
    for (const proxy of opened.proxies) if (proxy.child.exitCode === null) endProxy(proxy.child);
  };
  try {
    const client = await openClient(endpoint, { policy: knownHostsPolicy(target), credentials, opened });
    return new SshTransport(target.name, endpoint.hostName, where(endpoint), client, become, closeAll);
  } catch (error) {
    closeAll();
    throw error instanceof ConnectionError ? error : new ConnectionError(target.name, `${where(endpoint)}: ${(error as Error).message}`);
  }
}
