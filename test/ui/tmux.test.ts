/**
 * The real CLI on a real terminal: keel runs inside a tmux pane (120×40) and the test reads the screen with
 * `tmux capture-pane`, while it runs and after it ended.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KEEL } from '../support/cli.js';
import { siteProject, type SiteProject } from './siteProject.js';

const PATIENCE_MS = 120_000;

let project: SiteProject;
let socket: string | undefined;
let sessions = 0;

beforeAll(() => {
  project = siteProject();
});

afterEach(() => {
  if (socket) execFileSync('tmux', ['-L', socket, 'kill-server']);
  socket = undefined;
});

const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket!, ...args], { encoding: 'utf8' });

/** Starts keel in a fresh tmux server; the pane stays open after keel exits, and its exit code lands in a file. */
function startKeel(args: string[]): { exitFile: string } {
  socket = `keel-ui-${process.pid}-${(sessions += 1)}`;
  const exitFile = join(project.directory, `exit-${sessions}`);
  const quoted = args.map((arg) => `'${arg}'`).join(' ');
  // The shell catches Ctrl-C so that it outlives keel and records its exit code; keel itself gets SIGINT.
  const command = `trap 'true' INT; cd '${project.directory}' && node '${KEEL}' ${quoted}; echo $? > '${exitFile}'; sleep 600`;
  execFileSync('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '40', command], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm-256color', LANG: 'C.UTF-8' },
  });
  return { exitFile };
}

function screen(): string {
  return tmux('capture-pane', '-p').trimEnd();
}

async function screenWhen(ready: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const text = screen();
    if (ready(text)) return text;
    if (Date.now() > deadline) throw new Error(`the screen never got there; it shows:\n${text}`);
    await sleep(100);
  }
}

async function exitCode(exitFile: string): Promise<number> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!existsSync(exitFile) || readFileSync(exitFile, 'utf8') === '') {
    if (Date.now() > deadline) throw new Error(`keel did not exit; the screen shows:\n${screen()}`);
    await sleep(100);
  }
  return Number(readFileSync(exitFile, 'utf8'));
}

const SPINNER = /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] box +\d+ +\d+ +0 +0 +[\d.]+s +changing slowFile\[/;

describe('keel apply on a terminal', () => {
  it('shows the live rows while it works, then the summary with diffs and the fleet line', async () => {
    project.reset(2);
    const { exitFile } = startKeel(project.args('apply'));
    const live = await screenWhen((text) => text.includes(`changing slowFile[${project.state}/app.conf]`));
    const liveLines = live.split('\n');
    expect(liveLines[0]).toBe('keel apply  recipes/site.ts');
    expect(liveLines[1]).toMatch(/^0\/1 hosts done · 0 unchanged, 1 changed, 0 failed · [\d.]+s$/);
    expect(liveLines[2]).toMatch(/^ {2}host +unchanged +changed +failed +pending +time +activity$/);
    expect(liveLines[3]).toMatch(SPINNER);
    expect(liveLines[3]).toMatch(/box +0 +1 +0 +0 /);

    expect(await exitCode(exitFile)).toBe(0);
    const final = screen();
    const lines = final.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^✓ box +0 +3 +0 +0 +[\d.]+s +done$/));
    expect(lines).toContain(`  slowFile[${project.state}/app.conf] changed: content: (content differs)`);
    expect(lines).toContain('    -listen 80');
    expect(lines).toContain('    +listen 8080');
    expect(lines).toContain(`  slowFile[${project.state}/release] changed: content: "2.4.0" → "2.4.1"`);
    const fleet = lines.filter((line) => line.startsWith('apply: '));
    expect(fleet).toEqual([expect.stringMatching(/^apply: 1 host \(1 ok\); resources: 0 unchanged, 3 changed, 0 failed in [\d.]+ s; exit 0$/)]);
    expect(final).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(readFileSync(join(project.state, 'release'), 'utf8')).toBe('2.4.1');
  });

  it('on Ctrl-C finishes the change in flight, starts no other, shows the summary and exits 130', async () => {
    project.reset(3);
    const { exitFile } = startKeel(project.args('apply'));
    await screenWhen((text) => text.includes(`changing slowFile[${project.state}/motd]`));
    tmux('send-keys', 'C-c');
    const notice = await screenWhen((text) => text.includes('interrupted:'));
    expect(notice).toContain('interrupted: finishing changes in flight, starting no new ones (Ctrl-C again to quit now)');

    expect(await exitCode(exitFile)).toBe(130);
    const lines = screen().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^✓ box +0 +1 +0 +0 +[\d.]+s +done, 2 skipped$/));
    expect(lines).toContain(`  slowFile[${project.state}/motd] changed: content: (content differs)`);
    expect(lines).toContainEqual(expect.stringMatching(/^apply: 1 host \(1 ok\); resources: 0 unchanged, 1 changed, 0 failed, 2 skipped; interrupted in [\d.]+ s; exit 130$/));
    expect(readFileSync(join(project.state, 'motd'), 'utf8')).toBe('welcome\n');
    expect(readFileSync(join(project.state, 'release'), 'utf8')).toBe('2.4.0');
  });
});
