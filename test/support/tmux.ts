/** Runs the real `keel` on a real terminal: a pane of its own tmux server, read back with `tmux capture-pane`. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KEEL } from './cli.js';

const PATIENCE_MS = 180_000;

export const SPINNER_FRAME = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

export interface KeelPane {
  /** The visible screen, without colours, trailing blank lines dropped. */
  screen(): string;
  /** Polls the screen until `ready` holds, and returns it. */
  screenWhen(ready: (text: string) => boolean): Promise<string>;
  /** Waits for keel to exit. */
  exitCode(): Promise<number>;
  /** Presses keys, e.g. `C-c`. */
  press(keys: string): void;
  close(): void;
}

let panes = 0;

/** Starts `keel ARGS` in `cwd` on a 120×40 terminal; the pane stays open after keel exits. */
export function keelInTmux(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): KeelPane {
  panes += 1;
  const socket = `keel-test-${process.pid}-${panes}`;
  const exitFile = join(mkdtempSync(join(tmpdir(), 'keel-pane-')), 'exit');
  const quoted = args.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  // The shell catches Ctrl-C so that it outlives keel and records its exit code; keel itself gets SIGINT.
  const command = `trap 'true' INT; cd '${cwd}' && node '${KEEL}' ${quoted}; echo $? > '${exitFile}'; sleep 600`;
  execFileSync('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '40', command], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm-256color', LANG: 'C.UTF-8', ...env },
  });
  const tmux = (...tmuxArgs: string[]): string => execFileSync('tmux', ['-L', socket, ...tmuxArgs], { encoding: 'utf8' });
  const screen = (): string => tmux('capture-pane', '-p').trimEnd();
  const waitFor = async <T>(what: string, probe: () => T | undefined): Promise<T> => {
    const deadline = Date.now() + PATIENCE_MS;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what} never happened; the screen shows:\n${screen()}`);
      await sleep(100);
    }
  };
  return {
    screen,
    screenWhen: (ready) =>
      waitFor('the awaited screen', () => {
        const text = screen();
        return ready(text) ? text : undefined;
      }),
    exitCode: () =>
      waitFor('keel exiting', () =>
        existsSync(exitFile) && readFileSync(exitFile, 'utf8') !== '' ? Number(readFileSync(exitFile, 'utf8')) : undefined,
      ),
    press: (keys) => void tmux('send-keys', keys),
    close: () => void tmux('kill-server'),
  };
}
