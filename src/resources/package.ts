/**
 * Packages through the host's own manager: apt/dpkg on Debian-like hosts, dnf/rpm where they are found instead.
 * Several names install or remove in one transaction. Each name is one field of the diff: `nginx: absent → "1.22.1-9"`.
 *
 * apt keeps two things in mind:
 * - `apt-get update` runs before an install only when the host's package lists do not know a wanted package or
 *   pinned version; `latest` means the newest version those lists know, so a plan never needs the network.
 * - a dpkg lock held by another process (unattended-upgrades, a person) is waited for up to `lockWaitSeconds`;
 *   after that apt-get fails, naming the process that holds it.
 */
import { type Static, Type } from '@sinclair/typebox';
import { defineResource, type FieldChange } from '../engine/resource.js';
import { PackageName, PackageVersion, StringEnum } from '../schema/index.js';
import { ShellCommand, sh } from '../shell/index.js';

const DEFAULT_LOCK_WAIT_SECONDS = 60;

/** A version with `*` wildcards; it never starts with one, so it cannot read as an option. */
const VersionPattern = Type.String({ pattern: '^[A-Za-z0-9.+~:_][A-Za-z0-9.+~:_*-]*$', maxLength: 200 });

function isPattern(version: string): boolean {
  return version.includes('*');
}

export function matchesVersion(pattern: string, version: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+~:]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(version);
}

const PackageParams = Type.Object(
  {
    name: Type.Union([PackageName, Type.Array(PackageName, { minItems: 1, uniqueItems: true })], {
      title: 'a package name or a list of package names',
    }),
    state: Type.Optional(StringEnum(['present', 'absent', 'latest'], { default: 'present' })),
    /**
     * A version (apt: `1.22.1-9`, dnf: `1.20.1-14.el9`), or a pattern where `*` stands for any text (`1.22.*`):
     * the newest version the package lists know that matches. Only with a single name and state present.
     */
    version: Type.Optional(Type.Union([PackageVersion, VersionPattern], { title: 'a package version or a pattern such as 1.22.*' })),
    /** How long to wait for a package-manager lock held by another process. */
    lockWaitSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, default: DEFAULT_LOCK_WAIT_SECONDS })),
  },
  { additionalProperties: false },
);

type PackageParamsType = Static<typeof PackageParams>;

export interface PackageInfo {
  /** The installed version; null when not installed (including removed with its configuration files left). */
  installed: string | null;
  /**
   * The version an install would pick from the package lists; null when they do not know the package (apt only).
   * Left out, with `available`, when the read did not ask the lists (see `listsAsked`).
   */
  candidate?: string | null;
  /** Every version the package lists know (apt only). */
  available?: string[];
}

export interface PackageState {
  manager: 'apt' | 'dnf';
  packages: Record<string, PackageInfo>;
}

const DPKG_FORMAT = '${Package}\\t${Status}\\t${Version}\\n';
const RPM_FORMAT = '%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n';
const SECTION = /^--(installed|lists)--$/;

function namesOf(params: Pick<PackageParamsType, 'name'>): string[] {
  return typeof params.name === 'string' ? [params.name] : params.name;
}

/** `dpkg-query -W -f '${Package}\t${Status}\t${Version}\n'`: installed only when the status ends in `installed`. */
export function parseDpkgQuery(output: string): Map<string, string> {
  const installed = new Map<string, string>();
  for (const line of output.split('\n')) {
    if (line === '') continue;
    const [name, status, version] = line.split('\t');
    if (name === undefined || status === undefined || version === undefined)
      throw new Error(`unexpected dpkg-query line: ${JSON.stringify(line)}`);
    if (status.split(' ')[2] === 'installed') installed.set(name, version);
  }
  return installed;
}

/** `LC_ALL=C apt-cache policy NAMES`: each name's candidate and the versions of its version table. */
export function parseAptPolicy(output: string): Map<string, { candidate: string | null; available: string[] }> {
  const packages = new Map<string, { candidate: string | null; available: string[] }>();
  let current: { candidate: string | null; available: string[] } | undefined;
  for (const line of output.split('\n')) {
    const header = /^(\S+):$/.exec(line);
    if (header) {
      current = { candidate: null, available: [] };
      packages.set(header[1]!, current);
      continue;
    }
    if (!current) {
      if (line.trim() === '') continue;
      throw new Error(`unexpected apt-cache policy line: ${JSON.stringify(line)}`);
    }
    const candidate = /^ {2}Candidate: (\S+)$/.exec(line);
    if (candidate) current.candidate = candidate[1] === '(none)' ? null : candidate[1]!;
    const version = /^ (?:\*\*\*| {3}) (\S+) -?\d+$/.exec(line);
    if (version) current.available.push(version[1]!);
  }
  return packages;
}

/** `rpm -q --qf '%{NAME}\t[EPOCH:]VERSION-RELEASE\n' NAMES`; names that are not installed print a sentence instead. */
export function parseRpmQuery(output: string): Map<string, string> {
  const installed = new Map<string, string>();
  for (const line of output.split('\n')) {
    if (line === '' || /^package \S+ is not installed$/.test(line)) continue;
    const [name, version] = line.split('\t');
    if (name === undefined || version === undefined) throw new Error(`unexpected rpm line: ${JSON.stringify(line)}`);
    installed.set(name, version);
  }
  return installed;
}

/**
 * Which names the read asks apt's package lists about. `apt-cache policy` loads the whole package cache, the
 * costliest part of a read, and only a name to install or a version to choose needs it: every name for `latest` or
 * a version, the names dpkg does not have installed for `present`, none for `absent`.
 */
type ListsAsked = 'all' | 'not-installed' | 'none';

function listsAsked(params: Pick<PackageParamsType, 'state' | 'version'>): ListsAsked {
  if (params.state === 'absent') return 'none';
  return params.state === 'latest' || params.version !== undefined ? 'all' : 'not-installed';
}

/**
 * The read output: a `manager` line, then the `--installed--` section and, for apt, the `--lists--` section, which
 * holds what `apt-cache policy` said of the names `asked` covers.
 */
export function parsePackageRead(stdout: string, names: readonly string[], asked: ListsAsked = 'all'): PackageState {
  const lines = stdout.split('\n');
  const manager = /^manager (apt|dnf|none)$/.exec(lines[0] ?? '')?.[1] as PackageState['manager'] | 'none' | undefined;
  if (manager === undefined) throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
  if (manager === 'none') throw new Error('neither apt (dpkg-query, apt-get) nor dnf (rpm, dnf) was found on the host');
  const sections: Record<string, string[]> = { installed: [], lists: [] };
  let section: string[] | undefined;
  for (const line of lines.slice(1)) {
    const marker = SECTION.exec(line);
    if (marker) section = sections[marker[1]!];
    else if (section) section.push(line);
    else if (line !== '') throw new Error(`unexpected output before the first section: ${JSON.stringify(line)}`);
  }
  const installed = manager === 'apt' ? parseDpkgQuery(sections.installed!.join('\n')) : parseRpmQuery(sections.installed!.join('\n'));
  const lists = manager === 'apt' ? parseAptPolicy(sections.lists!.join('\n')) : new Map();
  const packages: Record<string, PackageInfo> = {};
  for (const name of names) {
    const version = installed.get(name) ?? null;
    const askedOf = manager === 'apt' && (asked === 'all' || (asked === 'not-installed' && version === null));
    packages[name] = askedOf
      ? { installed: version, candidate: lists.get(name)?.candidate ?? null, available: lists.get(name)?.available ?? [] }
      : { installed: version };
  }
  return { manager, packages };
}

/**
 * The version a pattern resolves to: the installed one when it matches (a pin is not an upgrade), else the first
 * match of the version table, which apt lists newest first; the pattern itself when the lists know no match.
 */
function resolvePattern(pattern: string, info: PackageInfo): string {
  if (info.installed !== null && matchesVersion(pattern, info.installed)) return info.installed;
  return (info.available ?? []).find((version) => matchesVersion(pattern, version)) ?? pattern;
}

/** What one package should become: a version, `present` (any version) or null (absent). */
function target(params: PackageParamsType, info: PackageInfo, manager: PackageState['manager']): string | null {
  if (params.state === 'absent') return null;
  if (params.version !== undefined) {
    if (!isPattern(params.version)) return params.version;
    if (manager !== 'apt') throw new Error('a version pattern is supported with apt only; pin an exact version');
    return resolvePattern(params.version, info);
  }
  if (params.state === 'latest') {
    if (manager !== 'apt') throw new Error('state "latest" is supported with apt only; pin a version or use "present"');
    return info.candidate ?? 'latest';
  }
  return 'present';
}

function isSatisfied(wanted: string | null, installed: string | null): boolean {
  return wanted === 'present' ? installed !== null : wanted === installed;
}

/**
 * After apt-get failed: the processes holding dpkg's locks, found in /proc/locks by the lock files' inodes.
 * apt itself names the holder only in its progress output, and older versions not at all.
 */
const REPORT_DPKG_LOCK_HOLDERS = `for lock in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock; do
  inode=$(stat -c %i "$lock" 2>/dev/null) || continue
  for pid in $(awk -v inode="$inode" '$2 != "->" && $5 > 0 && $6 ~ (":" inode "$") { print $5 }' /proc/locks); do
    echo "keel: the dpkg lock $lock is held by process $pid ($(cat /proc/$pid/comm 2>/dev/null || echo gone))" >&2
  done
done`;

/** An apt-get or dnf invocation that never asks a question. */
function managerCommand(
  manager: PackageState['manager'],
  verb: 'install' | 'remove',
  specs: string[],
  params: PackageParamsType,
): ShellCommand {
  if (manager === 'dnf') return sh`dnf ${verb} -y -q -- ${specs}`;
  const options = sh`-y -q -o DPkg::Lock::Timeout=${params.lockWaitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS}`;
  const installFlags = ['--no-install-recommends', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];
  if (params.version !== undefined) installFlags.push('--allow-downgrades');
  const aptGet =
    verb === 'remove'
      ? sh`DEBIAN_FRONTEND=noninteractive apt-get remove ${options} -- ${specs}`
      : sh`DEBIAN_FRONTEND=noninteractive apt-get install ${options} ${installFlags} -- ${specs}`;
  return new ShellCommand(`${aptGet.text} || { status=$?\n${REPORT_DPKG_LOCK_HOLDERS}\nexit $status\n}`);
}

/**
 * dpkg's installed section, then the lists section for the names `asked` covers. Which names dpkg has installed is
 * told with shell builtins alone, from dpkg-query's own output.
 */
function aptListsQuery(names: string[], asked: ListsAsked): ShellCommand {
  const query = sh`dpkg-query -W -f ${DPKG_FORMAT} ${names} 2>/dev/null`;
  if (asked === 'none') return sh`${query}\necho '--lists--'`;
  if (asked === 'all') return sh`${query}\necho '--lists--'\nLC_ALL=C apt-cache policy ${names} 2>/dev/null`;
  return sh`__keel_dpkg=$(${query}) || true
  printf '%s\n' "$__keel_dpkg"
  echo '--lists--'
  __keel_installed=' '
  while IFS='	' read -r __keel_name __keel_status __keel_version; do
    case "$__keel_status" in *' installed') __keel_installed="$__keel_installed$__keel_name " ;; esac
  done <<__KEEL_DPKG__
$__keel_dpkg
__KEEL_DPKG__
  __keel_missing=
  for __keel_name in ${names}; do
    case "$__keel_installed" in *" $__keel_name "*) ;; *) __keel_missing="$__keel_missing $__keel_name" ;; esac
  done
  [ -z "$__keel_missing" ] || LC_ALL=C apt-cache policy $__keel_missing 2>/dev/null`;
}

export const pkg = defineResource({
  type: 'package',
  schema: PackageParams,
  key: (params) => namesOf(params).join(','),
  read(params) {
    const names = namesOf(params);
    const asked = listsAsked(params);
    return {
      command: sh`if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo 'manager apt'; echo '--installed--'
  ${aptListsQuery(names, asked)}
elif command -v rpm >/dev/null 2>&1 && command -v dnf >/dev/null 2>&1; then
  echo 'manager dnf'; echo '--installed--'
  rpm -q --qf ${RPM_FORMAT} ${names}
else
  echo 'manager none'
fi
exit 0`,
      parse: ({ stdout }) => parsePackageRead(stdout, names, asked),
    };
  },
  diff(params, current): FieldChange[] {
    const names = namesOf(params);
    if (params.version !== undefined && (names.length !== 1 || params.state === 'absent')) {
      throw new Error('version pins a single package that is present: give one name and no state "absent"');
    }
    const changes: FieldChange[] = [];
    for (const name of names) {
      const info = current.packages[name]!;
      const wanted = target(params, info, current.manager);
      if (!isSatisfied(wanted, info.installed))
        changes.push({ field: name, from: info.installed, to: wanted === 'present' ? (info.candidate ?? 'present') : wanted });
    }
    return changes;
  },
  apply(params, current, changes) {
    const changed = changes.map((change) => change.field);
    if (params.state === 'absent') return [managerCommand(current.manager, 'remove', changed, params)];
    const versions = new Map(changes.map((change) => [change.field, params.version === undefined ? undefined : String(change.to)]));
    const specs = changed.map((name) => {
      const version = versions.get(name);
      return version === undefined ? name : current.manager === 'apt' ? `${name}=${version}` : `${name}-${version}`;
    });
    const listsMissSome = changed.some((name) => {
      const info = current.packages[name]!;
      const version = versions.get(name);
      return version === undefined ? !info.candidate : !(info.available ?? []).includes(version);
    });
    const refresh =
      current.manager === 'apt' && listsMissSome
        ? [sh`apt-get update -q -o DPkg::Lock::Timeout=${params.lockWaitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS}`]
        : [];
    return [...refresh, managerCommand(current.manager, 'install', specs, params)];
  },
});
