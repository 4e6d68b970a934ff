/**
 * A real OpenSSH sshd for tests, listening on 127.0.0.1 on a free high port, with its own config, host key
 * and authorized_keys in a temporary directory. Logins are as root (the tests run as root).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InventoryHost, inventoryFromText } from '../../src/inventory/load.js';

export interface TestSshd {
  port: number;
  directory: string;
  /** `ssh-ed25519 AAAA…` */
  hostPublicKey: string;
  /** A private key that sshd accepts. */
  clientKey: string;
  /** The line OpenSSH would record for this server. */
  knownHostsLine: string;
  /** The sshd processes serving client connections (for a root login, one per connection; else two). */
  connectionPids(): number[];
  log(): string;
  stop(): Promise<void>;
}

export function generateKey(path: string, type = 'ed25519', passphrase = ''): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', 'keel-test', '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function childPids(pid: number, name?: string): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), ...(name ? ['-x', name] : [])], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export async function startSshd(extraConfig = ''): Promise<TestSshd> {
  // sshd refuses to start without its privilege separation directory, which Debian creates only at boot.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const directory = mkdtempSync(join(tmpdir(), 'keel-sshd-'));
  const hostPublicKey = generateKey(join(directory, 'host_key'));
  const clientKey = join(directory, 'client_key');
  writeFileSync(join(directory, 'authorized_keys'), `${generateKey(clientKey)}\n`);
  const port = await freePort();
  writeFileSync(
    join(directory, 'sshd_config'),
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${join(directory, 'host_key')}`,
      `AuthorizedKeysFile ${join(directory, 'authorized_keys')}`,
      `PidFile ${join(directory, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UseDNS no',
      // Debian's bash sources ~/.bashrc for commands run by sshd when it is the top-level shell; root's here runs
      // `pyenv init`, seconds per command. One level down, it does not.
      'SetEnv SHLVL=1',
      extraConfig,
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(directory, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start:\n${log}`)), 10_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code}:\n${log}`));
    });
  });
  return {
    port,
    directory,
    hostPublicKey,
    clientKey,
    knownHostsLine: `[127.0.0.1]:${port} ${hostPublicKey}`,
    connectionPids: () => childPids(child.pid!, 'sshd').flatMap((monitor) => [monitor, ...childPids(monitor, 'sshd')]),
    log: () => log,
    async stop() {
      for (const pid of childPids(child.pid!)) process.kill(pid, 'SIGKILL');
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    },
  };
}

/** An inventory host built the way the CLI builds one: from inventory text, validated against the schema. */
export function inventoryHost(settings: Record<string, unknown>, name = 'target'): InventoryHost {
  return inventoryFromText('test-inventory.yaml', JSON.stringify({ hosts: { [name]: settings } })).hosts[0]!;
}
