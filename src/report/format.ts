/** Wording shared by every human-facing view (plain text and the terminal UI). */
import type { FieldChange } from '../engine/resource.js';
import type { HostSummary, ResourceError, ResourceResult, RunSummary } from '../engine/events.js';

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'absent';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return JSON.stringify(value);
}

export function formatChange(change: FieldChange): string {
  if (change.patch) return `${change.field}: (content differs)`;
  return `${change.field}: ${formatValue(change.from)} → ${formatValue(change.to)}`;
}

export function formatError(error: ResourceError): string {
  const parts = [error.message];
  if (error.command !== undefined) parts.push(`command: ${error.command.split('\n')[0]}${error.command.includes('\n') ? ' …' : ''}`);
  if (error.exitCode !== undefined && !error.message.includes(`exited ${error.exitCode}`)) parts.push(`exit ${error.exitCode}`);
  if (error.stderr) parts.push(`stderr: ${error.stderr.replace(/\s*\n\s*/g, ' | ')}`);
  return parts.join('; ');
}

const VERBS: Record<string, Record<string, string>> = {
  plan: { drifted: 'will change', pending: 'pending' },
  check: { drifted: 'drifted', pending: 'pending' },
  apply: { changed: 'changed' },
};

export function outcomeWord(mode: string, result: ResourceResult): string {
  return VERBS[mode]?.[result.outcome] ?? result.outcome;
}

export function describeResult(mode: string, result: ResourceResult): string {
  const head = `${result.host}: ${result.id} ${outcomeWord(mode, result)}`;
  if (result.outcome === 'failed' && result.error) return `${head}: ${formatError(result.error)}`;
  if (result.outcome === 'pending') return `${head} on ${result.pendingOn?.join(', ')}`;
  if (result.outcome === 'skipped') return `${head}${result.error ? ` (${result.error.message})` : ''}`;
  const changes = result.changes.map(formatChange).join(', ');
  const notes = result.notified?.length ? ` (notifies ${result.notified.join(', ')})` : '';
  return changes ? `${head}: ${changes}${notes}` : head;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The one line for the whole fleet. */
export function fleetLine(summary: RunSummary): string {
  const total = { unchanged: 0, drifted: 0, changed: 0, pending: 0, failed: 0, skipped: 0 };
  const hostOutcomes = { ok: 0, failed: 0, unreachable: 0 };
  for (const host of summary.hosts) {
    hostOutcomes[host.outcome] += 1;
    for (const [key, value] of Object.entries(host.counts)) total[key as keyof typeof total] += value;
  }
  const resourceParts = [`${total.unchanged} unchanged`];
  if (summary.mode === 'apply') resourceParts.push(`${total.changed} changed`);
  else resourceParts.push(`${total.drifted} ${summary.mode === 'plan' ? 'to change' : 'drifted'}`);
  if (total.pending) resourceParts.push(`${total.pending} pending`);
  resourceParts.push(`${total.failed} failed`);
  if (total.skipped) resourceParts.push(`${total.skipped} skipped`);
  const hostParts = [`${hostOutcomes.ok} ok`];
  if (hostOutcomes.failed) hostParts.push(`${hostOutcomes.failed} failed`);
  if (hostOutcomes.unreachable) hostParts.push(`${hostOutcomes.unreachable} unreachable`);
  const seconds = (summary.durationMs / 1000).toFixed(1);
  return `${summary.mode}: ${plural(summary.hosts.length, 'host')} (${hostParts.join(', ')}); resources: ${resourceParts.join(', ')}${summary.interrupted ? '; interrupted' : ''} in ${seconds} s; exit ${summary.exitCode}`;
}

export function hostProblem(host: HostSummary): string | undefined {
  if (host.outcome === 'unreachable') return `${host.host}: unreachable: ${host.error ?? 'unknown error'}`;
  if (host.error) return `${host.host}: ${host.error}`;
  return undefined;
}
