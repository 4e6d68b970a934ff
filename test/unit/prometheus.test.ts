import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyCounts, type HostSummary, type RunSummary } from '../../src/engine/events.js';
import { prometheusText, writePrometheusFile } from '../../src/report/prometheus.js';

function host(name: string, outcome: HostSummary['outcome'], drifted: number): HostSummary {
  return {
    host: name,
    outcome,
    counts: { ...emptyCounts(), drifted, unchanged: 3 },
    resources: [],
    handlers: [],
    execs: { total: 1, read: 1 },
    durationMs: 1500,
  };
}

const summary: RunSummary = {
  mode: 'check',
  recipes: ['recipes/realserver.ts'],
  startedAt: '2026-11-25T00:00:00.000Z',
  durationMs: 2000,
  hosts: [host('rs1', 'ok', 2), host('we"ird\\host', 'unreachable', 0)],
  interrupted: false,
  exitCode: 10,
};

/** Parses the exposition format back: metric name, labels and value per sample line. */
function parse(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const pair of match[2]!.matchAll(/([a-z]+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, '$1');
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

describe('the Prometheus textfile', () => {
  it('holds per-host drift, reachability, timestamp and duration, and parses back', () => {
    const samples = parse(prometheusText(summary, 1_764_000_000_000));
    const value = (name: string, hostName: string) => samples.find((s) => s.name === name && s.labels.host === hostName)?.value;
    expect(value('keel_drifted_resources', 'rs1')).toBe(2);
    expect(value('keel_host_reachable', 'rs1')).toBe(1);
    expect(value('keel_host_reachable', 'we"ird\\host')).toBe(0);
    expect(value('keel_last_check_timestamp_seconds', 'rs1')).toBe(1_764_000_000);
    expect(value('keel_check_duration_seconds', 'rs1')).toBe(1.5);
  });

  it('declares every metric once with HELP and TYPE', () => {
    const text = prometheusText(summary);
    for (const name of [
      'keel_drifted_resources',
      'keel_host_reachable',
      'keel_last_check_timestamp_seconds',
      'keel_check_duration_seconds',
    ]) {
      expect(text.match(new RegExp(`^# TYPE ${name} gauge$`, 'gm'))).toHaveLength(1);
    }
  });

  it('is written by rename, leaving no temporary file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'keel-prom-'));
    writePrometheusFile(join(directory, 'keel.prom'), summary);
    expect(parse(readFileSync(join(directory, 'keel.prom'), 'utf8'))).toHaveLength(10);
    expect(readdirSync(directory)).toEqual(['keel.prom']);
  });
});
