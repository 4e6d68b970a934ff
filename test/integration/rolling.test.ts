/**
 * `keel apply --serial --max-fail` through the real CLI over SSH, on five light lab hosts (sshd in namespaces of
 * their own). Each change takes a while; h1's and h4's directory does not exist, so their first change fails.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type Lab, startHosts } from '../../lab/hosts.js';
import type { Report } from '../../src/report/json.js';
import { keel } from '../support/cli.js';
import { type SiteProject, siteProject } from '../support/siteProject.js';

const BROKEN = ['h1', 'h4'];
const SECONDS = 2;

let lab: Lab;
let project: SiteProject;

beforeAll(async () => {
  lab = await startHosts({ lab: 'rolling', count: 5, kind: 'light' });
  project = siteProject();
  const inventory = parse(readFileSync(lab.inventoryPath, 'utf8')) as { hosts: Record<string, { vars?: object }> };
  for (const [name, host] of Object.entries(inventory.hosts))
    host.vars = { dir: BROKEN.includes(name) ? '/nonexistent' : '/root', seconds: SECONDS };
  writeFileSync(join(project.directory, 'fleet.yaml'), stringify(inventory));
});

afterAll(async () => {
  await lab?.down();
});

function apply(...flags: string[]): { code: number; report: Report; text: string } {
  const result = keel(['apply', 'recipes/site.ts', '-i', 'fleet.yaml', '--ui', 'plain', '--json', '-', ...flags], {
    cwd: project.directory,
    env: { HOME: mkdtempSync(join(tmpdir(), 'keel-home-')) },
  });
  if (result.stdout.trim() === '') throw new Error(`keel apply wrote no report (exit ${result.code}):\n${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as Report, text: result.stderr };
}

describe('keel apply --serial 2 --max-fail 1 on five hosts', () => {
  it('runs batches in order, each in parallel, and stops once the second failure goes past the budget, naming h5', async () => {
    const { code, report, text } = apply('--serial', '2', '--max-fail', '1');
    expect(code).toBe(4);
    expect(report.rollout).toEqual({
      serial: 2,
      maxFail: 1,
      batches: [['h1', 'h2'], ['h3', 'h4'], ['h5']],
      failed: ['h1', 'h4'],
      notAttempted: ['h5'],
      stopped: '2 failed hosts (h1, h4) went past --max-fail 1 after batch 2 of 3',
    });
    const lines = text.split('\n');
    const at = (line: string): number => lines.indexOf(line);
    expect(at('batch 1 of 3: h1, h2')).toBeGreaterThanOrEqual(0);
    expect(at('batch 2 of 3: h3, h4')).toBeGreaterThan(at('batch 1 of 3: h1, h2'));
    expect(text).not.toContain('batch 3 of 3');
    // Every line of h1's and h2's changes comes before batch 2, and none of h3's or h4's after it.
    const hostLines = (host: string): number[] => lines.flatMap((line, index) => (line.startsWith(`${host}: `) ? [index] : []));
    for (const host of ['h1', 'h2']) expect(Math.max(...hostLines(host))).toBeLessThan(at('batch 2 of 3: h3, h4'));
    for (const host of ['h3', 'h4']) expect(Math.min(...hostLines(host))).toBeGreaterThan(at('batch 2 of 3: h3, h4'));
    expect(lines).toContain('h5: not attempted: 2 failed hosts (h1, h4) went past --max-fail 1 after batch 2 of 3');
    expect(lines.at(-2)).toMatch(/^apply: 5 hosts \(2 ok, 2 failed, 1 not attempted\); .* exit 4$/);

    expect(report.hosts.map((host) => [host.host, host.outcome, host.counts.changed])).toEqual([
      ['h1', 'failed', 0],
      ['h2', 'ok', 3],
      ['h3', 'ok', 3],
      ['h4', 'failed', 0],
      ['h5', 'failed', 0],
    ]);
    expect((await lab.exec('h5', 'cat /root/release')).code).not.toBe(0);
    expect((await lab.exec('h3', 'cat /root/release')).stdout).toBe('2.4.1');
    // A batch's hosts run at once: h2's three changes and h1's failing one overlap, as do h3's and h4's.
    const hostTime = report.hosts.reduce((sum, host) => sum + host.durationMs, 0);
    expect(report.durationMs).toBeLessThan(hostTime - SECONDS * 1000);
  });

  it('refuses a --serial or --max-fail that is no number of hosts before contacting any', () => {
    for (const flags of [
      ['--serial', '0'],
      ['--serial', 'half'],
      ['--max-fail', '150%'],
    ]) {
      const result = keel(['apply', 'recipes/site.ts', '-i', 'fleet.yaml', ...flags], { cwd: project.directory });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`option '${flags[0]} <n\\|n%>' argument '${flags[1]}' is invalid`));
    }
  });
});
