import { sh, ShellCommand } from '../engine/shell.js';
import type { Become, PutOptions, Transport } from './types.js';

/**
 * Script fragment that writes `content` to `path` atomically. The bytes travel base64-encoded inside the
 * script, so no second stream is needed and binary content survives. Without an explicit mode or owner, a
 * file that exists keeps its own (rewriting /etc/shadow must not make it world-readable); a new one gets 0644.
 */
export function atomicWriteScript(path: string, content: Buffer | string, options: PutOptions = {}): ShellCommand {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const encoded = bytes.toString('base64').replace(/.{76}/g, '$&\n');
  const directory = path.replace(/\/[^/]*$/, '') || '/';
  const target = sh`${path}`.text;
  const mode =
    options.mode === undefined
      ? `chmod "$(stat -c %a ${target} 2>/dev/null || echo 644)" "$__keel_tmp"`
      : `chmod ${options.mode.toString(8).padStart(4, '0')} "$__keel_tmp"`;
  const owner =
    options.owner === undefined && options.group === undefined
      ? `{ [ ! -e ${target} ] || chown "$(stat -c %u:%g ${target})" "$__keel_tmp"; }`
      : sh`chown -- ${`${options.owner ?? ''}${options.group === undefined ? '' : `:${options.group}`}`} "$__keel_tmp"`.text;
  const lines = (body: string): string =>
    [
      sh`__keel_tmp=$(mktemp ${`${directory}/.keel.XXXXXX`})`.text,
      `{ base64 -d > "$__keel_tmp" <<'__KEEL_CONTENT__'`,
      body,
      '__KEEL_CONTENT__',
      `} && ${mode} && ${owner} && mv -f -- "$__keel_tmp" ${target} || { rm -f -- "$__keel_tmp"; false; }`,
    ].join('\n');
  // Reports show the size, never the content: it may be large, or secret.
  return new ShellCommand(lines(encoded), lines(`(${bytes.length} bytes, base64)`));
}

/** `Transport.put` for transports that write files through their own exec: one invocation, run as become. */
export async function putWithScript(transport: Pick<Transport, 'exec'>, path: string, content: Buffer | string, options: PutOptions = {}): Promise<void> {
  const result = await transport.exec('sh -s', { stdin: atomicWriteScript(path, content, options).text, sudo: true });
  if (result.code !== 0) throw new Error(`writing ${path} failed (exit ${result.code}): ${result.stderr.toString().trim()}`);
}

/**
 * Wraps a command for sudo. A password goes to `sudo -S` as the first line of stdin; the prompt is emptied
 * so it never lands in stderr.
 */
export function becomeCommand(command: string, become: Become): { command: string; stdinPrefix: string } {
  if (become.password === undefined) return { command: sh`sudo -n -- sh -c ${command}`.text, stdinPrefix: '' };
  return { command: sh`sudo -S -p '' -- sh -c ${command}`.text, stdinPrefix: `${become.password.reveal()}\n` };
}
