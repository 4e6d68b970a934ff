/**
 * What `keel doctor` prints: findings grouped by host, the host with the worst finding first, each with its evidence,
 * why it matters and the fix; then hosts that could not be read, checks skipped, and one summary line.
 * `schema/doctor.v1.json` is DoctorReportSchema.
 */
import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from '../schema/index.js';
import { FINDING_IDS, type Finding, type Severity } from './findings.js';
import type { DoctorSummary } from './run.js';

export const DOCTOR_REPORT_VERSION = 'keel.doctor/v1';

const Milliseconds = Type.Number({ minimum: 0, title: 'milliseconds' });

export const DoctorReportSchema = Type.Object(
  {
    version: Type.Literal(DOCTOR_REPORT_VERSION),
    startedAt: Type.String({ format: 'date-time' }),
    durationMs: Milliseconds,
    directors: Type.Array(Type.String(), { title: 'hosts whose IPVS table has virtual services' }),
    realServers: Type.Array(Type.String(), { title: "inventory hosts that are real servers of a director's table" }),
    hosts: Type.Array(
      Type.Object(
        {
          host: Type.String(),
          address: Type.String(),
          outcome: StringEnum(['ok', 'failed', 'unreachable']),
          error: Type.Optional(Type.String()),
          durationMs: Milliseconds,
        },
        { additionalProperties: false },
      ),
      { title: 'in inventory order' },
    ),
    findings: Type.Array(
      Type.Object(
        {
          id: StringEnum([...FINDING_IDS]),
          severity: StringEnum(['error', 'warning', 'info']),
          host: Type.String({ title: 'the host the finding is about (for a real server the inventory lacks: its director)' }),
          evidence: Type.Array(Type.String(), { title: 'what was seen, quoted' }),
          why: Type.String({ title: 'why it matters, in one sentence' }),
          fix: Type.String({ title: 'the fix, naming the keel resource' }),
        },
        { additionalProperties: false },
      ),
      { title: 'worst first' },
    ),
    skipped: Type.Array(
      Type.Object(
        { host: Type.String({ title: 'the address' }), reason: Type.String(), checks: Type.Array(StringEnum([...FINDING_IDS])) },
        { additionalProperties: false },
      ),
    ),
    exitCode: Type.Integer({ minimum: 0, title: '0 nothing wrong; OR of 2 a finding above info, 4 a host not read, 8 unreachable' }),
  },
  { additionalProperties: false, title: 'keel doctor report, version 1' },
);

export type DoctorReport = Static<typeof DoctorReportSchema>;

export function toDoctorReport(summary: DoctorSummary): DoctorReport {
  return {
    version: DOCTOR_REPORT_VERSION,
    startedAt: summary.startedAt,
    durationMs: summary.durationMs,
    directors: summary.directors,
    realServers: summary.realServers,
    hosts: summary.hosts.map(({ state: _state, ...host }) => host),
    findings: summary.findings,
    skipped: summary.skipped,
    exitCode: summary.exitCode,
  };
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Findings by host, the host whose worst finding is worst first; within a host, worst first. */
export function groupByHost(findings: readonly Finding[]): [string, Finding[]][] {
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) groups.set(finding.host, [...(groups.get(finding.host) ?? []), finding]);
  const worst = (list: Finding[]): number => Math.min(...list.map((finding) => RANK[finding.severity]));
  return [...groups.entries()]
    .map(([host, list]): [string, Finding[]] => [host, [...list].sort((a, b) => RANK[a.severity] - RANK[b.severity])])
    .sort((a, b) => worst(a[1]) - worst(b[1]) || b[1].length - a[1].length || a[0].localeCompare(b[0]));
}

export function doctorLines(summary: DoctorSummary): string[] {
  const lines: string[] = [];
  for (const [host, findings] of groupByHost(summary.findings)) {
    lines.push(`${host}:`);
    for (const finding of findings) {
      lines.push(`  ${finding.severity} ${finding.id}: ${finding.why}`);
      for (const seen of finding.evidence) lines.push(`    seen: ${seen}`);
      lines.push(`    fix:  ${finding.fix}`);
    }
  }
  for (const host of summary.hosts.filter((h) => h.outcome !== 'ok')) lines.push(`${host.host}: ${host.outcome}: ${host.error ?? ''}`);
  for (const skip of summary.skipped) lines.push(`${skip.host}: skipped ${skip.checks.join(', ')} (${skip.reason})`);
  const counts = (['error', 'warning', 'info'] as const).map(
    (severity) => `${summary.findings.filter((f) => f.severity === severity).length} ${severity === 'info' ? 'notes' : `${severity}s`}`,
  );
  lines.push(
    `doctor: ${summary.directors.length} director(s) (${summary.directors.join(', ') || 'none'}), ${summary.realServers.length} real server(s) (${summary.realServers.join(', ') || 'none'}); ${counts.join(', ')}; ${(summary.durationMs / 1000).toFixed(1)} s`,
  );
  return lines;
}
