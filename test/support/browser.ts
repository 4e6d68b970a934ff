/**
 * Debian's Chromium, headless, driven by playwright-core, for tests of the HTML report. Every request a page makes
 * beyond its own file is recorded and refused, so a test can assert that none was made.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { REPO } from './cli.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots the tests keep, for a person to look at after the run. */
export const ARTIFACTS = join(REPO, 'test-artifacts');

// Without the background-networking flags, Chromium tries to reach Google's services at every start.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  // playwright gives every launch a new, empty profile of its own.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

export interface OpenedPage {
  page: Page;
  /** URLs the page asked for besides the file itself. */
  requests: string[];
  /** Uncaught errors in the page's own script. */
  errors: string[];
  loadMs: number;
}

export async function openFile(browser: Browser, file: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const own = pathToFileURL(file).href;
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.route('**/*', (route) => {
    if (route.request().url() === own) return route.continue();
    requests.push(route.request().url());
    return route.abort();
  });
  const started = Date.now();
  await page.goto(own, { waitUntil: 'load' });
  return { page, requests, errors, loadMs: Date.now() - started };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
