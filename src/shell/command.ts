/**
 * The one quoting primitive. Every value that reaches a remote shell passes through `quote`,
 * usually by way of the `sh` tagged template, so hostile strings arrive as literal arguments.
 */
import { Secret } from './secret.js';

/**
 * A fragment of POSIX shell whose interpolated values have already been quoted. `display` is what reports show
 * of it: the text itself, except where a part stands in for bulk data (a file's content, encoded).
 */
export class ShellCommand {
  constructor(
    readonly text: string,
    readonly display: string = text,
  ) {}
  toString(): string {
    return this.text;
  }
}

export type ShellValue = string | number | bigint | ShellCommand | readonly (string | number | ShellCommand)[];

/** Quotes one argument for a POSIX shell (dash, bash, busybox sh). NUL cannot be passed in argv, so it is refused. */
export function quote(value: string | number | bigint): string {
  const text = String(value);
  if (text.includes('\0')) throw new TypeError('a shell argument cannot contain a NUL byte');
  if (text !== '' && /^[A-Za-z0-9_/.,:=@%+-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function render(value: ShellValue): ShellCommand {
  if (value instanceof ShellCommand) return value;
  if (value instanceof Secret) throw new TypeError('a Secret cannot be interpolated into a command; pass it on stdin');
  if (Array.isArray(value))
    return joinCommands(
      value.map((item) => render(item as ShellValue)),
      ' ',
    );
  return new ShellCommand(quote(value as string | number | bigint));
}

/** Joins fragments, keeping what each shows in reports. */
export function joinCommands(parts: readonly ShellCommand[], separator: string): ShellCommand {
  return new ShellCommand(parts.map((part) => part.text).join(separator), parts.map((part) => part.display).join(separator));
}

/** Tagged template: `sh\`sysctl -w ${key}=${value}\`` quotes each interpolated value. */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): ShellCommand {
  const parts: ShellCommand[] = [new ShellCommand(strings[0] ?? '')];
  values.forEach((value, index) => parts.push(render(value), new ShellCommand(strings[index + 1] ?? '')));
  return joinCommands(parts, '');
}

/**
 * Prints a small text file with shell builtins alone: on a host, starting `cat` costs more than reading a sysctl or a
 * config file. A missing final newline is added. Each line can be headed by `linePrefix`, which tells the file's
 * lines apart from the rest of the output. The file must exist (test it first).
 */
export function printTextFile(path: string, linePrefix = ''): ShellCommand {
  return sh`while IFS= read -r __keel_line || [ -n "$__keel_line" ]; do printf ${`${linePrefix}%s\n`} "$__keel_line"; done < ${path}`;
}

/** Makes a directory and its parents, starting `mkdir` only when it is not there yet. */
export function ensureDirectory(path: string): ShellCommand {
  return sh`[ -d ${path} ] || mkdir -p -- ${path}`;
}

/** Joins fragments into a script that stops at the first failing line. */
export function script(lines: readonly ShellCommand[]): ShellCommand {
  return joinCommands([new ShellCommand('set -e'), ...lines], '\n');
}
