/**
 * Which host rows the live view shows. Everything drawn live must stay shorter than the terminal: once Ink's
 * output reaches the bottom it can only redraw by clearing the screen, which flickers and wipes the scrollback.
 */
import { type Failure, type HostRow, isActive, isFailing, type LiveModel } from './model.js';

/** Lines of stderr shown under a failure. */
export const STDERR_LINES = 3;

export function stderrTail(stderr: string | undefined): string[] {
  const lines = (stderr ?? '')
    .trimEnd()
    .split('\n')
    .filter((line) => line.trim() !== '');
  return lines.slice(-STDERR_LINES);
}

export function failureHeight(failure: Failure): number {
  return 1 + (failure.error.command ? 1 : 0) + stderrTail(failure.error.stderr).length;
}

function rowHeight(row: HostRow, expanded: boolean): number {
  return 1 + (expanded ? row.failures.reduce((sum, failure) => sum + failureHeight(failure), 0) : 0);
}

export interface TableLayout {
  rows: { row: HostRow; expanded: boolean }[];
  /** Hosts not drawn as rows: finished without trouble, not started, or left out for lack of room. */
  hidden: { ok: number; waiting: number; more: number };
}

const NOTHING_HIDDEN = { ok: 0, waiting: 0, more: 0 };

function fitsWhole(rows: readonly HostRow[], height: number): boolean {
  return rows.reduce((sum, row) => sum + rowHeight(row, true), 0) <= height;
}

function countHidden(rows: readonly HostRow[]): TableLayout['hidden'] {
  return {
    ok: rows.filter((row) => row.activity === 'done' && !isFailing(row)).length,
    waiting: rows.filter((row) => row.activity === 'waiting').length,
    more: 0,
  };
}

/**
 * Every host when they fit in `height` lines. A fleet that does not fit shows its active and failing hosts
 * only (active first, then failing), with failures expanded while there is room, and one line for the rest.
 */
export function layoutTable(model: LiveModel, height: number): TableLayout {
  const all = [...model.rows.values()];
  if (fitsWhole(all, height)) return { rows: all.map((row) => ({ row, expanded: true })), hidden: NOTHING_HIDDEN };
  const hidden = countHidden(all);
  const shown = [...all.filter(isActive), ...all.filter((row) => !isActive(row) && isFailing(row))];
  const room = height - 1;
  if (shown.length > room) {
    const kept = shown.slice(0, Math.max(0, room - 1));
    return { rows: kept.map((row) => ({ row, expanded: false })), hidden: { ...hidden, more: shown.length - kept.length } };
  }
  let spare = room - shown.length;
  const rows = shown.map((row) => {
    const extra = rowHeight(row, true) - 1;
    const expanded = extra <= spare;
    if (expanded) spare -= extra;
    return { row, expanded };
  });
  return { rows, hidden };
}

/** The table printed once at the end: like the live one, but every failing host in full, since it is never redrawn. */
export function layoutFinalTable(model: LiveModel, height: number): TableLayout {
  const all = [...model.rows.values()];
  if (fitsWhole(all, height)) return { rows: all.map((row) => ({ row, expanded: true })), hidden: NOTHING_HIDDEN };
  return { rows: all.filter(isFailing).map((row) => ({ row, expanded: true })), hidden: countHidden(all) };
}
