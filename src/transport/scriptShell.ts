/**
 * One long-lived `sh` per host, fed script after script on one stdin, so that every script of a run shares one
 * exec session. Each script is written to a file and run by a shell of its own, in a session of its own (setsid)
 * with stdin on /dev/null: it cannot read the scripts after it, its `exit` ends only itself, and its timeout kills
 * its process group and nothing else: the controller keeps the time, and a watchdog on the host sends the signals
 * (SIGTERM, then SIGKILL), so the shell lives on for the next script. After each script the shell prints an end
 * marker with the script's exit code, on stdout and on stderr; the marker carries a nonce fresh for every shell.
 */
import { randomBytes } from 'node:crypto';
import { quote } from '../shell/index.js';
import { SCRIPT_CAPTURES, TIMEOUT_EXIT_CODE } from './types.js';

/** The shell's channel, as the transport that opened it sees it. */
export interface ShellPipe {
  write(data: Buffer): void;
  /** Closes the shell's stdin: it ends once the script in flight has. */
  end(): void;
  /** Ends the channel at once. */
  destroy(): void;
}

export interface ShellEvents {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** The shell ended (with its exit code, when known) or its connection was lost (`error`). */
  closed(code: number | undefined, error?: Error): void;
}

/** Opens the shell: a channel running `sh -s` (as root when asked), its events wired to `events`. */
export type OpenShell = (events: ShellEvents) => Promise<ShellPipe>;

export interface ScriptResult {
  stdout: Buffer;
  stderr: Buffer;
  code: number;
}

/** How long past a script's timeout the controller waits for the host's watchdog before it gives the shell up. */
const WATCHDOG_GRACE_MS = 6_000;
const TIMED_OUT = 'timeout';

/**
 * `scriptFile` is where each script is written before it runs: a file private to the user (created 0600, and only if
 * no file of that name exists), named by a nonce, so that no program (`mktemp`) has to start for it. The files for
 * a script's captured output (`SCRIPT_CAPTURES`) are made the same way, once.
 */
function preamble(marker: string, scriptFile: string): string {
  const background = 'if command -v setsid >/dev/null 2>&1; then setsid "$@" & else "$@" & fi';
  // A subshell of this shell, not a program, that keeps the time with no timer of its own: it waits on the shell's
  // stdin (fd 3), where the controller writes a line once the script's time is up. The shell reads nothing there
  // while a script runs, and ends the watchdog (TERM) before it prints the end marker, so the line the next script
  // starts with can never reach it; a shell whose stdin closes lets the script finish.
  const watchdog = [
    '__keel_watch() {',
    '  IFS= read -r __keel_word <&3 || exit 0',
    '  : >"$1"; kill -s TERM -- "-$2" 2>/dev/null || kill -s TERM "$2" 2>/dev/null',
    '  sleep 1; kill -s KILL -- "-$2" 2>/dev/null || kill -s KILL "$2" 2>/dev/null',
    '}',
  ];
  const privateFiles = ['"$__keel_s"', ...Object.values(SCRIPT_CAPTURES).map((suffix) => `"$__keel_s${suffix}"`)];
  return [
    'umask 022',
    'exec 3<&0',
    `__keel_s="\${TMPDIR:-/tmp}/${scriptFile}"`,
    `(umask 077; set -C; ${privateFiles.map((file) => `: >${file}`).join(' && ')}) 2>/dev/null || { echo "keel: cannot create $__keel_s" >&2; exit 125; }`,
    `trap 'rm -f "$__keel_s" "$__keel_s".*' EXIT`,
    `__keel_bg() { ${background}; }`,
    ...watchdog,
    '__keel_run() {',
    '  __keel_w=',
    '  __keel_bg sh "$__keel_s" </dev/null 3<&-; __keel_p=$!',
    '  if [ "$2" = watched ]; then __keel_watch "$__keel_s.t$1" "$__keel_p" </dev/null >/dev/null 2>&1 & __keel_w=$!; fi',
    '  wait "$__keel_p" 2>/dev/null; __keel_rc=$?; __keel_how=',
    `  if [ -f "$__keel_s.t$1" ]; then wait "$__keel_w"; __keel_how=${TIMED_OUT}`,
    '  elif [ -n "$__keel_w" ]; then kill -s TERM "$__keel_w" 2>/dev/null; wait "$__keel_w"; fi',
    `  printf '\\n${marker} %s %s %s\\n' "$1" "$__keel_rc" "$__keel_how"; printf '\\n${marker} %s\\n' "$1" >&2`,
    '}',
    '',
  ].join('\n');
}

interface Running {
  sequence: number;
  timeoutMs?: number;
  resolve(result: ScriptResult): void;
  reject(error: Error): void;
}

/**
 * What a shell printed since the last script ended, kept as chunks: it is joined only once a chunk could hold an
 * end marker, so a large read costs no copying per chunk.
 */
class Output {
  #chunks: Buffer[] = [];
  #tail: Buffer = Buffer.alloc(0);
  #markerSeen = false;

  constructor(private readonly marker: Buffer) {}

  add(chunk: Buffer): void {
    this.#chunks.push(chunk);
    const probe = Buffer.concat([this.#tail, chunk]);
    if (probe.includes(this.marker)) this.#markerSeen = true;
    this.#tail = probe.subarray(Math.max(0, probe.length - this.marker.length));
  }

  /** Everything, once a marker may be in it. */
  joined(): Buffer | undefined {
    return this.#markerSeen ? this.all() : undefined;
  }

  all(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0]!;
  }

  /** Keeps only what follows `at`. */
  dropTo(at: number): void {
    const rest = this.all().subarray(at);
    this.#chunks = [rest];
    this.#tail = rest.subarray(Math.max(0, rest.length - this.marker.length));
    this.#markerSeen = rest.includes(this.marker);
  }
}

/** The shell once open: its pipe and what it has printed since the last script ended. */
interface LiveShell {
  pipe: ShellPipe;
  stdout: Output;
  stderr: Output;
  running?: Running;
  /** Set once the shell has ended, with its exit code when known. */
  ended?: { code: number | undefined };
}

export class ScriptShell {
  readonly #marker = `@KEEL-SHELL:${randomBytes(8).toString('hex')}`;
  #shell: Promise<LiveShell> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #sequence = 0;

  /** `prefix` goes to the shell's stdin before anything else: sudo's password, once. */
  constructor(
    private readonly open: OpenShell,
    private readonly prefix: Buffer = Buffer.alloc(0),
  ) {}

  /** Runs one script; scripts sent together run one after another, in the order sent. */
  run(script: string, timeoutMs?: number): Promise<ScriptResult> {
    const result = this.#queue.then(() => this.#run(script, timeoutMs));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Ends the shell once the script in flight, if any, has ended. */
  close(): void {
    const shell = this.#shell;
    this.#shell = undefined;
    void shell?.then((live) => live.pipe.end()).catch(() => undefined);
  }

  #start(): Promise<LiveShell> {
    const marker = Buffer.from(this.#marker);
    // Wired before the channel opens: a refusing sudo can print and exit in the packets that confirm it.
    const output = { stdout: new Output(marker), stderr: new Output(marker) };
    let live: LiveShell | undefined;
    let endedEarly: { code: number | undefined } | undefined;
    const opened = this.open({
      stdout: (chunk) => {
        output.stdout.add(chunk);
        if (live) this.#settle(live);
      },
      stderr: (chunk) => {
        output.stderr.add(chunk);
        if (live) this.#settle(live);
      },
      closed: (code, error) => {
        if (this.#shell === opened) this.#shell = undefined;
        if (!live) {
          endedEarly = { code };
          return;
        }
        live.ended = { code };
        const running = live.running;
        live.running = undefined;
        if (!running) return;
        if (error) return running.reject(error);
        running.resolve({ stdout: live.stdout.all(), stderr: live.stderr.all(), code: code ?? 1 });
      },
    }).then((pipe) => {
      live = { pipe, ...output, ...(endedEarly ? { ended: endedEarly } : {}) };
      const scriptFile = `keel-${randomBytes(8).toString('hex')}`;
      pipe.write(Buffer.concat([this.prefix, Buffer.from(preamble(this.#marker, scriptFile))]));
      return live;
    });
    opened.catch(() => {
      if (this.#shell === opened) this.#shell = undefined;
    });
    return opened;
  }

  async #run(script: string, timeoutMs?: number): Promise<ScriptResult> {
    this.#shell ??= this.#start();
    const live = await this.#shell;
    this.#sequence += 1;
    const sequence = this.#sequence;
    const body = script.endsWith('\n') ? script : `${script}\n`;
    // Written with the printf builtin, and each timeout flagged in a file of its own: on an emulated host, the `cat`
    // and `rm` this would otherwise start cost more than a small script itself.
    const sent = `__keel_b=${quote(body)}\nprintf '%s' "$__keel_b" >|"$__keel_s"; __keel_b=\n__keel_run ${sequence} ${timeoutMs === undefined ? 'unwatched' : 'watched'}\n`;
    return new Promise<ScriptResult>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      const done = (outcome: () => void): void => {
        for (const timer of timers) clearTimeout(timer);
        outcome();
      };
      live.running = {
        sequence,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        resolve: (result) => done(() => resolve(result)),
        reject: (error) => done(() => reject(error)),
      };
      if (timeoutMs !== undefined) {
        timers.push(setTimeout(() => live.pipe.write(Buffer.from('\n')), timeoutMs));
        // The host's watchdog did not answer: the shell is given up, and the next script starts another.
        timers.push(
          setTimeout(() => {
            const running = live.running;
            live.running = undefined;
            this.#shell = undefined;
            live.pipe.destroy();
            running?.resolve({
              stdout: live.stdout.all(),
              stderr: Buffer.concat([live.stderr.all(), timedOutNote(timeoutMs)]),
              code: TIMEOUT_EXIT_CODE,
            });
          }, timeoutMs + WATCHDOG_GRACE_MS),
        );
      }
      if (live.ended) return live.running.resolve({ stdout: live.stdout.all(), stderr: live.stderr.all(), code: live.ended.code ?? 1 });
      live.pipe.write(Buffer.from(sent));
    });
  }

  /** Hands the running script its output once both end markers have come. */
  #settle(live: LiveShell): void {
    const running = live.running;
    if (!running) return;
    const outHeader = Buffer.from(`\n${this.#marker} ${running.sequence} `);
    const errLine = Buffer.from(`\n${this.#marker} ${running.sequence}\n`);
    const stdout = live.stdout.joined();
    const allErr = live.stderr.joined();
    if (!stdout || !allErr) return;
    const outAt = stdout.indexOf(outHeader);
    const outEnd = outAt < 0 ? -1 : stdout.indexOf(0x0a, outAt + outHeader.length);
    const errAt = allErr.indexOf(errLine);
    if (outEnd < 0 || errAt < 0) return;
    const [code, how] = stdout
      .subarray(outAt + outHeader.length, outEnd)
      .toString()
      .split(' ');
    const timedOut = how === TIMED_OUT && running.timeoutMs !== undefined;
    const stderr = allErr.subarray(0, errAt);
    const result: ScriptResult = {
      stdout: stdout.subarray(0, outAt),
      stderr: timedOut ? Buffer.concat([stderr, timedOutNote(running.timeoutMs!)]) : stderr,
      code: timedOut ? TIMEOUT_EXIT_CODE : Number(code),
    };
    live.stdout.dropTo(outEnd + 1);
    live.stderr.dropTo(errAt + errLine.length);
    live.running = undefined;
    running.resolve(result);
  }
}

function timedOutNote(timeoutMs: number): Buffer {
  return Buffer.from(`keel: command timed out after ${timeoutMs} ms\n`);
}
