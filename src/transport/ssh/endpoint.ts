// Which SSH server to reach and how: the inventory's settings over ~/.ssh/config, and the jump hosts on the way.
import { homedir, userInfo } from 'node:os';
import type { Secret } from '../../shell/index.js';
import { expandHome, expandTokens, sshConfigFor } from './config.js';

const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

/** One SSH server to reach: the target host, or a jump host on the way to it. */
export interface Endpoint {
  /** The inventory host this connection is for. */
  host: string;
  /** How messages name it: `rs1`, or `rs1 via jump bastion`. */
  label: string;
  alias: string;
  hostName: string;
  port: number;
  user: string;
  /** Named by the inventory or ssh config; when there are none, the default ~/.ssh keys are tried. */
  identityFiles: string[];
  passphrase?: Secret;
  password?: Secret;
  proxyCommand?: string;
  jumps: string[];
  connectTimeoutMs: number;
}

export interface Credentials {
  identityFile?: string;
  passphrase?: Secret;
  password?: Secret;
}

interface EndpointOverrides {
  user?: string;
  port?: number;
  proxyCommand?: string;
  proxyJump?: string;
  connectTimeoutSeconds?: number;
}

export function where(endpoint: Endpoint): string {
  return `${endpoint.label} (${endpoint.hostName}:${endpoint.port})`;
}

export function resolveEndpoint(
  host: string,
  label: string,
  alias: string,
  overrides: EndpointOverrides,
  credentials: Credentials,
): Endpoint {
  const config = sshConfigFor(alias);
  const user = overrides.user ?? config.user ?? userInfo().username;
  const port = overrides.port ?? config.port ?? 22;
  const hostName = config.hostName === undefined ? alias : expandTokens(config.hostName, { h: alias });
  const tokens = { h: hostName, p: String(port), r: user, n: alias, u: userInfo().username, d: homedir() };
  const identityFiles = [...(credentials.identityFile ? [credentials.identityFile] : []), ...config.identityFiles].map((file) =>
    expandHome(expandTokens(file, tokens)),
  );
  // The inventory's proxy settings replace the config's as a pair; within one source a ProxyCommand wins.
  const proxySource = overrides.proxyCommand !== undefined || overrides.proxyJump !== undefined ? overrides : config;
  const proxyCommand = proxySource.proxyCommand;
  const proxyJump = proxyCommand === undefined ? proxySource.proxyJump : undefined;
  return {
    host,
    label,
    alias,
    hostName,
    port,
    user,
    identityFiles,
    ...(credentials.passphrase ? { passphrase: credentials.passphrase } : {}),
    ...(credentials.password ? { password: credentials.password } : {}),
    ...(proxyCommand ? { proxyCommand } : {}),
    jumps: proxyJump
      ? proxyJump
          .split(',')
          .map((jump) => jump.trim())
          .filter(Boolean)
      : [],
    connectTimeoutMs: (overrides.connectTimeoutSeconds ?? config.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS) * 1000,
  };
}

/** `[ssh://][user@]host[:port]`, as ProxyJump takes it. */
function parseJump(spec: string): { alias: string; user?: string; port?: number } {
  const match = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec);
  if (!match) return { alias: spec };
  const [, user, host, port] = match;
  return { alias: host!.replace(/^\[|\]$/g, ''), ...(user ? { user } : {}), ...(port ? { port: Number(port) } : {}) };
}

/** The last jump is the one that forwards to the endpoint; the jumps before it lead to that one. */
export function jumpEndpoint(endpoint: Endpoint, credentials: Credentials): Endpoint {
  const spec = endpoint.jumps.at(-1)!;
  const { alias, user, port } = parseJump(spec);
  const before = endpoint.jumps.slice(0, -1);
  const overrides: EndpointOverrides = {
    ...(user ? { user } : {}),
    ...(port ? { port } : {}),
    ...(before.length > 0 ? { proxyJump: before.join(',') } : {}),
  };
  return resolveEndpoint(endpoint.host, `${endpoint.host} via jump ${alias}`, alias, overrides, credentials);
}
