/** The view as the CLI starts it, on a stand-in terminal: frames are throttled, the final report is drawn once. */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { fleetLine } from '../../src/report/format.js';
import { startLiveView } from '../../src/ui/start.js';
import { recorded, summaryOf } from '../support/events.js';

// Ink draws only the last frame when CI is set (its is-in-ci check runs on import); the pacing under test is keel's own.
vi.hoisted(() => {
  process.env.CI = 'false';
  process.env.CONTINUOUS_INTEGRATION = 'false';
});

class Terminal extends EventEmitter {
  readonly isTTY = true;
  readonly columns = 120;
  readonly rows = 30;
  readonly writes: { at: number; text: string }[] = [];
  write(data: string | Uint8Array, callback?: () => void): boolean {
    this.writes.push({ at: Date.now(), text: stripVTControlCharacters(data.toString()) });
    callback?.();
    return true;
  }
  get output(): string {
    return this.writes.map((write) => write.text).join('');
  }
}

describe('startLiveView', () => {
  it('draws at most 10 frames a second, however fast 200 hosts report', async () => {
    const terminal = new Terminal();
    const view = startLiveView({ stdout: terminal as unknown as NodeJS.WriteStream, colors: false, diffs: true });
    const events = recorded('fleet-200');
    const started = Date.now();
    for (let index = 0; index < events.length; index += 50) {
      for (const event of events.slice(index, index + 50)) view.sink(event);
      await sleep(50);
    }
    const elapsed = Date.now() - started;
    await view.done();
    const frames = terminal.writes.filter((write) => write.text.includes('hosts done'));
    // Paced by the clock, not by the 1465 events.
    expect(frames.length).toBeGreaterThan(3);
    expect(frames.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
    for (const frame of frames) expect(frame.text.trimEnd().split('\n').length).toBeLessThan(terminal.rows);
    expect(terminal.output.split(fleetLine(summaryOf(events)))).toHaveLength(2);
  });

  it('ends even when the run ended without a summary', async () => {
    const terminal = new Terminal();
    const view = startLiveView({ stdout: terminal as unknown as NodeJS.WriteStream, colors: false, diffs: true });
    for (const event of recorded('changes').slice(0, 5)) view.sink(event);
    await sleep(150);
    await view.done();
    expect(terminal.output).toContain('keel apply  recipes/web.ts');
  });
});
