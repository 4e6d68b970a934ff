/** The JSON report: its published schema, and reports of real runs checked against it with ajv. */

import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { RunSummary } from '../../src/engine/events.js';
import type { Facts } from '../../src/facts/model.js';
import { type Report, ReportSchema, toReport } from '../../src/report/json.js';
import { RECORDINGS, recorded, summaryOf } from '../support/events.js';

const published = JSON.parse(readFileSync(new URL('../../schema/report.v1.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv({ strict: true, allErrors: true });
addFormats.default(ajv);
const validate = ajv.compile(published);

describe('schema/report.v1.json', () => {
  it('is the schema the report type is derived from', () => {
    expect(published).toEqual(JSON.parse(JSON.stringify(ReportSchema)));
    type ReportedHost = Omit<RunSummary['hosts'][number], 'gathered'> & { facts?: Facts };
    expectTypeOf<Omit<Report, 'version' | 'plan' | 'hosts'>>().toEqualTypeOf<Omit<RunSummary, 'hosts'>>();
    expectTypeOf<Report['hosts'][number]>().toMatchTypeOf<ReportedHost>();
    expectTypeOf<ReportedHost>().toMatchTypeOf<Report['hosts'][number]>();
  });

  it.each(RECORDINGS)('accepts the report of the recorded %s run', (name) => {
    const report = toReport(summaryOf(recorded(name)));
    expect(validate(report), ajv.errorsText(validate.errors)).toBe(true);
  });

  it('holds per resource the desired and actual state, the differing fields, outcome, error and timing', () => {
    const report = toReport(summaryOf(recorded('failure')));
    const failed = report.hosts.flatMap((host) => host.resources).find((resource) => resource.outcome === 'failed')!;
    expect(failed).toMatchObject({
      host: 'web2',
      id: 'hostFile[/srv/www/index.html]',
      desired: { content: '<h1>keel</h1>\n' },
      changes: [{ field: 'content', from: null, to: '<h1>keel</h1>\n' }],
      error: { phase: 'apply', exitCode: 1 },
    });
    expect(failed.durationMs).toBeGreaterThan(0);
  });

  it('rejects what a reader could not rely on', () => {
    const report = toReport(summaryOf(recorded('changes')));
    expect(validate({ ...report, version: 'keel.report/v2' })).toBe(false);
    expect(validate({ ...report, extra: true })).toBe(false);
    const host = report.hosts[0]!;
    expect(validate({ ...report, hosts: [{ ...host, resources: [{ ...host.resources[0]!, outcome: 'ok' }] }] })).toBe(false);
  });
});
