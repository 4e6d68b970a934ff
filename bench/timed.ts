/** Timing a command as the bench does: GNU time around it, for its wall time, CPU and peak RSS; medians of rounds. */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const TIME_FORMAT = 'bench-time %e %U %S %M';

export interface Timed {
  wallMs: number;
  cpuMs: number;
  peakRssKb: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under GNU time, which reports the wall time, CPU and peak RSS of it and its waited-for children. */
export async function timed(command: { file: string; args: string[]; env: NodeJS.ProcessEnv }, work: string): Promise<Timed> {
  const paths = { time: join(work, 'time.txt'), stdout: join(work, 'stdout.txt'), stderr: join(work, 'stderr.txt') };
  const stdout = openSync(paths.stdout, 'w');
  const stderr = openSync(paths.stderr, 'w');
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', TIME_FORMAT, '-o', paths.time, command.file, ...command.args], {
      cwd: REPO,
      env: command.env,
      stdio: ['ignore', stdout, stderr],
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
  closeSync(stdout);
  closeSync(stderr);
  const line = readFileSync(paths.time, 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith('bench-time '));
  if (line === undefined) throw new Error(`no timing from /usr/bin/time for ${command.file} ${command.args.join(' ')}`);
  const [wall, user, system, rss] = line.split(' ').slice(1).map(Number) as [number, number, number, number];
  return {
    wallMs: wall * 1000,
    cpuMs: (user + system) * 1000,
    peakRssKb: rss,
    exitCode,
    stdout: readFileSync(paths.stdout, 'utf8'),
    stderr: readFileSync(paths.stderr, 'utf8'),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
