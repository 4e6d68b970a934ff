/**
 * The one quoting primitive. Every value that reaches a remote shell passes through `quote`,
 * usually by way of the `sh` tagged template, so hostile strings arrive as literal arguments.
 */
import { Secret } from './secret.js';

/** A fragment of POSIX shell whose interpolated values have already been quoted. */
export class ShellCommand {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type ShellValue = string | number | bigint | ShellCommand | readonly (string | number | ShellCommand)[];

/** Quotes one argument for a POSIX shell (dash, bash, busybox sh). NUL cannot be passed in argv, so it is refused. */
export function quote(value: string | number | bigint): string {
  const text = String(value);
  if (text.includes('\0')) throw new TypeError('a shell argument cannot contain a NUL byte');
  if (text !== '' && /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function render(value: ShellValue): string {
  if (value instanceof ShellCommand) return value.text;
  if (value instanceof Secret) throw new TypeError('a Secret cannot be interpolated into a command; pass it on stdin');
  if (Array.isArray(value)) return value.map((item) => render(item as ShellValue)).join(' ');
  return quote(value as string | number | bigint);
}

/** Tagged template: `sh\`sysctl -w ${key}=${value}\`` quotes each interpolated value. */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): ShellCommand {
  let text = strings[0] ?? '';
  values.forEach((value, index) => {
    text += render(value) + (strings[index + 1] ?? '');
  });
  return new ShellCommand(text);
}

/** Joins fragments into a script that stops at the first failing line. */
export function script(lines: readonly ShellCommand[]): ShellCommand {
  return new ShellCommand(['set -e', ...lines.map((line) => line.text)].join('\n'));
}
