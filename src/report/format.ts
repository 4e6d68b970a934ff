/** Wording shared by every human-facing view (plain text and the terminal UI). */
import type { FieldChange } from '../engine/events.js';
import {
  emptyCounts,
  type HandlerResult,
  type HostCounts,
  type HostSummary,
  type Mode,
  type ResourceError,
  type ResourceResult,
  type RunSummary,
} from '../engine/events.js';

/** What Ctrl-C does, said by every view. */
export const INTERRUPT_NOTICE = 'finishing changes in flight, starting no new ones (Ctrl-C again to quit now)';

/**
 * Text that came from a host (file content, stderr) made safe for a terminal: control characters, which could move
 * the cursor, recolour or retitle it, are shown as `\xNN`; newlines and tabs stay.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Text as lines, without the empty one after a final newline. */
export function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

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

/** What happened to one resource, without the host: `file[/etc/motd] changed: content: (content differs)`. */
export function resultLine(mode: string, result: ResourceResult): string {
  const head = `${result.id} ${outcomeWord(mode, result)}`;
  if (result.outcome === 'failed' && result.error) return `${head}: ${formatError(result.error)}`;
  if (result.outcome === 'pending') return `${head} on ${result.pendingOn?.join(', ')}`;
  if (result.outcome === 'skipped') return `${head}${result.error ? ` (${result.error.message})` : ''}`;
  const changes = result.changes.map(formatChange).join(', ');
  const notes = result.notified?.length ? ` (notifies ${result.notified.join(', ')})` : '';
  return changes ? `${head}: ${changes}${notes}` : head;
}

export function describeResult(mode: string, result: ResourceResult): string {
  return `${result.host}: ${resultLine(mode, result)}`;
}

const HANDLER_VERBS: Record<HandlerResult['outcome'], string> = {
  ran: 'ran',
  'would-run': 'would run',
  failed: 'failed',
  'left-out': 'not run: its resource is left out of this run, so the notification stays owed on the host',
};

export function handlerLine(result: HandlerResult): string {
  const verb = HANDLER_VERBS[result.outcome];
  return `handler ${result.id} ${result.action} ${verb}${result.error ? `: ${formatError(result.error)}` : ''}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

export function addCounts(into: HostCounts, counts: HostCounts): HostCounts {
  for (const [key, value] of Object.entries(counts)) into[key as keyof HostCounts] += value;
  return into;
}

/** The mode's word for resources that differ: changed by apply, to change by plan, drifted for check. */
export function differsWord(mode: Mode): string {
  return mode === 'apply' ? 'changed' : mode === 'plan' ? 'to change' : 'drifted';
}

/**
 * Resource totals in the mode's words: `3 unchanged, 1 changed, 0 failed`; pending and skipped only when present.
 * In an interrupted run, skipped resources are the ones the interrupt left: `12 not attempted`.
 */
export function countsLine(mode: Mode, total: HostCounts, interrupted = false): string {
  const parts = [`${total.unchanged} unchanged`];
  parts.push(`${mode === 'apply' ? total.changed : total.drifted} ${differsWord(mode)}`);
  if (total.pending) parts.push(`${total.pending} pending`);
  parts.push(`${total.failed} failed`);
  if (total.skipped) parts.push(`${total.skipped} ${interrupted ? 'not attempted' : 'skipped'}`);
  return parts.join(', ');
}

/** The one line for the whole fleet. */
export function fleetLine(summary: RunSummary): string {
  const total = emptyCounts();
  const hostOutcomes = { ok: 0, failed: 0, unreachable: 0, interrupted: 0 };
  let leftOut: number | undefined;
  for (const host of summary.hosts) {
    hostOutcomes[host.outcome] += 1;
    addCounts(total, host.counts);
    if (host.leftOut) leftOut = (leftOut ?? 0) + host.leftOut.length;
  }
  const notAttempted = summary.rollout?.notAttempted.length ?? 0;
  const hostParts = [`${hostOutcomes.ok} ok`];
  if (hostOutcomes.failed > notAttempted) hostParts.push(`${hostOutcomes.failed - notAttempted} failed`);
  if (hostOutcomes.unreachable) hostParts.push(`${hostOutcomes.unreachable} unreachable`);
  if (hostOutcomes.interrupted) hostParts.push(`${hostOutcomes.interrupted} interrupted`);
  if (notAttempted) hostParts.push(`${notAttempted} not attempted`);
  const seconds = (summary.durationMs / 1000).toFixed(1);
  const hosts = `${plural(summary.hosts.length, 'host')} (${hostParts.join(', ')})`;
  const interrupted = summary.interrupted ? '; interrupted' : '';
  const tagged = leftOut === undefined ? '' : `, ${leftOut} left out`;
  return `${summary.mode}: ${hosts}; resources: ${countsLine(summary.mode, total, summary.interrupted)}${tagged}${interrupted} in ${seconds} s; exit ${summary.exitCode}`;
}

export function hostProblem(host: HostSummary): string | undefined {
  if (host.outcome === 'unreachable') return `${host.host}: unreachable: ${host.error ?? 'unknown error'}`;
  if (host.error) return `${host.host}: ${host.error}`;
  return undefined;
}
