/**
 * Hostile strings for injection tests: shell metacharacters, command substitutions, quotes, newlines, NUL,
 * control characters, unicode and very long strings, mixed with payloads that would create a canary file if
 * any shell ever executed them. Deterministic (seeded), so a failure can be replayed.
 */

/** Created by any payload that runs, whichever way it got out of its quotes. */
export const CANARY = '/tmp/keel-canary';
/** The same, relative: created in the working directory of the shell that ran it. */
export const RELATIVE_CANARY = 'keel-canary-relative';

/** Set by any markup payload whose script runs in a page that shows it (the HTML report). */
export const PAGE_CANARY = '__keelPwned';

/** Markup that would run script or fetch something if a page ever took it as HTML rather than text. */
export const MARKUP_PAYLOADS = [
  `<script>window.${PAGE_CANARY}=1</script>`,
  `<img src=x onerror="window.${PAGE_CANARY}=1">`,
  `"><img src=x onerror=window.${PAGE_CANARY}=1>`,
  `'><svg onload=window.${PAGE_CANARY}=1>`,
  `</pre></code></td></tr></table><script>window.${PAGE_CANARY}=1</script>`,
  `</style><script>window.${PAGE_CANARY}=1</script>`,
  `<iframe src="javascript:parent.${PAGE_CANARY}=1"></iframe>`,
  `<a href="javascript:window.${PAGE_CANARY}=1">x</a><link rel=stylesheet href=http://127.0.0.1:9/x.css>`,
  `&lt;script&gt;window.${PAGE_CANARY}=1&lt;/script&gt;`,
];

const PAYLOADS = [
  ...MARKUP_PAYLOADS,
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `; touch ${CANARY}`,
  `;touch ${CANARY};`,
  `| touch ${CANARY}`,
  `&& touch ${CANARY}`,
  `|| touch ${CANARY}`,
  `& touch ${CANARY} &`,
  `\ntouch ${CANARY}\n`,
  `\r\ntouch ${CANARY}`,
  `'; touch ${CANARY}; '`,
  `"; touch ${CANARY}; "`,
  `'$(touch ${CANARY})'`,
  `"$(touch ${CANARY})"`,
  `\\'$(touch ${CANARY})\\'`,
  `'\\''$(touch ${CANARY})'\\''`,
  `$(>${CANARY})`,
  `>${CANARY}`,
  `' >${CANARY} '`,
  `\${IFS}touch\${IFS}${CANARY}`,
  `$(touch\${IFS}${CANARY})`,
  `$( touch ${CANARY} )`,
  `$(touch ${RELATIVE_CANARY})`,
  `; touch ${RELATIVE_CANARY}`,
  `\n__KEEL_CONTENT__\ntouch ${CANARY}\n`,
  `__KEEL_CONTENT__\n$(touch ${CANARY})`,
  `\n) ; touch ${CANARY} ; (\n`,
  `}; touch ${CANARY}; {`,
  `fi; touch ${CANARY}; if true; then :`,
  `$(printf 'touch ${CANARY}' | sh)`,
  `\`printf x > ${CANARY}\``,
  `$((\`touch ${CANARY}\`))`,
  `\${x:=$(touch ${CANARY})}`,
  `<(touch ${CANARY})`,
  `*; touch ${CANARY}`,
];

const FRAGMENTS = [
  ';',
  '|',
  '&',
  '&&',
  '||',
  '$',
  '$$',
  '$?',
  '$0',
  '$1',
  '$@',
  '"$@"',
  '$*',
  '$((1+1))',
  '${PATH}',
  '${x:-y}',
  '$IFS',
  '$__keel_d',
  '$__keel_tmp',
  '`',
  "'",
  '"',
  "'\\''",
  '\\',
  '\\\\',
  '\\n',
  '\n',
  '\r',
  '\t',
  '\v',
  '\f',
  '\0',
  ' ',
  '   ',
  '*',
  '?',
  '[a-z]',
  '[!a]',
  '{a,b}',
  '~',
  '~root',
  '!',
  '#',
  '# comment',
  '<',
  '>',
  '>>',
  '<<EOF',
  '<<-',
  '2>&1',
  '(',
  ')',
  '{',
  '}',
  '-',
  '--',
  '-rf',
  '--help',
  '-n',
  '=',
  'a=b',
  '%s',
  '%n',
  '%x',
  '%%',
  '\\x41',
  '\\101',
  '\x1b[31m',
  '\x1b]0;title\x07',
  '\x7f',
  '\x01',
  'é',
  'ß',
  '中文',
  '日本語',
  '🙂',
  '👩‍👩‍👧',
  '\u202e',
  '\u200b',
  'e\u0301',
  '\ufeff',
  '\ud800',
  'Ω≈ç√',
  '@KEEL:',
  '@KEEL:0123456789ab 0 0 0 0',
  'set -e',
  'exit 1',
  'exec sh',
  'eval',
  'export',
  'alias',
  'cd /',
  'IFS=x',
  '/..',
  '..',
  '.',
  '/',
  '//',
  ':',
  ',',
  '+',
  'a',
  'Z',
  '0',
  '1',
  'nginx',
  'net.ipv4',
  'eth0',
  'lo:8',
  '192.168.9.100',
];

/** A small seeded generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` distinct hostile strings: every payload and fragment alone first, then random mixtures of one to six
 * pieces, and now and then a very long one (up to 100,000 characters).
 */
export function hostileStrings(count: number, seed = 1): string[] {
  const next = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const strings = new Set<string>([...PAYLOADS, ...FRAGMENTS]);
  while (strings.size < count) {
    const pieces = Array.from({ length: 1 + Math.floor(next() * 6) }, () => (next() < 0.35 ? pick(PAYLOADS) : pick(FRAGMENTS)));
    let value = pieces.join(next() < 0.5 ? '' : pick([' ', '\n', ';', "'", '"', '\\']));
    const roll = next();
    if (roll < 0.003) value = value.repeat(Math.ceil(100_000 / Math.max(1, value.length))).slice(0, 100_000);
    else if (roll < 0.02) value = value.repeat(Math.ceil(5_000 / Math.max(1, value.length))).slice(0, 5_000);
    strings.add(value);
  }
  return [...strings].slice(0, count);
}
