import { quote, ShellCommand, sh } from './command.js';

export interface FileAttributes {
  mode?: number;
  owner?: string;
  group?: string;
}

/** The mode mktemp gives the temporary file. */
const MKTEMP_MODE = 0o600;

/** Text travels as a quoted argument of the printf builtin; bytes a shell string cannot hold, base64-encoded. */
function isShellText(bytes: Buffer): boolean {
  return !bytes.includes(0) && Buffer.from(bytes.toString('utf8')).equals(bytes);
}

/**
 * Script fragment that writes `content` to `path` atomically, inside the script, so no second stream is needed.
 * Without an explicit mode or owner, a file that exists keeps its own (rewriting /etc/shadow must not make it
 * world-readable); a new one gets 0644. A program starts only where a builtin cannot do the work: each costs a
 * tenth of a second on an emulated host, so one `stat` reads both files' mode and owner, and `chmod` or `chown`
 * runs only when they differ.
 */
export function atomicWriteScript(path: string, content: Buffer | string, options: FileAttributes = {}): ShellCommand {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const directory = path.replace(/\/[^/]*$/, '') || '/';
  const target = sh`${path}`.text;
  const keepAttributes = options.mode === undefined && options.owner === undefined && options.group === undefined;
  const attributes = keepAttributes
    ? [
        `if [ -e ${target} ]; then __keel_st=$(stat -c '%a %u:%g' -- ${target} "$__keel_tmp") && set -- $__keel_st && `,
        `{ [ "$1" = "$3" ] || chmod "$1" "$__keel_tmp"; } && { [ "$2" = "$4" ] || chown "$2" "$__keel_tmp"; }; `,
        `else chmod 644 "$__keel_tmp"; fi`,
      ].join('')
    : [
        ...(options.mode === undefined
          ? [`chmod "$(stat -c %a ${target} 2>/dev/null || echo 644)" "$__keel_tmp"`]
          : options.mode === MKTEMP_MODE
            ? []
            : [`chmod ${options.mode.toString(8).padStart(4, '0')} "$__keel_tmp"`]),
        options.owner === undefined && options.group === undefined
          ? `{ [ ! -e ${target} ] || chown "$(stat -c %u:%g ${target})" "$__keel_tmp"; }`
          : sh`chown -- ${`${options.owner ?? ''}${options.group === undefined ? '' : `:${options.group}`}`} "$__keel_tmp"`.text,
      ].join(' && ');
  const finish = `${attributes} && mv -f -- "$__keel_tmp" ${target} || { rm -f -- "$__keel_tmp"; false; }`;
  const create = sh`__keel_tmp=$(mktemp ${`${directory}/.keel.XXXXXX`})`.text;
  // Reports show the size, never the content: it may be large, or secret.
  if (isShellText(bytes)) {
    const write = (text: string): string => `${create}\nprintf '%s' ${text} > "$__keel_tmp" && ${finish}`;
    return new ShellCommand(write(quote(bytes.toString('utf8'))), write(`(${bytes.length} bytes)`));
  }
  const encoded = bytes.toString('base64').replace(/.{76}/g, '$&\n');
  const write = (body: string): string =>
    [create, `{ base64 -d > "$__keel_tmp" <<'__KEEL_CONTENT__'`, body, '__KEEL_CONTENT__', `} && ${finish}`].join('\n');
  return new ShellCommand(write(encoded), write(`(${bytes.length} bytes, base64)`));
}
