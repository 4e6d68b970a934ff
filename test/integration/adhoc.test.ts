/**
 * `keel run -- COMMAND` through the real CLI over SSH, on three light lab hosts (sshd in namespaces of their own, each
 * with its own host name), plus one address of the lab's network where no host answers.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import type { AdhocReport } from '../../src/report/adhoc.js';
import { keel } from '../support/cli.js';
import { writeLabInventory } from '../support/labInventory.js';

let lab: Lab;
let inventory: string;
let withGone: string;

beforeAll(async () => {
  lab = await startHosts({ lab: 'adhoc', count: 3, kind: 'light' });
  const directory = mkdtempSync(join(tmpdir(), 'keel-adhoc-'));
  inventory = writeLabInventory(join(directory, 'lab.yaml'), lab);
  // One more host, at an address of the lab's network that nothing answers.
  withGone = join(directory, 'gone.yaml');
  writeFileSync(
    withGone,
    readFileSync(inventory, 'utf8').replace(/^hosts:\n/m, 'hosts:\n  gone:\n    address: 10.77.0.99\n    connectTimeout: 3\n'),
  );
});

afterAll(async () => {
  await lab?.down();
});

/** The lines of one host's block: its head line and the indented lines under it. */
function block(stdout: string, host: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${host}: `));
  if (start < 0) throw new Error(`no block for ${host} in:\n${stdout}`);
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('  '));
  return lines.slice(start, end);
}

describe('keel run', () => {
  it('-- hostname prints each host’s name under its exit code, and exits 0', () => {
    const result = keel(['run', '-i', inventory, '--', 'hostname']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const host of ['h1', 'h2', 'h3']) {
      expect(block(result.stdout, host)).toEqual([
        expect.stringMatching(new RegExp(`^${host}: exit 0 \\(\\d+\\.\\d\\d s\\)$`)),
        `  stdout| ${host}`,
      ]);
    }
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^run: 3 hosts \(3 ok\) in [\d.]+ s; exit 0$/);
  });

  it('a command that fails on one host exits 4 and shows that host’s stderr, the others’ output too', () => {
    const result = keel(['run', '-i', inventory, '--', 'if [ "$(hostname)" = h2 ]; then echo "h2 says no" >&2; exit 3; fi; echo fine']);
    expect(result.code).toBe(4);
    expect(block(result.stdout, 'h2')).toEqual([expect.stringMatching(/^h2: exit 3 \(/), '  stderr| h2 says no']);
    expect(block(result.stdout, 'h1')).toEqual([expect.stringMatching(/^h1: exit 0 \(/), '  stdout| fine']);
    expect(result.stdout).toMatch(/^run: 3 hosts \(2 ok, 1 failed\) in [\d.]+ s; exit 4$/m);
  });

  it('groups each host’s stdout and stderr, never interleaved, and escapes control characters', () => {
    const result = keel(['run', '-i', inventory, '-l', 'h1', '--', "echo o1; echo e1 >&2; printf 'o2 \\033[2J\\n'; echo e2 >&2"]);
    expect(result.code).toBe(0);
    expect(block(result.stdout, 'h1').slice(1)).toEqual(['  stdout| o1', '  stdout| o2 \\x1b[2J', '  stderr| e1', '  stderr| e2']);
    expect(result.stdout).not.toContain('\x1b');
  });

  it('an unreachable host exits 8, OR-ed with a failure to 12, and the others still run', () => {
    const result = keel(['run', '-i', withGone, '--', 'test "$(hostname)" != h3']);
    expect(result.code).toBe(12);
    expect(block(result.stdout, 'gone')[0]).toMatch(/^gone: unreachable: /);
    expect(block(result.stdout, 'h3')[0]).toMatch(/^h3: exit 1 \(/);
    expect(result.stdout).toMatch(/^run: 4 hosts \(2 ok, 1 failed, 1 unreachable\) in [\d.]+ s; exit 12$/m);
  });

  it('--json - prints the report the published schema describes, hosts in inventory order', () => {
    const result = keel(['run', '-i', inventory, '-l', 'h1,h3', '--json', '-', '--', 'hostname; exit 0']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as AdhocReport;
    const ajv = new Ajv({ strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(new URL('../../schema/adhoc.v1.json', import.meta.url), 'utf8')) as object);
    expect(validate(report), ajv.errorsText(validate.errors)).toBe(true);
    expect(report).toMatchObject({ version: 'keel.adhoc/v1', command: 'hostname; exit 0', interrupted: false, exitCode: 0 });
    expect(report.hosts.map((host) => [host.host, host.outcome, host.exitCode, host.stdout])).toEqual([
      ['h1', 'ok', 0, 'h1\n'],
      ['h3', 'ok', 0, 'h3\n'],
    ]);
    expect(result.stderr).toContain('h1: exit 0');
  });

  it('--timeout ends a command that hangs: exit 124 on that host, 4 for the run', () => {
    const result = keel(['run', '-i', inventory, '-l', 'h1', '--timeout', '1', '--', 'sleep 30']);
    expect(result.code).toBe(4);
    expect(block(result.stdout, 'h1')).toEqual([
      expect.stringMatching(/^h1: exit 124 \(/),
      '  stderr| keel: command timed out after 1000 ms',
    ]);
  });

  it('the live view draws a status line under the output and clears it at the end', () => {
    const result = keel(['run', '-i', inventory, '--ui', 'live', '--', 'hostname']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('keel run: 3 of 3 hosts done');
    const final = result.stdout.split('\r\x1b[2K').at(-1)!;
    expect(final).toMatch(/^run: 3 hosts \(3 ok\) in [\d.]+ s; exit 0\n$/);
    expect(result.stdout.replace(/\r\x1b\[2K[^\n\r]*(?=\r)/g, '')).toContain('  stdout| h2\n');
  });

  it('a --limit that matches nothing is a usage error', () => {
    expect(keel(['run', '-i', inventory, '-l', 'h9', '--', 'true'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('"h9" matches no host'),
    });
  });
});
