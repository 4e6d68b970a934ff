import { ShellCommand, sh } from './command.js';

export interface FileAttributes {
  mode?: number;
  owner?: string;
  group?: string;
}

/**
 * Script fragment that writes `content` to `path` atomically. The bytes travel base64-encoded inside the
 * script, so no second stream is needed and binary content survives. Without an explicit mode or owner, a
 * file that exists keeps its own (rewriting /etc/shadow must not make it world-readable); a new one gets 0644.
 */
export function atomicWriteScript(path: string, content: Buffer | string, options: FileAttributes = {}): ShellCommand {
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
