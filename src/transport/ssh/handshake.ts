// Opening an authenticated ssh2 client to an endpoint, through its proxy or jump hosts, and explaining failures.
import type { Duplex } from 'node:stream';
import type { Client, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { ConnectionError } from '../types.js';
import { authPlan } from './auth.js';
import { type Credentials, type Endpoint, jumpEndpoint, where } from './endpoint.js';
import { hostKeyRefusal, type KnownHostsPolicy } from './hostKeys.js';
import { knownHostName, loadKnownHosts, preferredHostKeyAlgorithms, recordHostKey, verifyHostKey } from './knownHosts.js';
import { forwardThrough, type ProxyProcess, startProxyCommand } from './proxy.js';
import { ssh2 } from './ssh2Module.js';

export const KEEPALIVE_INTERVAL_MS = 5_000;
export const KEEPALIVE_COUNT_MAX = 3;
const MAX_PROXY_DEPTH = 8;
/** What ssh2 can verify; a known_hosts key of another type (e.g. a security key) cannot be preferred. */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;

export interface Attempt {
  policy: KnownHostsPolicy;
  credentials: Credentials;
  /** Every client and proxy opened on the way, closed together when the transport closes or connecting fails. */
  opened: { clients: Client[]; proxies: ProxyProcess[] };
}

export function socketFailure(error: NodeJS.ErrnoException, hostName: string): string | undefined {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EHOSTUNREACH':
      return 'no route to host';
    case 'ENETUNREACH':
      return 'network is unreachable';
    case 'ECONNRESET':
      return 'connection reset by the remote side';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${hostName}`;
    default:
      return undefined;
  }
}

export async function openClient(endpoint: Endpoint, attempt: Attempt, depth = 0): Promise<Client> {
  if (depth > MAX_PROXY_DEPTH)
    throw new ConnectionError(endpoint.host, `${where(endpoint)}: more than ${MAX_PROXY_DEPTH} jump hosts; is ProxyJump circular?`);
  let proxy: ProxyProcess | undefined;
  let sock: Duplex | undefined;
  if (endpoint.proxyCommand !== undefined) {
    proxy = startProxyCommand(endpoint);
    attempt.opened.proxies.push(proxy);
    sock = proxy.socket;
  } else if (endpoint.jumps.length > 0) {
    const jump = jumpEndpoint(endpoint, attempt.credentials);
    sock = await forwardThrough(await openClient(jump, attempt, depth + 1), endpoint, jump.alias);
  }
  const client = new (ssh2().Client)();
  attempt.opened.clients.push(client);
  await handshake(client, endpoint, sock, attempt, proxy);
  return client;
}

function handshake(
  client: Client,
  endpoint: Endpoint,
  sock: Duplex | undefined,
  attempt: Attempt,
  proxy: ProxyProcess | undefined,
): Promise<void> {
  const { policy } = attempt;
  const entries = loadKnownHosts(policy.files);
  const name = knownHostName(endpoint.hostName, endpoint.port);
  const preferred = preferredHostKeyAlgorithms(entries, name).filter((algorithm): algorithm is ServerHostKeyAlgorithm =>
    (HOST_KEY_ALGORITHMS as readonly string[]).includes(algorithm),
  );
  const auth = authPlan(endpoint);
  let refusal: string | undefined;

  const config: ConnectConfig = {
    host: endpoint.hostName,
    port: endpoint.port,
    username: endpoint.user,
    readyTimeout: endpoint.connectTimeoutMs,
    keepaliveInterval: KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: KEEPALIVE_COUNT_MAX,
    authHandler: auth.handler,
    hostVerifier: (key: Buffer, verify: (valid: boolean) => void): void => {
      const verdict = verifyHostKey(entries, name, key);
      if (verdict.kind === 'trusted') {
        verify(true);
        return;
      }
      if (verdict.kind === 'unknown' && policy.acceptNew) {
        recordHostKey(policy.recordTo, name, key).then(
          () => verify(true),
          (error: Error) => {
            refusal = `cannot record the host key of ${name} in ${policy.recordTo}: ${error.message}`;
            verify(false);
          },
        );
        return;
      }
      refusal = hostKeyRefusal(verdict, name, key, policy, endpoint);
      verify(false);
    },
    ...(sock ? { sock } : {}),
    ...(preferred.length > 0 ? { algorithms: { serverHostKey: { remove: preferred, prepend: preferred, append: [] } } } : {}),
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = async (error: Error & { level?: string; code?: string }): Promise<void> => {
      if (settled) return;
      settled = true;
      const proxyEnd = proxy ? await proxy.ended(1_000) : undefined;
      let message: string;
      if (refusal !== undefined) message = `${endpoint.label}: ${refusal}`;
      else if (error.level === 'client-authentication')
        message = `${endpoint.label}: authentication failed as ${endpoint.user} (${auth.summary()})`;
      else if (error.level === 'client-timeout')
        message = `${where(endpoint)}: connect timed out after ${endpoint.connectTimeoutMs / 1000} s`;
      else message = `${where(endpoint)}: ${proxyEnd ?? socketFailure(error, endpoint.hostName) ?? error.message}`;
      reject(new ConnectionError(endpoint.host, message));
    };
    client.on('error', (error) => void fail(error));
    client.once('close', () => void fail(new Error('the connection closed during the handshake')));
    client.once('ready', () => {
      settled = true;
      resolve();
    });
    client.connect(config);
  });
}
