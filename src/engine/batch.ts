/**
 * Many commands in one remote invocation. Each section's stdout, stderr and exit code come back framed by
 * byte counts, so any output (binary, missing trailing newline, text that looks like a marker) survives.
 * The script travels on stdin (`sh -s`), so every section reads /dev/null instead.
 */
import { randomBytes } from 'node:crypto';
import type { ShellCommand } from './shell.js';

export interface Section {
  name: string;
  command: ShellCommand;
  /**
   * Part of a chain: it runs only while no earlier chained section failed, and its own failure stops the
   * chain. Apply steps are chained; reads are not.
   */
  chained?: boolean;
  /** Its failure ends the whole invocation: nothing after it runs (the apply lease). */
  fatal?: boolean;
}

export interface SectionResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface Batch {
  script: string;
  parse(stdout: Buffer): Map<string, SectionResult>;
}

export function batchScript(sections: readonly Section[]): Batch {
  const nonce = randomBytes(6).toString('hex');
  const marker = `@KEEL:${nonce}`;
  const lines = [
    'umask 022',
    '__keel_d=$(mktemp -d 2>/dev/null || mktemp -d -t keel.XXXXXX) || { echo "keel: cannot create a temporary directory" >&2; exit 125; }',
    `trap 'rm -rf "$__keel_d"' EXIT`,
    '__keel_chain_ok=1',
    '__keel_emit() {',
    `  printf '\\n${marker} %s %s %s %s\\n' "$1" "$2" $(($(wc -c < "$__keel_d/o"))) $(($(wc -c < "$__keel_d/e")))`,
    '  cat "$__keel_d/o" "$__keel_d/e"',
    '}',
  ];
  sections.forEach((section, index) => {
    const run = `(\n${section.chained ? 'set -e\n' : ''}${section.command.text}\n) >"$__keel_d/o" 2>"$__keel_d/e" </dev/null; __keel_rc=$?; __keel_emit ${index} $__keel_rc${section.fatal ? '; [ $__keel_rc = 0 ] || exit $__keel_rc' : ''}`;
    lines.push(
      section.chained ? `if [ $__keel_chain_ok = 1 ]; then\n${run}\n[ $__keel_rc = 0 ] || __keel_chain_ok=0\nfi` : run,
    );
  });
  return {
    script: lines.join('\n') + '\n',
    parse(stdout: Buffer): Map<string, SectionResult> {
      const results = new Map<string, SectionResult>();
      const header = Buffer.from(`\n${marker} `);
      let offset = stdout.indexOf(header);
      while (offset >= 0) {
        const lineEnd = stdout.indexOf(0x0a, offset + header.length);
        if (lineEnd < 0) break;
        const fields = stdout.subarray(offset + header.length, lineEnd).toString().split(' ').map(Number);
        const [index, code, outLength, errLength] = fields as [number, number, number, number];
        const outStart = lineEnd + 1;
        const section = sections[index];
        if (!section) break;
        results.set(section.name, {
          code,
          stdout: stdout.subarray(outStart, outStart + outLength).toString(),
          stderr: stdout.subarray(outStart + outLength, outStart + outLength + errLength).toString(),
        });
        offset = stdout.indexOf(header, outStart + outLength + errLength);
      }
      return results;
    },
  };
}
