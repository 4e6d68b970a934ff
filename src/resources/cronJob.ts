/**
 * A cron job: one file `/etc/cron.d/NAME` holding its environment lines and its schedule line, written whole.
 * cron reads the directory itself, so no reload is needed.
 */
import { Type } from '@sinclair/typebox';
import { defineResource, type FieldChange, fieldChange } from '../engine/resource.js';
import { AccountName, StringEnum } from '../schema/index.js';
import { atomicWriteScript, ensureDirectory, printTextFile, sh } from '../shell/index.js';

const FIELD = '(?:\\*|[0-9]{1,2}(?:-[0-9]{1,2})?|[A-Za-z]{3}(?:-[A-Za-z]{3})?)(?:/[0-9]{1,2})?';
const FIELD_LIST = `${FIELD}(?:,${FIELD})*`;

export const CronSchedule = Type.String({
  pattern: `^(?:@(?:reboot|yearly|annually|monthly|weekly|daily|midnight|hourly)|${FIELD_LIST}(?: ${FIELD_LIST}){4})$`,
  maxLength: 256,
  title: 'a cron schedule: five fields such as "*/5 * * * *", or @reboot, @hourly, @daily, @weekly, @monthly, @yearly',
});

const PRINTABLE_LINE = '^[^\\x00-\\x1f\\x7f]*$';

const CronJobParams = Type.Object(
  {
    /** The file's name under /etc/cron.d; cron skips names with a dot, so none is allowed. */
    name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', title: 'a cron.d file name: letters, digits, _ and -' }),
    schedule: CronSchedule,
    user: Type.Optional(AccountName),
    /** One line of shell, run by the user's shell. A `%` is written escaped, so it reaches the command as `%`. */
    command: Type.String({ pattern: PRINTABLE_LINE, minLength: 1, maxLength: 4096, title: 'one line without control characters' }),
    /** Environment lines (`MAILTO`, `PATH`, …) written above the schedule line. */
    env: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
        Type.String({ pattern: PRINTABLE_LINE, maxLength: 4096, title: 'one line without control characters' }),
        { additionalProperties: false, title: 'environment variables: names of letters, digits and _' },
      ),
    ),
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
  },
  { additionalProperties: false },
);

export interface CronJobState {
  exists: boolean;
  content: string | null;
  /** Octal mode and owner: cron ignores a file another user owns or others may write. */
  mode: string | null;
  owner: string | null;
}

const CRON_DIRECTORY = '/etc/cron.d';

const fileOf = (name: string): string => `${CRON_DIRECTORY}/${name}`;

/** The file for these parameters. */
export function cronFile(params: { name: string; schedule: string; user?: string; command: string; env?: Record<string, string> }): string {
  const env = Object.entries(params.env ?? {}).map(([name, value]) => `${name}=${value}\n`);
  const command = params.command.replace(/%/g, '\\%');
  return `# Written by keel (cronJob ${params.name}).\n${env.join('')}${params.schedule} ${params.user ?? 'root'} ${command}\n`;
}

/** Read output: `absent`, or `present MODE OWNER` and the file's lines. */
export function parseCronJobRead(stdout: string): CronJobState {
  const newline = stdout.indexOf('\n');
  const head = newline < 0 ? stdout : stdout.slice(0, newline);
  if (head === 'absent') return { exists: false, content: null, mode: null, owner: null };
  const present = /^present ([0-7]+) (\S+)$/.exec(head);
  if (!present) throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
  return { exists: true, content: stdout.slice(newline + 1), mode: present[1]!.padStart(4, '0'), owner: present[2]! };
}

export const cronJob = defineResource({
  type: 'cronJob',
  schema: CronJobParams,
  key: (params) => params.name,
  read(params) {
    const path = fileOf(params.name);
    return {
      command: sh`if [ -f ${path} ]; then echo "present $(stat -c '%a %U' -- ${path})"; ${printTextFile(path)}; else echo absent; fi`,
      parse: (output) => parseCronJobRead(output.stdout),
    };
  },
  desired: (params): Partial<CronJobState> =>
    params.state === 'absent' ? { exists: false } : { exists: true, content: cronFile(params), mode: '0644', owner: 'root' },
  diff(params, current) {
    if (params.state === 'absent') return current.exists ? [fieldChange('exists', true, false)] : [];
    const changes: FieldChange<keyof CronJobState>[] = [];
    if (!current.exists) changes.push(fieldChange('exists', false, true));
    const content = cronFile(params);
    if (current.content !== content) changes.push(fieldChange('content', current.content, content));
    if (current.exists && current.mode !== '0644') changes.push(fieldChange('mode', current.mode, '0644'));
    if (current.exists && current.owner !== 'root') changes.push(fieldChange('owner', current.owner, 'root'));
    return changes;
  },
  apply(params) {
    const path = fileOf(params.name);
    if (params.state === 'absent') return [sh`rm -f -- ${path}`];
    return [ensureDirectory(CRON_DIRECTORY), atomicWriteScript(path, cronFile(params), { mode: 0o644, owner: 'root', group: 'root' })];
  },
});
