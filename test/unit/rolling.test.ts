/**
 * Rolling runs in the engine (`--serial`, `--max-fail`): batch order, one failure budget for the whole run, the
 * hosts not attempted named, Ctrl-C between batches. Each host is this machine with a file of its own; they share
 * this machine's apply lease, so hosts run one at a time here (test/integration/rolling.test.ts runs batches in
 * parallel on hosts of their own).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EngineEvent, RunSummary } from '../../src/engine/events.js';
import { batchSize, failureBudget, parseHostShare, type RollingOptions } from '../../src/engine/rollout.js';
import { DEFAULT_TIMEOUTS, run } from '../../src/engine/run.js';
import type { HostTarget } from '../../src/engine/target.js';
import { fleetLine } from '../../src/report/format.js';
import { LocalTransport } from '../../src/transport/local.js';
import { valueFile } from '../support/valueFile.js';

let directory: string;
const marker = (host: string): string => join(directory, host);

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'keel-rolling-'));
});

/** Hosts h1…hN; those in `failing` fail their one change. */
function fleet(count: number, failing: readonly string[] = []): HostTarget[] {
  return Array.from({ length: count }, (_, index) => {
    const name = `h${index + 1}`;
    return {
      name,
      resources: [valueFile({ path: marker(name), value: 'done', behaviour: failing.includes(name) ? 'fail' : 'honest' })],
      connect: async () => new LocalTransport(name),
    };
  });
}

async function rolling(
  hosts: HostTarget[],
  options: RollingOptions,
  signal?: AbortSignal,
  onEvent?: (event: EngineEvent) => void,
): Promise<{ summary: RunSummary; events: EngineEvent[] }> {
  const events: EngineEvent[] = [];
  const summary = await run({
    mode: 'apply',
    recipes: ['t'],
    hosts,
    forks: 1,
    timeouts: DEFAULT_TIMEOUTS,
    rolling: options,
    signal,
    emit: (event) => {
      events.push(event);
      onEvent?.(event);
    },
  });
  return { summary, events };
}

/** Each batch as the hosts that started between its batch-start and the next. */
function startedByBatch(events: readonly EngineEvent[]): string[][] {
  const batches: string[][] = [];
  for (const event of events) {
    if (event.type === 'batch-start') batches.push([]);
    if (event.type === 'host-start') batches.at(-1)!.push(event.host);
  }
  return batches;
}

describe('--serial and --max-fail as numbers', () => {
  it('parse N and N%, and refuse anything else', () => {
    expect(parseHostShare('3')).toEqual({ count: 3 });
    expect(parseHostShare('25%')).toEqual({ percent: 25 });
    expect(parseHostShare('101%')).toBeUndefined();
    expect(parseHostShare('-1')).toBeUndefined();
    expect(parseHostShare('two')).toBeUndefined();
  });

  it('round a share down, a batch holding at least one host', () => {
    expect(batchSize({ percent: 30 }, 10)).toBe(3);
    expect(batchSize({ percent: 10 }, 5)).toBe(1);
    expect(batchSize(undefined, 7)).toBe(7);
    expect(failureBudget({ percent: 10 }, 5)).toBe(0);
    expect(failureBudget({ percent: 50 }, 5)).toBe(2);
    expect(failureBudget(undefined, 5)).toBe(0);
  });
});

describe('a rolling apply', () => {
  it('runs the batches in inventory order, each only after the one before has ended', async () => {
    const { summary, events } = await rolling(fleet(5), { serial: { count: 2 } });
    expect(startedByBatch(events)).toEqual([['h1', 'h2'], ['h3', 'h4'], ['h5']]);
    const order = events.filter((e) => e.type === 'batch-start' || e.type === 'batch-end' || e.type === 'host-end');
    expect(order.map((e) => (e.type === 'host-end' ? e.summary.host : `${e.type} ${e.batch}/${e.of}`))).toEqual([
      'batch-start 1/3',
      'h1',
      'h2',
      'batch-end 1/3',
      'batch-start 2/3',
      'h3',
      'h4',
      'batch-end 2/3',
      'batch-start 3/3',
      'h5',
      'batch-end 3/3',
    ]);
    expect(summary.exitCode).toBe(0);
    expect(summary.rollout).toEqual({
      serial: 2,
      maxFail: 0,
      batches: [['h1', 'h2'], ['h3', 'h4'], ['h5']],
      failed: [],
      notAttempted: [],
    });
    for (const host of ['h1', 'h2', 'h3', 'h4', 'h5']) expect(existsSync(marker(host))).toBe(true);
  });

  it('stops once the failed hosts of the whole run go past --max-fail, naming every host not attempted; exit 4', async () => {
    // One failure in batch 1 is within the budget of 1; a second in batch 2 goes past it, so batch 3 never starts.
    const { summary, events } = await rolling(fleet(6, ['h1', 'h4']), { serial: { count: 2 }, maxFail: { count: 1 } });
    expect(startedByBatch(events)).toEqual([
      ['h1', 'h2'],
      ['h3', 'h4'],
    ]);
    expect(summary.rollout).toMatchObject({ failed: ['h1', 'h4'], notAttempted: ['h5', 'h6'] });
    expect(summary.rollout!.stopped).toBe('2 failed hosts (h1, h4) went past --max-fail 1 after batch 2 of 3');
    expect(summary.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ['h1', 'failed'],
      ['h2', 'ok'],
      ['h3', 'ok'],
      ['h4', 'failed'],
      ['h5', 'failed'],
      ['h6', 'failed'],
    ]);
    expect(summary.hosts[4]!.error).toBe(`not attempted: ${summary.rollout!.stopped}`);
    expect(existsSync(marker('h5'))).toBe(false);
    expect(existsSync(marker('h6'))).toBe(false);
    expect(summary.exitCode).toBe(4);
    expect(fleetLine(summary)).toMatch(/^apply: 6 hosts \(2 ok, 2 failed, 2 not attempted\); /);
  });

  it('counts failures across batches, not per batch: one failure in each of three batches of one with --max-fail 2 goes on', async () => {
    const { summary } = await rolling(fleet(4, ['h1', 'h2', 'h3']), { serial: { count: 1 }, maxFail: { count: 2 } });
    expect(summary.rollout).toMatchObject({ failed: ['h1', 'h2', 'h3'], notAttempted: ['h4'] });
    expect(summary.exitCode).toBe(4);
  });

  it('stops at the first failed host by default, and takes shares of the selected hosts', async () => {
    const { summary } = await rolling(fleet(4, ['h2']), { serial: { percent: 25 } });
    expect(summary.rollout).toMatchObject({ serial: 1, maxFail: 0, failed: ['h2'], notAttempted: ['h3', 'h4'] });
    const tolerant = await rolling(fleet(4, ['h2']), { serial: { percent: 50 }, maxFail: { percent: 25 } });
    expect(tolerant.summary.rollout).toMatchObject({ serial: 2, maxFail: 1, failed: ['h2'], notAttempted: [] });
    expect(tolerant.summary.exitCode).toBe(4);
  });

  it('counts an unreachable host against the budget', async () => {
    const hosts = fleet(3);
    hosts[0]!.connect = async () => {
      throw new Error('h1 (10.0.0.9:22): connect timed out after 10 s');
    };
    const { summary } = await rolling(hosts, { serial: { count: 1 } });
    expect(summary.rollout).toMatchObject({ failed: ['h1'], notAttempted: ['h2', 'h3'] });
    expect(summary.exitCode).toBe(4 | 8);
  });

  it('after Ctrl-C lets the batch in flight end and starts no more; exit 130', async () => {
    const controller = new AbortController();
    const { summary, events } = await rolling(fleet(4), { serial: { count: 2 } }, controller.signal, (event) => {
      if (event.type === 'host-start' && event.host === 'h2') controller.abort();
    });
    expect(startedByBatch(events)).toEqual([['h1', 'h2']]);
    expect(summary.rollout).toMatchObject({ notAttempted: ['h3', 'h4'], stopped: 'interrupted before batch 2 of 2' });
    expect(summary.exitCode).toBe(130);
    expect(existsSync(marker('h3'))).toBe(false);
  });

  it('is only for apply: a check with --serial reads every host at once', async () => {
    const events: EngineEvent[] = [];
    const summary = await run({
      mode: 'check',
      recipes: ['t'],
      hosts: fleet(3),
      forks: 10,
      timeouts: DEFAULT_TIMEOUTS,
      rolling: { serial: { count: 1 } },
      emit: (event) => events.push(event),
    });
    expect(events.some((e) => e.type === 'batch-start')).toBe(false);
    expect(summary.rollout).toBeUndefined();
    expect(summary.exitCode).toBe(2);
  });
});
