/**
 * The HTML report of real runs on the LVS-DR lab, opened in Debian's headless Chromium: a check that finds drift on
 * the director (rs1 drained by hand) and on both real servers, then the apply that repairs it. The page shows the
 * host rows, the diff of the page file, and the cluster drawn with each real server's weight and state; no request
 * leaves it. Then a doctor run with ARP flux on rs1: its node is marked, and a click shows the finding.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type LvsLab, openLvsLab } from '../../lab/lvsLab.js';
import { launchBrowser, openFile, screenshot } from '../support/browser.js';
import { keel } from '../support/cli.js';

const RECIPES = ['recipes/director.ts', 'recipes/realserver.ts'];
const KEEL_TIMEOUT_MS = 900_000;
const PAGE = '/var/www/html/index.html';

let lab: LvsLab;
let browser: Browser;
let work: string;
let addresses: Record<string, { address: string }>;
let vip: string;

const run = (mode: string, html: string) =>
  keel([mode, ...RECIPES, '-i', lab.inventoryPath, '--html', join(work, html)], { timeoutMs: KEEL_TIMEOUT_MS });

async function open(html: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  return openFile(browser, join(work, html));
}

/** Each real-server node of the drawing: its label and its detail line (weight and state). */
async function realServerNodes(page: Page): Promise<Record<string, string>> {
  const nodes = await page
    .locator('svg .node.realserver')
    .evaluateAll((elements) =>
      elements.map((element) => [element.querySelector('.label')!.textContent, element.querySelector('.detail')!.textContent]),
    );
  return Object.fromEntries(nodes);
}

beforeAll(async () => {
  lab = openLvsLab();
  browser = await launchBrowser();
  work = mkdtempSync(join(tmpdir(), 'keel-html-lab-'));
  const inventory = parse(readFileSync(lab.inventoryPath, 'utf8')) as { vars: { vip: string }; hosts: Record<string, { address: string }> };
  addresses = inventory.hosts;
  vip = inventory.vars.vip;
  const converge = keel(['apply', ...RECIPES, '-i', lab.inventoryPath], { timeoutMs: KEEL_TIMEOUT_MS });
  expect(converge.code, converge.stderr).toBe(0);
}, KEEL_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
});

describe('the HTML report of the LVS-DR lab', () => {
  it('of a check with drift on the director and both real servers draws rs1 drained and rs2 drifted', async () => {
    await lab.output('director', `ipvsadm -e -t ${vip}:80 -r ${addresses.rs1!.address}:80 -g -w 0`);
    await lab.output('rs1', 'sysctl -qw net.ipv4.conf.all.arp_ignore=0');
    await lab.output('rs2', `echo 'edited by hand' >> ${PAGE}`);
    const check = run('check', 'check.html');
    expect(check.code, check.stderr).toBe(2);

    const { page, requests, errors } = await open('check.html');
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    const rows = await page
      .locator('#hosts tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent]));
    expect(rows).toEqual([
      ['director', 'drifted'],
      ['rs1', 'drifted'],
      ['rs2', 'drifted'],
    ]);
    expect(await page.locator('#host-rs2 .d2h-ins .d2h-code-line-ctn').allTextContents()).toEqual([]);
    expect(await page.locator('#host-rs2 .d2h-del .d2h-code-line-ctn').allTextContents()).toEqual(['edited by hand']);
    expect(await page.locator('svg .node.director .label').allTextContents()).toEqual(['director']);
    expect(await page.locator('svg .node.director').getAttribute('data-state')).toBe('drifted');
    expect(await realServerNodes(page)).toEqual({ rs1: 'weight 0 · drained', rs2: 'weight 1 · drifted' });
    expect(await page.locator('svg .node.realserver.drained .label').allTextContents()).toEqual(['rs1']);

    await page.locator('svg .node.realserver[data-host="rs2"]').click();
    expect(await page.locator('#details h3').first().textContent()).toBe('rs2: drifted');
    expect(await page.locator('#details .d2h-del .d2h-code-line-ctn').allTextContents()).toEqual(['edited by hand']);
    await screenshot(page, 'lab-check');
    await page.close();
  });

  it('of the apply that repairs it draws both real servers back at weight 1, changed', async () => {
    const apply = run('apply', 'apply.html');
    expect(apply.code, apply.stderr).toBe(0);
    const { page, requests } = await open('apply.html');
    expect(requests).toEqual([]);
    expect(await page.locator('#hosts tbody td.state').allTextContents()).toEqual(['changed', 'changed', 'changed']);
    expect(await page.locator('#host-rs2 .d2h-ins .d2h-code-line-ctn').allTextContents()).toEqual([]);
    expect(await page.locator('#host-rs2 .d2h-del .d2h-code-line-ctn').allTextContents()).toEqual(['edited by hand']);
    expect(await realServerNodes(page)).toEqual({ rs1: 'weight 1 · changed', rs2: 'weight 1 · changed' });
    expect(await page.locator('#host-director .change td:first-child').allTextContents()).toContain(
      `real server ${addresses.rs1!.address}:80`,
    );
    await screenshot(page, 'lab-apply');
    await page.close();
  });

  it('of a doctor run with a finding marks the real server that fails a check, and shows the finding on a click', async () => {
    await lab.output('rs1', 'sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.eth0.arp_ignore=0');
    const doctor = keel(['doctor', '-i', lab.inventoryPath, '--ui', 'plain', '--html', join(work, 'doctor.html')], {
      timeoutMs: KEEL_TIMEOUT_MS,
    });
    expect(doctor.code, doctor.stderr).toBe(2);
    const { page, requests, errors } = await open('doctor.html');
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    expect(await page.locator('#hosts tbody td:first-child').allTextContents()).toEqual(expect.arrayContaining(['director', 'rs1', 'rs2']));
    expect(await realServerNodes(page)).toEqual({ rs1: 'weight 1 · failing a doctor check', rs2: 'weight 1 · in sync' });
    await page.locator('svg .node.realserver[data-host="rs1"]').click();
    expect(await page.locator('#details .resource').evaluateAll((items) => items.map((item) => item.getAttribute('data-id')))).toContain(
      'arp-ignore',
    );
    await screenshot(page, 'lab-doctor');
    await page.close();
    const repair = keel(['apply', ...RECIPES, '-i', lab.inventoryPath], { timeoutMs: KEEL_TIMEOUT_MS });
    expect(repair.code, repair.stderr).toBe(0);
  });
});
