/**
 * The SSH transport against a real OpenSSH sshd on loopback. HOME points at a temporary directory, so
 * ~/.ssh/config and ~/.ssh/known_hosts are the test's own.
 */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHost } from '../../src/planner/connect.js';
import { ConnectionError, SCRIPT_CAPTURES, type Transport } from '../../src/transport/types.js';
import { generateKey, inventoryHost, startSshd, type TestSshd } from '../support/sshd.js';
import { writeFileOver } from '../support/writeFile.js';

let sshd: TestSshd;
let home: string;
let knownHosts: string;
const previousHome = process.env['HOME'];
const previousAgent = process.env['SSH_AUTH_SOCK'];

const sha256Of = (publicKey: string): string =>
  `SHA256:${createHash('sha256')
    .update(Buffer.from(publicKey.split(' ')[1]!, 'base64'))
    .digest('base64')
    .replace(/=+$/, '')}`;

function target(settings: Record<string, unknown> = {}) {
  return inventoryHost({
    address: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    identityFile: sshd.clientKey,
    knownHostsFile: knownHosts,
    ...settings,
  });
}

async function connectionError(promise: Promise<unknown>): Promise<ConnectionError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectionError);
  return error as ConnectionError;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'keel-home-'));
  process.env['HOME'] = home;
  delete process.env['SSH_AUTH_SOCK'];
  sshd = await startSshd();
  knownHosts = join(home, 'lab_known_hosts');
  writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
});

afterAll(async () => {
  await sshd?.stop();
  process.env['HOME'] = previousHome;
  if (previousAgent !== undefined) process.env['SSH_AUTH_SOCK'] = previousAgent;
});

describe('commands', () => {
  let transport: Transport;
  beforeAll(async () => {
    transport = await connectHost(target(), { kind: 'ssh' });
  });
  afterAll(async () => {
    await transport?.close();
  });

  it('returns stdout, stderr and the exit code, and counts exec channels', async () => {
    const before = transport.execCount;
    const result = await transport.exec('echo out; echo err >&2; exit 3');
    expect({ stdout: result.stdout.toString(), stderr: result.stderr.toString(), code: result.code }).toEqual({
      stdout: 'out\n',
      stderr: 'err\n',
      code: 3,
    });
    expect(transport.execCount).toBe(before + 1);
  });

  it('feeds stdin byte for byte, binary included', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, index) => (index * 7) % 256));
    const result = await transport.exec('cat', { stdin: bytes });
    expect(result.code).toBe(0);
    expect(result.stdout.equals(bytes)).toBe(true);
  });

  it('runs a script from stdin with sh -s, as the engine sends every batch', async () => {
    const result = await transport.exec('sh -s', { stdin: 'x=$(printf "%s" "a b")\necho "[$x]"\n', sudo: true });
    expect(result.stdout.toString()).toBe('[a b]\n');
  });

  it('runs each script from a file only its user may read, beside its capture files, all gone once the shell has ended', async () => {
    const own = await connectHost(target(), { kind: 'ssh' });
    const script = 'stat -c "%a %U %n" "$0" "$0".*; printf "%s\\n" "$0"';
    const [first, second] = [await own.runScript(script), await own.runScript(script)];
    const lines = first.stdout.toString().trimEnd().split('\n');
    const path = lines.pop()!;
    const user = (await transport.exec('id -un')).stdout.toString().trim();
    expect(path).toMatch(/\/keel-[0-9a-f]{16}$/);
    expect(lines.sort()).toEqual(
      [path, ...Object.values(SCRIPT_CAPTURES).map((suffix) => path + suffix)].sort().map((file) => `600 ${user} ${file}`),
    );
    expect(second.stdout.toString()).toBe(first.stdout.toString());
    await own.close();
    const left = async (): Promise<string> => (await transport.exec(`ls -d '${path}'* 2>/dev/null`)).stdout.toString();
    const deadline = Date.now() + 5_000;
    while ((await left()) !== '' && Date.now() < deadline) await sleep(100);
    expect(await left()).toBe('');
  });

  it('reports a command killed by a signal as 128 + its number', async () => {
    const result = await transport.exec('kill -TERM $$');
    expect(result.code).toBe(128 + 15);
  });

  it('writes files atomically with their mode: a reader only ever sees a whole version', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-put-'));
    const path = join(directory, 'data.bin');
    const versions = ['a', 'b'].map((fill) => Buffer.alloc(3_000_000, fill));
    const digests = new Set(versions.map((version) => createHash('md5').update(version).digest('hex')));
    await writeFileOver(transport, path, versions[0]!, { mode: 0o640 });
    let reading = true;
    const seen: string[] = [];
    const reader = (async () => {
      while (reading) seen.push((await transport.exec(`md5sum < ${path}`)).stdout.toString().split(' ')[0]!);
    })();
    for (let round = 0; round < 6; round += 1) await writeFileOver(transport, path, versions[round % 2]!, { mode: 0o640 });
    reading = false;
    await reader;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((digest) => !digests.has(digest))).toEqual([]);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readdirSync(directory)).toEqual(['data.bin']);
  });

  it('queues beyond 10 concurrent channels (sshd MaxSessions) and completes every command', async () => {
    const before = transport.execCount;
    const { value: results, ms } = await timed(() =>
      Promise.all(Array.from({ length: 25 }, (_, index) => transport.exec(`sleep 0.5; echo ${index}`))),
    );
    expect(results.map((result) => result.stdout.toString().trim())).toEqual(Array.from({ length: 25 }, (_, index) => String(index)));
    expect(transport.execCount).toBe(before + 25);
    // 25 commands of 0.5 s through 10 channels need three waves.
    expect(ms).toBeGreaterThan(1_400);
  });

  it('ends a command at its timeout with exit code 124 and kills its remote processes', async () => {
    const token = `keel-timeout-${process.pid}-${Date.now()}`;
    const marker = join(tmpdir(), token);
    const { value: result, ms } = await timed(() => transport.exec(`sleep 30 && touch ${marker} # ${token}`, { timeoutMs: 1_000 }));
    expect(result.code).toBe(124);
    expect(result.stderr.toString()).toContain('timed out after 1000 ms');
    expect(ms).toBeLessThan(4_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(() => execFileSync('pgrep', ['-f', token])).toThrow();
    expect(existsSync(marker)).toBe(false);
    expect((await transport.exec('echo still usable')).stdout.toString()).toBe('still usable\n');
  });
});

describe('host keys', () => {
  it('refuses an unknown host, naming it, its key type and fingerprint, and how to accept it', async () => {
    const empty = join(home, 'empty_known_hosts');
    writeFileSync(empty, '');
    const error = await connectionError(connectHost(target({ knownHostsFile: empty }), { kind: 'ssh' }));
    expect(error.host).toBe('target');
    expect(error.message).toContain(
      `target: host key for [127.0.0.1]:${sshd.port} is not known; run with --accept-new to trust it (ssh-ed25519 ${sha256Of(sshd.hostPublicKey)})`,
    );
    expect(error.message).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${empty}`);
  });

  it('--accept-new records the key, and the next connection passes without it', async () => {
    const file = join(home, 'tofu_known_hosts');
    const first = await connectHost(target({ knownHostsFile: file }), { kind: 'ssh', acceptNew: true });
    await first.close();
    expect(readFileSync(file, 'utf8')).toBe(`${sshd.knownHostsLine}\n`);
    const second = await connectHost(target({ knownHostsFile: file }), { kind: 'ssh' });
    expect((await second.exec('true')).code).toBe(0);
    await second.close();
    expect(readFileSync(file, 'utf8')).toBe(`${sshd.knownHostsLine}\n`);
  });

  it('records into ~/.ssh/known_hosts when no other file is named, as OpenSSH would read it', async () => {
    const host = target();
    delete host.connection.knownHostsFile;
    const transport = await connectHost(host, { kind: 'ssh', acceptNew: true });
    await transport.close();
    const recorded = join(home, '.ssh/known_hosts');
    expect(execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', recorded], { encoding: 'utf8' })).toContain(
      sshd.hostPublicKey,
    );
    rmSync(recorded);
  });

  it('always refuses a changed key, with both fingerprints, even with --accept-new', async () => {
    const impostor = generateKey(join(mkdtempSync(join(tmpdir(), 'keel-key-')), 'other'));
    const file = join(home, 'changed_known_hosts');
    writeFileSync(file, `[127.0.0.1]:${sshd.port} ${impostor}\n`);
    for (const acceptNew of [false, true]) {
      const error = await connectionError(connectHost(target({ knownHostsFile: file }), { kind: 'ssh', acceptNew }));
      expect(error.message).toContain(`host key for [127.0.0.1]:${sshd.port} has CHANGED`);
      expect(error.message).toContain(`expected ssh-ed25519 ${sha256Of(impostor)} (${file}:1)`);
      expect(error.message).toContain(`offered ssh-ed25519 ${sha256Of(sshd.hostPublicKey)}`);
    }
    expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${impostor}\n`);
  });

  it('refuses a key marked @revoked', async () => {
    const file = join(home, 'revoked_known_hosts');
    writeFileSync(file, `${sshd.knownHostsLine}\n@revoked * ${sshd.hostPublicKey}\n`);
    const error = await connectionError(connectHost(target({ knownHostsFile: file }), { kind: 'ssh' }));
    expect(error.message).toContain('is REVOKED');
  });

  it('finds the key under a hashed entry written by ssh-keygen -H', async () => {
    const file = join(home, 'hashed_known_hosts');
    writeFileSync(file, `${sshd.knownHostsLine}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    const transport = await connectHost(target({ knownHostsFile: file }), { kind: 'ssh' });
    await transport.close();
  });
});

describe('connection failures', () => {
  it('names the host and address when the port is closed', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const error = await connectionError(connectHost(target({ port }), { kind: 'ssh' }));
    expect(error.message).toBe(`target (127.0.0.1:${port}): connection refused`);
  });

  it('gives up after the connect timeout when the server never speaks', async () => {
    const silent: Socket[] = [];
    const server: Server = createServer((socket) => silent.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const { value: error, ms } = await timed(() => connectionError(connectHost(target({ port, connectTimeout: 1 }), { kind: 'ssh' })));
      expect(error.message).toBe(`target (127.0.0.1:${port}): connect timed out after 1 s`);
      expect(ms).toBeLessThan(2_500);
    } finally {
      silent.forEach((socket) => socket.destroy());
      server.close();
    }
  });

  it('reports which keys it tried when none is accepted', async () => {
    const wrongKey = join(mkdtempSync(join(tmpdir(), 'keel-key-')), 'id_wrong');
    generateKey(wrongKey);
    const error = await connectionError(connectHost(target({ identityFile: wrongKey }), { kind: 'ssh' }));
    expect(error.message).toBe(`target: authentication failed as root (tried publickey with ${wrongKey})`);
  });

  it('says when a key is encrypted and no passphrase was given, and uses the passphrase from the environment', async () => {
    const encrypted = join(mkdtempSync(join(tmpdir(), 'keel-key-')), 'id_encrypted');
    const publicKey = generateKey(encrypted, 'ed25519', 'correct horse');
    writeFileSync(
      join(sshd.directory, 'authorized_keys'),
      `${readFileSync(join(sshd.directory, 'authorized_keys'), 'utf8')}${publicKey}\n`,
    );
    const error = await connectionError(connectHost(target({ identityFile: encrypted }), { kind: 'ssh' }));
    expect(error.message).toContain(`skipped ${encrypted} (encrypted, and no passphrase was given)`);
    process.env['KEEL_TEST_PASSPHRASE'] = 'correct horse';
    const transport = await connectHost(target({ identityFile: encrypted, passphrase: { env: 'KEEL_TEST_PASSPHRASE' } }), { kind: 'ssh' });
    await transport.close();
  });

  it('rejects a command in flight promptly with ConnectionError when the sshd serving it is killed, and every later one', async () => {
    const before = new Set(sshd.connectionPids());
    const transport = await connectHost(target(), { kind: 'ssh' });
    const running = transport.exec('sleep 30');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = performance.now();
    const serving = sshd.connectionPids().filter((pid) => !before.has(pid));
    expect(serving.length).toBeGreaterThan(0);
    for (const pid of serving) process.kill(pid, 'SIGKILL');
    const error = await connectionError(running);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.message).toMatch(/^target \(127\.0\.0\.1:\d+\): /);
    const later = await connectionError(transport.exec('true'));
    expect(later.message).toBe(error.message);
    await transport.close();
  });
});

describe('a host that stops answering', () => {
  it('is declared lost by keepalive, failing the command in flight instead of hanging', async () => {
    const before = new Set(sshd.connectionPids());
    const transport = await connectHost(target(), { kind: 'ssh' });
    const serving = sshd.connectionPids().filter((pid) => !before.has(pid));
    const running = transport.exec('sleep 60');
    for (const pid of serving) process.kill(pid, 'SIGSTOP');
    try {
      const { value: error, ms } = await timed(() => connectionError(running));
      expect(error.message).toMatch(/^target \(127\.0\.0\.1:\d+\): no answer to keepalives for 15 s/);
      expect(ms).toBeLessThan(25_000);
    } finally {
      for (const pid of serving) process.kill(pid, 'SIGKILL');
    }
    await transport.close();
  }, 40_000);
});

describe('~/.ssh/config and proxies', () => {
  it('takes HostName, Port, User and IdentityFile from ~/.ssh/config for the inventory address', async () => {
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(
      join(home, '.ssh/config'),
      `Host lab-alias\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n`,
    );
    const transport = await connectHost(inventoryHost({ address: 'lab-alias', knownHostsFile: knownHosts }), { kind: 'ssh' });
    expect((await transport.exec('echo via config')).stdout.toString()).toBe('via config\n');
    await transport.close();
  });

  it('follows Include in ~/.ssh/config, a glob relative to ~/.ssh, to a host defined in the included file', async () => {
    mkdirSync(join(home, '.ssh/config.d'), { recursive: true });
    writeFileSync(join(home, '.ssh/config'), 'Include config.d/*.conf\n');
    writeFileSync(
      join(home, '.ssh/config.d/lab.conf'),
      `Host lab-included\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n`,
    );
    const transport = await connectHost(inventoryHost({ address: 'lab-included', knownHostsFile: knownHosts }), { kind: 'ssh' });
    expect((await transport.exec('echo via include')).stdout.toString()).toBe('via include\n');
    await transport.close();
  });

  it('connects through a ProxyCommand, with %h and %p substituted', async () => {
    const transport = await connectHost(target({ proxyCommand: 'exec nc %h %p' }), { kind: 'ssh' });
    expect((await transport.exec('echo proxied')).stdout.toString()).toBe('proxied\n');
    await transport.close();
  });

  it('connects through a ProxyJump host', async () => {
    const transport = await connectHost(target({ proxyJump: `root@127.0.0.1:${sshd.port}` }), { kind: 'ssh' });
    expect((await transport.exec('echo jumped')).stdout.toString()).toBe('jumped\n');
    await transport.close();
  });

  it('reports a ProxyCommand that fails with its own message', async () => {
    const error = await connectionError(connectHost(target({ proxyCommand: 'echo "no way through" >&2; exit 7' }), { kind: 'ssh' }));
    expect(error.message).toBe(
      `target (127.0.0.1:${sshd.port}): proxy command (echo "no way through" >&2; exit 7) exited with code 7: no way through`,
    );
  });
});
