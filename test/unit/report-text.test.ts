/** The plain-text view for pipes, CI and cron, fed with events recorded from real runs. */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/engine/events.js';
import { colorEnabled } from '../../src/report/color.js';
import { fleetLine } from '../../src/report/format.js';
import { textReporter } from '../../src/report/text.js';
import { type Recording, recorded, summaryOf } from '../support/events.js';

function print(name: Recording, options: { color?: boolean; diffs?: boolean } = {}): string[] {
  const lines: string[] = [];
  const sink = textReporter({ write: (line) => lines.push(line), ...options });
  for (const event of recorded(name)) sink(event);
  return lines;
}

const ANSI = /\x1b\[/;

describe('the plain-text view', () => {
  it('prints one line per changed resource, its diff, the handler, and the fleet line', () => {
    const lines = print('changes');
    expect(lines.filter((line) => /^web\d: /.test(line)).sort()).toEqual([
      'web1: handler hostFile[/etc/nginx/nginx.conf] reload ran',
      'web1: hostFile[/etc/nginx/nginx.conf] changed: content: (content differs) (notifies hostFile[/etc/nginx/nginx.conf] reload)',
      'web2: hostFile[/etc/timezone] changed: content: "Europe/Berlin" → "Etc/UTC"',
    ]);
    expect(lines).toContain('-worker_processes 2;');
    expect(lines).toContain('+worker_processes auto;');
    expect(lines.at(-1)).toBe(fleetLine(summaryOf(recorded('changes'))));
    expect(lines.some((line) => ANSI.test(line))).toBe(false);
  });

  it('prints failures with command, exit code and stderr, and unreachable hosts with the reason', () => {
    const lines = print('failure');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^web2: hostFile\[\/srv\/www\/index\.html\] failed: command exited 1; command: mkdir -p .* …; stderr: mkdir: cannot create directory .*: File exists$/,
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^db1: unreachable: connecting to 127\.0\.0\.1:\d+: connect ECONNREFUSED/));
    expect(lines.at(-1)).toMatch(/exit 12$/);
  });

  it('stays silent for a check that finds everything in sync', () => {
    expect(print('check-clean')).toEqual([]);
  });

  it('prints only the fleet line for an apply that had nothing to do', () => {
    expect(print('clean')).toEqual([fleetLine(summaryOf(recorded('clean')))]);
  });

  it('colours outcomes and diff lines only when asked to', () => {
    const lines = print('changes', { color: true });
    expect(lines.find((line) => line.includes('hostFile[/etc/timezone]'))).toMatch(/^\x1b\[33mweb2: .*\x1b\[39m$/);
    expect(lines).toContain('\x1b[32m+worker_processes auto;\x1b[39m');
    expect(lines).toContain('\x1b[31m-worker_processes 2;\x1b[39m');
    expect(lines.at(-1)).toBe(`\x1b[1m${fleetLine(summaryOf(recorded('changes')))}\x1b[22m`);
  });

  it('leaves diffs out when told to', () => {
    expect(print('changes', { diffs: false }).some((line) => line.startsWith('+'))).toBe(false);
  });
});

describe('colorEnabled', () => {
  it('colours a terminal, not a pipe, unless FORCE_COLOR says otherwise; NO_COLOR always wins', () => {
    expect(colorEnabled({}, true)).toBe(true);
    expect(colorEnabled({}, false)).toBe(false);
    expect(colorEnabled({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(colorEnabled({ FORCE_COLOR: '' }, false)).toBe(true);
    expect(colorEnabled({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(colorEnabled({ FORCE_COLOR: 'false' }, true)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '1', FORCE_COLOR: '1' }, false)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '' }, true)).toBe(true);
  });
});

describe('text from hosts', () => {
  it('reaches the terminal with its control characters shown, not obeyed', () => {
    const hostile = '\x1b]0;owned\x07\x1b[2J';
    const events = structuredClone(recorded('failure')).map((event) => {
      if (event.type === 'resource-result' && event.result.error?.stderr) event.result.error.stderr = `${hostile} denied`;
      return event;
    });
    const lines: string[] = [];
    const sink = textReporter({ write: (line) => lines.push(line) });
    for (const event of events) sink(event);
    const output = lines.join('\n');
    expect(output).not.toContain('\x1b');
    expect(output).toContain('stderr: \\x1b]0;owned\\x07\\x1b[2J denied');
  });
});

describe('a run with resources left out by --tags', () => {
  it('says how many in the fleet line, even none, and not at all without a selection', () => {
    const summary = summaryOf(recorded('changes'));
    const tagged = { ...summary, hosts: summary.hosts.map((host, index) => ({ ...host, leftOut: index === 0 ? ['a[1]', 'b[2]'] : [] })) };
    expect(fleetLine(tagged)).toMatch(/; resources: \d+ unchanged, \d+ changed, 0 failed, 2 left out in [\d.]+ s; exit \d+$/);
    expect(fleetLine({ ...summary, hosts: summary.hosts.map((host) => ({ ...host, leftOut: [] })) })).toContain(', 0 left out in ');
    expect(fleetLine(summary)).not.toContain('left out');
  });

  it('says a handler whose resource was left out did not run, and that it stays owed', () => {
    const lines: string[] = [];
    textReporter({ write: (line) => lines.push(line) })({
      type: 'handler-result',
      result: { host: 'rs1', id: 'service[nginx]', action: 'restart', outcome: 'left-out', durationMs: 0 },
    });
    expect(lines).toEqual([
      'rs1: handler service[nginx] restart not run: its resource is left out of this run, so the notification stays owed on the host',
    ]);
  });
});

describe('-v and -vv', () => {
  const events: EngineEvent[] = [
    { type: 'run-start', mode: 'plan', recipes: ['r.ts'], hosts: ['rs1'], at: 0 },
    {
      type: 'invocation-start',
      host: 'rs1',
      invocation: 1,
      at: 0,
      sections: [
        { name: 'read sysctl[net.ipv4.ip_forward]', command: 'cat /proc/sys/net/ipv4/ip_forward' },
        { name: 'read file[/etc/token]', command: 'if [ -f /etc/token ]; then\n  base64 /etc/token\nfi' },
      ],
    },
    {
      type: 'invocation-end',
      host: 'rs1',
      invocation: 1,
      durationMs: 84,
      code: 0,
      outputs: [
        { name: 'read sysctl[net.ipv4.ip_forward]', code: 0, stdout: '0\n', stderr: 'odd\x1b[2Jbut shown\n' },
        { name: 'read file[/etc/token]', code: 0, stdout: '', stderr: '', withheld: true },
      ],
      stderr: '',
    },
    {
      type: 'resource-result',
      result: {
        host: 'rs1',
        id: 'sysctl[net.ipv4.ip_forward]',
        type: 'sysctl',
        outcome: 'drifted',
        changes: [{ field: 'value', from: '0', to: '1' }],
        desired: {},
        actual: {},
        durationMs: 85,
      },
    },
    {
      type: 'resource-result',
      result: {
        host: 'rs1',
        id: 'file[/etc/token]',
        type: 'file',
        outcome: 'unchanged',
        changes: [],
        desired: {},
        actual: {},
        durationMs: 1250,
      },
    },
  ];
  const print = (verbosity: number): string[] => {
    const lines: string[] = [];
    const sink = textReporter({ write: (line) => lines.push(line), verbosity });
    for (const event of events) sink(event);
    return lines;
  };

  it('-v shows each invocation’s commands as sent, and every resource with its time', () => {
    expect(print(1)).toEqual([
      'rs1: invocation 1 sent: 2 sections',
      'rs1:   read sysctl[net.ipv4.ip_forward]',
      'rs1:     $ cat /proc/sys/net/ipv4/ip_forward',
      'rs1:   read file[/etc/token]',
      'rs1:     $ if [ -f /etc/token ]; then',
      'rs1:     >   base64 /etc/token',
      'rs1:     > fi',
      'rs1: invocation 1 returned in 84 ms: exit 0',
      'rs1: sysctl[net.ipv4.ip_forward] will change: value: "0" → "1" (85 ms)',
      'rs1: file[/etc/token] unchanged (1.3 s)',
    ]);
  });

  it('-vv adds the outputs, control characters escaped, and withholds those of a resource holding a secret', () => {
    const lines = print(2);
    expect(lines.slice(8, 13)).toEqual([
      'rs1:   read sysctl[net.ipv4.ip_forward]: exit 0',
      'rs1:     stdout| 0',
      'rs1:     stderr| odd\\x1b[2Jbut shown',
      'rs1:   read file[/etc/token]: exit 0',
      'rs1:     (output withheld: the resource holds a secret)',
    ]);
  });

  it('the default output stays as it was', () => {
    expect(print(0)).toEqual(['rs1: sysctl[net.ipv4.ip_forward] will change: value: "0" → "1"']);
  });
});
