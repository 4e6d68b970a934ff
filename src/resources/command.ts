/**
 * The escape hatch: a shell command written by the recipe author, made idempotent by guards.
 * - `creates`: a path; once it exists the command need not run.
 * - `unless`: a command; exit 0 means the work is already done.
 * - `onlyIf`: a command; a non-zero exit means the command need not run (a precondition, not a result).
 * The read evaluates the guards and never runs `run`. A command without `creates` or `unless` runs on every
 * apply, and its verification is that it ran (exit 0) in that same invocation.
 * - `env`: variables for `run` alone, e.g. a `SecretString` var: `env: { TOKEN: vars.token }`, used as "$TOKEN".
 *   They are exported in a subshell around the command inside the batch script, which reaches the host on stdin,
 *   so a secret is never in a process's argv nor on disk; reports and traces show it as "[redacted]".
 */

import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { BATCH_FILES } from '../engine/batch.js';
import { defineResource } from '../engine/resource.js';
import { AbsolutePath, SecretString } from '../schema/index.js';
import { joinCommands, quote, REDACTED, Secret, ShellCommand, sh } from '../shell/index.js';

const ShellText = Type.String({ minLength: 1, maxLength: 65536, title: 'a shell command' });

const CommandParams = Type.Object(
  {
    /** Shell text run by `sh -c`: the one parameter in keel that is raw shell on purpose. */
    run: ShellText,
    /** What the id shows instead of the command text: `command[initialise the database]`. */
    name: Type.Optional(
      Type.String({ pattern: '^[^\\x00-\\x1f\\x7f\\]]{1,200}$', title: 'a one-line name without "]" or control characters' }),
    ),
    creates: Type.Optional(AbsolutePath),
    unless: Type.Optional(ShellText),
    onlyIf: Type.Optional(ShellText),
    /** Environment variables of `run` (not of the guards); a Secret value never shows. */
    env: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.Union([Type.String({ maxLength: 65536 }), SecretString]), {
        additionalProperties: false,
        title: 'variable names (letters, digits, _) to strings or secrets',
      }),
    ),
  },
  { additionalProperties: false },
);

export interface GuardResults {
  /** Whether `creates` exists; null without that guard. */
  created: boolean | null;
  /** Exit codes; null without that guard. */
  unless: number | null;
  onlyIf: number | null;
  /** Whether the command ran earlier in this same remote invocation (an apply's verification). */
  ranNow: boolean;
}

export interface CommandState {
  needsToRun: boolean;
  /** What decided, in words: `/opt/app/.installed exists`, `unless exited 1`. */
  because: string;
}

export function parseCommandRead(stdout: string): GuardResults {
  const results: GuardResults = { created: null, unless: null, onlyIf: null, ranNow: false };
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const match = /^(creates|unless|onlyIf|ran-now) (\S+)$/.exec(line);
    if (!match) throw new Error(`unexpected output: ${JSON.stringify(line.slice(0, 80))}`);
    const [, guard, value] = match as unknown as [string, string, string];
    if (guard === 'creates') results.created = value === 'present';
    else if (guard === 'ran-now') results.ranNow = value === 'yes';
    else results[guard as 'unless' | 'onlyIf'] = Number(value);
  }
  return results;
}

/** The guards' verdict. `onlyIf` can say "not needed"; only `creates` and `unless` can say "done". */
export function decide(params: { creates?: string }, guards: GuardResults): CommandState {
  if (guards.onlyIf !== null && guards.onlyIf !== 0) return { needsToRun: false, because: `onlyIf exited ${guards.onlyIf}` };
  if (guards.created === true) return { needsToRun: false, because: `${params.creates} exists` };
  if (guards.unless === 0) return { needsToRun: false, because: 'unless exited 0' };
  if (guards.created === null && guards.unless === null) {
    return guards.ranNow
      ? { needsToRun: false, because: 'ran in this apply' }
      : { needsToRun: true, because: 'no creates or unless guard: runs on every apply' };
  }
  const reasons = [];
  if (guards.created === false) reasons.push(`${params.creates} does not exist`);
  if (guards.unless !== null) reasons.push(`unless exited ${guards.unless}`);
  return { needsToRun: true, because: reasons.join(', ') };
}

/**
 * Marks "ran in this invocation" among the batch's own files, so the verification read of a guardless command can
 * see it and a later plan never does.
 */
function ranMarker(params: object): ShellCommand {
  return new ShellCommand(
    `"$${BATCH_FILES}.command-ran-${createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 16)}"`,
  );
}

/** `sh -c RUN`, in a subshell that exports `env` first when there is one; a Secret's value shows as "[redacted]". */
function runCommand(params: { run: string; env?: Record<string, string | Secret> }): ShellCommand {
  const run = sh`sh -c ${params.run}`;
  const env = Object.entries(params.env ?? {});
  if (env.length === 0) return run;
  const exports = env.map(([name, value]) =>
    value instanceof Secret
      ? new ShellCommand(`export ${name}=${quote(value.reveal())}; `, `export ${name}=${REDACTED}; `)
      : new ShellCommand(`export ${name}=${quote(value)}; `),
  );
  return joinCommands([new ShellCommand('('), ...exports, run, new ShellCommand(')')], '');
}

export const command = defineResource({
  type: 'command',
  schema: CommandParams,
  key: (params) => params.name ?? params.run.replace(/\s+/g, ' ').trim(),
  read(params) {
    const lines: ShellCommand[] = [];
    if (params.creates !== undefined)
      lines.push(sh`if [ -e ${params.creates} ] || [ -L ${params.creates} ]; then echo 'creates present'; else echo 'creates absent'; fi`);
    if (params.unless !== undefined) lines.push(sh`sh -c ${params.unless} >/dev/null 2>&1; echo "unless $?"`);
    if (params.onlyIf !== undefined) lines.push(sh`sh -c ${params.onlyIf} >/dev/null 2>&1; echo "onlyIf $?"`);
    lines.push(sh`if [ -e ${ranMarker(params)} ]; then echo 'ran-now yes'; else echo 'ran-now no'; fi`);
    return {
      command: new ShellCommand(lines.map((line) => line.text).join('\n')),
      parse: ({ stdout }) => decide(params, parseCommandRead(stdout)),
    };
  },
  diff(params, current) {
    return current.needsToRun ? [{ field: 'run', from: current.because, to: params.run }] : [];
  },
  apply: (params) => [runCommand(params), sh`: > ${ranMarker(params)}`],
  actions: {
    run: (params) => [runCommand(params)],
  },
});
