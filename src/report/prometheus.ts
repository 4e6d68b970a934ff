/** node_exporter textfile-collector output for drift checks, written atomically (temp file + rename). */
import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RunSummary } from '../engine/events.js';

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

const METRICS = [
  ['keel_drifted_resources', 'Resources that differ from the recipes (drifted or pending).'],
  ['keel_failed_resources', 'Resources that could not be read, changed or verified.'],
  ['keel_host_reachable', '1 if keel reached the host over its connection, else 0.'],
  ['keel_last_check_timestamp_seconds', 'When the host was last checked, in Unix seconds.'],
  ['keel_check_duration_seconds', 'How long checking the host took.'],
] as const;

export function prometheusText(summary: RunSummary, now: number = Date.now()): string {
  const lines: string[] = [];
  for (const [name, help] of METRICS) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const host of summary.hosts) {
      const labels = `{host="${label(host.host)}",mode="${summary.mode}"}`;
      const value = {
        keel_drifted_resources: host.counts.drifted + host.counts.pending,
        keel_failed_resources: host.counts.failed,
        keel_host_reachable: host.outcome === 'unreachable' ? 0 : 1,
        keel_last_check_timestamp_seconds: Math.floor(now / 1000),
        keel_check_duration_seconds: host.durationMs / 1000,
      }[name];
      lines.push(`${name}${labels} ${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The collector reads the file at any moment, so it must never see a half-written one. */
export function writePrometheusFile(file: string, summary: RunSummary): void {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, prometheusText(summary));
  renameSync(temporary, file);
}
