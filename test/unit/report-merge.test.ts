import { describe, expect, it } from 'vitest';
import { REPORT_VERSION, type Report } from '../../src/report/json.js';
import { mergeReports, ReportMergeError } from '../../src/report/merge.js';

type HostReport = Report['hosts'][number];

function host(name: string, outcome: HostReport['outcome'], drifted = 0): HostReport {
  return {
    host: name,
    outcome,
    counts: { unchanged: 1, drifted, changed: 0, pending: 0, failed: 0, skipped: 0 },
    resources: [],
    handlers: [],
    execs: { total: 1, read: 1 },
    durationMs: 120,
  };
}

function shard(startedAt: string, durationMs: number, hosts: HostReport[], exitCode: number, mode: Report['mode'] = 'check'): Report {
  return { version: REPORT_VERSION, mode, recipes: ['recipes/web.ts'], startedAt, durationMs, hosts, interrupted: false, exitCode };
}

describe('keel report merge', () => {
  const a = shard('2026-12-02T10:00:00.000Z', 4000, [host('web3', 'ok', 1), host('web1', 'ok')], 2);
  const b = shard('2026-12-02T10:00:01.000Z', 5000, [host('web2', 'unreachable')], 8);

  it('joins the hosts, ORs the exit codes and spans from the first start to the last end', () => {
    const merged = mergeReports([
      { file: 'a.json', document: a },
      { file: 'b.json', document: b },
    ]);
    expect(merged.hosts.map((h) => h.host)).toEqual(['web3', 'web1', 'web2']);
    expect(merged.exitCode).toBe(10);
    expect(merged.startedAt).toBe('2026-12-02T10:00:00.000Z');
    expect(merged.durationMs).toBe(6000);
  });

  it('orders the hosts as the inventory does when it is given', () => {
    const merged = mergeReports(
      [
        { file: 'a.json', document: a },
        { file: 'b.json', document: b },
      ],
      ['web1', 'web2', 'web3'],
    );
    expect(merged.hosts.map((h) => h.host)).toEqual(['web1', 'web2', 'web3']);
  });

  it('refuses reports of different modes, recipes or overlapping hosts, and documents that are not reports', () => {
    const plan = shard('2026-12-02T10:00:00.000Z', 1, [host('web9', 'ok')], 0, 'plan');
    expect(() =>
      mergeReports([
        { file: 'a.json', document: a },
        { file: 'p.json', document: plan },
      ]),
    ).toThrow('p.json is a plan report, a.json a check report');
    const other = { ...b, recipes: ['recipes/db.ts'] };
    expect(() =>
      mergeReports([
        { file: 'a.json', document: a },
        { file: 'o.json', document: other },
      ]),
    ).toThrow(/o\.json ran recipes\/db\.ts/);
    expect(() =>
      mergeReports([
        { file: 'a.json', document: a },
        { file: 'c.json', document: a },
      ]),
    ).toThrow('host web3 is in both a.json and c.json: the shards overlap');
    expect(() => mergeReports([{ file: 'x.json', document: { version: 'keel.report/v0' } }])).toThrow(ReportMergeError);
    expect(() => mergeReports([])).toThrow('no report to merge');
  });
});
