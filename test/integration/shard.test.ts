/**
 * `--shard K/N` and `keel report merge` on light lab hosts over real sshd: the shards of a check cover every host
 * exactly once, and their merged report is the unsharded report apart from timings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import type { Report } from '../../src/report/json.js';
import { keel, recipeProject } from '../support/cli.js';

const SHARDS = 3;
let lab: Lab;
let project: string;

const run = (args: string[]) => keel(args, { cwd: project });
const report = (file: string): Report => JSON.parse(readFileSync(join(project, file), 'utf8')) as Report;

/** The report without what differs between any two runs: when they started and how long each part took. */
function withoutTimings(document: Report): unknown {
  return {
    ...document,
    startedAt: undefined,
    durationMs: undefined,
    hosts: document.hosts.map((host) => ({
      ...host,
      durationMs: undefined,
      resources: host.resources.map((resource) => ({ ...resource, durationMs: undefined })),
    })),
  };
}

beforeAll(async () => {
  lab = await startHosts({ lab: 'shard', count: 7, kind: 'light' });
  project = recipeProject({
    'recipes/arp.ts': `
import { recipe, sysctl } from 'keel';

export default recipe({
  name: 'arp',
  resources: () => [sysctl({ key: 'net.ipv4.conf.all.arp_ignore', value: 1 })],
});
`,
  });
  // Drift on some hosts and not on others, so that the shards' outcomes differ.
  for (const host of lab.hosts.slice(0, 3)) await lab.exec(host.name, 'sysctl -qw net.ipv4.conf.all.arp_ignore=1');
});

afterAll(async () => {
  await lab?.down();
});

describe('--shard K/N and report merge', () => {
  it('the shards of a check cover every host exactly once, and merge into the unsharded report', () => {
    const whole = run(['check', 'recipes/arp.ts', '-i', lab.inventoryPath, '--json', 'all.json']);
    expect(whole.stderr).toBe('');
    expect(whole.code).toBe(2);
    const files: string[] = [];
    const codes: number[] = [];
    for (let k = 1; k <= SHARDS; k++) {
      const shard = run(['check', 'recipes/arp.ts', '-i', lab.inventoryPath, '--shard', `${k}/${SHARDS}`, '--json', `shard-${k}.json`]);
      files.push(`shard-${k}.json`);
      codes.push(shard.code);
    }
    const covered = files.flatMap((file) => report(file).hosts.map((host) => host.host));
    expect([...covered].sort()).toEqual(lab.hosts.map((host) => host.name).sort());
    expect(new Set(covered).size).toBe(lab.hosts.length);
    expect(files.filter((file) => report(file).hosts.length > 0).length).toBeGreaterThan(1);

    const merged = run(['report', 'merge', '-i', lab.inventoryPath, ...files, '-o', 'merged.json']);
    expect(merged.code).toBe(codes.reduce((a, b) => a | b, 0));
    expect(merged.code).toBe(whole.code);
    expect(withoutTimings(report('merged.json'))).toEqual(withoutTimings(report('all.json')));
  });

  it('reports of different runs do not merge', () => {
    run(['plan', 'recipes/arp.ts', '-i', lab.inventoryPath, '--limit', lab.hosts[0]!.name, '--json', 'plan.json']);
    const merged = run(['report', 'merge', 'all.json', 'plan.json']);
    expect(merged.code).toBe(1);
    expect(merged.stderr).toMatch(/plan\.json is a plan report, all\.json a check report/);
    const shard = [1, 2, 3].map((k) => `shard-${k}.json`).find((file) => report(file).hosts.length > 0)!;
    const overlapping = run(['report', 'merge', 'all.json', shard]);
    expect(overlapping.code).toBe(1);
    expect(overlapping.stderr).toContain(`is in both all.json and ${shard}: the shards overlap`);
  });
});
