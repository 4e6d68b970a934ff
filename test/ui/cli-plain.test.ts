/** The real CLI without a terminal, as in pipes, CI and cron: plain lines or JSON, and Ink never loaded. */

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keel, REPO } from '../support/cli.js';
import { type SiteProject, siteProject } from '../support/siteProject.js';

let project: SiteProject;
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => keel(args, { cwd: project.directory, env });
const ANSI = /\x1b\[/;

beforeAll(() => {
  project = siteProject();
});

beforeEach(() => {
  project.reset(0);
});

describe('keel without a terminal', () => {
  it('prints one line per change with its diff, then the fleet line, and no ANSI codes', () => {
    const result = run(project.args('apply'), { NO_COLOR: undefined, FORCE_COLOR: undefined });
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.filter((line) => line.startsWith('box: '))).toEqual([
      `box: slowFile[${project.state}/motd] changed: content: (content differs)`,
      `box: slowFile[${project.state}/app.conf] changed: content: (content differs)`,
      `box: slowFile[${project.state}/release] changed: content: "2.4.0" → "2.4.1"`,
    ]);
    expect(lines).toContain('-listen 80');
    expect(lines).toContain('+listen 8080');
    expect(lines.at(-1)).toMatch(/^apply: 1 host \(1 ok\); resources: 0 unchanged, 3 changed, 0 failed in [\d.]+ s; exit 0$/);
    expect(result.stdout).not.toMatch(ANSI);
  });

  it('colours only when FORCE_COLOR asks, and never with NO_COLOR', () => {
    const forced = run(project.args('plan'), { NO_COLOR: undefined, FORCE_COLOR: '1' });
    expect(forced.stdout).toContain(`\x1b[33mbox: slowFile[${project.state}/release] will change: content: "2.4.0" → "2.4.1"\x1b[39m`);
    expect(forced.stdout).toContain('\x1b[32m+listen 8080\x1b[39m');
    const refused = run(project.args('plan'), { NO_COLOR: '1', FORCE_COLOR: '1' });
    expect(refused.stdout).not.toMatch(ANSI);
    expect(refused.stdout).toContain('+listen 8080');
  });

  it('check stays silent when all is in sync', () => {
    expect(run(project.args('apply')).code).toBe(0);
    expect(run(project.args('check'))).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('--json - writes one report that validates against schema/report.v1.json', () => {
    const result = run(project.args('plan', '--json', '-'));
    expect(result.code).toBe(2);
    const ajv = new Ajv({ strict: true, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(REPO, 'schema/report.v1.json'), 'utf8')));
    const report: unknown = JSON.parse(result.stdout);
    expect(validate(report), ajv.errorsText(validate.errors)).toBe(true);
    expect(report).toMatchObject({
      version: 'keel.report/v1',
      mode: 'plan',
      exitCode: 2,
      hosts: [{ host: 'box', counts: { drifted: 3 } }],
    });
    expect(result.stderr).toMatch(/^plan: 1 host/m);
  });

  it('never loads Ink or React, which the live view alone needs', () => {
    const importsOf = (...extra: string[]): string[] => {
      const log = join(mkdtempSync(join(tmpdir(), 'keel-imports-')), 'imports');
      const hook = pathToFileURL(join(REPO, 'test/support/importLog.mjs')).href;
      const result = run(project.args('plan', ...extra), { NODE_OPTIONS: `--import=${hook}`, KEEL_IMPORT_LOG: log });
      expect(result.code).toBe(2);
      return readFileSync(log, 'utf8').trimEnd().split('\n');
    };
    const ink = (url: string): boolean => /\/node_modules\/(ink|ink-spinner|react)\//.test(url);
    const plain = importsOf();
    expect(plain).toContainEqual(expect.stringMatching(/\/dist\/boot\.cjs$/));
    expect(plain.filter(ink)).toEqual([]);
    // The same hook does see Ink when the live view is asked for, so its silence above means something.
    expect(importsOf('--ui', 'live').filter(ink)).toContainEqual(expect.stringMatching(/\/node_modules\/ink\//));
  });

  it('answers a mistyped option with the message and the usage, exit 1 and no stack trace; --version prints the version', () => {
    for (const args of [['check', 'recipes/site.ts', '-i', 'x.yaml', '--dry-run'], ['--bogus']]) {
      const result = run(args);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/^error: unknown option '--(dry-run|bogus)'/);
      expect(result.stderr).toContain('Usage: keel');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    const version = run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  });
});
