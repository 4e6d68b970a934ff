/**
 * A text file under a per-host root directory, so that many hosts run on one machine with LocalTransport
 * each have their own `/etc`. Ids carry the path inside the root, so the same file has the same id everywhere.
 */

import { dirname } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineResource, type ShellCommand, sh } from '../../src/index.js';

export const hostFile = defineResource({
  type: 'hostFile',
  schema: Type.Object(
    {
      root: Type.String(),
      path: Type.String({ pattern: '^/' }),
      content: Type.String(),
      /** Seconds the change takes, like a package download. */
      slowness: Type.Optional(Type.Number({ minimum: 0 })),
    },
    { additionalProperties: false },
  ),
  key: (params) => params.path,
  read: (params) => ({
    command: sh`cat ${params.root + params.path} 2>/dev/null || printf '%s' '<absent>'`,
    parse: ({ stdout }) => ({ content: stdout === '<absent>' ? null : stdout }),
  }),
  desired: (params) => ({ content: params.content }),
  apply(params): ShellCommand[] {
    const file = params.root + params.path;
    return [
      ...(params.slowness ? [sh`sleep ${params.slowness}`] : []),
      sh`mkdir -p ${dirname(file)} && printf '%s' ${params.content} > ${file}`,
    ];
  },
  actions: {
    reload: (params) => [sh`echo reloaded >> ${`${params.root}/reloads`}`],
  },
});
