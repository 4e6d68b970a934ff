import type { Secret } from '../engine/secret.js';

export interface ExecOptions {
  /** Bytes written to the command's standard input, then closed. */
  stdin?: string | Buffer;
  /** Fails the command (exit code 124) once this many milliseconds have passed. */
  timeoutMs?: number;
  /** Run through sudo (become). The transport knows how: `sudo -n`, or a password fed on stdin. */
  sudo?: boolean;
}

export interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  code: number;
}

export interface PutOptions {
  mode?: number;
  owner?: string;
  group?: string;
}

export interface Become {
  /** Absent: `sudo -n` (passwordless). Present: fed to `sudo -S` on stdin, never in argv. */
  password?: Secret;
}

/** How the engine reaches a host. The engine never learns which kind it holds. */
export interface Transport {
  readonly host: string;
  /** Number of commands executed so far (one per exec channel for SSH). */
  readonly execCount: number;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Writes a file atomically: a temporary file beside it, mode and owner set, then renamed into place. */
  put(path: string, content: Buffer | string, options?: PutOptions): Promise<void>;
  close(): Promise<void>;
}

/** A failure to reach or keep a host: the host is reported unreachable rather than its resources failed. */
export class ConnectionError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectionError';
  }
}
