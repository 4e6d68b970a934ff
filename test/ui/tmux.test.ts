/** The real CLI on a real terminal (a tmux pane, 120×40), its screen read while it runs and after it ended. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SiteProject, siteProject } from '../support/siteProject.js';
import { type KeelPane, keelInTmux, SPINNER_FRAME } from '../support/tmux.js';

let project: SiteProject;
let pane: KeelPane | undefined;

beforeAll(() => {
  project = siteProject();
});

afterEach(() => {
  pane?.close();
  pane = undefined;
});

describe('keel apply on a terminal', () => {
  it('shows the live rows while it works, then the summary with diffs and the fleet line', async () => {
    project.reset(2);
    pane = keelInTmux(project.directory, project.args('apply'));
    const live = await pane.screenWhen((text) => text.includes(`changing slowFile[${project.state}/app.conf]`));
    const liveLines = live.split('\n');
    expect(liveLines[0]).toBe('keel apply  recipes/site.ts');
    expect(liveLines[1]).toMatch(/^0\/1 hosts done · 0 unchanged, 1 changed, 0 failed · [\d.]+s$/);
    expect(liveLines[2]).toMatch(/^ {2}host +unchanged +changed +failed +pending +time +activity$/);
    expect(liveLines[3]).toMatch(new RegExp(`^${SPINNER_FRAME.source} box +0 +1 +0 +0 +[\\d.]+s +changing slowFile\\[`));

    expect(await pane.exitCode()).toBe(0);
    const final = pane.screen();
    const lines = final.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^✓ box +0 +3 +0 +0 +[\d.]+s +done$/));
    expect(lines).toContain(`  slowFile[${project.state}/app.conf] changed: content: (content differs)`);
    expect(lines).toContain('    -listen 80');
    expect(lines).toContain('    +listen 8080');
    expect(lines).toContain(`  slowFile[${project.state}/release] changed: content: "2.4.0" → "2.4.1"`);
    const fleet = lines.filter((line) => line.startsWith('apply: '));
    expect(fleet).toEqual([
      expect.stringMatching(/^apply: 1 host \(1 ok\); resources: 0 unchanged, 3 changed, 0 failed in [\d.]+ s; exit 0$/),
    ]);
    expect(final).not.toMatch(SPINNER_FRAME);
    expect(readFileSync(join(project.state, 'release'), 'utf8')).toBe('2.4.1');
  });

  it('prints plain lines instead of the live view when CI is set, since Ink would draw nothing until the end', async () => {
    project.reset(0);
    pane = keelInTmux(project.directory, project.args('apply'), { CI: 'true' });
    expect(await pane.exitCode()).toBe(0);
    const lines = pane.screen().split('\n');
    expect(lines).toContain(`box: slowFile[${project.state}/release] changed: content: "2.4.0" → "2.4.1"`);
    expect(lines.some((line) => /^ {2}host +unchanged/.test(line))).toBe(false);
  });

  it('on Ctrl-C finishes the change in flight, starts no other, shows the summary and exits 130', async () => {
    project.reset(3);
    pane = keelInTmux(project.directory, project.args('apply'));
    await pane.screenWhen((text) => text.includes(`changing slowFile[${project.state}/motd]`));
    pane.press('C-c');
    const notice = await pane.screenWhen((text) => text.includes('interrupted:'));
    expect(notice).toContain('interrupted: finishing changes in flight, starting no new ones (Ctrl-C again to quit now)');

    expect(await pane.exitCode()).toBe(130);
    const lines = pane.screen().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^! box +0 +1 +0 +0 +[\d.]+s +interrupted, 2 not attempted$/));
    expect(lines).toContain(`  slowFile[${project.state}/motd] changed: content: (content differs)`);
    // The fleet line is wider than the pane: the terminal wraps it before "exit".
    expect(lines.join('\n')).toMatch(
      /^apply: 1 host \(0 ok, 1 interrupted\); resources: 0 unchanged, 1 changed, 0 failed, 2 not attempted; interrupted in [\d.]+ s;\n? exit 130$/m,
    );
    expect(readFileSync(join(project.state, 'motd'), 'utf8')).toBe('welcome\n');
    expect(readFileSync(join(project.state, 'release'), 'utf8')).toBe('2.4.0');
  });
});
