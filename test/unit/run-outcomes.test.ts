/** What a run's summary, fleet line, JSON report and exit code say when Ctrl-C left work undone. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/engine/events.js';
import { DEFAULT_TIMEOUTS, run } from '../../src/engine/run.js';
import { fleetLine } from '../../src/report/format.js';
import { toReport } from '../../src/report/json.js';
import { LocalTransport } from '../../src/transport/local.js';
import { valueFile } from '../support/valueFile.js';

const validate = (() => {
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(new URL('../../schema/report.v1.json', import.meta.url), 'utf8')) as object);
})();

let directory: string;
const path = (name: string): string => join(directory, name);

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'keel-outcomes-'));
});

/** Applies `count` files to each host, one host at a time, Ctrl-C coming at the first event `interruptAt` picks. */
function applyInterrupted(hosts: string[], count: number, interruptAt: (event: EngineEvent) => boolean) {
  const controller = new AbortController();
  return run({
    mode: 'apply',
    recipes: ['t'],
    forks: 1,
    timeouts: DEFAULT_TIMEOUTS,
    signal: controller.signal,
    emit: (event) => {
      if (interruptAt(event)) controller.abort();
    },
    hosts: hosts.map((name) => ({
      name,
      resources: Array.from({ length: count }, (_, n) => valueFile({ path: path(`${name}-${n}`), value: String(n) })),
      connect: async () => new LocalTransport(name),
    })),
  });
}

describe('an interrupted apply', () => {
  it('says "interrupted" per host and for the fleet, and counts the resources never attempted', async () => {
    const events: EngineEvent[] = [];
    // Ctrl-C while the first change is in flight: it finishes, nothing new starts.
    const summary = await applyInterrupted(['web1', 'web2', 'web3'], 4, (event) => {
      events.push(event);
      return event.type === 'resource-start';
    });
    expect(summary.exitCode).toBe(130);
    expect(summary.hosts.map((h) => [h.host, h.outcome, h.notAttempted, h.counts.changed])).toEqual([
      ['web1', 'interrupted', 3, 1],
      ['web2', 'interrupted', 4, 0],
      ['web3', 'interrupted', 4, 0],
    ]);
    expect(summary.hosts[2]!.resources.map((r) => r.outcome)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    expect(fleetLine(summary)).toMatch(
      /^apply: 3 hosts \(0 ok, 3 interrupted\); resources: 0 unchanged, 1 changed, 0 failed, 11 not attempted; interrupted in \d+\.\d s; exit 130$/,
    );
    const report = toReport(summary);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.hosts.map((h) => h.outcome)).toEqual(['interrupted', 'interrupted', 'interrupted']);
    expect(events.filter((e) => e.type === 'host-end')).toHaveLength(3);
  });

  it('leaves a host that finished before the interrupt ok', async () => {
    const summary = await applyInterrupted(['a', 'b'], 1, (event) => event.type === 'host-end');
    expect(summary.hosts.map((h) => [h.outcome, h.notAttempted])).toEqual([
      ['ok', undefined],
      ['interrupted', 1],
    ]);
    expect(fleetLine(summary)).toContain('2 hosts (1 ok, 1 interrupted); resources: 0 unchanged, 1 changed, 0 failed, 1 not attempted;');
  });
});
