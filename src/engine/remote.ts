/** Running batched sections as one remote invocation, and telling a failed invocation apart from a failed section. */

import { redact, type Secret } from '../shell/index.js';
import { TIMEOUT_EXIT_CODE, type Transport } from '../transport/types.js';
import { batchScript, type Section, type SectionResult } from './batch.js';
import type { EventSink, InvocationOutput } from './events.js';

const STDERR_TAIL = 600;

export function tail(text: string, length = STDERR_TAIL): string {
  const trimmed = text.trim();
  return trimmed.length <= length ? trimmed : `…${trimmed.slice(-length)}`;
}

/** The command of the host's long-lived shell, which reads batch after batch from stdin: reports name it when no section is to blame. */
export const REMOTE_SCRIPT = 'exec sh -s';

/** How much of each invocation a run tells of: the commands sent, or their outputs too. */
export type Trace = 'commands' | 'output';

/** Where runSections tells of the invocations to one host, with what to redact from them. */
export interface InvocationLog {
  host: string;
  trace: Trace;
  emit: EventSink;
  secrets: readonly Secret[];
  /** Numbers the host's invocations from 1. */
  next(): number;
}

export function invocationLog(host: string, trace: Trace, emit: EventSink, secrets: readonly Secret[] = []): InvocationLog {
  let count = 0;
  return { host, trace, emit, secrets, next: () => (count += 1) };
}

function outputsOf(log: InvocationLog, sections: readonly Section[], results: Map<string, SectionResult>): InvocationOutput[] {
  return sections.flatMap((section) => {
    const output = results.get(section.name);
    if (!output) return [];
    if (section.holdsSecret) return [{ name: section.name, code: output.code, stdout: '', stderr: '', withheld: true }];
    return [
      { name: section.name, code: output.code, stdout: redact(output.stdout, log.secrets), stderr: redact(output.stderr, log.secrets) },
    ];
  });
}

/**
 * Runs sections as one batch in the host's long-lived shell, which every batch of a run shares (one exec session);
 * a transport failure surfaces as ConnectionError.
 */
export async function runSections(
  transport: Transport,
  sections: readonly Section[],
  timeoutMs: number,
  log?: InvocationLog,
): Promise<Map<string, SectionResult>> {
  const batch = batchScript(sections);
  const invocation = log?.next() ?? 0;
  const started = Date.now();
  log?.emit({
    type: 'invocation-start',
    host: log.host,
    invocation,
    sections: sections.map((section) => ({ name: section.name, command: redact(section.command.display, log.secrets) })),
    at: started,
  });
  let result: Awaited<ReturnType<Transport['exec']>>;
  try {
    result = await transport.runScript(batch.script, { sudo: true, timeoutMs });
  } catch (error) {
    const message = redact((error as Error).message, log?.secrets ?? []);
    log?.emit({ type: 'invocation-end', host: log.host, invocation, durationMs: Date.now() - started, error: message });
    throw error;
  }
  const { sections: results, trailingStderr } = batch.parse(result.stdout, result.stderr);
  log?.emit({
    type: 'invocation-end',
    host: log.host,
    invocation,
    durationMs: Date.now() - started,
    code: result.code,
    ...(log.trace === 'output' ? { outputs: outputsOf(log, sections, results), stderr: redact(trailingStderr, log.secrets) } : {}),
  });
  const fatal = sections.find((section) => section.fatal && (results.get(section.name)?.code ?? 0) !== 0);
  if (fatal) {
    const output = results.get(fatal.name)!;
    throw new BatchError(`${fatal.name} failed (exit ${output.code})`, output.code, tail(output.stderr), fatal.name);
  }
  if (result.code !== 0 && results.size < sections.length) {
    const ran = results.size;
    const timedOut = result.code === TIMEOUT_EXIT_CODE;
    const reason = timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exited ${result.code}`;
    // Nothing ran when the shell never started (sudo refused): then no section is to blame.
    const inFlight = ran > 0 || timedOut ? sections[ran]?.name : undefined;
    // One line: the stderr tail travels in its own field, which reports print after the command.
    throw new BatchError(`remote script ${reason}${inFlight ? ` during ${inFlight}` : ''}`, result.code, tail(trailingStderr), inFlight);
  }
  return results;
}

/** The remote script as a whole failed (timeout, sudo refused, shell killed). */
export class BatchError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly stderr: string,
    readonly section?: string,
  ) {
    super(message);
    this.name = 'BatchError';
  }
}
