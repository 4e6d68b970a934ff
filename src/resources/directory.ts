/**
 * A directory: its owner, group and mode, and with `recursive` those of everything beneath it. Created with its
 * parents; removed only when empty, so a recipe never deletes data it did not know was there.
 */
import { Type } from '@sinclair/typebox';
import { defineResource, type FieldChange, fieldChange } from '../engine/resource.js';
import { AbsolutePath, FileMode, StringEnum, UserOrGroup } from '../schema/index.js';
import { type ShellCommand, sh } from '../shell/index.js';

const DirectoryParams = Type.Object(
  {
    path: AbsolutePath,
    owner: Type.Optional(UserOrGroup),
    group: Type.Optional(UserOrGroup),
    mode: Type.Optional(FileMode),
    /** Give everything beneath the directory its owner, group and mode too (`chown -R`, `chmod -R`). */
    recursive: Type.Optional(Type.Boolean()),
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
  },
  { additionalProperties: false },
);

export interface DirectoryState {
  type: 'directory' | 'absent' | 'symlink' | 'other';
  owner: string | null;
  uid: number | null;
  group: string | null;
  gid: number | null;
  /** Four octal digits, e.g. `0755`. */
  mode: string | null;
  empty: boolean | null;
  /** With `recursive`: how many entries beneath have another owner, group or mode; otherwise null. */
  differingBeneath: number | null;
}

const NOTHING = { owner: null, uid: null, group: null, gid: null, mode: null, empty: null, differingBeneath: null };

const octal = (mode: string): string => Number.parseInt(mode, 8).toString(8).padStart(4, '0');

/**
 * Read output: `absent`, `symlink` or `other`, or `directory UID USER GID GROUP MODE empty|not-empty`, then with
 * `recursive` a line `beneath N`.
 */
export function parseDirectoryRead(stdout: string): DirectoryState {
  const [head = '', next = ''] = stdout.split('\n');
  if (head === 'absent' || head === 'symlink' || head === 'other') return { type: head, ...NOTHING };
  const stat = /^directory (\d+) (\S+) (\d+) (\S+) ([0-7]+) (empty|not-empty)$/.exec(head);
  if (!stat) throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
  const [, uid, owner, gid, group, mode, empty] = stat as unknown as string[];
  const beneath = /^beneath (\d+)$/.exec(next);
  return {
    type: 'directory',
    // stat says UNKNOWN for an id without a name; the id itself is the better name.
    owner: owner === 'UNKNOWN' ? uid! : owner!,
    uid: Number(uid),
    group: group === 'UNKNOWN' ? gid! : group!,
    gid: Number(gid),
    mode: octal(mode!),
    empty: empty === 'empty',
    differingBeneath: beneath ? Number(beneath[1]) : null,
  };
}

/** find's test for an entry that differs from the wanted owner, group or mode; each is given by name or by id. */
function differsTest(params: { owner?: string; group?: string; mode?: string }): ShellCommand | null {
  const tests: ShellCommand[] = [];
  if (params.owner !== undefined) tests.push(/^\d+$/.test(params.owner) ? sh`! -uid ${params.owner}` : sh`! -user ${params.owner}`);
  if (params.group !== undefined) tests.push(/^\d+$/.test(params.group) ? sh`! -gid ${params.group}` : sh`! -group ${params.group}`);
  if (params.mode !== undefined) tests.push(sh`! -perm ${octal(params.mode)}`);
  if (tests.length === 0) return null;
  return sh`\\( ${tests.reduce((all, test) => sh`${all} -o ${test}`)} \\)`;
}

const matches = (wanted: string | undefined, name: string | null, id: number | null): boolean =>
  wanted === undefined || wanted === name || wanted === String(id);

export const directory = defineResource({
  type: 'directory',
  schema: DirectoryParams,
  key: (params) => params.path,
  read(params) {
    const path = params.path;
    const test = params.recursive ? differsTest(params) : null;
    const beneath = test ? sh`\necho "beneath $(find ${path} -mindepth 1 ${test} -print | wc -l)"` : sh``;
    return {
      command: sh`if [ -L ${path} ]; then echo symlink
elif [ -d ${path} ]; then
  if [ -z "$(ls -A -- ${path})" ]; then __keel_empty=empty; else __keel_empty=not-empty; fi
  printf '%s %s\n' "$(stat -c 'directory %u %U %g %G %a' -- ${path})" "$__keel_empty"${beneath}
elif [ -e ${path} ]; then echo other
else echo absent
fi`,
      parse: (output) => parseDirectoryRead(output.stdout),
    };
  },
  desired: (params): Partial<DirectoryState> => {
    if (params.state === 'absent') return { type: 'absent' };
    return {
      type: 'directory',
      ...(params.owner === undefined ? {} : { owner: params.owner }),
      ...(params.group === undefined ? {} : { group: params.group }),
      ...(params.mode === undefined ? {} : { mode: octal(params.mode) }),
      ...(params.recursive ? { differingBeneath: 0 } : {}),
    };
  },
  diff(params, current) {
    const path = params.path;
    if (current.type === 'symlink' || current.type === 'other')
      throw new Error(`${path} is ${current.type === 'symlink' ? 'a symlink' : 'not a directory'}; keel will not replace it`);
    if (params.state === 'absent') {
      if (current.type === 'absent') return [];
      if (!current.empty) throw new Error(`${path} is not empty; keel removes only empty directories`);
      return [fieldChange('type', 'directory', 'absent')];
    }
    const changes: FieldChange<keyof DirectoryState>[] = [];
    if (current.type === 'absent') changes.push(fieldChange('type', 'absent', 'directory'));
    if (!matches(params.owner, current.owner, current.uid)) changes.push(fieldChange('owner', current.owner, params.owner));
    if (!matches(params.group, current.group, current.gid)) changes.push(fieldChange('group', current.group, params.group));
    if (params.mode !== undefined && current.mode !== octal(params.mode))
      changes.push(fieldChange('mode', current.mode, octal(params.mode)));
    if (params.recursive && current.differingBeneath) changes.push(fieldChange('differingBeneath', current.differingBeneath, 0));
    return changes;
  },
  apply(params, _current, changes) {
    const path = params.path;
    if (params.state === 'absent') return [sh`rmdir -- ${path}`];
    const changed = new Set(changes.map((change) => change.field));
    const steps: ShellCommand[] = [];
    if (changed.has('type')) steps.push(sh`mkdir -p -- ${path}`);
    const recursive = params.recursive ? sh`-R ` : sh``;
    const all = params.recursive && changed.has('differingBeneath');
    const account = `${params.owner ?? ''}${params.group === undefined ? '' : `:${params.group}`}`;
    if (account !== '' && (all || changed.has('type') || changed.has('owner') || changed.has('group'))) {
      steps.push(sh`chown ${recursive}-- ${account} ${path}`);
    }
    if (params.mode !== undefined && (all || changed.has('type') || changed.has('mode'))) {
      // Five digits: chmod keeps a directory's setgid bit through a four-digit mode that lacks it.
      steps.push(sh`chmod ${recursive}-- ${`0${octal(params.mode)}`} ${path}`);
    }
    return steps;
  },
});
