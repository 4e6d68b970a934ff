/**
 * The SSH transport, on ssh2: one connection per host, at most 10 channels at once (sshd's MaxSessions),
 * host keys checked against known_hosts like OpenSSH, ~/.ssh/config honoured, proxies and jump hosts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir, constants as osConstants, userInfo } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import pLimit from 'p-limit';
import ssh2, { type AnyAuthMethod, type AuthHandlerMiddleware, type Client, type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import type { Secret } from '../shell/index.js';
import { quote, sh } from '../shell/index.js';
import {
  describeKey,
  fingerprint,
  knownHostName,
  loadKnownHosts,
  preferredHostKeyAlgorithms,
  recordHostKey,
  verifyHostKey,
  type HostKeyVerdict,
} from './knownHosts.js';
import { becomeCommand } from './become.js';
import { expandHome, expandTokens, sshConfigFor, userSshDirectory } from './sshConfig.js';
import { ConnectionError, TIMEOUT_EXIT_CODE, type Become, type ExecOptions, type ExecResult, type SshTarget, type Transport } from './types.js';

const MAX_CHANNELS = 10;
const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;
const KEEPALIVE_INTERVAL_MS = 5_000;
const KEEPALIVE_COUNT_MAX = 3;
/** After a command's timeout: SIGTERM to its process group, then SIGKILL this much later. */
const KILL_GRACE_MS = 1_000;
/** A channel that does not confirm its close this long after we closed it is given up on. */
const CLOSE_WAIT_MS = 5_000;
/**
 * Run as `sh -c SCRIPT keel COMMAND` in place of the login shell, which sshd made a session (and process group)
 * leader: it reports that process group on the first line of stderr, then becomes COMMAND.
 */
const REPORT_PROCESS_GROUP = 'echo "$$" >&2; exec sh -c "$1"';
const MAX_PROXY_DEPTH = 8;
const CLOSED_BY_KEEL = 'the connection was closed by keel';
/** Reasons (administratively prohibited, connect failed, resource shortage) sshd gives for "no free session". */
const SESSION_REFUSALS = [1, 2, 4];
const OPEN_ATTEMPTS = 10;
const OPEN_RETRY_MS = 20;
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_rsa', 'id_ecdsa'];
const GLOBAL_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';
/** What ssh2 can verify; a known_hosts key of another type (e.g. a security key) cannot be preferred. */
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] as const;

/** One SSH server to reach: the target host, or a jump host on the way to it. */
interface Endpoint {
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

interface Credentials {
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

function where(endpoint: Endpoint): string {
  return `${endpoint.label} (${endpoint.hostName}:${endpoint.port})`;
}

function resolveEndpoint(host: string, label: string, alias: string, overrides: EndpointOverrides, credentials: Credentials): Endpoint {
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
    jumps: proxyJump ? proxyJump.split(',').map((jump) => jump.trim()).filter(Boolean) : [],
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
function jumpEndpoint(endpoint: Endpoint, credentials: Credentials): Endpoint {
  const spec = endpoint.jumps.at(-1)!;
  const { alias, user, port } = parseJump(spec);
  const before = endpoint.jumps.slice(0, -1);
  const overrides: EndpointOverrides = { ...(user ? { user } : {}), ...(port ? { port } : {}), ...(before.length > 0 ? { proxyJump: before.join(',') } : {}) };
  return resolveEndpoint(endpoint.host, `${endpoint.host} via jump ${alias}`, alias, overrides, credentials);
}

/** The stdio of a ProxyCommand as the socket ssh2 talks over. */
interface ProxyProcess {
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

function endProxy(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
}

function startProxyCommand(endpoint: Endpoint): ProxyProcess {
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

function forwardThrough(jump: Client, endpoint: Endpoint, jumpAlias: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, endpoint.hostName, endpoint.port, (error, channel) => {
      if (error) reject(new ConnectionError(endpoint.host, `${where(endpoint)}: jump host ${jumpAlias} cannot reach it: ${error.message}`));
      else resolve(channel);
    });
  });
}

interface KnownHostsPolicy {
  files: string[];
  /** Where --accept-new records keys. */
  recordTo: string;
  acceptNew: boolean;
}

/** ~/.ssh/known_hosts and the system file, plus the inventory's and the command line's; new keys go to the last named. */
function knownHostsPolicy(target: SshTarget): KnownHostsPolicy {
  const userFile = join(userSshDirectory(), 'known_hosts');
  const named = target.knownHostsFiles.map(expandHome);
  return {
    files: [...new Set([userFile, GLOBAL_KNOWN_HOSTS, ...named])],
    recordTo: named.at(-1) ?? userFile,
    acceptNew: target.acceptNew,
  };
}

function hostKeyRefusal(verdict: Exclude<HostKeyVerdict, { kind: 'trusted' }>, name: string, key: Buffer, policy: KnownHostsPolicy, endpoint: Endpoint): string {
  const offered = describeKey(key);
  const at = (entry: { file: string; line: number }): string => `${entry.file}:${entry.line}`;
  const removal = `ssh-keygen -R ${quote(name)} -f ${quote(policy.recordTo)}`;
  switch (verdict.kind) {
    case 'revoked':
      return `host key for ${name} is REVOKED (${offered}, @revoked at ${at(verdict.entry)}); refusing to connect`;
    case 'changed':
      return `host key for ${name} has CHANGED: expected ${verdict.expected.map((e) => `${e.keyType} ${fingerprint(e.key)} (${at(e)})`).join(', ')}, offered ${offered}; refusing to connect (possible man-in-the-middle; if the host was reinstalled, remove the old key with ${removal})`;
    case 'other-types':
      return `host key for ${name} is known only as ${verdict.known.map((e) => `${e.keyType} ${fingerprint(e.key)} (${at(e)})`).join(', ')}, but the host offered ${offered}; refusing to connect`;
    case 'unknown': {
      const scan = `ssh-keyscan${endpoint.port === 22 ? '' : ` -p ${endpoint.port}`} ${quote(endpoint.hostName)} >> ${quote(policy.recordTo)}`;
      return `host key for ${name} is not known; run with --accept-new to trust it (${offered}), or add it with ${scan}`;
    }
  }
}

/** The authentication methods to offer, in order, and what was actually tried (for the failure message). */
interface AuthPlan {
  handler: AuthHandlerMiddleware;
  summary(): string;
}

function authPlan(endpoint: Endpoint): AuthPlan {
  const username = endpoint.user;
  const methods: { type: 'publickey' | 'password'; label: string; method: AnyAuthMethod }[] = [];
  const skipped: string[] = [];
  const explicit = endpoint.identityFiles.length > 0;
  const files = explicit ? endpoint.identityFiles : DEFAULT_IDENTITIES.map((name) => join(userSshDirectory(), name)).filter((file) => existsSync(file));
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (error) {
      skipped.push(`${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      continue;
    }
    const parsed = ssh2.utils.parseKey(data, endpoint.passphrase?.reveal());
    if (parsed instanceof Error) {
      const encrypted = /no passphrase/i.test(parsed.message);
      skipped.push(`${file} (${encrypted ? 'encrypted, and no passphrase was given' : endpoint.passphrase ? 'cannot decrypt it with the given passphrase' : parsed.message})`);
      continue;
    }
    methods.push({ type: 'publickey', label: `publickey with ${file}`, method: { type: 'publickey', username, key: parsed } });
  }
  const agent = process.env['SSH_AUTH_SOCK'];
  if (agent) methods.push({ type: 'publickey', label: `ssh-agent keys (${agent})`, method: { type: 'agent', username, agent } });
  if (endpoint.password) methods.push({ type: 'password', label: 'password', method: { type: 'password', username, password: endpoint.password.reveal() } });

  const tried: string[] = [];
  let next = 0;
  return {
    handler(methodsLeft, _partialSuccess, callback) {
      while (next < methods.length) {
        const candidate = methods[next]!;
        next += 1;
        if (methodsLeft && !methodsLeft.includes(candidate.type)) continue;
        tried.push(candidate.label);
        callback(candidate.method);
        return;
      }
      // ssh2 takes `false` for "no more methods"; its type definitions leave that out.
      callback(false as unknown as AnyAuthMethod);
    },
    summary() {
      const parts = [
        tried.length > 0 ? `tried ${tried.join(', ')}` : 'nothing to offer: no key file, no ssh-agent, no password',
        ...(skipped.length > 0 ? [`skipped ${skipped.join(', ')}`] : []),
      ];
      return parts.join('; ');
    },
  };
}

interface Attempt {
  policy: KnownHostsPolicy;
  credentials: Credentials;
  /** Every client and proxy opened on the way, closed together when the transport closes or connecting fails. */
  opened: { clients: Client[]; proxies: ProxyProcess[] };
}

function socketFailure(error: NodeJS.ErrnoException, hostName: string): string | undefined {
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

async function openClient(endpoint: Endpoint, attempt: Attempt, depth = 0): Promise<Client> {
  if (depth > MAX_PROXY_DEPTH) throw new ConnectionError(endpoint.host, `${where(endpoint)}: more than ${MAX_PROXY_DEPTH} jump hosts; is ProxyJump circular?`);
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
  const client = new ssh2.Client();
  attempt.opened.clients.push(client);
  await handshake(client, endpoint, sock, attempt, proxy);
  return client;
}

function handshake(client: Client, endpoint: Endpoint, sock: Duplex | undefined, attempt: Attempt, proxy: ProxyProcess | undefined): Promise<void> {
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
      if (verdict.kind === 'trusted') return verify(true);
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
      else if (error.level === 'client-authentication') message = `${endpoint.label}: authentication failed as ${endpoint.user} (${auth.summary()})`;
      else if (error.level === 'client-timeout') message = `${where(endpoint)}: connect timed out after ${endpoint.connectTimeoutMs / 1000} s`;
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

/** A command killed by a signal exits 128 + the signal's number, as a shell reports it. */
function exitCodeOf(code: number | null | undefined, signal: string | undefined): number {
  if (typeof code === 'number') return code;
  const name = signal?.startsWith('SIG') ? signal : `SIG${signal}`;
  return 128 + (osConstants.signals[name as keyof typeof osConstants.signals] ?? 0);
}

interface OpenChannel {
  channel: ClientChannel;
  exitCode(): number | undefined;
}

class SshTransport implements Transport {
  #execCount = 0;
  #lost: ConnectionError | undefined;
  #closing = false;
  readonly #inFlight = new Set<(error: ConnectionError) => void>();
  #openChannels = 0;
  readonly #channelClosed: (() => void)[] = [];
  readonly #slots = pLimit(MAX_CHANNELS);

  constructor(
    readonly host: string,
    hostName: string,
    private readonly where: string,
    private readonly client: Client,
    private readonly become: Become | undefined,
    private readonly closeAll: () => void,
  ) {
    client.on('error', (error: Error & { level?: string }) => {
      const reason =
        error.level === 'client-timeout'
          ? `no answer to keepalives for ${(KEEPALIVE_INTERVAL_MS * KEEPALIVE_COUNT_MAX) / 1000} s; the connection is lost`
          : (socketFailure(error, hostName) ?? error.message);
      this.#drop(reason);
    });
    client.on('close', () => this.#drop(this.#closing ? CLOSED_BY_KEEL : 'the connection closed unexpectedly'));
  }

  get execCount(): number {
    return this.#execCount;
  }

  #drop(reason: string): void {
    if (this.#lost) return;
    this.#lost = new ConnectionError(this.host, `${this.where}: ${reason}`);
    for (const fail of [...this.#inFlight]) fail(this.#lost);
    this.closeAll();
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.#slots(() => this.#execute(command, options));
  }

  /**
   * sshd frees a closed session only once it has read past our close, and a session whose command outlived its
   * channel stays counted against MaxSessions. So a refused channel is retried: when another of ours closes,
   * or, with none open, a few times after a pause.
   */
  async #openChannel(command: string): Promise<OpenChannel> {
    for (let attempt = 1; ; attempt += 1) {
      if (this.#lost) throw this.#lost;
      try {
        return await new Promise<OpenChannel>((resolve, reject) => {
          this.client.exec(command, (error, channel) => {
            if (error) return reject(error);
            this.#openChannels += 1;
            // The exit status can arrive in the same packet batch as the exec confirmation, before any await resumes.
            let exitCode: number | undefined;
            channel.on('exit', (code: number | null, signal?: string) => {
              exitCode = exitCodeOf(code, signal);
            });
            channel.on('close', () => {
              this.#openChannels -= 1;
              this.#channelClosed.splice(0).forEach((wake) => wake());
            });
            resolve({ channel, exitCode: () => exitCode });
          });
        });
      } catch (error) {
        if (this.#lost) throw this.#lost;
        const refused = SESSION_REFUSALS.includes((error as { reason?: unknown }).reason as number);
        if (!refused || (this.#openChannels === 0 && attempt >= OPEN_ATTEMPTS)) {
          throw new ConnectionError(this.host, `${this.where}: cannot open a channel: ${(error as Error).message}`);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#openChannels > 0 ? 1_000 : OPEN_RETRY_MS * attempt);
          this.#channelClosed.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
  }

  async #execute(command: string, options: ExecOptions): Promise<ExecResult> {
    let remoteCommand = command;
    let stdin = options.stdin === undefined ? Buffer.alloc(0) : Buffer.from(options.stdin);
    if (options.sudo && this.become) {
      const wrapped = becomeCommand(command, this.become);
      remoteCommand = wrapped.command;
      stdin = Buffer.concat([Buffer.from(wrapped.stdinPrefix), stdin]);
    }
    const killable = options.timeoutMs !== undefined;
    if (killable) remoteCommand = sh`exec sh -c ${REPORT_PROCESS_GROUP} keel ${remoteCommand}`.text;
    const { channel, exitCode } = await this.#openChannel(remoteCommand);
    this.#execCount += 1;
    return new Promise((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let pending: Buffer | undefined = killable ? Buffer.alloc(0) : undefined;
      let processGroup: number | undefined;
      let timedOut = false;
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        timers.forEach(clearTimeout);
        this.#inFlight.delete(onLost);
        outcome();
      };
      const onLost = (error: ConnectionError): void => settle(() => reject(error));
      if (this.#lost) return onLost(this.#lost);
      this.#inFlight.add(onLost);
      const finish = (): void =>
        settle(() => {
          if (pending) stderr.unshift(pending);
          if (timedOut) stderr.push(Buffer.from(`keel: command timed out after ${options.timeoutMs} ms\n`));
          const code = timedOut ? TIMEOUT_EXIT_CODE : exitCode();
          if (code === undefined) reject(this.#lost ?? new ConnectionError(this.host, `${this.where}: the command ended without an exit status`));
          else resolve({ stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), code });
        });
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => {
        if (pending === undefined) return void stderr.push(chunk);
        pending = Buffer.concat([pending, chunk]);
        const newline = pending.indexOf(0x0a);
        if (newline < 0) return;
        const reported = Number(pending.subarray(0, newline).toString());
        if (Number.isInteger(reported) && reported > 1) processGroup = reported;
        stderr.push(pending.subarray(newline + 1));
        pending = undefined;
      });
      channel.on('close', finish);
      if (options.timeoutMs !== undefined) {
        timers.push(
          setTimeout(() => {
            timedOut = true;
            if (processGroup !== undefined) this.#killProcessGroup(processGroup);
            timers.push(
              setTimeout(() => {
                channel.close();
                timers.push(setTimeout(finish, CLOSE_WAIT_MS));
              }, KILL_GRACE_MS + 500),
            );
          }, options.timeoutMs),
        );
      }
      channel.end(stdin);
    });
  }

  /**
   * Ends a timed-out command with everything it started: SIGTERM to its process group, SIGKILL a moment later.
   * It takes a channel of its own because OpenSSH refuses channel signals in sessions of root, which it does not
   * privilege-separate. It bypasses the channel queue, so that timed-out commands holding every slot cannot block it.
   */
  #killProcessGroup(processGroup: number): void {
    const group = `-${processGroup}`;
    const seconds = KILL_GRACE_MS / 1000;
    this.#execute(sh`kill -s TERM -- ${group} 2>/dev/null; sleep ${seconds}; kill -s KILL -- ${group} 2>/dev/null; true`.text, { sudo: true }).catch(() => undefined);
  }


  /**
   * Says goodbye and returns: the server's side of it (ending the session and its PAM stack) takes it a tenth of a
   * second that would otherwise hold a fork slot, and keel learns nothing from it.
   */
  async close(): Promise<void> {
    if (this.#lost) return;
    this.#closing = true;
    this.#drop(CLOSED_BY_KEEL);
  }
}

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
