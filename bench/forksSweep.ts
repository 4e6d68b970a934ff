/**
 * `npm run bench -- --forks-sweep 10,20,50,100,200`: at the largest fleet size, a no-change `keel check` at each
 * --forks, and `ssh true` with as many clients at once, the two interleaved: what the controller and the hosts
 * sustain, from which keel's default --forks is chosen.
 */
import type { Timed } from './timed.js';

export type SweepTool = 'keel' | 'ssh true';

export interface ForksPoint {
  forks: number;
  tool: SweepTool;
  wallMs: number;
  cpuMs: number;
  peakRssKb: number;
  hostsCpuMs: number;
  problem?: string;
}

export interface ForksSweep {
  hosts: number;
  loadAverageAtStart: number;
  points: ForksPoint[];
}

export function parseForksList(text: string): number[] {
  const counts = text.split(',').map((count) => Number(count.trim()));
  if (counts.length === 0 || counts.some((count) => !Number.isInteger(count) || count < 1))
    throw new Error('--forks-sweep: numbers of hosts at once, comma-separated, e.g. 10,20,50,100,200');
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** One measured run of a tool with that many hosts at once, with the hosts' CPU meanwhile and what went wrong. */
export type MeasureForks = (tool: SweepTool, forks: number) => Promise<{ result: Timed; hostsCpuMs: number; problem?: string }>;

/** Every count once per tool; the tools alternate which goes first, so that neither always meets warmer hosts. */
export async function sweepForks(
  hosts: number,
  counts: readonly number[],
  measure: MeasureForks,
  loadAverage: number,
  log: (line: string) => void,
): Promise<ForksSweep> {
  const points: ForksPoint[] = [];
  for (const [index, forks] of counts.entries()) {
    const tools: SweepTool[] = index % 2 === 0 ? ['keel', 'ssh true'] : ['ssh true', 'keel'];
    for (const tool of tools) {
      const { result, hostsCpuMs, problem } = await measure(tool, forks);
      points.push({
        forks,
        tool,
        wallMs: result.wallMs,
        cpuMs: result.cpuMs,
        peakRssKb: result.peakRssKb,
        hostsCpuMs,
        ...(problem ? { problem } : {}),
      });
      log(
        `  [${hosts} hosts, ${forks} at once] ${tool.padEnd(8)} ${(result.wallMs / 1000).toFixed(2).padStart(7)} s${problem ? `  PROBLEM: ${problem}` : ''}`,
      );
    }
  }
  return { hosts, loadAverageAtStart: loadAverage, points };
}

export function forksTable(sweep: ForksSweep): string {
  const header = [`${sweep.hosts} hosts, at once`, 'keel check', 'CPU', 'peak RSS', "hosts' CPU", '`ssh true`', 'CPU', 'keel ÷ ssh'];
  const counts = [...new Set(sweep.points.map((point) => point.forks))];
  const secondsOf = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const rows = counts.map((forks) => {
    const keel = sweep.points.find((point) => point.forks === forks && point.tool === 'keel');
    const ssh = sweep.points.find((point) => point.forks === forks && point.tool === 'ssh true');
    const mark = (point: ForksPoint | undefined) => (point?.problem ? ' (!)' : '');
    return [
      `--forks ${forks}`,
      keel ? `${secondsOf(keel.wallMs)}${mark(keel)}` : '—',
      keel ? secondsOf(keel.cpuMs) : '—',
      keel ? `${(keel.peakRssKb / 1024).toFixed(0)} MB` : '—',
      keel ? secondsOf(keel.hostsCpuMs) : '—',
      ssh ? `${secondsOf(ssh.wallMs)}${mark(ssh)}` : '—',
      ssh ? secondsOf(ssh.cpuMs) : '—',
      keel && ssh ? `${(keel.wallMs / ssh.wallMs).toFixed(2)}×` : '',
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [format(header), format(widths.map((width) => '-'.repeat(width))), ...rows.map(format)].join('\n');
}
