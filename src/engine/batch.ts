/**
 * Many commands in one remote invocation. After each section the script prints an end marker carrying a nonce
 * fresh for every batch, on stdout (with the section's exit code) and on stderr, each after a newline of its own;
 * so text output, even without its trailing newline or looking like an older marker, comes back exactly, and
 * whatever a login shell or sudo prints before the script starts is told apart. Output is decoded as UTF-8:
 * bytes that are not UTF-8 come back as U+FFFD.
 * The script runs in the host's long-lived shell (src/transport/scriptShell.ts) with stdin on /dev/null, and keeps
 * the output of sections that are not streamed in the files that shell made for it.
 */
import { randomBytes } from 'node:crypto';
import type { ShellCommand } from '../shell/index.js';
import { SCRIPT_CAPTURES } from '../transport/types.js';

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
  /**
   * Its output goes straight to the invocation's. Only for reads: a change may start a daemon that keeps its
   * stdout open, which would hold the invocation open too, so other sections' output goes through files.
   */
  streamed?: boolean;
  /**
   * Its output is never handed on in an event: its resource's parameters hold a Secret, which the output may carry in
   * a form redaction cannot find (a file's content, read back base64).
   */
  holdsSecret?: boolean;
}

export interface SectionResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface BatchOutput {
  sections: Map<string, SectionResult>;
  /** Stderr after the last section that finished: the shell's own complaints, or the section that never ended. */
  trailingStderr: string;
}

export interface Batch {
  script: string;
  parse(stdout: Buffer, stderr?: Buffer): BatchOutput;
}

const BEGIN = 'begin';

/**
 * The shell variable holding a path prefix fresh for each batch, under which its sections may create files of their
 * own (`"$VAR.name"`): a change leaves a mark there for its verification read, which no later batch can see. The
 * host's shell removes them when it ends.
 */
export const BATCH_FILES = '__keel_batch';

export function batchScript(sections: readonly Section[]): Batch {
  const nonce = randomBytes(8).toString('hex');
  const marker = `@KEEL:${nonce}`;
  const capturing = sections.some((section) => !section.streamed);
  const lines = [
    'umask 022',
    `__keel_end() { printf '\\n${marker} %s %s\\n' "$1" "$2"; printf '\\n${marker} %s\\n' "$1" >&2; }`,
    ...(capturing
      ? [
          `__keel_o="$0${SCRIPT_CAPTURES.stdout}"; __keel_e="$0${SCRIPT_CAPTURES.stderr}"`,
          '__keel_replay() { if [ -s "$__keel_o" ]; then cat "$__keel_o"; fi; if [ -s "$__keel_e" ]; then cat "$__keel_e" >&2; fi; }',
        ]
      : []),
    `${BATCH_FILES}="$0.${nonce}"`,
    '__keel_chain_ok=1',
    `__keel_end ${BEGIN} 0`,
  ];
  sections.forEach((section, index) => {
    const body = `(\n${section.chained ? 'set -e\n' : ''}${section.command.text}\n)`;
    const run = section.streamed
      ? `${body} </dev/null; __keel_rc=$?; __keel_end ${index} $__keel_rc`
      : `${body} >|"$__keel_o" 2>|"$__keel_e" </dev/null; __keel_rc=$?; __keel_replay; __keel_end ${index} $__keel_rc`;
    const ended = `${run}${section.fatal ? '; [ $__keel_rc = 0 ] || exit $__keel_rc' : ''}`;
    lines.push(section.chained ? `if [ $__keel_chain_ok = 1 ]; then\n${ended}\n[ $__keel_rc = 0 ] || __keel_chain_ok=0\nfi` : ended);
  });
  return {
    script: `${lines.join('\n')}\n`,
    parse(stdout: Buffer, stderr = Buffer.alloc(0)): BatchOutput {
      const outs = segments(stdout, marker);
      const errs = segments(stderr, marker);
      const results = new Map<string, SectionResult>();
      for (const [label, out] of outs) {
        const [index, code] = label.split(' ');
        const section = index === BEGIN ? undefined : sections[Number(index)];
        if (section) results.set(section.name, { code: Number(code), stdout: out.toString(), stderr: errs.get(index!)?.toString() ?? '' });
      }
      const lastMarker = stderr.lastIndexOf(`\n${marker} `);
      const lastMarkerEnd = lastMarker < 0 ? -1 : stderr.indexOf(0x0a, lastMarker + 1);
      const trailing = lastMarker < 0 ? stderr : lastMarkerEnd < 0 ? Buffer.alloc(0) : stderr.subarray(lastMarkerEnd + 1);
      return { sections: results, trailingStderr: trailing.toString() };
    },
  };
}

/** Each end marker's label (what follows the nonce on its line), with the bytes between it and the marker before. */
function segments(output: Buffer, marker: string): Map<string, Buffer> {
  const header = Buffer.from(`\n${marker} `);
  const found = new Map<string, Buffer>();
  let contentStart: number | undefined;
  for (let at = output.indexOf(header); at >= 0; ) {
    const lineEnd = output.indexOf(0x0a, at + header.length);
    if (lineEnd < 0) break;
    const label = output.subarray(at + header.length, lineEnd).toString();
    if (contentStart !== undefined) found.set(label, output.subarray(contentStart, at));
    contentStart = lineEnd + 1;
    at = output.indexOf(header, contentStart);
  }
  return found;
}
