/**
 * The part of ~/.ssh/config keel honours: Host blocks with HostName, User, Port, IdentityFile, ProxyJump,
 * ProxyCommand and ConnectTimeout. Keywords are case-insensitive; the first value obtained wins, as in ssh.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';

export interface SshConfigHost {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
  proxyCommand?: string;
  connectTimeoutSeconds?: number;
}

export function userSshDirectory(): string {
  return join(homedir(), '.ssh');
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function positive(value: string | undefined): number | undefined {
  const parsed = Number(value);
  return value !== undefined && Number.isInteger(parsed) && parsed > 0 ? parsed : undefined;
}

/** `none` switches a proxy off, as in ssh. */
function unlessNone(value: string | undefined): string | undefined {
  return value === undefined || value.toLowerCase() === 'none' ? undefined : value;
}

/** What the config says about `alias` (the host as it would be typed after `ssh`). A missing file says nothing. */
export function sshConfigFor(alias: string, file = join(userSshDirectory(), 'config')): SshConfigHost {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { identityFiles: [] };
    throw error;
  }
  // Match exec would run commands from the config file on every connection; keel does not evaluate it.
  const computed = SSHConfig.parse(text).compute(alias.toLowerCase(), { ignoreCase: true, matchExec: false });
  const identity = computed['identityfile'];
  const result: SshConfigHost = { identityFiles: identity === undefined ? [] : ([] as string[]).concat(identity) };
  const hostName = single(computed['hostname']);
  const user = single(computed['user']);
  const port = positive(single(computed['port']));
  const proxyJump = unlessNone(single(computed['proxyjump']));
  const proxyCommand = unlessNone(Array.isArray(computed['proxycommand']) ? computed['proxycommand'].join(' ') : computed['proxycommand']);
  const connectTimeoutSeconds = positive(single(computed['connecttimeout']));
  if (hostName !== undefined) result.hostName = hostName;
  if (user !== undefined) result.user = user;
  if (port !== undefined) result.port = port;
  if (proxyJump !== undefined) result.proxyJump = proxyJump;
  if (proxyCommand !== undefined) result.proxyCommand = proxyCommand;
  if (connectTimeoutSeconds !== undefined) result.connectTimeoutSeconds = connectTimeoutSeconds;
  return result;
}

/** Replaces ssh's `%x` tokens (`%%` is a literal `%`); an unknown token is left as written. */
export function expandTokens(text: string, values: Record<string, string>): string {
  return text.replace(/%(.)/g, (token, letter: string) => (letter === '%' ? '%' : (values[letter] ?? token)));
}

/** `~/x` → the home directory's x, as ssh does for file names. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}
