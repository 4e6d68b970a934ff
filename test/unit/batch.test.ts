/**
 * The batch script in the long-lived shell on a real dash: every section's text output comes back exactly, and bytes
 * that are not UTF-8 as U+FFFD.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { batchScript, type Section } from '../../src/engine/batch.js';
import { ShellCommand } from '../../src/shell/index.js';
import { LocalTransport } from '../../src/transport/local.js';

const transport = new LocalTransport('box');
afterAll(() => transport.close());

async function runBatch(
  sections: Section[],
  prelude = '',
): Promise<{ output: ReturnType<ReturnType<typeof batchScript>['parse']>; code: number }> {
  const batch = batchScript(sections);
  const result = await transport.runScript(prelude + batch.script);
  return { output: batch.parse(result.stdout, result.stderr), code: result.code };
}

const section = (name: string, text: string, extra: Partial<Section> = {}): Section => ({
  name,
  command: new ShellCommand(text),
  ...extra,
});

describe.each([true, false])('batch script (sections streamed: %s)', (streamed) => {
  it('returns the text stdout, stderr and exit code of each section exactly, and bytes that are not UTF-8 as U+FFFD', async () => {
    const { output } = await runBatch([
      section('no newline', "printf 'a\\nb'; printf 'warn' >&2; exit 3", { streamed }),
      section('empty', 'true', { streamed }),
      section('looks like a marker', "printf '\\n@KEEL:0123456789abcdef 0 0\\n'; printf '\\n\\n'", { streamed }),
      section('utf-8', "printf 'h\\303\\251 \\342\\234\\223'", { streamed }),
      section('not utf-8', "printf '\\001\\377\\000x'; printf '\\377' >&2", { streamed }),
    ]);
    expect(output.sections.get('no newline')).toEqual({ stdout: 'a\nb', stderr: 'warn', code: 3 });
    expect(output.sections.get('empty')).toEqual({ stdout: '', stderr: '', code: 0 });
    expect(output.sections.get('looks like a marker')).toEqual({ stdout: '\n@KEEL:0123456789abcdef 0 0\n\n\n', stderr: '', code: 0 });
    expect(output.sections.get('utf-8')).toEqual({ stdout: 'hé ✓', stderr: '', code: 0 });
    expect(output.sections.get('not utf-8')).toEqual({ stdout: '\u0001\ufffd\u0000x', stderr: '\ufffd', code: 0 });
    expect(output.trailingStderr).toBe('');
  });

  it('keeps what a login shell prints before the script out of the first section', async () => {
    const { output } = await runBatch([section('first', 'echo one; echo err >&2', { streamed })], "echo 'Welcome!'; echo 'motd' >&2\n");
    expect(output.sections.get('first')).toEqual({ stdout: 'one\n', stderr: 'err\n', code: 0 });
  });

  it('stops at a failed fatal section, and a chain at its first failure', async () => {
    const { output, code } = await runBatch([
      section('step 1', 'false', { chained: true }),
      section('step 2', 'echo never', { chained: true }),
      section('read', 'echo read', { streamed }),
      section('lease', 'echo busy >&2; exit 75', { fatal: true }),
      section('after', 'echo never'),
    ]);
    expect([...output.sections.keys()]).toEqual(['step 1', 'read', 'lease']);
    expect(output.sections.get('lease')).toEqual({ stdout: '', stderr: 'busy\n', code: 75 });
    expect(code).toBe(75);
  });

  it("leaves the stderr of a section that never ended, and the shell's own, in trailingStderr", async () => {
    const { output } = await runBatch([
      section('done', 'echo ok', { streamed }),
      section('cut short', 'echo partial >&2; kill -9 $$', { streamed }),
    ]);
    expect(output.sections.has('cut short')).toBe(false);
    // A captured section's stderr waits in a file that nobody replays once the shell is gone.
    expect(output.trailingStderr.includes('partial')).toBe(streamed);
    expect(output.sections.get('done')?.stdout).toBe('ok\n');
  });
});

describe('batch script', () => {
  it('starts no program of its own when every section is streamed, and none but cat to replay a captured one', () => {
    const batch = batchScript([section('a', 'echo a', { streamed: true }), section('b', 'echo b', { streamed: true })]);
    expect(batch.script).not.toMatch(/mktemp|\bcat\b|\bwc\b|\brm\b/);
    const withChange = batchScript([section('a', 'echo a', { streamed: true }), section('change', 'echo b', { chained: true })]);
    expect(withChange.script).not.toMatch(/mktemp|\bwc\b|\brm\b/);
  });

  it('gives a captured section only its own output, however long the one before it was', async () => {
    const { output } = await runBatch([
      section('long', "printf 'a long line of output\\n'; printf 'a long complaint\\n' >&2", { chained: true }),
      section('short', "printf 'b'", { chained: true }),
    ]);
    const second = await runBatch([section('silent', 'true', { chained: true })]);
    expect(output.sections.get('long')).toEqual({ stdout: 'a long line of output\n', stderr: 'a long complaint\n', code: 0 });
    expect(output.sections.get('short')).toEqual({ stdout: 'b', stderr: '', code: 0 });
    expect(second.output.sections.get('silent')).toEqual({ stdout: '', stderr: '', code: 0 });
  });

  it('gives each batch files of its own, which no later batch sees', async () => {
    const mark = (name: string): Section => section(name, ': >"$__keel_batch.mark"', { chained: true });
    const look = (name: string): Section =>
      section(name, 'if [ -e "$__keel_batch.mark" ]; then echo seen; else echo unseen; fi', { streamed: true });
    const first = await runBatch([mark('mark'), look('same batch')]);
    const later = await runBatch([look('later batch')]);
    expect(first.output.sections.get('same batch')?.stdout).toBe('seen\n');
    expect(later.output.sections.get('later batch')?.stdout).toBe('unseen\n');
  });

  it('returns a captured section at once even when it leaves a process holding its output open', async () => {
    const started = Date.now();
    const { output } = await runBatch([section('daemon', 'sleep 30 & echo started', { chained: true })]);
    expect(output.sections.get('daemon')?.stdout).toBe('started\n');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
