import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { becomeCommand } from './become.js';
import { type Become, type ExecOptions, type ExecResult, TIMEOUT_EXIT_CODE, type Transport } from './types.js';

/** Runs commands on this machine: pull mode (`--connection local`) and tests. */
export class LocalTransport implements Transport {
  #execCount = 0;
  constructor(
    readonly host: string = 'localhost',
    private readonly become?: Become,
  ) {}

  get execCount(): number {
    return this.#execCount;
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.#execCount += 1;
    let finalCommand = command;
    let stdin: Buffer | undefined = options.stdin === undefined ? undefined : Buffer.from(options.stdin);
    if (options.sudo && this.become && userInfo().uid !== 0) {
      const wrapped = becomeCommand(command, this.become);
      finalCommand = wrapped.command;
      stdin = Buffer.concat([Buffer.from(wrapped.stdinPrefix), stdin ?? Buffer.alloc(0)]);
    }
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
      child.stdin.end(stdin ?? Buffer.alloc(0));
    });
  }

  async close(): Promise<void> {}
}
