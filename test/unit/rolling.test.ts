/**
 * Rolling runs in the engine (`--serial`, `--max-fail`): batch order, one failure budget for the whole run, the
 * hosts not attempted named, Ctrl-C between batches. Each host is this machine with a file of its own; they share
 * this machine's apply lease, so hosts run one at a time here (test/integration/rolling.test.ts runs batches in
 * parallel on hosts of their own).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EngineEvent, RunSummary } from '../../src/engine/events.js';
import { batchSize, failureBudget, parseHostShare, type RollingOptions, RolloutRefused } from '../../src/engine/rollout.js';
import { DEFAULT_TIMEOUTS, run } from '../../src/engine/run.js';
import type { HostRollout, HostTarget } from '../../src/engine/target.js';
import { fleetLine } from '../../src/report/format.js';
import { LocalTransport } from '../../src/transport/local.js';
import { until } from '../support/events.js';
import { valueFile } from '../support/valueFile.js';
import { draw } from '../ui/support.js';

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

/** A rollout that only records what it is asked to do; hosts in `unhealthy` fail their check, those in `out` start out. */
function recordingRollout(
  hosts: HostTarget[],
  options: { unhealthy?: string[]; out?: string[] } = {},
): { log: string[]; hosts: HostTarget[] } {
  const log: string[] = [];
  const members = hosts.map((host) => host.name);
  for (const host of hosts) {
    const rollout: HostRollout = {
      pool: { name: 'web', members },
      async leave(progress) {
        log.push(`leave ${host.name}`);
        progress('draining', 'ActiveConn 2');
        progress('draining', 'ActiveConn 0');
      },
      isOut: async () => options.out?.includes(host.name) ?? false,
      async rejoin(transport, progress) {
        log.push(`rejoin ${host.name} over ${transport.host}`);
        progress('checking');
        if (options.unhealthy?.includes(host.name)) throw new Error(`${host.name}: GET http://vip/ answered 404, not 200`);
      },
    };
    host.rollout = rollout;
  }
  return { log, hosts };
}

const phasesOf = (summary: RunSummary, host: string): string[] =>
  (summary.hosts.find((h) => h.host === host)?.rollout ?? []).map((step) => step.phase);

describe('a rolling apply whose hosts declare a rollout', () => {
  it('takes a host with changes out of service and back in around them, and leaves one with nothing to change alone', async () => {
    writeFileSync(marker('h2'), 'done');
    const { log, hosts } = recordingRollout(fleet(2));
    const { summary, events } = await rolling(hosts, { serial: { count: 1 } });
    expect(summary.exitCode).toBe(0);
    expect(log).toEqual(['leave h1', 'rejoin h1 over h1']);
    expect(phasesOf(summary, 'h1')).toEqual(['draining', 'changing', 'checking', 'restored']);
    expect(summary.hosts[0]!.rollout![0]).toMatchObject({ phase: 'draining', detail: 'ActiveConn 2', at: expect.any(String) });
    expect(phasesOf(summary, 'h2')).toEqual([]);
    // The view hears of every update; the report keeps each phase once.
    const draining = events.flatMap((e) => (e.type === 'rollout-phase' && e.phase === 'draining' ? [e.detail] : []));
    expect(draining).toEqual(['ActiveConn 2', 'ActiveConn 0']);
    const h1 = events.flatMap((e) =>
      e.type === 'rollout-phase' || e.type === 'resource-start' ? [e.type === 'resource-start' ? 'resource' : e.phase] : [],
    );
    expect(h1).toEqual(['draining', 'draining', 'changing', 'resource', 'checking', 'checking', 'restored']);
  });

  it('leaves a host whose health check fails out of service, fails it with the check’s output, and spends the budget', async () => {
    const { log, hosts } = recordingRollout(fleet(3), { unhealthy: ['h1'] });
    const { summary } = await rolling(hosts, { serial: { count: 1 } });
    expect(summary.exitCode).toBe(4);
    expect(summary.hosts[0]).toMatchObject({
      outcome: 'failed',
      error: 'fails its health check, so it stays out of service: h1: GET http://vip/ answered 404, not 200',
    });
    expect(phasesOf(summary, 'h1')).toEqual(['draining', 'changing', 'checking', 'left out']);
    expect(summary.rollout).toMatchObject({ failed: ['h1'], notAttempted: ['h2', 'h3'] });
    expect(log).toEqual(['leave h1', 'rejoin h1 over h1']);
  });

  it('leaves a host whose change failed out of service, without a check', async () => {
    const { log, hosts } = recordingRollout(fleet(2, ['h1']));
    const { summary } = await rolling(hosts, { serial: { count: 1 } });
    expect(log).toEqual(['leave h1']);
    expect(phasesOf(summary, 'h1')).toEqual(['draining', 'changing', 'left out']);
    expect(summary.rollout!.notAttempted).toEqual(['h2']);
  });

  it('fails a host it cannot take out of service, changing nothing on it', async () => {
    const { hosts } = recordingRollout(fleet(2));
    hosts[0]!.rollout!.leave = async () => {
      throw new Error('director: ipvsadm exited 2');
    };
    const { summary } = await rolling(hosts, { serial: { count: 1 } });
    expect(summary.hosts[0]!.resources[0]).toMatchObject({
      outcome: 'failed',
      error: { message: 'not changed: director: ipvsadm exited 2' },
    });
    expect(existsSync(marker('h1'))).toBe(false);
    expect(summary.rollout!.notAttempted).toEqual(['h2']);
  });

  it('takes a host an earlier run left out of service first, and checks it even with nothing to change', async () => {
    writeFileSync(marker('h3'), 'done');
    const { log, hosts } = recordingRollout(fleet(3), { out: ['h3'] });
    const { summary } = await rolling(hosts, { serial: { count: 1 } });
    expect(summary.rollout!.batches).toEqual([['h3'], ['h1'], ['h2']]);
    expect(log).toEqual(['rejoin h3 over h3', 'leave h1', 'rejoin h1 over h1', 'leave h2', 'rejoin h2 over h2']);
    expect(summary.hosts[0]!.rollout![0]).toMatchObject({ phase: 'draining', detail: 'left out of service by an earlier run' });
    expect(phasesOf(summary, 'h3')).toEqual(['draining', 'checking', 'restored']);
  });

  it('refuses to start a batch that would take every host of a pool out of service, before contacting any', async () => {
    const { log, hosts } = recordingRollout(fleet(3));
    await expect(rolling(hosts, { serial: { count: 3 } })).rejects.toThrow(
      new RolloutRefused(
        'batch 1 (h1, h2, h3) would take every host of web (h1, h2, h3) out of service at once; use a smaller --serial, at most 2',
      ),
    );
    const alone = recordingRollout(fleet(1));
    await expect(rolling(alone.hosts, { serial: { count: 1 } })).rejects.toThrow(
      'h1 is the only host of web: taking it out of service stops the service, so it takes no rolling change',
    );
    expect(log).toEqual([]);
    expect(existsSync(marker('h1'))).toBe(false);
  });
});

describe('the live view of a rolling apply', () => {
  it('shows batch k of n, a draining host with its active connections, and where each host ended', async () => {
    const { hosts } = recordingRollout(fleet(3), { unhealthy: ['h2'] });
    const { events } = await rolling(hosts, { serial: { count: 1 }, maxFail: { count: 1 } });
    const rowOf = (frame: string, host: string): string => frame.split('\n').find((line) => line.slice(2).startsWith(`${host} `)) ?? '';

    const draining = draw(until(events, (e) => e.type === 'rollout-phase' && e.host === 'h2' && e.detail === 'ActiveConn 2'));
    expect(draining.split('\n')[1]).toMatch(/^batch 2 of 3 · 1\/3 hosts done · /);
    expect(rowOf(draining, 'h2')).toMatch(/ draining: ActiveConn 2$/);
    expect(rowOf(draining, 'h1')).toMatch(/ done, restored$/);
    expect(rowOf(draining, 'h3')).toMatch(/ waiting$/);

    const checking = draw(until(events, (e) => e.type === 'rollout-phase' && e.host === 'h2' && e.phase === 'checking'));
    expect(rowOf(checking, 'h2')).toMatch(/ checking health$/);

    const end = draw(events);
    expect(rowOf(end, 'h2')).toMatch(/^✗ h2 .* failed, left out of service$/);
    expect(rowOf(end, 'h3')).toMatch(/^✓ h3 .* done, restored$/);
  });
});
