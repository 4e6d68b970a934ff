/**
 * A local group: its existence, its gid and, at creation, whether it is a system group. Created with `groupadd`,
 * renumbered with `groupmod`, removed with `groupdel`.
 */
import { Type } from '@sinclair/typebox';
import { defineResource } from '../engine/resource.js';
import { AccountName, StringEnum } from '../schema/index.js';
import { type ShellCommand, sh } from '../shell/index.js';

const GroupParams = Type.Object(
  {
    name: AccountName,
    gid: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967294 })),
    /** A system group (a gid from the system range); only consulted when the group is created. */
    system: Type.Optional(Type.Boolean()),
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
  },
  { additionalProperties: false },
);

export interface GroupState {
  exists: boolean;
  gid: number | null;
}

const ABSENT = 'absent';

/** Read output: the group's `getent group` line (`name:x:gid:members`), or `absent`. */
export function parseGroupRead(stdout: string, name: string): GroupState {
  const line = stdout.replace(/\n$/, '');
  if (line === ABSENT) return { exists: false, gid: null };
  const fields = line.split(':');
  if (fields.length !== 4 || fields[0] !== name || !/^\d+$/.test(fields[2]!)) {
    throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
  }
  return { exists: true, gid: Number(fields[2]) };
}

export const group = defineResource({
  type: 'group',
  schema: GroupParams,
  key: (params) => params.name,
  read(params) {
    return {
      // getent exits 2 for a missing group; any other failure is the host's, and parse refuses its output.
      command: sh`getent group ${params.name} || echo ${ABSENT}`,
      parse: (output) => parseGroupRead(output.stdout, params.name),
    };
  },
  desired(params) {
    if (params.state === 'absent') return { exists: false };
    return params.gid === undefined ? { exists: true } : { exists: true, gid: params.gid };
  },
  apply(params, _current, changes) {
    const name = params.name;
    if (params.state === 'absent') return [sh`groupdel -- ${name}`];
    if (changes.some((change) => change.field === 'exists')) {
      const options: ShellCommand[] = [];
      if (params.gid !== undefined) options.push(sh`-g ${params.gid}`);
      if (params.system) options.push(sh`-r`);
      return [sh`groupadd ${options} -- ${name}`];
    }
    return [sh`groupmod -g ${params.gid!} -- ${name}`];
  },
});
