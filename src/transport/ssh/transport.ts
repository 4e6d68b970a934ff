// The Transport over one ssh2 client: each command on a channel of its own, as many at once as sshd's MaxSessions.
import { constants as osConstants } from 'node:os';
import pLimit from 'p-limit';
import type { Client, ClientChannel } from 'ssh2';
import { sh } from '../../shell/index.js';
import { becomeCommand } from '../become.js';
import { ScriptShell } from '../scriptShell.js';
import { type Become, ConnectionError, type ExecOptions, type ExecResult, TIMEOUT_EXIT_CODE, type Transport } from '../types.js';
import { KEEPALIVE_COUNT_MAX, KEEPALIVE_INTERVAL_MS, socketFailure } from './handshake.js';

const MAX_CHANNELS = 10;
/** After a command's timeout: SIGTERM to its process group, then SIGKILL this much later. */
const KILL_GRACE_MS = 1_000;
/** A channel that does not confirm its close this long after we closed it is given up on. */
const CLOSE_WAIT_MS = 5_000;
/**
 * Run as `sh -c SCRIPT keel COMMAND` in place of the login shell, which sshd made a session (and process group)
 * leader: it reports that process group on the first line of stderr, then becomes COMMAND.
 */
const REPORT_PROCESS_GROUP = 'echo "$$" >&2; exec sh -c "$1"';
const CLOSED_BY_KEEL = 'the connection was closed by keel';
/** Reasons (administratively prohibited, connect failed, resource shortage) sshd gives for "no free session". */
const SESSION_REFUSALS = [1, 2, 4];
const OPEN_ATTEMPTS = 10;
const OPEN_RETRY_MS = 20;

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

export class SshTransport implements Transport {
  #execCount = 0;
  #lost: ConnectionError | undefined;
  #closing = false;
  readonly #inFlight = new Set<(error: ConnectionError) => void>();
  #openChannels = 0;
  readonly #channelClosed: (() => void)[] = [];
  readonly #slots = pLimit(MAX_CHANNELS);
  readonly #shells = new Map<boolean, ScriptShell>();

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

  /** The long-lived shell holds a channel of its own, outside the slots that exec's commands share. */
  runScript(script: string, options: Omit<ExecOptions, 'stdin'> = {}): Promise<ExecResult> {
    const sudo = options.sudo === true;
    let shell = this.#shells.get(sudo);
    if (!shell) {
      const wrapped = sudo && this.become ? becomeCommand('exec sh -s', this.become) : { command: 'exec sh -s', stdinPrefix: '' };
      shell = new ScriptShell(async (events) => {
        const { channel, exitCode } = await this.#openChannel(wrapped.command);
        this.#execCount += 1;
        const onLost = (error: ConnectionError): void => {
          this.#inFlight.delete(onLost);
          events.closed(undefined, error);
        };
        this.#inFlight.add(onLost);
        channel.on('data', events.stdout);
        channel.stderr.on('data', events.stderr);
        channel.on('close', () => {
          this.#inFlight.delete(onLost);
          events.closed(exitCode());
        });
        return { write: (data) => channel.write(data), end: () => channel.end(), destroy: () => channel.close() };
      }, Buffer.from(wrapped.stdinPrefix));
      this.#shells.set(sudo, shell);
    }
    if (this.#lost) return Promise.reject(this.#lost);
    return shell.run(script, options.timeoutMs);
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
          if (code === undefined)
            reject(this.#lost ?? new ConnectionError(this.host, `${this.where}: the command ended without an exit status`));
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
    this.#execute(sh`kill -s TERM -- ${group} 2>/dev/null; sleep ${seconds}; kill -s KILL -- ${group} 2>/dev/null; true`.text, {
      sudo: true,
    }).catch(() => undefined);
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
