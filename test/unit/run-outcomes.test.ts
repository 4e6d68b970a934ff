/** What a run's summary, fleet line, JSON report and exit code say when work is left: interrupted, or a handler owed. */
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
import { sh } from '../../src/shell/index.js';
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

describe('an interrupted apply', () => {
  it('says "interrupted" per host and for the fleet, and counts the resources never attempted', async () => {
    const controller = new AbortController();
    const events: EngineEvent[] = [];
    const host = (name: string) => ({
      name,
      resources: [1, 2, 3, 4].map((n) => valueFile({ path: path(`${name}-${n}`), value: String(n) })),
      connect: async () => new LocalTransport(name),
    });
    const summary = await run({
      mode: 'apply',
      recipes: ['t'],
      forks: 1,
      timeouts: DEFAULT_TIMEOUTS,
      signal: controller.signal,
      emit: (event) => {
        events.push(event);
        // Ctrl-C while the first change is in flight: it finishes, nothing new starts.
        if (event.type === 'resource-start') controller.abort();
      },
      hosts: [host('web1'), host('web2'), host('web3')],
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
    const controller = new AbortController();
    const summary = await run({
      mode: 'apply',
      recipes: ['t'],
      forks: 1,
      timeouts: DEFAULT_TIMEOUTS,
      signal: controller.signal,
      emit: (event) => {
        if (event.type === 'host-end') controller.abort();
      },
      hosts: ['a', 'b'].map((name) => ({
        name,
        resources: [valueFile({ path: path(name), value: 'x' })],
        connect: async () => new LocalTransport(name),
      })),
    });
    expect(summary.hosts.map((h) => [h.outcome, h.notAttempted])).toEqual([
      ['ok', undefined],
      ['interrupted', 1],
    ]);
    expect(fleetLine(summary)).toContain('2 hosts (1 ok, 1 interrupted); resources: 0 unchanged, 1 changed, 0 failed, 1 not attempted;');
  });
});

describe('a handler owed from a failed run', () => {
  it('is a pending change: plan and check exit 2 though every resource is in sync', async () => {
    const transport = new LocalTransport('box');
    const flaky = path('flaky');
    const service = valueFile({ path: path('svc'), value: 'on' });
    const restartable = { ...service, definition: { ...service.definition, actions: { restart: () => [sh`test -e ${flaky}`] } } };
    const conf = valueFile({ path: path('conf'), value: 'v2' }, { notify: { resource: restartable, action: 'restart' } });
    const once = (mode: 'plan' | 'check' | 'apply') =>
      run({
        mode,
        recipes: ['t'],
        forks: 1,
        timeouts: DEFAULT_TIMEOUTS,
        emit: () => undefined,
        hosts: [{ name: 'box', resources: [conf, restartable], connect: async () => transport }],
      });
    expect((await once('apply')).exitCode).toBe(4);
    for (const mode of ['plan', 'check'] as const) {
      const summary = await once(mode);
      expect(summary.hosts[0]!.resources.every((r) => r.outcome === 'unchanged')).toBe(true);
      expect(summary.hosts[0]!.handlers).toMatchObject([{ outcome: 'would-run' }]);
      expect(summary.exitCode, mode).toBe(2);
    }
  });
});
