/**
 * The plain-text view for pipes, CI and cron: one line per resource that changed, drifted or failed,
 * then one line for the fleet. A check run where everything is in sync prints nothing at all.
 * `-v` adds every resource with its time and each remote invocation's commands as sent; `-vv` their outputs.
 */
import type { EngineEvent, EventSink, InvocationCommand, InvocationOutput } from '../engine/events.js';
import { OUTCOME_STYLE, painter, patchLineStyle, type Style } from './color.js';
import { describeResult, fleetLine, handlerLine, hostProblem, linesOf, printable } from './format.js';

export interface TextReporterOptions {
  write(line: string): void;
  /** Also print unified diffs of file content. */
  diffs?: boolean;
  /** ANSI colours; decide with `colorEnabled`. */
  color?: boolean;
  /** 1 (`-v`): every resource with its time, and each invocation's commands; 2 (`-vv`): their outputs too. */
  verbosity?: number;
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function commandLines(host: string, section: InvocationCommand): string[] {
  return [
    `${host}:   ${section.name}`,
    ...linesOf(section.command).map((line, index) => `${host}:     ${index === 0 ? '$' : '>'} ${line}`),
  ];
}

function outputLines(host: string, output: InvocationOutput): string[] {
  const head = `${host}:   ${output.name}: exit ${output.code}`;
  if (output.withheld) return [head, `${host}:     (output withheld: the resource holds a secret)`];
  return [
    head,
    ...linesOf(output.stdout).map((line) => `${host}:     stdout| ${line}`),
    ...linesOf(output.stderr).map((line) => `${host}:     stderr| ${line}`),
  ];
}

export function textReporter(options: TextReporterOptions): EventSink {
  const paint = painter(options.color ?? false);
  const write = (style: Style | undefined, line: string): void => options.write(paint(style, printable(line)));
  const verbosity = options.verbosity ?? 0;
  let mode = 'plan';
  // A draining host tells of its connections every second; the plain lines tell of each phase once.
  const phases = new Map<string, string>();
  return (event: EngineEvent) => {
    switch (event.type) {
      case 'run-start':
        mode = event.mode;
        break;
      case 'rollout-phase':
        if (phases.get(event.host) === event.phase) break;
        phases.set(event.host, event.phase);
        write(event.phase === 'left out' ? 'red' : undefined, `${event.host}: ${event.phase}${event.detail ? `: ${event.detail}` : ''}`);
        break;
      case 'batch-start':
        write('bold', `batch ${event.batch} of ${event.of}: ${event.hosts.join(', ')}`);
        break;
      case 'invocation-start': {
        if (verbosity < 1) break;
        const count = event.sections.length;
        write('dim', `${event.host}: invocation ${event.invocation} sent: ${count} section${count === 1 ? '' : 's'}`);
        for (const section of event.sections) for (const line of commandLines(event.host, section)) write('dim', line);
        break;
      }
      case 'invocation-end': {
        if (verbosity < 1) break;
        const outcome = event.error === undefined ? `exit ${event.code}` : event.error;
        write('dim', `${event.host}: invocation ${event.invocation} returned in ${duration(event.durationMs)}: ${outcome}`);
        if (verbosity < 2) break;
        for (const output of event.outputs ?? []) for (const line of outputLines(event.host, output)) write(undefined, line);
        for (const line of linesOf(event.stderr ?? '')) write(undefined, `${event.host}:   shell stderr| ${line}`);
        break;
      }
      case 'resource-result': {
        const { result } = event;
        if (verbosity >= 1) {
          write(OUTCOME_STYLE[result.outcome], `${describeResult(mode, result)} (${duration(result.durationMs)})`);
        } else {
          if (result.outcome === 'unchanged') break;
          if (result.outcome === 'skipped' && mode !== 'apply') break;
          write(OUTCOME_STYLE[result.outcome], describeResult(mode, result));
        }
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
