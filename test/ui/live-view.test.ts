/** The live view drawn from event sequences recorded from real runs (test/fixtures/events, scripts/record-events.ts). */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/engine/events.js';
import { fleetLine } from '../../src/report/format.js';
import { recorded, summaryOf, until } from '../support/events.js';
import { draw, SPINNER, unwrapped } from './support.js';

const lines = (frame: string): string[] => frame.split('\n');
const rowOf = (frame: string, host: string): string => lines(frame).find((line) => line.slice(2).startsWith(`${host} `)) ?? '';
const resultFor = (host: string, outcome: string) => (event: EngineEvent) =>
  event.type === 'resource-result' && event.result.host === host && event.result.outcome === outcome;

describe('a clean run', () => {
  const events = recorded('clean');

  it('shows the recipes, the mode and one row per host with a spinner while it runs', () => {
    const frame = draw(until(events, (event) => event.type === 'host-phase' && event.phase === 'read'));
    expect(lines(frame)[0]).toBe('keel apply  recipes/web.ts');
    expect(lines(frame)[1]).toMatch(/^0\/3 hosts done · 0 unchanged, 0 changed, 0 failed · 1\.5s$/);
    expect(lines(frame)[2]).toMatch(/^ {2}host +unchanged +changed +failed +pending +time +activity$/);
    for (const host of ['web1', 'web2', 'web3']) expect(rowOf(frame, host)).toMatch(SPINNER);
    expect(rowOf(frame, 'web1')).toMatch(/web1 +0 +0 +0 +0 +1\.5s +reading$/);
  });

  it('ends with every host in sync and the fleet line, with nothing listed as changed', () => {
    const frame = draw(events);
    for (const host of ['web1', 'web2', 'web3']) expect(rowOf(frame, host)).toMatch(new RegExp(`^✓ ${host} +3 +0 +0 +0 +[\\d.]+s +done$`));
    expect(frame).not.toContain('hostFile[');
    expect(unwrapped(frame).endsWith(fleetLine(summaryOf(events)))).toBe(true);
    expect(fleetLine(summaryOf(events))).toMatch(
      /^apply: 3 hosts \(3 ok\); resources: 9 unchanged, 0 changed, 0 failed in [\d.]+ s; exit 0$/,
    );
  });
});

describe('a run with changes', () => {
  const events = recorded('changes');

  it('names the resource being changed on each host, with live counters', () => {
    const frame = draw(until(events, (event) => event.type === 'resource-start' && event.id === 'hostFile[/etc/nginx/nginx.conf]'));
    expect(rowOf(frame, 'web1')).toMatch(SPINNER);
    expect(rowOf(frame, 'web1')).toMatch(/web1 +1 +0 +0 +0 +[\d.]+s +changing hostFile\[\/etc\/nginx\/nginx\.conf\]$/);
  });

  it('ends with what changed per host: a unified diff for file content, old → new for values, and the handler', () => {
    const frame = draw(events);
    const text = lines(frame);
    const web1 = text.indexOf('web1');
    const web2 = text.indexOf('web2');
    expect(web1).toBeGreaterThan(0);
    expect(text.slice(web1, web2)).toEqual([
      'web1',
      expect.stringMatching(/^ {2}hostFile\[\/etc\/nginx\/nginx\.conf\] changed: content: \(content differs\) \(notifies/),
      expect.stringMatching(/reload\)$/),
      '    ===================================================================',
      '    --- content (current)',
      '    +++ content (desired)',
      '    @@ -1,9 +1,10 @@',
      '     user www-data;',
      '    -worker_processes 2;',
      '    +worker_processes auto;',
      '     events {',
      '    -  worker_connections 512;',
      '    +  worker_connections 1024;',
      '     }',
      '     http {',
      '    +  gzip on;',
      '       server {',
      '         listen 80;',
      '         root /srv/www;',
      '  handler hostFile[/etc/nginx/nginx.conf] reload ran',
      '',
    ]);
    expect(text[web2 + 1]).toBe('  hostFile[/etc/timezone] changed: content: "Europe/Berlin" → "Etc/UTC"');
    expect(text).not.toContain('web3');
    expect(rowOf(frame, 'web3')).toMatch(/^✓ web3 +3 +0 +0 +0 /);
    expect(unwrapped(frame).endsWith(fleetLine(summaryOf(events)))).toBe(true);
  });

  it('leaves the diffs out with --no-diff', () => {
    const frame = draw(events, { diffs: false });
    expect(frame).toContain('hostFile[/etc/nginx/nginx.conf] changed: content: (content differs)');
    expect(frame).not.toContain('+worker_processes auto;');
  });
});

describe('a plan', () => {
  it('speaks of what would change, and changes nothing', () => {
    const events = recorded('plan');
    const frame = draw(events);
    expect(lines(frame)).toContain('  hostFile[/etc/timezone] will change: content: "Europe/Berlin" → "Etc/UTC"');
    expect(frame).toMatch(/^ {2}host +unchanged +to change +failed +pending/m);
    expect(frame).toContain('handler hostFile[/etc/nginx/nginx.conf] reload would run');
    expect(lines(frame).at(-1)).toMatch(/^plan: 3 hosts \(3 ok\); resources: 7 unchanged, 2 to change, 0 failed in [\d.]+ s; exit 2$/);
  });
});

describe('a failure', () => {
  const events = recorded('failure');

  it('expands in place under its host as soon as it happens: resource, command, exit code, stderr', () => {
    const frame = draw(until(events, resultFor('web2', 'failed')));
    const text = lines(frame);
    const row = text.indexOf(rowOf(frame, 'web2'));
    expect(text[row]).toMatch(SPINNER);
    expect(text[row]).toMatch(/web2 +0 +2 +1 +0 /);
    expect(text[row + 1]).toBe('    ✗ hostFile[/srv/www/index.html] (apply): command exited 1');
    expect(text[row + 2]).toMatch(/^ {6}\$ mkdir -p \/tmp\/keel-events\/web2\/srv\/www && printf '%s' '<h1>keel<\/h1> … \[exit 1\]$/);
    expect(text[row + 3]).toMatch(/^ {6}│ mkdir: cannot create directory .\/tmp\/keel-events\/web2\/srv\/www.: File exists$/);
  });

  it('shows an unreachable host with the reason', () => {
    const frame = draw(until(events, (event) => event.type === 'host-end' && event.summary.host === 'db1'));
    const text = lines(frame);
    const row = text.indexOf(rowOf(frame, 'db1'));
    expect(text[row]).toMatch(/^✗ db1 .* unreachable$/);
    expect(text[row + 1]).toMatch(/^ {4}✗ unreachable: connecting to 127\.0\.0\.1:\d+: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  it('keeps the failures in the final summary, next to what did change', () => {
    const frame = draw(events);
    expect(rowOf(frame, 'web1')).toMatch(/^✓ web1 +2 +1 +0 +0 .* done$/);
    expect(rowOf(frame, 'web2')).toMatch(/^✗ web2 +0 +2 +1 +0 .* failed$/);
    expect(frame).toContain('    ✗ hostFile[/srv/www/index.html] (apply): command exited 1');
    expect(frame).toContain('  handler hostFile[/etc/nginx/nginx.conf] reload ran');
    expect(unwrapped(frame).endsWith(fleetLine(summaryOf(events)))).toBe(true);
    expect(summaryOf(events).exitCode).toBe(12);
  });
});

describe('Ctrl-C', () => {
  const events = recorded('interrupted');

  it('says that no new change starts while the one in flight finishes', () => {
    const frame = draw(
      until(events, (event) => event.type === 'resource-start'),
      { interrupted: true },
    );
    expect(lines(frame)[2]).toBe('interrupted: finishing changes in flight, starting no new ones (Ctrl-C again to quit now)');
    expect(rowOf(frame, 'web1')).toMatch(/changing hostFile\[\/etc\/timezone\]$/);
    expect(rowOf(frame, 'web2')).toMatch(/^· web2 .* waiting$/);
  });

  it('ends with what was done, what was skipped, and exit code 130', () => {
    const frame = draw(events, { interrupted: true });
    expect(rowOf(frame, 'web1')).toMatch(/^✓ web1 +0 +1 +0 +0 .* done, 2 skipped$/);
    expect(frame).toContain('  hostFile[/etc/timezone] changed: content: "Europe/Berlin" → "Etc/UTC"');
    expect(frame).toContain('    ✗ failed: interrupted before this host started');
    expect(unwrapped(frame)).toMatch(/; interrupted in [\d.]+ s; exit 130$/);
  });
});

describe('a fleet of 200 hosts', () => {
  const events = recorded('fleet-200');
  const height = 24;

  it('always fits the terminal, showing only active and failing hosts next to the totals', () => {
    let framesWithFailure = 0;
    for (let count = 1; count < events.length; count += 15) {
      const frame = draw(events.slice(0, count), { height });
      const text = lines(frame);
      expect(text.length).toBeLessThan(height);
      const rows = text.filter((line) => /^\S node\d{3} /.test(line));
      expect(rows.filter((row) => row.startsWith('✓'))).toEqual([]);
      expect(rows.filter((row) => SPINNER.test(row)).length).toBeLessThanOrEqual(20);
      if (count > 200)
        expect(text.at(-1)).toMatch(/^ {2}… (\d+ ok, )?\d+ waiting(, \d+ more)? not shown$|^ {2}… \d+ ok(, \d+ more)? not shown$/);
      if (text.some((line) => line.startsWith('✗ node'))) framesWithFailure += 1;
    }
    expect(framesWithFailure).toBeGreaterThan(0);
  });

  it('counts the whole fleet in the header', () => {
    const halfway = events.slice(0, Math.floor(events.length / 2));
    const done = halfway.filter((event) => event.type === 'host-end').length;
    expect(lines(draw(halfway, { height }))[1]).toMatch(
      new RegExp(`^${done}/200 hosts done · \\d+ unchanged, \\d+ changed, \\d+ failed · `),
    );
  });

  it('ends with the failing hosts in full, identical changes listed once for all their hosts, and one line', () => {
    const frame = draw(events, { height });
    const text = lines(frame);
    expect(text.filter((line) => /^✗ node\d{3} /.test(line)).map((line) => line.slice(2, 9))).toEqual(['node058', 'node122', 'node181']);
    expect(text).toContain('  … 197 ok not shown');
    expect(text).toContain('node005, node015, node025, node035 and 16 more (20 hosts)');
    expect(text.filter((line) => line.includes('-worker_processes 2;'))).toHaveLength(1);
    expect(unwrapped(frame)).toMatch(
      / apply: 200 hosts \(197 ok, 3 failed\); resources: 577 unchanged, 20 changed, 3 failed in [\d.]+ s; exit 4$/,
    );
  });
});

describe('text from hosts', () => {
  it('is drawn with its control characters shown, not obeyed', () => {
    // Every copy of a diff: in its resource's result and in the run's summary.
    const events = JSON.parse(JSON.stringify(recorded('changes')), (key, value: unknown) =>
      key === 'patch' && typeof value === 'string' ? `${value}+\x1b]0;owned\x07\n` : value,
    ) as EngineEvent[];
    const frame = draw(events);
    expect(frame).toContain('+\\x1b]0;owned\\x07');
  });
});
