/**
 * A regular file: content, owner, group and mode, or its absence. Content is written atomically (a temporary
 * file beside it, renamed into place); owner and mode alone are changed in place without rewriting it.
 */

import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { defineResource, type FieldChange, fieldChange, Unknowable } from '../engine/resource.js';
import { AbsolutePath, FileAttributes, SecretString, StringEnum } from '../schema/index.js';
import { atomicWriteScript, REDACTED, Secret, type ShellCommand, sh } from '../shell/index.js';

const FileParams = Type.Object(
  {
    path: AbsolutePath,
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
    /**
     * The whole content. Unset: the content is not managed (a missing file is created empty). A `Secret` (a
     * `SecretString` var, or `template` filled with one) never reaches a report, not even as a checksum.
     */
    content: Type.Optional(Type.Union([Type.String({ maxLength: 16 * 1024 * 1024 }), SecretString])),
    ...FileAttributes,
  },
  { additionalProperties: false },
);

type FileType = 'file' | 'absent' | 'symlink' | 'directory' | 'other';

export interface FileState {
  type: FileType;
  /** Whether the parent directory exists (meaningful when the file is absent). */
  parentExists: boolean;
  /** The content as text; null when there is no regular file or it is larger than the read limit. */
  content: string | null;
  sha256: string | null;
  owner: string | null;
  uid: number | null;
  group: string | null;
  gid: number | null;
  /** Four octal digits, e.g. `0644`. */
  mode: string | null;
}

/** Files up to this size are read whole; larger ones are compared by checksum. */
export const CONTENT_READ_LIMIT = 1024 * 1024;

const NO_FILE = { content: null, sha256: null, owner: null, uid: null, group: null, gid: null, mode: null };

export function normaliseMode(mode: string): string {
  return Number.parseInt(mode, 8).toString(8).padStart(4, '0');
}

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `stat` says UNKNOWN for an id without a name; the id itself is the better name. */
function accountName(name: string, id: string): string {
  return name === 'UNKNOWN' ? id : name;
}

/**
 * Output of the read command: one line naming what is at the path; for a regular file, a `stat` line
 * (`file UID USER GID GROUP MODE SIZE`), then `base64` and the encoded content, or `sha256 HEX` for large files.
 */
export function parseFileRead(stdout: string): FileState {
  const lines = stdout.split('\n');
  const head = lines[0] ?? '';
  switch (head) {
    case 'absent':
      return { type: 'absent', parentExists: true, ...NO_FILE };
    case 'absent-parent':
      return { type: 'absent', parentExists: false, ...NO_FILE };
    case 'symlink':
    case 'directory':
    case 'other':
      return { type: head, parentExists: true, ...NO_FILE };
  }
  const stat = /^file (\d+) (\S+) (\d+) (\S+) ([0-7]+) (\d+)$/.exec(head);
  if (!stat) throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
  const [, uid, owner, gid, group, mode] = stat as unknown as [string, string, string, string, string, string];
  const body = lines.slice(1);
  const metadata = {
    type: 'file' as const,
    parentExists: true,
    owner: accountName(owner, uid),
    uid: Number(uid),
    group: accountName(group, gid),
    gid: Number(gid),
    mode: normaliseMode(mode),
  };
  if (body[0] === 'base64') {
    const bytes = Buffer.from(body.slice(1).join(''), 'base64');
    return { ...metadata, content: bytes.toString('utf8'), sha256: sha256(bytes) };
  }
  const checksum = /^sha256 ([0-9a-f]{64})$/.exec(body[0] ?? '');
  if (!checksum) throw new Error(`unexpected content section: ${JSON.stringify((body[0] ?? '').slice(0, 80))}`);
  return { ...metadata, content: null, sha256: checksum[1]! };
}

const TEMPLATE_PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

type TemplateValue = string | number | boolean;

/**
 * Fills `{{name}}` placeholders from `vars`. A placeholder without a value is an error, never an empty string.
 * Filled with a `Secret`, the whole text is secret.
 */
export function template(text: string, vars: Record<string, TemplateValue>): string;
export function template(text: string, vars: Record<string, TemplateValue | Secret>): string | Secret;
export function template(text: string, vars: Record<string, TemplateValue | Secret>): string | Secret {
  let secret = false;
  const filled = text.replace(TEMPLATE_PLACEHOLDER, (_placeholder, name: string) => {
    if (!Object.hasOwn(vars, name)) throw new Error(`the template uses {{${name}}}, which its vars do not define`);
    const value = vars[name]!;
    if (!(value instanceof Secret)) return String(value);
    secret = true;
    return value.reveal();
  });
  return secret ? new Secret(filled) : filled;
}

/** What stands for a secret content's checksum in the read state: whether the file holds it, never its hash. */
const HOLDS_SECRET = `${REDACTED}: the secret`;
const HOLDS_OTHER = `${REDACTED}: not the secret`;

function contentText(params: Static<typeof FileParams>): string | undefined {
  return params.content instanceof Secret ? params.content.reveal() : params.content;
}

/** The checksum the content should have, as the read state spells it. */
function wantedChecksum(params: Static<typeof FileParams>, text: string): string {
  return params.content instanceof Secret ? HOLDS_SECRET : sha256(text);
}

function sameAccount(wanted: string, name: string | null, id: number | null): boolean {
  return wanted === name || wanted === String(id);
}

/** A unified diff of the text, or checksums when the content is sensitive or too large to have been read; nothing of a Secret. */
function contentChange(current: FileState, wanted: string, params: Static<typeof FileParams>): FieldChange<'content'> {
  if (params.content instanceof Secret) return { field: 'content', from: current.type === 'file' ? REDACTED : null, to: REDACTED };
  const byChecksum = params.sensitive || (current.sha256 !== null && current.content === null);
  if (byChecksum) return { field: 'content', from: current.sha256 && `sha256:${current.sha256}`, to: `sha256:${sha256(wanted)}` };
  return fieldChange('content', current.content, wanted);
}

function desiredState(params: Static<typeof FileParams>): Partial<FileState> {
  if (params.state === 'absent') return { type: 'absent' };
  const content = contentText(params);
  const hidden = params.sensitive || params.content instanceof Secret;
  return {
    type: 'file',
    ...(content === undefined ? {} : { content: hidden ? null : content, sha256: wantedChecksum(params, content) }),
    ...(params.owner === undefined ? {} : { owner: params.owner }),
    ...(params.group === undefined ? {} : { group: params.group }),
    ...(params.mode === undefined ? {} : { mode: normaliseMode(params.mode) }),
  };
}

export const file = defineResource({
  type: 'file',
  schema: FileParams,
  key: (params) => params.path,
  read(params) {
    const path = params.path;
    const parent = posix.dirname(path);
    return {
      command: sh`if [ -L ${path} ]; then echo symlink
elif [ -d ${path} ]; then echo directory
elif [ -f ${path} ]; then
  set -f; set -- $(stat -c '%u %U %g %G %a %s' ${path})
  echo "file $*"
  if [ "$6" -le ${CONTENT_READ_LIMIT} ]; then echo base64; base64 ${path}; else printf 'sha256 '; sha256sum < ${path} | cut -c1-64; fi
elif [ -e ${path} ]; then echo other
elif [ -d ${parent} ]; then echo absent
else echo absent-parent
fi`,
      parse({ stdout }) {
        const state = parseFileRead(stdout);
        if (params.content instanceof Secret) {
          if (state.sha256 !== null) state.sha256 = state.sha256 === sha256(params.content.reveal()) ? HOLDS_SECRET : HOLDS_OTHER;
          state.content = null;
        }
        if (params.sensitive) state.content = null;
        if (!state.parentExists && params.state !== 'absent' && !params.makeParents) {
          return new Unknowable(`the directory ${parent} does not exist (set makeParents to create it)`);
        }
        return state;
      },
    };
  },
  /** What reports show as desired; the comparison itself is `diff`, which knows names and ids are one owner. */
  desired: desiredState,
  diff(params, current) {
    if (current.type === 'directory') throw new Error(`${params.path} is a directory; keel will not replace it`);
    if (params.state === 'absent') return current.type === 'absent' ? [] : [fieldChange('type', current.type, 'absent')];
    const changes: FieldChange<keyof FileState>[] = [];
    if (current.type !== 'file') changes.push(fieldChange('type', current.type, 'file'));
    const wanted = contentText(params) ?? (current.type === 'file' ? undefined : '');
    if (wanted !== undefined && current.sha256 !== wantedChecksum(params, wanted)) changes.push(contentChange(current, wanted, params));
    if (params.owner !== undefined && !sameAccount(params.owner, current.owner, current.uid))
      changes.push(fieldChange('owner', current.owner, params.owner));
    if (params.group !== undefined && !sameAccount(params.group, current.group, current.gid))
      changes.push(fieldChange('group', current.group, params.group));
    if (params.mode !== undefined && current.mode !== normaliseMode(params.mode))
      changes.push(fieldChange('mode', current.mode, normaliseMode(params.mode)));
    return changes;
  },
  apply(params, current, changes) {
    const path = params.path;
    if (params.state === 'absent') return [sh`rm -f -- ${path}`];
    const changed = new Set(changes.map((change) => change.field));
    if (changed.has('type') || changed.has('content')) {
      const steps: ShellCommand[] = current.parentExists ? [] : [sh`mkdir -p -- ${posix.dirname(path)}`];
      const mode = params.mode ?? current.mode ?? '0644';
      // Neither managed: the write keeps the file's own owner, and starts `chown` only when it is not the shell's.
      const ownershipManaged = params.owner !== undefined || params.group !== undefined;
      steps.push(
        atomicWriteScript(path, contentText(params) ?? '', {
          mode: Number.parseInt(mode, 8),
          ...(ownershipManaged ? { owner: params.owner ?? current.uid?.toString(), group: params.group ?? current.gid?.toString() } : {}),
        }),
      );
      return steps;
    }
    const steps: ShellCommand[] = [];
    if (changed.has('owner'))
      steps.push(sh`chown -- ${params.group && changed.has('group') ? `${params.owner}:${params.group}` : params.owner!} ${path}`);
    else if (changed.has('group')) steps.push(sh`chgrp -- ${params.group!} ${path}`);
    if (changed.has('mode')) steps.push(sh`chmod -- ${normaliseMode(params.mode!)} ${path}`);
    return steps;
  },
});
