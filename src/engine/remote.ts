/** Running batched sections as one remote invocation, and telling a failed invocation apart from a failed section. */

import { TIMEOUT_EXIT_CODE, type Transport } from '../transport/types.js';
import { batchScript, type Section, type SectionResult } from './batch.js';

const STDERR_TAIL = 600;

export function tail(text: string, length = STDERR_TAIL): string {
  const trimmed = text.trim();
  return trimmed.length <= length ? trimmed : `…${trimmed.slice(-length)}`;
}

/** The command every remote invocation runs: a shell reading the batch script from stdin, in place of the one that started it. */
export const REMOTE_SCRIPT = 'exec sh -s';

/** Runs sections as one remote invocation; a transport failure surfaces as ConnectionError. */
export async function runSections(
  transport: Transport,
  sections: readonly Section[],
  timeoutMs: number,
): Promise<Map<string, SectionResult>> {
  const batch = batchScript(sections);
  const result = await transport.exec(REMOTE_SCRIPT, { stdin: batch.script, sudo: true, timeoutMs });
  const { sections: results, trailingStderr } = batch.parse(result.stdout, result.stderr);
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
