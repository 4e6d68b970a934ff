/**
 * `keel run` on a terminal: the plain lines, each host's block as it finishes, with one status line under them that
 * is redrawn in place (how many hosts are done, running, waiting, and the time), and cleared at the end.
 */
import type { AdhocEvent } from '../engine/adhoc.js';
import { adhocReporter } from '../report/adhoc.js';

const CLEAR_LINE = '\r\x1b[2K';
const REDRAW_MS = 200;

export interface AdhocProgressHandle {
  sink(event: AdhocEvent): void;
  /** Stops redrawing and clears the status line. */
  done(): void;
}

export function adhocProgress(options: { stdout: NodeJS.WriteStream; color: boolean }): AdhocProgressHandle {
  const { stdout } = options;
  let total = 0;
  const running = new Set<string>();
  let finished = 0;
  let failing = 0;
  let startedAt = Date.now();
  let shown = false;
  const status = (): string => {
    const waiting = total - finished - running.size;
    const parts = [`${finished} of ${total} hosts done${failing ? ` (${failing} not ok)` : ''}`, `${running.size} running`];
    if (waiting) parts.push(`${waiting} waiting`);
    const line = `keel run: ${parts.join(', ')}; ${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
    // A line that wraps could not be cleared with one carriage return.
    return line.slice(0, Math.max(10, (stdout.columns ?? 80) - 1));
  };
  const draw = (): void => {
    stdout.write(`${CLEAR_LINE}${status()}`);
    shown = true;
  };
  const clear = (): void => {
    if (shown) stdout.write(CLEAR_LINE);
    shown = false;
  };
  const text = adhocReporter({ write: (line) => stdout.write(`${line}\n`), color: options.color });
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  return {
    sink(event) {
      clear();
      if (event.type === 'adhoc-start') {
        total = event.hosts.length;
        startedAt = event.at;
      } else if (event.type === 'adhoc-host-start') {
        running.add(event.host);
      } else if (event.type === 'adhoc-host-end') {
        running.delete(event.result.host);
        finished += 1;
        if (event.result.outcome !== 'ok') failing += 1;
      }
      text(event);
      if (event.type === 'adhoc-end') clearInterval(timer);
      else draw();
    },
    done() {
      clearInterval(timer);
      clear();
    },
  };
}
