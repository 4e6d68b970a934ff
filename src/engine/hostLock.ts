/**
 * One controller applies to a host at a time. The host keeps a lease (/var/lib/keel/apply.lease: owner, expiry,
 * who) taken under flock at the start of the first apply invocation, renewed while the run goes on and dropped
 * at the end. A controller that dies leaves a lease that simply expires, so no lock ever needs clearing by hand.
 */

import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { ensureDirectory, ShellCommand, sh } from '../shell/index.js';
import type { Section } from './batch.js';

/**
 * Where keel keeps its own state on a host: the apply lease and owed notifications. KEEL_STATE_DIR moves it for
 * runs that cannot write /var/lib/keel, such as tests or the resource harness run by an ordinary user.
 */
export const STATE_DIRECTORY = process.env.KEEL_STATE_DIR || '/var/lib/keel';
export const LEASE_BUSY_EXIT = 75;
/** How much longer than one invocation's timeout a lease lasts. */
export const LEASE_MARGIN_SECONDS = 120;
/**
 * A run renews its lease with an invocation sent this long after the last renewal, not with every one: each renewal
 * starts `flock` and `date`, and an invocation sent sooner ends, timeout and all, before the lease does.
 */
export const LEASE_RENEWAL_MS = (LEASE_MARGIN_SECONDS * 1000) / 2;

export interface ApplyLease {
  acquire: Section;
  /** `acquire`, also over a lease still held by `holder`, a run known to be dead. */
  takeOver(holder: string): Section;
  release: Section;
}

const CONTROLLER = `${userInfo().username}@${hostname()}`;

/**
 * The holder a refusal names, when it is an earlier run on this machine that is no longer alive: its connection
 * dropped before it could drop the lease, which would otherwise refuse the next run until it expires.
 */
export function deadLocalHolder(stderr: string): string | undefined {
  const holder = /another keel run \((.+)\) is applying to this host/.exec(stderr)?.[1];
  const pid = holder?.startsWith(`${CONTROLLER} pid `) ? Number(holder.slice(CONTROLLER.length + 5)) : undefined;
  if (pid === undefined || !Number.isInteger(pid) || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? holder : undefined;
  }
}

/**
 * `body` under the host's apply lock, given how to replace the lease file with the text in `$__keel_line`. Every
 * reader of the lease holds the lock, so under it the file is rewritten in place; without flock it is renamed
 * into place. Programs are started only where a builtin cannot do: each costs a tenth of a second on an emulated
 * host.
 */
function underLock(directory: string, body: (writeLease: string) => string): string {
  const lockFile = `${directory}/apply.lock`;
  return [
    ensureDirectory(directory).text,
    sh`__keel_lease=${`${directory}/apply.lease`}`.text,
    `if command -v flock >/dev/null 2>&1; then`,
    sh`  ( flock -w 30 9 || { echo ${`keel: could not lock ${lockFile} within 30 s`} >&2; exit ${LEASE_BUSY_EXIT}; }`.text,
    body(`printf '%s\\n' "$__keel_line" > "$__keel_lease"`),
    sh`  ) 9>>${lockFile}`.text,
    `else (`,
    body(`printf '%s\\n' "$__keel_line" > "$__keel_lease.tmp" && mv -f "$__keel_lease.tmp" "$__keel_lease"`),
    `) fi`,
  ].join('\n');
}

/** Sections that take (or renew) and drop this run's lease; `ttlSeconds` must outlast the longest invocation. */
export function applyLease(
  ttlSeconds: number,
  { directory = STATE_DIRECTORY, who = `${CONTROLLER} pid ${process.pid}` }: { directory?: string; who?: string } = {},
): ApplyLease {
  const owner = randomBytes(8).toString('hex');
  const acquire = (deadHolder: string): string =>
    underLock(directory, (writeLease) =>
      [
        `__keel_now=$(date +%s); __keel_owner=; __keel_expires=0; __keel_who=`,
        `[ ! -f "$__keel_lease" ] || read -r __keel_owner __keel_expires __keel_who < "$__keel_lease" || true`,
        sh`if [ -n "$__keel_owner" ] && [ "$__keel_owner" != ${owner} ] && [ "$__keel_who" != ${deadHolder} ] && [ "$__keel_expires" -gt "$__keel_now" ] 2>/dev/null; then`
          .text,
        `  echo "keel: another keel run ($__keel_who) is applying to this host; its lease ends in $((__keel_expires - __keel_now)) s" >&2; exit ${LEASE_BUSY_EXIT}`,
        'fi',
        sh`__keel_line=${`${owner} `}$((__keel_now + ${ttlSeconds}))${` ${who}`}`.text,
        writeLease,
      ].join('\n'),
    );
  const release = underLock(directory, () =>
    [
      `__keel_owner=`,
      `[ ! -f "$__keel_lease" ] || read -r __keel_owner __keel_rest < "$__keel_lease" || true`,
      sh`[ "$__keel_owner" != ${owner} ] || rm -f "$__keel_lease"`.text,
    ].join('\n'),
  );
  const section = (deadHolder: string): Section => ({
    name: 'take the apply lease',
    command: new ShellCommand(acquire(deadHolder)),
    fatal: true,
  });
  return {
    acquire: section(''),
    takeOver: section,
    release: { name: 'drop the apply lease', command: new ShellCommand(release) },
  };
}
