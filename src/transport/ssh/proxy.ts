// The ways to reach a server other than directly: a ProxyCommand's process, or a channel forwarded by a jump host.
import { type ChildProcess, spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { quote } from '../../shell/index.js';
import { ConnectionError } from '../types.js';
import { expandTokens } from './config.js';
import { type Endpoint, where } from './endpoint.js';

/** The stdio of a ProxyCommand as the socket ssh2 talks over. */
export interface ProxyProcess {
  socket: Duplex;
  child: ChildProcess;
  /** Resolves once the command has exited (or at once if it has), with how it ended. */
  ended(waitMs: number): Promise<string | undefined>;
}

/**
 * Proxy commands run in process groups of their own, so that a Ctrl-C at the terminal reaches keel alone, which
 * then finishes the changes in flight through them. So they are ended here, also when keel exits at once.
 */
const runningProxies = new Set<ChildProcess>();
process.on('exit', () => runningProxies.forEach(endProxy));

export function endProxy(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
}

export function startProxyCommand(endpoint: Endpoint): ProxyProcess {
  const command = expandTokens(endpoint.proxyCommand!, {
    h: quote(endpoint.hostName),
    p: quote(endpoint.port),
    r: quote(endpoint.user),
    n: quote(endpoint.alias),
  });
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  runningProxies.add(child);
  child.on('exit', () => runningProxies.delete(child));
  let stderr = '';
  let exit: string | undefined;
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const socket = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  // Its failures reach ssh2 as the socket ending; the proxy's own exit explains them.
  socket.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      exit = `cannot start the proxy command (${command}): ${error.message}`;
      socket.destroy(error);
      resolve();
    });
    child.on('exit', (code, signal) => {
      const detail = stderr.trim().split('\n').at(-1);
      exit = `proxy command (${command}) exited with ${code === null ? `signal ${signal}` : `code ${code}`}${detail ? `: ${detail}` : ''}`;
      resolve();
    });
  });
  return {
    socket,
    child,
    async ended(waitMs) {
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
      return exit;
    },
  };
}

export function forwardThrough(jump: Client, endpoint: Endpoint, jumpAlias: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, endpoint.hostName, endpoint.port, (error, channel) => {
      if (error) reject(new ConnectionError(endpoint.host, `${where(endpoint)}: jump host ${jumpAlias} cannot reach it: ${error.message}`));
      else resolve(channel);
    });
  });
}
