/** The bench's start-up figures: interleaved rounds, medians, the paired ratio, and how the README shows them. */
import { describe, expect, it } from 'vitest';
import { HISTORY_VERSION } from '../../bench/history.js';
import { performanceTable } from '../../bench/readme.js';
import { measureStartup, type StartupCommand } from '../../bench/startup.js';

const command = (name: string): StartupCommand => ({ file: name, args: [], env: {} });
const commands = { node: command('node'), version: command('version'), check: command('check'), sshTrue: command('ssh') };

describe('the start-up bench', () => {
  it('runs the four commands in turn, round after round, and takes medians and the median of the paired ratios', async () => {
    const order: string[] = [];
    // ssh true gets slower round by round, and keel's check with it: the paired ratio stays 1.5.
    const walls: Record<string, number[]> = {
      node: [60, 70, 50, 65, 62],
      version: [90, 95, 85, 300, 92],
      check: [300, 450, 600, 750, 900],
      ssh: [200, 300, 400, 500, 600],
    };
    const figures = await measureStartup(commands, 5, async ({ file }) => {
      const round = order.filter((name) => name === file).length;
      order.push(file);
      return { wallMs: walls[file]![round]!, cpuMs: walls[file]![round]! / 2, exitCode: file === 'check' && round === 2 ? 4 : 0 };
    });
    expect(order.slice(0, 8)).toEqual(['node', 'version', 'check', 'ssh', 'node', 'version', 'check', 'ssh']);
    expect(figures).toMatchObject({
      rounds: 5,
      nodeMs: 62,
      versionMs: 92,
      versionCpuMs: 46,
      checkMs: 600,
      sshTrueMs: 400,
      checkOverSshTrue: 1.5,
    });
    expect(figures.problems).toEqual(['round 3: check exited 4']);
  });

  it('shows the latest run that measured it under the README table', async () => {
    const startup = await measureStartup(commands, 1, async ({ file }) => ({
      wallMs: file === 'check' ? 330 : 300,
      cpuMs: 100,
      exitCode: 0,
    }));
    const run = (commit: string, extra = {}) => ({
      startedAt: `2026-12-0${commit.length}T10:00:00.000Z`,
      date: '2026-12-02',
      commit,
      command: 'npm run bench',
      machine: { cpus: 2 },
      sizes: [{ hosts: 3, loadAverageAtStart: 0.5, summaries: [] }],
      ...extra,
    });
    const table = performanceTable({ version: HISTORY_VERSION, runs: [run('a', { startup }), run('bb')] });
    expect(table).toContain('Start-up (2026-12-02, a):');
    expect(table).toContain(
      '- keel check of 1 host: 0.330 s (CPU 0.100 s); ssh true to it: 0.300 s; 1.10× (median of 1 interleaved rounds)',
    );
    expect(performanceTable({ version: HISTORY_VERSION, runs: [run('bb')] })).not.toContain('Start-up');
  });
});
