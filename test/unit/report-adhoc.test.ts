/** What `keel run` prints and reports, from its events; the runs themselves are in test/integration/adhoc.test.ts. */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type AdhocHostResult, type AdhocSummary, adhocExitCode } from '../../src/engine/adhoc.js';
import { type AdhocReport, AdhocReportSchema, adhocReporter, toAdhocReport } from '../../src/report/adhoc.js';

const published = JSON.parse(readFileSync(new URL('../../schema/adhoc.v1.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv({ strict: true, allErrors: true });
addFormats.default(ajv);
const validate = ajv.compile(published);

const hosts: AdhocHostResult[] = [
  { host: 'rs1', outcome: 'ok', exitCode: 0, stdout: 'rs1\n', stderr: '', durationMs: 120 },
  {
    host: 'rs2',
    outcome: 'failed',
    exitCode: 2,
    stdout: 'partial\nno newline',
    stderr: 'ls: /nope: \x1b[31mNo such file\r\n',
    durationMs: 95,
  },
  {
    host: 'gone',
    outcome: 'unreachable',
    stdout: '',
    stderr: '',
    error: 'gone (10.0.0.9:22): connect timed out after 10 s',
    durationMs: 10_000,
  },
];
const summary: AdhocSummary = {
  command: 'ls /nope',
  startedAt: '2026-12-02T10:00:00.000Z',
  durationMs: 10_020,
  hosts,
  interrupted: false,
  exitCode: adhocExitCode(hosts, false),
};

describe('keel run output', () => {
  it('prints each host whole: exit code, stdout, stderr, control characters escaped; then the fleet', () => {
    const lines: string[] = [];
    const sink = adhocReporter({ write: (line) => lines.push(line) });
    for (const result of hosts) sink({ type: 'adhoc-host-end', result });
    sink({ type: 'adhoc-end', summary });
    expect(lines).toEqual([
      'rs1: exit 0 (0.12 s)',
      '  stdout| rs1',
      'rs2: exit 2 (0.10 s)',
      '  stdout| partial',
      '  stdout| no newline',
      '  stderr| ls: /nope: \\x1b[31mNo such file\\x0d',
      'gone: unreachable: gone (10.0.0.9:22): connect timed out after 10 s',
      'run: 3 hosts (1 ok, 1 failed, 1 unreachable) in 10.0 s; exit 12',
    ]);
  });

  it('ORs the exit code: 4 a command failed, 8 a host unreachable; 130 interrupted', () => {
    expect(adhocExitCode(hosts.slice(0, 1), false)).toBe(0);
    expect(adhocExitCode(hosts.slice(0, 2), false)).toBe(4);
    expect(adhocExitCode(hosts, false)).toBe(12);
    expect(adhocExitCode(hosts, true)).toBe(130);
  });
});

describe('schema/adhoc.v1.json', () => {
  it('is the schema the report type is derived from, and accepts a report', () => {
    expect(published).toEqual(JSON.parse(JSON.stringify(AdhocReportSchema)));
    expectTypeOf<Omit<AdhocReport, 'version'>>().toEqualTypeOf<AdhocSummary>();
    expect(validate(toAdhocReport(summary)), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate({ ...toAdhocReport(summary), extra: 1 })).toBe(false);
  });
});
