import type { Secret } from '../shell/index.js';

/** The exit code of a command ended by its timeout, as coreutils' `timeout` gives. */
export const TIMEOUT_EXIT_CODE = 124;

/**
 * A script of `runScript` runs as `sh FILE`: `"$0"` followed by one of these names a file private to the shell's user,
 * there from the shell's start to its end, which the script may overwrite (`>|`) to keep output aside without
 * starting a program.
 */
export const SCRIPT_CAPTURES = { stdout: '.out', stderr: '.err' } as const;

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

export interface Become {
  /** Absent: `sudo -n` (passwordless). Present: fed to `sudo -S` on stdin, never in argv. */
  password?: Secret;
}

/**
 * Everything the SSH transport needs to reach one host, resolved from the inventory by the layer above:
 * settings it leaves out come from ~/.ssh/config, as with OpenSSH.
 */
export interface SshTarget {
  /** How messages name the host. */
  name: string;
  /** Host name, address or ssh config alias. */
  address: string;
  user?: string;
  port?: number;
  identityFile?: string;
  passphrase?: Secret;
  password?: Secret;
  proxyCommand?: string;
  proxyJump?: string;
  connectTimeoutSeconds?: number;
  /** Read besides ~/.ssh/known_hosts and the system file; --accept-new records new keys in the last. */
  knownHostsFiles: string[];
  /** Trust on first use: record the key of a host not yet known. */
  acceptNew: boolean;
  /** The sudo asked for; not used when the login user is root. */
  become?: Become;
}

/** How the engine reaches a host. The engine never learns which kind it holds. */
export interface Transport {
  readonly host: string;
  /** Number of commands executed so far (one per exec channel for SSH). */
  readonly execCount: number;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /**
   * Runs a shell script in the host's one long-lived shell (one per `sudo`), started by the first script: every
   * script of a run shares one exec session. The script's stdin is /dev/null. A timeout kills the script's process
   * group, not the shell; a shell that ends (or never starts: sudo refused) gives its exit code, and the next
   * script starts another.
   */
  runScript(script: string, options?: Omit<ExecOptions, 'stdin'>): Promise<ExecResult>;
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
