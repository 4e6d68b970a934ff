/**
 * A local user account: uid, primary group, supplementary groups (exactly these, or at least these with
 * `append`), home, shell, comment and a password hash given as a `Secret`. Created with `useradd`, changed
 * with `usermod` (one invocation for every differing field), removed with `userdel`, which deletes the home
 * directory only when `removeHome` asks for it. Reports never show the hash, only that it changes.
 */
import { createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { defineResource, type FieldChange, fieldChange } from '../engine/resource.js';
import { AbsolutePath, AccountName, SecretString, StringEnum, UserOrGroup, type ValidationIssue } from '../schema/index.js';
import { REDACTED, Secret, ShellCommand, sh } from '../shell/index.js';

const UserParams = Type.Object(
  {
    name: AccountName,
    uid: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967294 })),
    /** The primary group, by name or gid; it must exist. Unset: useradd's default (a group named after the user). */
    group: Type.Optional(UserOrGroup),
    /** Supplementary groups: exactly these, or with `append` at least these. */
    groups: Type.Optional(Type.Array(AccountName, { maxItems: 256 })),
    append: Type.Optional(Type.Boolean()),
    home: Type.Optional(AbsolutePath),
    shell: Type.Optional(AbsolutePath),
    /** A system account (a uid from the system range, no home created unless `createHome`); only read at creation. */
    system: Type.Optional(Type.Boolean()),
    comment: Type.Optional(
      Type.String({ pattern: '^[^:\\x00-\\x1f\\x7f]*$', maxLength: 256, title: 'a comment without ":" or control characters' }),
    ),
    /** A crypt(3) hash such as `$y$j9T$…` (from `mkpasswd`), as a `Secret`; `!` alone locks the password. */
    password: Type.Optional(SecretString),
    /** Create the home directory at creation; defaults to yes for an ordinary account, no for a system one. */
    createHome: Type.Optional(Type.Boolean()),
    /** With `state: 'absent'`: delete the home directory and mail spool too. */
    removeHome: Type.Optional(Type.Boolean()),
    state: Type.Optional(StringEnum(['present', 'absent'], { default: 'present' })),
  },
  { additionalProperties: false },
);

type UserParams = Static<typeof UserParams>;

export interface UserRecord {
  exists: boolean;
  uid: number | null;
  gid: number | null;
  /** The primary group's name (its gid when it has none). */
  group: string | null;
  /** Supplementary groups, sorted. */
  groups: string[];
  home: string | null;
  shell: string | null;
  comment: string | null;
  /** sha256 of the shadow hash; the resource's state never keeps it, only whether it is the wanted one. */
  passwordSha256: string | null;
}

export type UserState = Omit<UserRecord, 'passwordSha256'> & {
  /** Whether the shadow hash is the wanted one; null when no password is managed or there is no account. */
  password: 'wanted' | 'other' | null;
};

const HASH = /^(?:!|[!*]?\$[0-9A-Za-z]+(?:\$[./0-9A-Za-z=,]*)+)$/;
const ABSENT = 'absent';

/** Output of the read command: `absent`, or `passwd:` with the getent line, `group:`, `groups:` and maybe `shadow:`. */
export function parseUserRead(stdout: string, name: string): UserRecord {
  if (stdout.replace(/\n$/, '') === ABSENT) {
    return { exists: false, uid: null, gid: null, group: null, groups: [], home: null, shell: null, comment: null, passwordSha256: null };
  }
  const lines = new Map<string, string>();
  for (const line of stdout.replace(/\n$/, '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) lines.set(line.slice(0, colon), line.slice(colon + 1));
  }
  const passwd = (lines.get('passwd') ?? '').split(':');
  if (passwd.length !== 7 || passwd[0] !== name || !/^\d+$/.test(passwd[2]!) || !/^\d+$/.test(passwd[3]!) || !lines.has('groups')) {
    throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 120))}`);
  }
  const [, , uid, gid, comment, home, shell] = passwd as [string, string, string, string, string, string, string];
  const group = lines.get('group') || gid;
  const groups = [
    ...new Set(
      lines
        .get('groups')!
        .split(' ')
        .filter((entry) => entry !== '' && entry !== group),
    ),
  ].sort();
  const shadow = lines.get('shadow');
  return {
    exists: true,
    uid: Number(uid),
    gid: Number(gid),
    group,
    groups,
    home,
    shell,
    comment,
    passwordSha256: shadow && /^[0-9a-f]{64}$/.test(shadow) ? shadow : null,
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function passwordHash(params: UserParams): string | undefined {
  return params.password instanceof Secret ? params.password.reveal() : undefined;
}

function check(params: UserParams): ValidationIssue[] {
  const found: ValidationIssue[] = [];
  const hash = passwordHash(params);
  // The message never quotes the value: it is a secret.
  if (hash !== undefined && (!HASH.test(hash) || hash.length > 512)) {
    found.push({ path: ['password'], message: 'must be a crypt(3) hash such as $y$j9T$… (from mkpasswd), or !' });
  }
  if (params.append && params.groups === undefined) found.push({ path: ['append'], message: 'needs groups' });
  if (params.removeHome && params.state !== 'absent') found.push({ path: ['removeHome'], message: "is only for state: 'absent'" });
  return found;
}

const sameGroup = (wanted: string, current: UserState): boolean => wanted === current.group || wanted === String(current.gid);

function missingGroups(params: UserParams, current: UserState): string[] {
  return (params.groups ?? []).filter((entry) => !current.groups.includes(entry));
}

function wantedGroups(params: UserParams, current: UserState): string[] {
  const wanted = [...new Set(params.groups ?? [])].sort();
  return params.append ? [...new Set([...current.groups, ...wanted])].sort() : wanted;
}

const PASSWORD_CHANGE: FieldChange<'password'> = { field: 'password', from: REDACTED, to: 'changed' };

/** `chpasswd -e` takes the hash on stdin, so it never shows in a process list; reports show only that it is set. */
function setPassword(name: string, hash: string): ShellCommand {
  return new ShellCommand(
    `chpasswd -e <<'__KEEL_SECRET__'\n${name}:${hash}\n__KEEL_SECRET__`,
    `chpasswd -e <<'__KEEL_SECRET__'\n${name}:${REDACTED}\n__KEEL_SECRET__`,
  );
}

function accountOptions(params: UserParams, fields: Set<string>, current: UserState): ShellCommand[] {
  const options: ShellCommand[] = [];
  if (fields.has('uid') && params.uid !== undefined) options.push(sh`-u ${params.uid}`);
  if (fields.has('group') && params.group !== undefined) options.push(sh`-g ${params.group}`);
  if (fields.has('groups') && params.groups !== undefined) {
    const list = params.append && current.exists ? missingGroups(params, current) : [...new Set(params.groups)];
    options.push(params.append && current.exists ? sh`-a -G ${list.join(',')}` : sh`-G ${list.join(',')}`);
  }
  if (fields.has('home') && params.home !== undefined) options.push(sh`-d ${params.home}`);
  if (fields.has('shell') && params.shell !== undefined) options.push(sh`-s ${params.shell}`);
  if (fields.has('comment') && params.comment !== undefined) options.push(sh`-c ${params.comment}`);
  return options;
}

const MANAGED = ['uid', 'group', 'groups', 'home', 'shell', 'comment'] as const;

export const user = defineResource({
  type: 'user',
  schema: UserParams,
  check,
  key: (params) => params.name,
  read(params) {
    const name = params.name;
    const shadow =
      params.password === undefined
        ? sh``
        : sh`\n  echo "shadow:$(printf '%s' "$(getent shadow ${name} | cut -d: -f2)" | sha256sum | cut -c1-64)"`;
    return {
      command: sh`if __keel_passwd=$(getent passwd ${name}); then
  echo "passwd:$__keel_passwd"
  echo "group:$(id -gn -- ${name} 2>/dev/null)"
  echo "groups:$(id -Gn -- ${name} 2>/dev/null)"${shadow}
else echo ${ABSENT}; fi`,
      parse(output): UserState {
        const { passwordSha256, ...record } = parseUserRead(output.stdout, name);
        const hash = passwordHash(params);
        const password = hash === undefined || !record.exists ? null : passwordSha256 === sha256(hash) ? 'wanted' : 'other';
        return { ...record, password };
      },
    };
  },
  desired(params): Partial<UserState> {
    if (params.state === 'absent') return { exists: false };
    return {
      exists: true,
      ...(params.uid === undefined ? {} : { uid: params.uid }),
      ...(params.group === undefined ? {} : { group: params.group }),
      ...(params.groups === undefined ? {} : { groups: [...new Set(params.groups)].sort() }),
      ...(params.home === undefined ? {} : { home: params.home }),
      ...(params.shell === undefined ? {} : { shell: params.shell }),
      ...(params.comment === undefined ? {} : { comment: params.comment }),
      ...(params.password === undefined ? {} : { password: 'wanted' as const }),
    };
  },
  diff(params, current) {
    if (params.state === 'absent') return current.exists ? [fieldChange('exists', true, false)] : [];
    const changes: FieldChange<keyof UserState>[] = [];
    if (!current.exists) {
      changes.push(fieldChange('exists', false, true));
      for (const field of MANAGED)
        if (params[field] !== undefined)
          changes.push(fieldChange(field, null, field === 'groups' ? wantedGroups(params, current) : params[field]));
      if (params.password !== undefined) changes.push(PASSWORD_CHANGE);
      return changes;
    }
    if (params.uid !== undefined && current.uid !== params.uid) changes.push(fieldChange('uid', current.uid, params.uid));
    if (params.group !== undefined && !sameGroup(params.group, current)) changes.push(fieldChange('group', current.group, params.group));
    const groups = wantedGroups(params, current);
    if (params.groups !== undefined && groups.join(',') !== current.groups.join(','))
      changes.push(fieldChange('groups', current.groups, groups));
    for (const field of ['home', 'shell', 'comment'] as const)
      if (params[field] !== undefined && current[field] !== params[field]) changes.push(fieldChange(field, current[field], params[field]));
    if (params.password !== undefined && current.password !== 'wanted') changes.push(PASSWORD_CHANGE);
    return changes;
  },
  apply(params, current, changes) {
    const name = params.name;
    if (params.state === 'absent') return [params.removeHome ? sh`userdel -r -- ${name}` : sh`userdel -- ${name}`];
    const fields = new Set<string>(changes.map((change) => change.field));
    const steps: ShellCommand[] = [];
    const options = accountOptions(params, fields, current);
    if (!current.exists) {
      if (params.system) options.push(sh`-r`);
      options.push((params.createHome ?? !params.system) ? sh`-m` : sh`-M`);
      steps.push(sh`useradd ${options} -- ${name}`);
    } else if (options.length > 0) {
      steps.push(sh`usermod ${options} -- ${name}`);
    }
    const hash = passwordHash(params);
    if (fields.has('password') && hash !== undefined) steps.push(setPassword(name, hash));
    return steps;
  },
});
