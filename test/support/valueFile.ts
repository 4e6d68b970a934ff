/** A tiny resource for engine tests: a value kept in a file. Its apply can be told to lie or to fail. */
import { Type } from '@sinclair/typebox';
import { defineResource, type ShellCommand, sh, Unknowable } from '../../src/index.js';

export const valueFile = defineResource({
  type: 'valueFile',
  schema: Type.Object(
    {
      path: Type.String(),
      value: Type.String(),
      /** `noop`: apply claims success but changes nothing. `fail`: apply exits 3 with a message. */
      behaviour: Type.Optional(Type.Union([Type.Literal('honest'), Type.Literal('noop'), Type.Literal('fail')])),
      /** Unknowable until this other file exists (like a unit that appears once its package is installed). */
      needs: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  key: (params) => params.path,
  read: (params) => ({
    command: params.needs
      ? sh`if [ -e ${params.needs} ]; then cat ${params.path} 2>/dev/null || printf '%s' '<absent>'; else printf '%s' '<unknowable>'; fi`
      : sh`cat ${params.path} 2>/dev/null || printf '%s' '<absent>'`,
    parse: ({ stdout }) =>
      stdout === '<unknowable>' ? new Unknowable(`${params.needs} does not exist`) : { value: stdout === '<absent>' ? null : stdout },
  }),
  desired: (params) => ({ value: params.value }),
  apply(params): ShellCommand[] {
    if (params.behaviour === 'noop') return [sh`true`];
    if (params.behaviour === 'fail') return [sh`echo ${'disk full on purpose'} >&2; exit 3`];
    return [sh`printf '%s' ${params.value} > ${params.path}`];
  },
  actions: {
    restart: (params) => [sh`echo restarted >> ${`${params.path}.restarts`}`],
  },
});
