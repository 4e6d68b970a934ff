/**
 * bench/results.json keeps every run of the bench, keyed by date and commit, so that figures can be compared over
 * time; the README's performance table is generated from it (`npm run bench:readme`), never typed by hand.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ForksSweep } from './forksSweep.js';
import type { InventoryLoadResult } from './inventoryLoad.js';
import type { StartupFigures } from './startup.js';

export const HISTORY_VERSION = 'keel.bench-history/v1';

export interface BenchSummary {
  tool: string;
  phase: string;
  runs: number;
  wallMs: number;
  peakRssKb: number;
  problems: string[];
}

export interface BenchSize {
  hosts: number;
  loadAverageAtStart: number;
  summaries: BenchSummary[];
  /** `--forks-sweep`: checks at each --forks, and `ssh true` with as many clients at once. */
  forksSweep?: ForksSweep;
}

/** One timed run of `npm run bench:lab` on the real LVS lab. */
export interface BenchLabRun {
  tool: 'keel' | 'ssh true' | 'ansible';
  phase: 'check' | 'first apply';
  round: number;
  wallMs: number;
  /** user + sys of the tool and everything it started, Ansible's ssh masters included. */
  cpuMs: number;
  peakRssKb: number;
  /** What went wrong: the run failed, or the cluster did not serve or keel's check was not clean after an apply. */
  problem?: string;
  /** keel's time on each host from its JSON report (connection, read and any changes), by host name. */
  hostMs?: Record<string, number>;
}

/** What bench/lab.ts measured on the LVS lab: medians of the interleaved rounds, per tool and phase. */
export interface BenchLab {
  hosts: string[];
  /** How every tool reached the hosts. */
  route: string;
  loadAverageAtStart: number;
  loadAverageAtEnd: number;
  rounds: { check: number; firstApply: number };
  runs: BenchLabRun[];
  summaries: (BenchSummary & { cpuMs: number })[];
  /** keel's check of the cluster ÷ `ssh true` to the same hosts (issue 20's target: ≤ 1.3). */
  checkOverSshTrue: number;
  ansibleOverKeelFirstApply?: number;
  /** The median over the check rounds of keel's time on each host: where the check's time goes. */
  keelCheckHostMs?: Record<string, number>;
}

/** One `npm run bench` (bench/run.ts) or `npm run bench:lab` (bench/lab.ts, with `lab` and no sizes); other fields are kept as they are. */
export interface BenchRun {
  startedAt: string;
  /** The day it ran (UTC) and the commit it measured, with `-dirty` when the tree had uncommitted changes. */
  date: string;
  commit: string;
  command: string;
  machine: { cpus: number; [key: string]: unknown };
  sizes: BenchSize[];
  /** keel's start-up and a 1-host check against `ssh true` (bench/startup.ts); runs before it have none. */
  startup?: StartupFigures;
  lab?: BenchLab;
  /** keel's and Ansible's load of a generated inventory, when the run measured it. */
  inventoryLoad?: InventoryLoadResult;
  [key: string]: unknown;
}

export interface BenchHistory {
  version: typeof HISTORY_VERSION;
  runs: BenchRun[];
}

export function readHistory(path: string): BenchHistory {
  if (!existsSync(path)) return { version: HISTORY_VERSION, runs: [] };
  const document = JSON.parse(readFileSync(path, 'utf8')) as Partial<BenchHistory>;
  if (document.version === HISTORY_VERSION) return document as BenchHistory;
  // The file of earlier versions held one run, without its commit.
  const single = document as unknown as BenchRun;
  return { version: HISTORY_VERSION, runs: [{ ...single, date: single.startedAt.slice(0, 10), commit: 'unknown' }] };
}

/** Adds the run, or replaces the one with the same start: the bench writes its run again after every size. */
export function recordRun(history: BenchHistory, run: BenchRun): BenchHistory {
  return { version: HISTORY_VERSION, runs: [...history.runs.filter((earlier) => earlier.startedAt !== run.startedAt), run] };
}

export function writeHistory(path: string, history: BenchHistory): void {
  writeFileSync(path, `${JSON.stringify(history, null, 2)}\n`);
}
