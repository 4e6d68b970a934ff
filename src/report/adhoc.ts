/**
 * What `keel run` prints: for each host as it finishes, its exit code, then its stdout and its stderr, each whole
 * (never interleaved with another host's); then one line for the fleet. `schema/adhoc.v1.json` is AdhocReportSchema.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { AdhocEvent, AdhocHostResult, AdhocSummary } from '../engine/adhoc.js';
import { StringEnum } from '../schema/index.js';
import { painter } from './color.js';
import { linesOf, printable } from './format.js';

export const ADHOC_REPORT_VERSION = 'keel.adhoc/v1';

const Milliseconds = Type.Number({ minimum: 0, title: 'milliseconds' });

export const AdhocReportSchema = Type.Object(
  {
    version: Type.Literal(ADHOC_REPORT_VERSION),
    command: Type.String({ title: 'the shell command, as sent' }),
    startedAt: Type.String({ format: 'date-time' }),
    durationMs: Milliseconds,
    hosts: Type.Array(
      Type.Object(
        {
          host: Type.String(),
          outcome: StringEnum(['ok', 'failed', 'unreachable']),
          exitCode: Type.Optional(Type.Integer({ title: "the command's exit code; absent when it did not run to its end" })),
          stdout: Type.String(),
          stderr: Type.String(),
          error: Type.Optional(Type.String({ title: 'why the host has no exit code: unreachable, connection lost, interrupted' })),
          durationMs: Milliseconds,
        },
        { additionalProperties: false },
      ),
      { title: 'in inventory order' },
    ),
    interrupted: Type.Boolean(),
    exitCode: Type.Integer({ minimum: 0, title: '0 ok everywhere; OR of 4 failed on a host, 8 unreachable; 130 interrupted' }),
  },
  { additionalProperties: false, title: 'keel run (ad-hoc command) report, version 1' },
);

export type AdhocReport = Static<typeof AdhocReportSchema>;

export function toAdhocReport(summary: AdhocSummary): AdhocReport {
  return { version: ADHOC_REPORT_VERSION, ...summary };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A host's block: `rs1: exit 0 (0.12 s)`, then `  stdout| …` and `  stderr| …` lines. */
export function hostBlock(result: AdhocHostResult): string[] {
  const head =
    result.exitCode === undefined
      ? `${result.host}: ${result.outcome}: ${result.error ?? 'no exit code'}`
      : `${result.host}: exit ${result.exitCode} (${seconds(result.durationMs)})`;
  return [head, ...linesOf(result.stdout).map((line) => `  stdout| ${line}`), ...linesOf(result.stderr).map((line) => `  stderr| ${line}`)];
}

export function adhocFleetLine(summary: AdhocSummary): string {
  const counts = { ok: 0, failed: 0, unreachable: 0 };
  for (const host of summary.hosts) counts[host.outcome] += 1;
  const parts = [`${counts.ok} ok`];
  if (counts.failed) parts.push(`${counts.failed} failed`);
  if (counts.unreachable) parts.push(`${counts.unreachable} unreachable`);
  const hosts = `${summary.hosts.length} host${summary.hosts.length === 1 ? '' : 's'}`;
  const interrupted = summary.interrupted ? '; interrupted' : '';
  return `run: ${hosts} (${parts.join(', ')})${interrupted} in ${(summary.durationMs / 1000).toFixed(1)} s; exit ${summary.exitCode}`;
}

export interface AdhocReporterOptions {
  write(line: string): void;
  color?: boolean;
}

/** Plain lines; host output is made printable (control characters escaped), since it comes from the hosts. */
export function adhocReporter(options: AdhocReporterOptions): (event: AdhocEvent) => void {
  const paint = painter(options.color ?? false);
  return (event) => {
    if (event.type === 'adhoc-host-end') {
      const [head, ...rest] = hostBlock(event.result);
      options.write(paint(event.result.outcome === 'ok' ? 'bold' : 'red', printable(head!)));
      for (const line of rest) options.write(printable(line));
    } else if (event.type === 'adhoc-end') {
      options.write(paint('bold', adhocFleetLine(event.summary)));
    }
  };
}
