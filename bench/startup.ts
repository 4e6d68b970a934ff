/**
 * keel's own start-up, against the floors under it: `keel --version` against `node -e 0`, and a no-change
 * `keel check` of one host against `ssh true` to that same host. On a small fleet the controller's start-up is most
 * of the wall time, so this is where it shows. The four commands run in turn, round after round, and each figure is
 * the median of its rounds; the ratio is the median of the rounds' own ratios, so a slower moment of the machine
 * weighs on both sides of it.
 */
import { median } from './timed.js';

export interface StartupCommand {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface StartupTiming {
  wallMs: number;
  /** user + sys of the command and everything it waited for. */
  cpuMs: number;
  exitCode: number;
}

export interface StartupFigures {
  rounds: number;
  nodeMs: number;
  versionMs: number;
  versionCpuMs: number;
  checkMs: number;
  checkCpuMs: number;
  sshTrueMs: number;
  /** keel's 1-host check ÷ `ssh true`, the median of the rounds' ratios. */
  checkOverSshTrue: number;
  problems: string[];
}

export async function measureStartup(
  commands: { node: StartupCommand; version: StartupCommand; check: StartupCommand; sshTrue: StartupCommand },
  rounds: number,
  time: (command: StartupCommand) => Promise<StartupTiming>,
): Promise<StartupFigures> {
  const names = ['node', 'version', 'check', 'sshTrue'] as const;
  const timings = new Map<(typeof names)[number], StartupTiming[]>(names.map((name) => [name, []]));
  const problems: string[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const timing = await time(commands[name]);
      if (timing.exitCode !== 0) problems.push(`round ${round + 1}: ${name} exited ${timing.exitCode}`);
      timings.get(name)!.push(timing);
    }
  }
  const wall = (name: (typeof names)[number]) => median(timings.get(name)!.map((timing) => timing.wallMs));
  const cpu = (name: (typeof names)[number]) => median(timings.get(name)!.map((timing) => timing.cpuMs));
  const ssh = timings.get('sshTrue')!;
  return {
    rounds,
    nodeMs: wall('node'),
    versionMs: wall('version'),
    versionCpuMs: cpu('version'),
    checkMs: wall('check'),
    checkCpuMs: cpu('check'),
    sshTrueMs: wall('sshTrue'),
    checkOverSshTrue: median(timings.get('check')!.map((timing, round) => timing.wallMs / ssh[round]!.wallMs)),
    problems,
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

/** The figures in one sentence each, for the bench's output and the README. */
export function startupSummary(figures: StartupFigures): string[] {
  return [
    `keel --version: ${seconds(figures.versionMs)} (CPU ${seconds(figures.versionCpuMs)}); node -e 0: ${seconds(figures.nodeMs)}`,
    `keel check of 1 host: ${seconds(figures.checkMs)} (CPU ${seconds(figures.checkCpuMs)}); ssh true to it: ${seconds(figures.sshTrueMs)}; ` +
      `${figures.checkOverSshTrue.toFixed(2)}× (median of ${figures.rounds} interleaved rounds)${figures.problems.length > 0 ? ` (!) ${figures.problems.join('; ')}` : ''}`,
  ];
}
