import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { becomeCommand } from './become.js';
import { ScriptShell } from './scriptShell.js';
import { type Become, type ExecOptions, type ExecResult, TIMEOUT_EXIT_CODE, type Transport } from './types.js';

/** Runs commands on this machine: pull mode (`--connection local`) and tests. */
export class LocalTransport implements Transport {
  #execCount = 0;
  readonly #shells = new Map<boolean, ScriptShell>();
  constructor(
    readonly host: string = 'localhost',
    private readonly become?: Become,
  ) {}

  get execCount(): number {
    return this.#execCount;
  }

  /** The command as run, through sudo when asked, and what must precede its stdin. */
  #wrap(command: string, sudo: boolean | undefined): { command: string; stdinPrefix: string } {
    if (sudo && this.become && userInfo().uid !== 0) return becomeCommand(command, this.become);
    return { command, stdinPrefix: '' };
  }

  runScript(script: string, options: Omit<ExecOptions, 'stdin'> = {}): Promise<ExecResult> {
    const sudo = options.sudo === true;
    let shell = this.#shells.get(sudo);
    if (!shell) {
      const wrapped = this.#wrap('exec sh -s', sudo);
      shell = new ScriptShell(async (events) => {
        this.#execCount += 1;
        const child = spawn('/bin/sh', ['-c', wrapped.command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
        child.stdout.on('data', events.stdout);
        child.stderr.on('data', events.stderr);
        child.on('error', (error) => events.closed(undefined, error));
        child.on('close', (code) => events.closed(code ?? undefined));
        child.stdin.on('error', () => undefined);
        return {
          write: (data) => child.stdin.write(data),
          end: () => child.stdin.end(),
          destroy: () => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              // already gone
            }
          },
        };
      }, Buffer.from(wrapped.stdinPrefix));
      this.#shells.set(sudo, shell);
    }
    return shell.run(script, options.timeoutMs);
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.#execCount += 1;
    const wrapped = this.#wrap(command, options.sudo);
    const finalCommand = wrapped.command;
    const stdin = Buffer.concat([
      Buffer.from(wrapped.stdinPrefix),
      options.stdin === undefined ? Buffer.alloc(0) : Buffer.from(options.stdin),
    ]);
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', finalCommand], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              try {
                process.kill(-child.pid!, 'SIGKILL');
              } catch {
                // already gone
              }
            }, options.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (error) => {
        if (timer) clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code) => {
        if (timer) clearTimeout(timer);
        const stderrBuffer = Buffer.concat(stderr);
        resolve({
          stdout: Buffer.concat(stdout),
          stderr: timedOut
            ? Buffer.concat([stderrBuffer, Buffer.from(`keel: command timed out after ${options.timeoutMs} ms\n`)])
            : stderrBuffer,
          code: timedOut ? TIMEOUT_EXIT_CODE : (code ?? 1),
        });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
    });
  }

  async close(): Promise<void> {
    for (const shell of this.#shells.values()) shell.close();
    this.#shells.clear();
  }
}
