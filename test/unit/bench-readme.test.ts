import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BenchHistory, type BenchRun, HISTORY_VERSION, readHistory, recordRun } from '../../bench/history.js';
import { historyPage } from '../../bench/historyPage.js';
import { inventoryLoadLine, performanceTable, withPerformanceTable } from '../../bench/readme.js';

const REPO = new URL('../../', import.meta.url);

function run(startedAt: string, commit: string, sizes: BenchRun['sizes']): BenchRun {
  return { startedAt, date: startedAt.slice(0, 10), commit, command: 'npm run bench', machine: { cpus: 2 }, sizes };
}

const size = (hosts: number, keelCheckMs: number) => ({
  hosts,
  loadAverageAtStart: 0.5,
  summaries: [
    { tool: 'keel', phase: 'check', runs: 3, wallMs: keelCheckMs, peakRssKb: 80_000, problems: [] },
    { tool: 'ansible', phase: 'check', runs: 3, wallMs: keelCheckMs * 10, peakRssKb: 60_000, problems: [] },
  ],
});

describe('the bench history and the README table made from it', () => {
  it('appends runs, and replaces the run written again after each of its sizes', () => {
    let history: BenchHistory = { version: HISTORY_VERSION, runs: [] };
    history = recordRun(history, run('2026-12-01T10:00:00.000Z', 'aaa1111', [size(3, 400)]));
    history = recordRun(history, run('2026-12-02T10:00:00.000Z', 'bbb2222', [size(3, 380)]));
    history = recordRun(history, run('2026-12-02T10:00:00.000Z', 'bbb2222', [size(3, 380), size(50, 1500)]));
    expect(history.runs.map((r) => [r.commit, r.sizes.length])).toEqual([
      ['aaa1111', 1],
      ['bbb2222', 2],
    ]);
  });

  it('takes the latest run of each size', () => {
    const history: BenchHistory = {
      version: HISTORY_VERSION,
      runs: [
        run('2026-12-01T10:00:00.000Z', 'aaa1111', [size(3, 400), size(200, 36_000)]),
        run('2026-12-02T10:00:00.000Z', 'bbb2222', [size(3, 380)]),
      ],
    };
    const table = performanceTable(history).split('\n');
    expect(table[2]).toMatch(/^\| 3 \| 0\.38 s \| 3\.80 s \(10\.0×\) \| — \|.*\| 2026-12-02, bbb2222, /);
    expect(table[3]).toMatch(/^\| 200 \| 36\.0 s \| 360\.0 s \(10\.0×\) \|.*\| 2026-12-01, aaa1111, /);
  });

  it('adds a row for the latest run on the real LVS lab, with its ratios', () => {
    const labSummary = (tool: string, phase: string, wallMs: number) => ({
      tool,
      phase,
      runs: 5,
      wallMs,
      cpuMs: 900,
      peakRssKb: 90_000,
      problems: [],
    });
    const labRun = (startedAt: string, keelCheckMs: number): BenchRun => ({
      ...run(startedAt, 'ccc3333', []),
      command: 'npm run bench:lab',
      lab: {
        hosts: ['director', 'rs1', 'rs2'],
        route: 'ProxyCommand ip netns exec keel-benchlab nc %h %p',
        loadAverageAtStart: 1.5,
        loadAverageAtEnd: 1.7,
        rounds: { check: 5, firstApply: 3 },
        runs: [],
        summaries: [
          labSummary('keel', 'check', keelCheckMs),
          labSummary('ssh true', 'check', 1000),
          labSummary('keel', 'first apply', 30_000),
          labSummary('ansible', 'first apply', 90_000),
        ],
        checkOverSshTrue: keelCheckMs / 1000,
        ansibleOverKeelFirstApply: 3,
      },
    });
    const history: BenchHistory = {
      version: HISTORY_VERSION,
      runs: [
        labRun('2026-12-01T10:00:00.000Z', 2000),
        run('2026-12-02T10:00:00.000Z', 'bbb2222', [size(3, 380)]),
        labRun('2026-12-02T11:00:00.000Z', 1200),
      ],
    };
    const table = performanceTable(history).split('\n');
    expect(table).toHaveLength(4);
    expect(table[3]).toBe(
      '| real lab (director, rs1, rs2) | 1.20 s (1.20× `ssh true`) | — | 1.00 s | 30.0 s | 90.0 s (3.0×) | 88 MB | 2026-12-02, ccc3333, load 1.5 on 2 CPUs |',
    );
  });

  it('adds the latest inventory load under the table, and nothing when no run measured one', () => {
    const measured = run('2026-12-02T10:00:00.000Z', 'ccc3333', [size(3, 380)]);
    measured.inventoryLoad = {
      hosts: 10_000,
      groups: 17,
      loadAverageAtStart: 1.5,
      summaries: [
        { tool: 'keel (INI)', runs: 3, wallMs: 1_000, cpuMs: 900, peakRssKb: 120_000, problems: [] },
        { tool: 'ansible-inventory', runs: 1, wallMs: 12_000, cpuMs: 11_000, peakRssKb: 70_000, problems: [] },
      ],
    };
    const later = run('2026-12-03T10:00:00.000Z', 'ddd4444', [size(3, 370)]);
    expect(inventoryLoadLine({ version: HISTORY_VERSION, runs: [later] })).toBe('');
    expect(inventoryLoadLine({ version: HISTORY_VERSION, runs: [measured, later] })).toBe(
      '\n\nInventory load of 10000 generated hosts in 17 groups (`keel inventory list --json`): keel (INI) 1.00 s (12.0× faster); `ansible-inventory --list` 12.0 s (2026-12-02, ccc3333, load 1.5 on 2 CPUs).',
    );
  });

  it("README.md's performance table is the one bench/results.json gives", () => {
    const readme = readFileSync(new URL('README.md', REPO), 'utf8');
    const history = readHistory(new URL('bench/results.json', REPO).pathname);
    expect(withPerformanceTable(readme, history)).toBe(readme);
  });
});

describe('bench/report.html', () => {
  it('draws a point per tool and run, and escapes what the history holds', () => {
    const history: BenchHistory = {
      version: HISTORY_VERSION,
      runs: [
        run('2026-12-01T10:00:00.000Z', '<b>aaa</b>', [size(3, 400)]),
        run('2026-12-02T10:00:00.000Z', 'bbb2222', [size(3, 380), size(50, 1500)]),
      ],
    };
    const page = historyPage(history);
    const points = [...page.matchAll(/<circle class="point" data-tool="([^"]+)"/g)].map((match) => match[1]);
    expect(points.filter((tool) => tool === 'keel')).toHaveLength(3);
    expect(points.filter((tool) => tool === 'ansible')).toHaveLength(3);
    expect(page).not.toContain('<b>aaa</b>');
    expect(page).toContain('&#60;b&#62;aaa&#60;/b&#62;');
  });
});
