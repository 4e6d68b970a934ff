/**
 * Ansible's host patterns: `web[01:20].example.com` (zero-padded), `db-[a:c]`, `node[1:9:2]` (a step), several
 * ranges in one name, and an optional `:port` (`[::1]:22` for an IPv6 address).
 */

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A port after a name (ranges allowed) or after a bracketed address. */
function splitPort(pattern: string): { host: string; port?: number } {
  const bracketed = /^\[(.+)\]:([0-9]+)$/.exec(pattern);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2]) };
  const named = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/.exec(pattern);
  if (named) return { host: named[1]!, port: Number(named[2]) };
  return { host: pattern };
}

function expandRanges(name: string): string[] {
  const open = name.indexOf('[');
  if (open === -1) return [name];
  const close = name.indexOf(']', open);
  if (close === -1) throw new Error(`host range in "${name}" has no closing ]`);
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new Error(`host range [${bounds.join(':')}] must be begin:end or begin:end:step`);
  const begin = bounds[0] || '0';
  const end = bounds[1]!;
  const step = bounds.length === 3 ? Number(bounds[2]) : 1;
  if (end === '') throw new Error(`host range in "${name}" must specify an end value`);
  if (!Number.isInteger(step) || step < 1) throw new Error(`host range in "${name}" has a step that is not a positive integer`);
  let items: string[];
  if (LETTERS.includes(begin) && LETTERS.includes(end) && begin.length === 1 && end.length === 1) {
    const from = LETTERS.indexOf(begin);
    const to = LETTERS.indexOf(end);
    if (from > to) throw new Error(`host range in "${name}" must have begin <= end`);
    items = [];
    for (let index = from; index <= to; index += step) items.push(LETTERS[index]!);
  } else {
    if (!/^[0-9]+$/.test(begin) || !/^[0-9]+$/.test(end))
      throw new Error(`host range [${bounds.join(':')}] in "${name}" is neither numbers nor letters`);
    const padded = begin.length > 1 && begin.startsWith('0');
    if (padded && begin.length !== end.length) throw new Error(`host range in "${name}" must have begin and end of equal length`);
    items = [];
    for (let value = Number(begin); value <= Number(end); value += step)
      items.push(padded ? String(value).padStart(begin.length, '0') : String(value));
  }
  return items.flatMap((item) => expandRanges(`${head}${item}${tail}`));
}

/** Throws an Error (without a location: the caller adds it) for a range it cannot expand. */
export function expandHostPattern(pattern: string): { names: string[]; port?: number } {
  const { host, port } = splitPort(pattern);
  return { names: expandRanges(host), ...(port === undefined ? {} : { port }) };
}
