/**
 * The plain-text view for pipes, CI and cron: one line per resource that changed, drifted or failed,
 * then one line for the fleet. A check run where everything is in sync prints nothing at all.
 */
import type { EngineEvent, EventSink } from '../engine/events.js';
import { describeResult, fleetLine, formatError, hostProblem } from './format.js';

export interface TextReporterOptions {
  write(line: string): void;
  /** Also print unified diffs of file content. */
  diffs?: boolean;
}

export function textReporter(options: TextReporterOptions): EventSink {
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
        options.write(describeResult(mode, result));
        if (options.diffs !== false) for (const change of result.changes) if (change.patch) options.write(change.patch.trimEnd());
        break;
      }
      case 'handler-result': {
        const { result } = event;
        const verb = result.outcome === 'would-run' ? 'would run' : result.outcome;
        options.write(`${result.host}: handler ${result.id} ${result.action} ${verb}${result.error ? `: ${formatError(result.error)}` : ''}`);
        break;
      }
      case 'host-end': {
        const problem = hostProblem(event.summary);
        if (problem && event.summary.resources.every((r) => r.error?.message !== event.summary.error)) options.write(problem);
        break;
      }
      case 'run-end': {
        const quiet = mode === 'check' && event.summary.exitCode === 0;
        if (!quiet) options.write(fleetLine(event.summary));
        break;
      }
      default:
        break;
    }
  };
}
