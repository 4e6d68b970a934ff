import { sh, ShellCommand } from '../engine/shell.js';
import type { Become, PutOptions } from './types.js';

/**
 * Script fragment that writes `content` to `path` atomically. The bytes travel base64-encoded inside the
 * script, so no second stream is needed and binary content survives.
 */
export function atomicWriteScript(path: string, content: Buffer | string, options: PutOptions = {}): ShellCommand {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const encoded = bytes.toString('base64').replace(/.{76}/g, '$&\n');
  const directory = path.replace(/\/[^/]*$/, '') || '/';
  const mode = (options.mode ?? 0o644).toString(8).padStart(4, '0');
  const owner = options.owner ?? (options.group === undefined ? undefined : '');
  const ownership =
    owner === undefined
      ? ''
      : sh` && chown -- ${`${owner}${options.group === undefined ? '' : `:${options.group}`}`} "$__keel_tmp"`.text;
  return new ShellCommand(
    [
      sh`__keel_tmp=$(mktemp ${`${directory}/.keel.XXXXXX`})`.text,
      `{ base64 -d > "$__keel_tmp" <<'__KEEL_CONTENT__'`,
      encoded,
      '__KEEL_CONTENT__',
      `} && chmod ${mode} "$__keel_tmp"${ownership} && mv -f -- "$__keel_tmp" ${sh`${path}`.text} || { rm -f -- "$__keel_tmp"; false; }`,
    ].join('\n'),
  );
}

/**
 * Wraps a command for sudo. A password goes to `sudo -S` as the first line of stdin; the prompt is emptied
 * so it never lands in stderr.
 */
export function becomeCommand(command: string, become: Become): { command: string; stdinPrefix: string } {
  if (become.password === undefined) return { command: sh`sudo -n -- sh -c ${command}`.text, stdinPrefix: '' };
  return { command: sh`sudo -S -p '' -- sh -c ${command}`.text, stdinPrefix: `${become.password.reveal()}\n` };
}
