/**
 * A symbolic link at `path` pointing to `target`. A link pointing elsewhere is replaced; a regular file or a
 * directory in its place is refused unless `force`, since replacing it loses what it holds.
 */
import { posix } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineResource, fieldChange, Unknowable } from '../engine/resource.js';
import { AbsolutePath, StringEnum } from '../schema/index.js';
import { type ShellCommand, sh } from '../shell/index.js';

const SymlinkParams = Type.Object(
  {
    path: AbsolutePath,
    /** What the link points to, absolute or relative to the link's directory; it need not exist. */
    target: Type.String({ pattern: '^[^\\x00-\\x1f\\x7f]+$', maxLength: 4096, title: 'a link target without control characters' }),
    /** Replace a regular file or a directory (with everything in it) standing where the link belongs. */
    force: Type.Optional(Type.Boolean()),
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
  },
  { additionalProperties: false },
);

type SymlinkType = 'symlink' | 'absent' | 'file' | 'directory' | 'other';

export interface SymlinkState {
  type: SymlinkType;
  /** Where the link points; null when there is no link. */
  target: string | null;
  /** Whether the directory that holds the link exists. */
  parentExists: boolean;
}

/** Read output: `symlink` and the target on the next line, or one word naming what is at the path. */
export function parseSymlinkRead(stdout: string): SymlinkState {
  const newline = stdout.indexOf('\n');
  const head = newline < 0 ? stdout : stdout.slice(0, newline);
  switch (head) {
    case 'symlink':
      // readlink ends the target with one newline; a target may itself end in spaces, so only that one goes.
      return { type: 'symlink', target: stdout.slice(newline + 1).replace(/\n$/, ''), parentExists: true };
    case 'file':
    case 'directory':
    case 'other':
    case 'absent':
      return { type: head, target: null, parentExists: true };
    case 'absent-parent':
      return { type: 'absent', target: null, parentExists: false };
  }
  throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
}

export const symlink = defineResource({
  type: 'symlink',
  schema: SymlinkParams,
  key: (params) => params.path,
  read(params) {
    const path = params.path;
    return {
      command: sh`if [ -L ${path} ]; then echo symlink; readlink -- ${path}
elif [ -f ${path} ]; then echo file
elif [ -d ${path} ]; then echo directory
elif [ -e ${path} ]; then echo other
elif [ -d ${posix.dirname(path)} ]; then echo absent
else echo absent-parent
fi`,
      parse({ stdout }) {
        const state = parseSymlinkRead(stdout);
        if (!state.parentExists && params.state !== 'absent') {
          return new Unknowable(`the directory ${posix.dirname(path)} does not exist`);
        }
        return state;
      },
    };
  },
  desired: (params): Partial<SymlinkState> => (params.state === 'absent' ? { type: 'absent' } : { type: 'symlink', target: params.target }),
  diff(params, current) {
    const replaces = current.type !== 'symlink' && current.type !== 'absent';
    if (params.state === 'absent') {
      if (replaces) throw new Error(`${params.path} is a ${current.type}, not a link; keel removes only links`);
      return current.type === 'absent' ? [] : [fieldChange('type', 'symlink', 'absent')];
    }
    if (replaces && !params.force) {
      throw new Error(`${params.path} is a ${current.type}; keel will not replace it with a link unless force is set`);
    }
    const changes = [];
    if (current.type !== 'symlink') changes.push(fieldChange('type', current.type, 'symlink'));
    if (current.target !== params.target) changes.push(fieldChange('target', current.target, params.target));
    return changes;
  },
  apply(params, current) {
    const path = params.path;
    if (params.state === 'absent') return [sh`rm -f -- ${path}`];
    const steps: ShellCommand[] = [];
    if (current.type === 'directory') steps.push(sh`rm -rf -- ${path}`);
    // -n: a link to a directory is replaced, not followed into; -f: ln unlinks what is there first.
    steps.push(sh`ln -sfn -- ${params.target} ${path}`);
    return steps;
  },
});
