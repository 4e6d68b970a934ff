/**
 * The live view over real SSH: keel runs on a tmux terminal against four lab hosts at once (sshd in network
 * namespaces, reached through the lab's ProxyCommand). Each host writes its files at its own pace; one cannot.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type Lab, startHosts } from '../../lab/hosts.js';
import { type SiteProject, siteProject } from '../support/siteProject.js';
import { type KeelPane, keelInTmux, SPINNER_FRAME } from '../support/tmux.js';

let lab: Lab;
let project: SiteProject;
let pane: KeelPane | undefined;

/** Where each host writes and how long each change takes; h3's directory does not exist, so its first change fails. */
const PACE: Record<string, { dir: string; seconds: number }> = {
  h1: { dir: '/root', seconds: 1 },
  h2: { dir: '/root', seconds: 2 },
  h3: { dir: '/nonexistent', seconds: 3 },
  h4: { dir: '/root', seconds: 3 },
};

beforeAll(async () => {
  lab = await startHosts({ lab: 'live-view', count: 4, kind: 'light' });
  project = siteProject();
  const inventory = parse(readFileSync(lab.inventoryPath, 'utf8')) as { hosts: Record<string, { vars?: object }> };
  for (const [name, host] of Object.entries(inventory.hosts)) host.vars = PACE[name];
  writeFileSync(join(project.directory, 'fleet.yaml'), stringify(inventory));
});

afterAll(async () => {
  pane?.close();
  await lab?.down();
});

describe('keel apply on a terminal, over SSH, on four hosts', () => {
  it('shows a live row per host, expands the failure in place, and ends with the summary', async () => {
    pane = keelInTmux(project.directory, ['apply', 'recipes/site.ts', '-i', 'fleet.yaml'], {
      HOME: mkdtempSync(join(tmpdir(), 'keel-home-')),
    });
    const rowOf = (text: string, host: string): string => text.split('\n').find((line) => line.slice(2).startsWith(`${host} `)) ?? '';

    const running = await pane.screenWhen((text) => rowOf(text, 'h3').startsWith('✗') && SPINNER_FRAME.test(rowOf(text, 'h4')));
    const lines = running.split('\n');
    expect(lines[0]).toBe('keel apply  recipes/site.ts');
    expect(lines[1]).toMatch(/^\d\/4 hosts done · \d+ unchanged, \d+ changed, 1 failed, 2 skipped · [\d.]+s$/);
    expect(rowOf(running, 'h4')).toMatch(/ changing slowFile\[\/root\/(motd|app\.conf|release)\]$/);
    const failed = lines.indexOf(rowOf(running, 'h3'));
    expect(lines[failed]).toMatch(/^✗ h3 +0 +0 +1 +0 +[\d.]+s +failed, 2 skipped$/);
    expect(lines[failed + 1]).toBe('    ✗ slowFile[/nonexistent/motd] (apply): command exited 2');
    expect(lines[failed + 2]).toMatch(/^ {6}\$ printf '%s' 'welcome … \[exit 2\]$/);
    expect(lines[failed + 3]).toMatch(/^ {6}│ .*cannot create \/nonexistent\/motd: Directory nonexistent$/);

    expect(await pane.exitCode()).toBe(4);
    const final = pane.screen();
    for (const host of ['h1', 'h2', 'h4']) expect(rowOf(final, host)).toMatch(new RegExp(`^✓ ${host} +0 +3 +0 +0 +[\\d.]+s +done$`));
    expect(final).toContain('h1, h2, h4');
    expect(final).toContain('  slowFile[/root/release] changed: content: absent → "2.4.1"');
    expect(final.split('\n').at(-1)).toMatch(
      /^apply: 4 hosts \(3 ok, 1 failed\); resources: 0 unchanged, 9 changed, 1 failed, 2 skipped in [\d.]+ s; exit 4$/,
    );
    expect(final).not.toMatch(SPINNER_FRAME);
  });
});
