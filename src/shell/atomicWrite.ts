import { randomBytes } from 'node:crypto';
import { quote, ShellCommand, sh } from './command.js';

export interface FileAttributes {
  mode?: number;
  owner?: string;
  group?: string;
}

/** The permission bits a file created by a shell redirection can have: the rest need `chmod`. */
const CREATABLE_BITS = 0o666;

/** Text travels as a quoted argument of the printf builtin; bytes a shell string cannot hold, base64-encoded. */
function isShellText(bytes: Buffer): boolean {
  return !bytes.includes(0) && Buffer.from(bytes.toString('utf8')).equals(bytes);
}

/** The octal umask under which a redirection creates a file of `mode`'s read and write bits. */
function umaskFor(mode: number): string {
  return (0o777 & ~mode).toString(8).padStart(3, '0');
}

/**
 * Script fragment that writes `content` to `path` atomically, inside the script, so no second stream is needed.
 * Without an explicit mode or owner, a file that exists keeps its own (rewriting /etc/shadow must not make it
 * world-readable); a new one gets 0644.
 *
 * A program starts only where a builtin cannot do the work: each costs a tenth of a second on an emulated host. The
 * temporary file beside the target has a name no one can guess, and the shell creates it under noclobber (as
 * mktemp would, refusing a name that exists) already with the mode it must have, so `chmod` runs only for bits a
 * creation cannot give (execute, setuid, sticky). One `stat` reads the mode and owner of a file that exists, and
 * `chown` runs only when that owner is not the shell's own.
 */
export function atomicWriteScript(path: string, content: Buffer | string, options: FileAttributes = {}): ShellCommand {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const directory = path.replace(/\/[^/]*$/, '') || '/';
  const target = sh`${path}`.text;
  const temporary = sh`__keel_tmp=${`${directory.replace(/\/$/, '')}/.keel.${randomBytes(6).toString('hex')}`}`.text;
  const ownerGiven = options.owner !== undefined || options.group !== undefined;
  // `$1` and `$2`: the mode and uid:gid the file has now, or 644 and nothing for a new one.
  const current =
    options.mode === undefined
      ? `__keel_st=644 && { [ ! -e ${target} ] || __keel_st=$(stat -L -c '%a %u:%g' -- ${target}); } && set -- $__keel_st && `
      : '';
  const umask =
    options.mode === undefined
      ? { set: '__keel_u=$((0777 & ~0$1)) && ', value: '$((__keel_u >> 6))$((__keel_u >> 3 & 7))$((__keel_u & 7))' }
      : { set: '', value: umaskFor(options.mode & CREATABLE_BITS) };
  const chmod =
    options.mode === undefined
      ? [`case $1 in *[1357]*|????*) chmod "$1" "$__keel_tmp";; esac`]
      : (options.mode & ~CREATABLE_BITS) === 0
        ? []
        : [`chmod ${options.mode.toString(8).padStart(4, '0')} "$__keel_tmp"`];
  // In a setgid directory the new file takes the directory's group, not the shell's.
  const ownedByShell = sh`[ -O ${path} ] && [ -G ${path} ] && [ ! -g ${directory} ]`.text;
  const chown = ownerGiven
    ? sh`chown -- ${`${options.owner ?? ''}${options.group === undefined ? '' : `:${options.group}`}`} "$__keel_tmp"`.text
    : options.mode === undefined
      ? `{ [ -z "$2" ] || { ${ownedByShell}; } || chown "$2" "$__keel_tmp"; }`
      : `{ [ ! -e ${target} ] || { ${ownedByShell}; } || chown "$(stat -L -c %u:%g -- ${target})" "$__keel_tmp"; }`;
  const finish = [...chmod, chown, `mv -f -- "$__keel_tmp" ${target}`].join(' && ');
  // `command` writes the content to stdout, from `heredoc` when given: the temporary file, once it is created. A shell
  // that does not end at a failed `exec` redirection, as POSIX says it must, would otherwise print the content.
  const create = (command: string, heredoc?: string): string =>
    [
      temporary,
      `if ${current}${umask.set}( umask ${umask.value}; set -C; exec >"$__keel_tmp" || exit 1; ${command} || { rm -f -- "$__keel_tmp"; exit 1; }`,
      ...(heredoc === undefined ? [] : [heredoc, '__KEEL_CONTENT__']),
      `); then ${finish} || { rm -f -- "$__keel_tmp"; false; }; else false; fi`,
    ].join('\n');
  // Reports show the size, never the content: it may be large, or secret.
  if (isShellText(bytes)) {
    const write = (text: string): string => create(`printf '%s' ${text}`);
    return new ShellCommand(write(quote(bytes.toString('utf8'))), write(`(${bytes.length} bytes)`));
  }
  const encoded = bytes.toString('base64').replace(/.{76}/g, '$&\n');
  const write = (body: string): string => create("base64 -d <<'__KEEL_CONTENT__'", body);
  return new ShellCommand(write(encoded), write(`(${bytes.length} bytes, base64)`));
}
