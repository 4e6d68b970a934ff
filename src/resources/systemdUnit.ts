/**
 * A systemd unit file in /etc/systemd/system, or one drop-in under `NAME.d/`. Its content is written atomically;
 * `systemctl daemon-reload` runs once per host after any unit changed, before the first resource that requires
 * a changed unit (a `service` that starts it) or else before the handlers. Starting and enabling are `service`'s.
 */
import { Type } from '@sinclair/typebox';
import { defineResource, fieldChange } from '../engine/resource.js';
import { StringEnum } from '../schema/index.js';
import { atomicWriteScript, ensureDirectory, sh } from '../shell/index.js';

const UNIT_DIRECTORY = '/etc/systemd/system';

const SystemdUnitParams = Type.Object(
  {
    /** The unit with its type: `keel-check.service`, `keel-check.timer`, `getty@tty1.service`. */
    name: Type.String({
      pattern: '^[A-Za-z0-9:_\\\\][A-Za-z0-9:_.@\\\\-]*\\.(service|socket|timer|target|mount|automount|path|slice|swap)$',
      maxLength: 256,
      title: 'a unit name with its type, such as nginx.service',
    }),
    /** A drop-in's name (`10-limits`): the file is `NAME.d/DROPIN.conf` and overrides parts of the unit. */
    dropIn: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$', maxLength: 200, title: 'a drop-in name such as 10-limits' }),
    ),
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
    /** The whole file, required unless state is absent. */
    content: Type.Optional(Type.String({ maxLength: 1024 * 1024 })),
  },
  { additionalProperties: false },
);

export interface SystemdUnitState {
  /** The file's text; null when there is none, or a symlink stands at the path. */
  content: string | null;
  /** Where a symlink at the path points: `/dev/null` for a masked unit. Writing the unit replaces it. */
  link: string | null;
}

function unitPath(params: { name: string; dropIn?: string }): string {
  return params.dropIn === undefined ? `${UNIT_DIRECTORY}/${params.name}` : `${UNIT_DIRECTORY}/${params.name}.d/${params.dropIn}.conf`;
}

/** `absent`; `link` and the symlink's target; or `present` and the file in base64. */
export function parseUnitRead(stdout: string): SystemdUnitState {
  const [head, ...body] = stdout.split('\n');
  if (head === 'absent') return { content: null, link: null };
  if (head === 'link') return { content: null, link: body[0] ?? '' };
  if (head !== 'present') throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
  return { content: Buffer.from(body.join(''), 'base64').toString('utf8'), link: null };
}

export const systemdUnit = defineResource({
  type: 'systemdUnit',
  schema: SystemdUnitParams,
  check: (params) =>
    params.state !== 'absent' && params.content === undefined
      ? [{ path: ['content'], message: 'is required unless state is "absent"' }]
      : [],
  key: (params) => (params.dropIn === undefined ? params.name : `${params.name}.d/${params.dropIn}`),
  read(params) {
    const path = unitPath(params);
    return {
      command: sh`if [ -L ${path} ]; then echo link; readlink ${path}
elif [ -f ${path} ]; then echo present; base64 ${path}
else echo absent
fi`,
      parse: ({ stdout }) => parseUnitRead(stdout),
    };
  },
  desired: (params) => ({ content: params.state === 'absent' ? null : params.content!, link: null }),
  diff(params, current) {
    const wanted = params.state === 'absent' ? null : params.content!;
    return [
      ...(current.link === null ? [] : [fieldChange('link', current.link, null)]),
      ...(current.content === wanted ? [] : [fieldChange('content', current.content, wanted)]),
    ];
  },
  apply(params) {
    const path = unitPath(params);
    if (params.state === 'absent') return [sh`rm -f -- ${path}`];
    const steps = params.dropIn === undefined ? [] : [ensureDirectory(`${UNIT_DIRECTORY}/${params.name}.d`)];
    return [...steps, atomicWriteScript(path, params.content!, { mode: 0o644, owner: '0', group: '0' })];
  },
  settle: { name: 'daemon-reload', commands: [sh`systemctl daemon-reload`] },
});
