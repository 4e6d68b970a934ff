/**
 * The HTML report in Debian's headless Chromium: host-supplied text shows as text and runs nothing, no request
 * leaves the page, and a 1,000-host run stays small and quick to render. The run itself is real: keel applies a
 * file whose content is hostile markup to light lab hosts over sshd, and writes the page with --html.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import { renderHtml } from '../../src/report/html.js';
import { REPORT_VERSION, type Report } from '../../src/report/json.js';
import { launchBrowser, openFile, screenshot } from '../support/browser.js';
import { keel, recipeProject } from '../support/cli.js';
import { hostileStrings, MARKUP_PAYLOADS, PAGE_CANARY } from '../support/hostileStrings.js';

let browser: Browser;
let lab: Lab;
let project: string;

beforeAll(async () => {
  [browser, lab] = await Promise.all([launchBrowser(), startHosts({ lab: 'report-html', count: 3, kind: 'light' })]);
  project = recipeProject({
    'recipes/page.ts': `
import { recipe, file } from 'keel';
import { readFileSync } from 'node:fs';

export default recipe({
  name: 'page',
  resources: () => [file({ path: '/tmp/keel-page.html', content: readFileSync(new URL('../content.txt', import.meta.url), 'utf8') })],
});
`,
    'content.txt': `${MARKUP_PAYLOADS.join('\n')}\n`,
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await lab?.down();
});

async function pwned(file: string) {
  const opened = await openFile(browser, file);
  const canary = await opened.page.evaluate((name) => (window as unknown as Record<string, unknown>)[name], PAGE_CANARY);
  return { ...opened, canary };
}

describe('the HTML report', () => {
  it('of a real apply shows the hosts, the content diff as text, and runs none of it', async () => {
    const run = keel(['apply', 'recipes/page.ts', '-i', lab.inventoryPath, '--html', 'apply.html', '--json', 'apply.json'], {
      cwd: project,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { page, requests, errors, canary } = await pwned(join(project, 'apply.html'));
    expect(canary).toBeUndefined();
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    expect(await page.locator('#hosts tbody tr').evaluateAll((rows) => rows.map((row) => row.children[0]!.textContent))).toEqual(
      lab.hosts.map((host) => host.name),
    );
    expect(await page.locator('#hosts tbody tr td.state').allTextContents()).toEqual(['changed', 'changed', 'changed']);
    const added = await page.locator(`#host-${lab.hosts[0]!.name} .d2h-ins .d2h-code-line-ctn`).allTextContents();
    expect(added).toEqual(MARKUP_PAYLOADS);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('img, iframe, svg[onload], link[rel=stylesheet]').count()).toBe(0);
    await screenshot(page, 'report-html-apply');
    await page.close();
  });

  it('filters and sorts the host table', async () => {
    keel(['check', 'recipes/page.ts', '-i', lab.inventoryPath, '--json', 'check.json'], { cwd: project });
    await lab.exec(lab.hosts[1]!.name, 'echo changed by hand >> /tmp/keel-page.html');
    const check = keel(['check', 'recipes/page.ts', '-i', lab.inventoryPath, '--html', 'check.html'], { cwd: project });
    expect(check.code).toBe(2);
    const { page } = await pwned(join(project, 'check.html'));
    await page.selectOption('#status-filter', 'drifted');
    expect(await page.locator('#hosts tbody tr:not([hidden]) td:first-child').allTextContents()).toEqual([lab.hosts[1]!.name]);
    await page.selectOption('#status-filter', 'all');
    await page.click('#hosts th:nth-child(1)');
    await page.click('#hosts th:nth-child(1)');
    expect(await page.locator('#hosts tbody td:first-child').allTextContents()).toEqual(lab.hosts.map((host) => host.name).reverse());
    expect(await page.locator('.resource.drifted .d2h-ins').allTextContents()).toEqual([]);
    expect((await page.locator('.resource.drifted .d2h-del').allTextContents()).join('')).toContain('changed by hand');
    await page.close();
  });

  it('of 1,000 hosts with a drawn cluster is under 5 MB and renders in under 2 s', async () => {
    const report = syntheticReport(1000);
    const file = join(project, 'fleet.html');
    const addresses = new Map(report.hosts.map((host, index) => [host.host, `10.1.${Math.floor(index / 250)}.${(index % 250) + 1}`]));
    writeFileSync(file, renderHtml(report, { addresses }));
    expect(statSync(file).size).toBeLessThan(5 * 1024 * 1024);
    const { page, loadMs, requests, canary } = await pwned(file);
    expect(loadMs).toBeLessThan(2000);
    expect(requests).toEqual([]);
    expect(canary).toBeUndefined();
    expect(await page.locator('#hosts tbody tr').count()).toBe(1000);
    // Grouped by state instead of 999 boxes.
    expect(await page.locator('svg .node.realserver').count()).toBeLessThan(10);
    expect(await page.locator('svg .node.realserver.group .label').allTextContents()).toEqual([
      '1 real server',
      '1 real server',
      '997 real servers',
    ]);
    await page.close();
  });

  it('escapes every hostile string of the injection suite, wherever a report holds text', async () => {
    const strings = [...MARKUP_PAYLOADS, ...hostileStrings(300, 7)];
    const report = syntheticReport(3);
    report.hosts[0]!.resources = strings.map((text, index) => ({
      host: report.hosts[0]!.host,
      id: `file[${text.slice(0, 200)}#${index}]`,
      type: 'file',
      outcome: 'failed',
      changes: [
        {
          field: text.slice(0, 100),
          from: text,
          to: `${text}!`,
          patch: `--- a\n+++ b\n@@ -1 +1 @@\n-${text.split('\n')[0]}\n+${text.split('\n')[0]}!\n`,
        },
      ],
      desired: null,
      actual: null,
      error: { phase: 'apply', message: text, command: text, exitCode: 1, stderr: text },
      durationMs: 1,
    }));
    report.hosts[0]!.error = MARKUP_PAYLOADS.join(' ');
    const file = join(project, 'hostile.html');
    writeFileSync(file, renderHtml(report));
    const { page, requests, errors, canary } = await pwned(file);
    expect(canary).toBeUndefined();
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('body img, body iframe, body a[href^="javascript"], body link').count()).toBe(0);
    const shown = await page.locator('.resource .error').allTextContents();
    expect(shown.slice(0, MARKUP_PAYLOADS.length)).toEqual(MARKUP_PAYLOADS.map((text) => `apply: ${text}`));
    await page.close();
  });
});

/** A check of `count` hosts: the first a director whose table lists every other as a real server, one drifted. */
function syntheticReport(count: number): Report {
  const names = Array.from({ length: count }, (_, i) => (i === 0 ? 'director' : `rs${i}`));
  const realServers = names.slice(1).map((_, i) => ({
    server: `10.1.${Math.floor((i + 1) / 250)}.${((i + 1) % 250) + 1}:80`,
    forwarding: 'route',
    weight: i === 0 ? 0 : 1,
    options: '',
  }));
  return {
    version: REPORT_VERSION,
    mode: 'check',
    recipes: ['recipes/director.ts', 'recipes/realserver.ts'],
    startedAt: '2026-12-02T10:00:00.000Z',
    durationMs: 4200,
    interrupted: false,
    exitCode: 2,
    hosts: names.map((host, i) => ({
      host,
      outcome: 'ok',
      counts: { unchanged: 4, drifted: i === 2 ? 1 : 0, changed: 0, pending: 0, failed: 0, skipped: 0 },
      resources:
        i === 0
          ? [
              {
                host,
                id: 'ipvsRule[web]',
                type: 'ipvsRule',
                outcome: 'unchanged',
                changes: [],
                desired: null,
                actual: { table: [{ key: '-t 10.1.9.100:80', scheduler: 'rr', persistence: null, options: '', realServers }] },
                durationMs: 3,
              },
            ]
          : [],
      handlers: [],
      execs: { total: 1, read: 1 },
      durationMs: 300,
    })),
  };
}
