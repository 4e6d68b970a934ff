/** Colour for human-facing views. The plain view colours only on a terminal or when FORCE_COLOR asks; NO_COLOR always wins. */
import type { ResourceOutcome } from '../engine/events.js';

export type Style = 'red' | 'green' | 'yellow' | 'cyan' | 'bold' | 'dim';

/** NO_COLOR and FORCE_COLOR as https://no-color.org and https://force-color.org define them. */
export function colorEnabled(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY;
}

export const OUTCOME_STYLE: Record<ResourceOutcome, Style | undefined> = {
  unchanged: undefined,
  drifted: 'yellow',
  changed: 'yellow',
  pending: 'cyan',
  failed: 'red',
  skipped: 'dim',
};

/** The style of one line of a unified diff. */
export function patchLineStyle(line: string): Style | undefined {
  if (line.startsWith('+++') || line.startsWith('---')) return 'bold';
  if (line.startsWith('+')) return 'green';
  if (line.startsWith('-')) return 'red';
  if (line.startsWith('@@')) return 'cyan';
  return undefined;
}

const SGR: Record<Style, [open: number, close: number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  bold: [1, 22],
  dim: [2, 22],
};

export type Paint = (style: Style | undefined, text: string) => string;

export function painter(enabled: boolean): Paint {
  if (!enabled) return (_style, text) => text;
  return (style, text) => (style ? `\x1b[${SGR[style][0]}m${text}\x1b[${SGR[style][1]}m` : text);
}
