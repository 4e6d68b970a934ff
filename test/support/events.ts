/** Engine events recorded from real runs by scripts/record-events.ts (test/fixtures/events). */
import { readFileSync } from 'node:fs';
import type { EngineEvent, RunSummary } from '../../src/engine/events.js';

export type Recording = 'clean' | 'check-clean' | 'plan' | 'changes' | 'failure' | 'interrupted' | 'fleet-200';

export const RECORDINGS: Recording[] = ['clean', 'check-clean', 'plan', 'changes', 'failure', 'interrupted', 'fleet-200'];

export function recorded(name: Recording): EngineEvent[] {
  return JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8')) as EngineEvent[];
}

export function summaryOf(events: readonly EngineEvent[]): RunSummary {
  const last = events.at(-1);
  if (last?.type !== 'run-end') throw new Error('the recording does not end with run-end');
  return last.summary;
}

/** The events up to and including the first that matches. */
export function until(events: readonly EngineEvent[], matches: (event: EngineEvent) => boolean): EngineEvent[] {
  const index = events.findIndex(matches);
  if (index < 0) throw new Error('no such event in the recording');
  return events.slice(0, index + 1);
}
