/**
 * The plain-text view for pipes, CI and cron: one line per resource that changed, drifted or failed,
 * then one line for the fleet. A check run where everything is in sync prints nothing at all.
 */
import type { EngineEvent, EventSink } from '../engine/events.js';
import { OUTCOME_STYLE, painter, patchLineStyle, type Style } from './color.js';
import { describeResult, fleetLine, handlerLine, hostProblem, printable } from './format.js';

export interface TextReporterOptions {
  write(line: string): void;
  /** Also print unified diffs of file content. */
  diffs?: boolean;
  /** ANSI colours; decide with `colorEnabled`. */
  color?: boolean;
}

export function textReporter(options: TextReporterOptions): EventSink {
  const paint = painter(options.color ?? false);
  const write = (style: Style | undefined, line: string): void => options.write(paint(style, printable(line)));
  let mode = 'plan';
  return (event: EngineEvent) => {
    switch (event.type) {
      case 'run-start':
        mode = event.mode;
        break;
      case 'resource-result': {
        const { result } = event;
        if (result.outcome === 'unchanged') break;
        if (result.outcome === 'skipped' && mode !== 'apply') break;
        write(OUTCOME_STYLE[result.outcome], describeResult(mode, result));
        if (options.diffs === false) break;
        for (const change of result.changes) {
          for (const line of change.patch?.trimEnd().split('\n') ?? []) write(patchLineStyle(line), line);
        }
        break;
      }
      case 'handler-result': {
        const { result } = event;
        write(result.outcome === 'failed' ? 'red' : undefined, `${result.host}: ${handlerLine(result)}`);
        break;
      }
      case 'host-end': {
        const problem = hostProblem(event.summary);
        if (problem && event.summary.resources.every((r) => r.error?.message !== event.summary.error)) write('red', problem);
        break;
      }
      case 'run-end': {
        const quiet = mode === 'check' && event.summary.exitCode === 0;
        if (!quiet) write('bold', fleetLine(event.summary));
        break;
      }
      default:
        break;
    }
  };
}
