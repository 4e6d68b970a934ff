/**
 * lineInFile: one line in a text file, found by a regular expression and replaced, or appended when no
 * line matches. The rest of the file is left as it is.
 */
import { AbsolutePath, defineResource, fieldChange, StringEnum, sh, Type, Unknowable, writeFileScript } from 'keel';

const MISSING = '<keel:no-such-file>';

/** Pure: what the file holds for this resource. */
export function findLine(content: string, match: RegExp): string | null {
  return content.split('\n').find((line) => match.test(line)) ?? null;
}

/** Pure: the file with the matching line replaced (or removed), or the line appended. */
export function rewrite(content: string, match: RegExp, line: string | null): string {
  const lines = content === '' ? [] : content.replace(/\n$/, '').split('\n');
  const index = lines.findIndex((candidate) => match.test(candidate));
  if (line === null) return index < 0 ? content : `${lines.filter((candidate) => !match.test(candidate)).join('\n')}\n`;
  if (index < 0) lines.push(line);
  else lines[index] = line;
  return `${lines.join('\n')}\n`;
}

export const lineInFile = defineResource({
  type: 'lineInFile',
  schema: Type.Object(
    {
      path: AbsolutePath,
      /** The exact line wanted. */
      line: Type.String({ pattern: '^[^\\n]*$', maxLength: 4096 }),
      /** A regular expression finding the line to replace; defaults to the line itself. */
      match: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
      state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
    },
    { additionalProperties: false },
  ),
  key: (params) => `${params.path}:${params.match ?? params.line}`,
  read: (params) => ({
    command: sh`cat ${params.path} 2>/dev/null || printf '%s' ${MISSING}`,
    parse: ({ stdout }) => {
      if (stdout === MISSING) return new Unknowable(`${params.path} does not exist`);
      // The line that matches (null when none does), and the whole file, so apply can rewrite it keeping the other lines.
      return { line: findLine(stdout, matcher(params)), content: stdout };
    },
  }),
  diff: (params, current) => {
    const wanted = params.state === 'absent' ? null : params.line;
    return current.line === wanted ? [] : [fieldChange('line', current.line, wanted)];
  },
  apply: (params, current) => [
    writeFileScript(params.path, rewrite(current.content, matcher(params), params.state === 'absent' ? null : params.line)),
  ],
});

function matcher(params: { line: string; match?: string }): RegExp {
  return params.match ? new RegExp(params.match) : new RegExp(`^${params.line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}
