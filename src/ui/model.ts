/**
 * What the live view knows: a fold over engine events. It imports nothing from React or Ink, so it is cheap
 * to test, and a frame can be rendered from it at any moment.
 */
import {
  type EngineEvent,
  emptyCounts,
  type HostCounts,
  type HostSummary,
  type Mode,
  type ResourceError,
  type RolloutStep,
  type RunSummary,
} from '../engine/events.js';
import { hostProblem } from '../report/format.js';

export type Activity = 'waiting' | 'connecting' | 'reading' | 'changing' | 'handlers' | 'done';

/** A failure as the view expands it under its host: what failed, and how. */
export interface Failure {
  subject: string;
  error: Pick<ResourceError, 'message' | 'command' | 'exitCode' | 'stderr'> & { phase?: ResourceError['phase'] };
}

export interface HostRow {
  name: string;
  activity: Activity;
  /** The resource being changed, during apply. */
  resource?: string;
  counts: HostCounts;
  startedAt?: number;
  failures: Failure[];
  /** Set once the host has finished. */
  summary?: HostSummary;
  /** In a rolling run: where the host is on its way out of service and back, with what it waits on. */
  rollout?: Omit<RolloutStep, 'at'>;
}

export interface LiveModel {
  mode: Mode;
  recipes: string[];
  startedAt: number;
  /** In inventory order. */
  rows: Map<string, HostRow>;
  /** Ctrl-C was pressed: no new change starts. */
  interrupted: boolean;
  /** A rolling run: the batch in flight (from 1) and how many there are. */
  batch?: { index: number; of: number };
  summary?: RunSummary;
}

export function emptyModel(): LiveModel {
  return { mode: 'plan', recipes: [], startedAt: Date.now(), rows: new Map(), interrupted: false };
}

function rowOf(model: LiveModel, host: string): HostRow {
  let row = model.rows.get(host);
  if (!row) {
    row = { name: host, activity: 'waiting', counts: emptyCounts(), failures: [] };
    model.rows.set(host, row);
  }
  return row;
}

/** Applies one event to the model, in place. */
export function foldEvent(model: LiveModel, event: EngineEvent): void {
  switch (event.type) {
    case 'run-start':
      model.mode = event.mode;
      model.recipes = event.recipes;
      model.startedAt = event.at;
      for (const host of event.hosts) rowOf(model, host);
      break;
    case 'batch-start':
      model.batch = { index: event.batch, of: event.of };
      break;
    case 'rollout-phase':
      rowOf(model, event.host).rollout = { phase: event.phase, ...(event.detail === undefined ? {} : { detail: event.detail }) };
      break;
    case 'host-start': {
      const row = rowOf(model, event.host);
      row.activity = 'connecting';
      row.startedAt = event.at;
      break;
    }
    case 'host-phase':
      rowOf(model, event.host).activity = event.phase === 'connect' ? 'connecting' : event.phase === 'read' ? 'reading' : 'handlers';
      break;
    case 'resource-start': {
      const row = rowOf(model, event.host);
      row.activity = 'changing';
      row.resource = event.id;
      break;
    }
    case 'resource-result': {
      const { result } = event;
      const row = rowOf(model, result.host);
      row.counts[result.outcome] += 1;
      if (row.resource === result.id) row.resource = undefined;
      if (result.outcome === 'failed' && result.error) row.failures.push({ subject: result.id, error: result.error });
      break;
    }
    case 'handler-result': {
      const { result } = event;
      if (result.outcome === 'failed' && result.error)
        rowOf(model, result.host).failures.push({ subject: `handler ${result.id} ${result.action}`, error: result.error });
      break;
    }
    case 'host-end': {
      const { summary } = event;
      const row = rowOf(model, summary.host);
      row.activity = 'done';
      row.resource = undefined;
      row.summary = summary;
      row.counts = summary.counts;
      const problem = hostProblem(summary);
      if (problem && row.failures.every((failure) => failure.error.message !== summary.error)) {
        row.failures.push({ subject: summary.outcome, error: { message: summary.error ?? problem } });
      }
      break;
    }
    case 'run-end':
      model.summary = event.summary;
      break;
  }
}

export function foldEvents(events: readonly EngineEvent[], model: LiveModel = emptyModel()): LiveModel {
  for (const event of events) foldEvent(model, event);
  return model;
}

export function isActive(row: HostRow): boolean {
  return row.activity !== 'waiting' && row.activity !== 'done';
}

export function isFailing(row: HostRow): boolean {
  return row.failures.length > 0 || (row.summary !== undefined && row.summary.outcome !== 'ok');
}
