/**
 * Injection fuzz: 10,000 generated hostile strings through every string parameter of every resource, through the
 * resources' own read and apply command builders, batched by the engine's batch script, into a real shell (dash)
 * on a lab host over SSH. Each value is either refused by the schema or arrives literally; no payload ever runs.
 *
 * Forks are dear on this machine (milliseconds each), so the bulk run replaces the programs the commands call
 * (systemctl, mkdir, mv, base64 …) with shell functions that record the argument vector they were handed: the
 * shell's own parsing, expansion and quote removal are what is under test, and the recorded arguments show what any
 * real program would have received. A second, smaller run writes real files with the real engine and real tools.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startHosts } from '../../lab/hosts.js';
import { batchScript, type Section } from '../../src/engine/batch.js';
import { diffResource, type ResourceInstance, ResourceParamsError } from '../../src/engine/resource.js';
import { templateFile } from '../../src/index.js';
import { loadInventory } from '../../src/inventory/load.js';
import { connectHost } from '../../src/planner/connect.js';
import { aptRepository } from '../../src/resources/aptRepository.js';
import { command } from '../../src/resources/command.js';
import { cronJob } from '../../src/resources/cronJob.js';
import { directory } from '../../src/resources/directory.js';
import { type FileState, file } from '../../src/resources/file.js';
import { group } from '../../src/resources/group.js';
import { type IfaceAliasState, ifaceAlias } from '../../src/resources/ifaceAlias.js';
import { type IpvsRuleState, ipvsRule } from '../../src/resources/ipvsRule.js';
import { kernelModule } from '../../src/resources/kernelModule.js';
import { lineInFile } from '../../src/resources/lineInFile.js';
import { type PackageState, pkg } from '../../src/resources/package.js';
import { type ServiceState, service } from '../../src/resources/service.js';
import { symlink } from '../../src/resources/symlink.js';
import { sysctl } from '../../src/resources/sysctl.js';
import { systemdUnit } from '../../src/resources/systemdUnit.js';
import { type UserState, user } from '../../src/resources/user.js';
import { quote, Secret, ShellCommand } from '../../src/shell/index.js';
import { runOnce } from '../../src/testing.js';
import type { Transport } from '../../src/transport/types.js';
import { CANARY, hostileStrings, RELATIVE_CANARY } from '../support/hostileStrings.js';

const STRINGS = 10_000;
const FUZZ_ROOT = '/tmp/keel-fuzz';
/** How much of each content the recorded `mv` notes: at least 40 characters of UTF-8. */
const CONTENT_START_BYTES = 160;
/** A template whose rendering is its one variable, so the value travels as the file's content. */
const VALUE_TEMPLATE = join(mkdtempSync(join(tmpdir(), 'keel-fuzz-template-')), 'value.j2');
writeFileSync(VALUE_TEMPLATE, '{{ value }}');
const FUZZ_KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEaxAcpBYJKwYBBAHaRw8BAQdA\n-----END PGP PUBLIC KEY BLOCK-----\n';
const STUB_BIN = '/tmp/keel-fuzz-bin';
const CASES_PER_SECTION = 250;
/** Programs the resources call, recorded instead of run. dash refuses "-" in function names: those are scripts on PATH. */
const RECORDED_FUNCTIONS = [
  'systemctl',
  'ipvsadm',
  'modprobe',
  'ip',
  'mkdir',
  'chmod',
  'chown',
  'chgrp',
  'stat',
  'sha256sum',
  'cut',
  'ls',
  'awk',
  'sleep',
  'sh',
  'rpm',
  'dnf',
  'getent',
  'groupadd',
  'groupmod',
  'groupdel',
  'ln',
  'find',
  'rmdir',
  'id',
  'useradd',
  'usermod',
  'userdel',
  'chpasswd',
];
const RECORDED_SCRIPTS = ['apt-get', 'apt-cache', 'dpkg-query', 'update-rc.d'];

/**
 * Shell functions defined before the batch. `cat` and `rm` pass through when the batch itself uses them on its
 * capture files (beside its script file, `$0`). An atomic write creates its temporary file beside a target whose
 * directory need not exist here: `umask`, which it calls first in the subshell that creates the file, points that
 * subshell's `$__keel_tmp` to a file of the fuzz's own, and `mv` records the start of the content written there.
 * `base64 -d` records the start of what it is fed.
 */
/** `contentFile` starts the names of the files where this batch's atomic writes put their content: one per batch run at once. */
function recorderPrelude(log: string, contentFile: string): string {
  return [
    `__fz_log_file=${quote(log)}; export __fz_log_file; PATH=${STUB_BIN}:$PATH; export PATH`,
    `__fz_log() { printf '%s\\0' @call "$#" "$@" >> "$__fz_log_file"; }`,
    `__fz_case() { printf '%s\\0' @case "$1" >> "$__fz_log_file"; }`,
    `__fz_ours() { for __fz_a; do case "$__fz_a" in "$0".*) return 0;; esac; done; return 1; }`,
    `cat() { if __fz_ours "$@"; then command cat "$@"; else __fz_log cat "$@"; fi; }`,
    `rm() { if __fz_ours "$@"; then command rm "$@"; else __fz_log rm "$@"; fi; }`,
    `umask() { command umask "$@"; case $__keel_tmp in */.keel.*) __keel_tmp=${contentFile}-\${__keel_tmp##*/};; esac; }`,
    // The start is enough to see the content arrive, and reading more costs a system call a byte. Text is written by
    // printf, and noted by mv; content a shell string cannot hold comes through base64, which notes its first line.
    `base64() { __fz_log base64 "$@"; [ "$1" = -d ] || return 0; IFS= read -r __fz_line; printf '%s\\0' @content "$__fz_line" >> "$__fz_log_file"; }`,
    `mv() { __fz_log mv "$@"; for __fz_a; do case $__fz_a in */.keel.*) __fz_content_start ${contentFile}-"\${__fz_a##*/}";; esac; done; return 0; }`,
    `__fz_content_start() { [ -f "$1" ] || return 0; __fz_start=; while [ \${#__fz_start} -lt ${CONTENT_START_BYTES} ] && { IFS= read -r __fz_line || [ -n "$__fz_line" ]; }; do __fz_start="$__fz_start$__fz_line
"; __fz_line=; done < "$1"; printf '%s\\0' @content "$__fz_start" >> "$__fz_log_file"; }`,
    ...RECORDED_FUNCTIONS.map((name) => `${name}() { __fz_log ${name} "$@"; }`),
    '',
  ].join('\n');
}

interface Observation {
  /** Every argument of every recorded call, and the start of every content an atomic write moved into place. */
  seen: string[];
}

/** The recorder's log: NUL-separated `@case N`, `@call COUNT NAME ARGS…` and `@content START` records. */
function parseLog(log: Buffer): Map<number, Observation> {
  const fields = log.toString('utf8').split('\0');
  const cases = new Map<number, Observation>();
  let current: Observation = { seen: [] };
  for (let index = 0; index < fields.length; ) {
    const tag = fields[index++];
    if (tag === '@case') {
      current = { seen: [] };
      cases.set(Number(fields[index++]), current);
    } else if (tag === '@call') {
      const count = Number(fields[index++]);
      current.seen.push(...fields.slice(index + 1, index + count));
      index += count;
    } else if (tag === '@content') {
      current.seen.push(fields[index++]!);
    }
  }
  return cases;
}

/** A value put into one parameter, and what must show up literally on the host when it is accepted. */
interface Attempt {
  parameter: string;
  value: unknown;
  /** The text that must arrive; undefined where nothing reaches a program (a `[ -e ]` test, an id). */
  arrives?: string;
}

interface Scenario {
  /** Builds the instance; throws ResourceParamsError when the schema refuses a value. */
  instance(): ResourceInstance;
  /** A host state that makes apply build every command that handles the hostile values. */
  current?: unknown;
  actions?: boolean;
  /** False when the read cannot reach its `exit` (the sysctl exists), so it runs without a subshell: forks are dear. */
  readMayExit?: boolean;
}

interface ResourceFuzz {
  resource: string;
  attempts(value: string, index: number): Attempt[];
  /** The scenarios to run with every accepted value in its parameter (a refused one falls back to a plain value). */
  scenarios(accepted: Map<string, unknown>, index: number): Scenario[];
}

const absentFile: FileState = {
  type: 'absent',
  parentExists: false,
  content: null,
  sha256: null,
  owner: null,
  uid: null,
  group: null,
  gid: null,
  mode: null,
};
const otherOwner = (content: string): FileState => ({
  type: 'file',
  parentExists: true,
  content,
  sha256: null,
  owner: 'daemon',
  uid: 1,
  group: 'daemon',
  gid: 1,
  mode: '0644',
});
const noService: ServiceState = { init: 'systemd', running: false, enabled: false, activity: 'inactive/dead', unitFileState: 'disabled' };
const sysvService: ServiceState = { init: 'sysv', running: false, enabled: false, activity: 'status exited 3', unitFileState: null };
const emptyIpvs: IpvsRuleState = {
  table: [],
  recorded: null,
  persistence: { flavour: 'debian', rules: null, defaults: null, bootEnabled: false },
};
const noAddress: IfaceAliasState = { entries: [], device: [], promoteSecondaries: true, persisted: 'no' };
const aptNothing = (names: string[]): PackageState => ({
  manager: 'apt',
  packages: Object.fromEntries(names.map((name) => [name, { installed: null, candidate: null, available: [] }])),
});

const framedPath = (index: number, value: string): string => `${FUZZ_ROOT}/${index}/${value}`;
/**
 * The start of a file's content that must arrive: as many characters as the recorder's bytes surely hold, or, for
 * content with a NUL (which travels base64-encoded), the first line of its base64.
 */
const contentStart = (content: string): string =>
  content.includes('\0') ? Buffer.from(content).toString('base64').slice(0, 76) : content.slice(0, CONTENT_START_BYTES / 4);

/** Every string parameter of every resource, with plain values for the others. */
/** A path with its owner, group, mode and state, as file and directory take them; `also` right after the path. */
const ownedPathAttempts = (value: string, index: number, ...also: Attempt[]): Attempt[] => [
  { parameter: 'path', value: framedPath(index, value), arrives: framedPath(index, value) },
  ...also,
  { parameter: 'owner', value, arrives: value },
  { parameter: 'group', value, arrives: value },
  { parameter: 'mode', value, arrives: value },
  { parameter: 'state', value },
];

const ownedPathParams = (accepted: Map<string, unknown>, path: string, mode: string) => ({
  path: (accepted.get('path') as string) ?? path,
  owner: (accepted.get('owner') as string) ?? 'root',
  group: (accepted.get('group') as string) ?? 'root',
  mode: (accepted.get('mode') as string) ?? mode,
});

const RESOURCES: ResourceFuzz[] = [
  {
    resource: 'sysctl',
    attempts: (value, index) => [
      { parameter: 'key', value, arrives: contentStart(`${value} = 1\n`) },
      { parameter: 'value', value, arrives: contentStart(`net.ipv4.conf.lo.arp_ignore = ${value.trim().split(/\s+/).join(' ')}\n`) },
      { parameter: 'file', value: `${framedPath(index, value)}.conf`, arrives: `${framedPath(index, value)}.conf` },
    ],
    scenarios: (accepted) => {
      const file = (accepted.get('file') as string) ?? `${FUZZ_ROOT}/sysctl.conf`;
      const current = { value: 'unset', persisted: null, fileContent: null };
      return [
        {
          instance: () => sysctl({ key: 'net.ipv4.conf.lo.arp_ignore', value: (accepted.get('value') as string) ?? 1, file }),
          current,
          readMayExit: false,
        },
        ...(accepted.has('key') ? [{ instance: () => sysctl({ key: accepted.get('key') as string, value: 1, file }), current }] : []),
      ];
    },
  },
  {
    resource: 'file',
    attempts: (value, index) => ownedPathAttempts(value, index, { parameter: 'content', value, arrives: contentStart(value) }),
    scenarios: (accepted, index) => {
      const params = ownedPathParams(accepted, `${FUZZ_ROOT}/${index}/plain`, '0600');
      const content = (accepted.get('content') as string) ?? 'plain';
      return [
        { instance: () => file({ ...params, content, makeParents: true }), current: absentFile },
        { instance: () => file(params), current: otherOwner(content) },
        { instance: () => file({ path: params.path, state: 'absent' }), current: otherOwner(content) },
      ];
    },
  },
  {
    resource: 'template',
    attempts: (value, index) => [
      { parameter: 'path', value: framedPath(index, value), arrives: framedPath(index, value) },
      { parameter: 'vars.value', value, arrives: contentStart(value) },
    ],
    scenarios: (accepted, index) => {
      const path = (accepted.get('path') as string) ?? `${FUZZ_ROOT}/${index}/template`;
      const value = (accepted.get('vars.value') as string) ?? 'plain';
      return [
        { instance: () => templateFile({ path, source: VALUE_TEMPLATE, vars: { value }, makeParents: true }), current: absentFile },
        { instance: () => templateFile({ path, state: 'absent' }), current: otherOwner(value) },
      ];
    },
  },
  {
    resource: 'systemdUnit',
    attempts: (value) => [
      { parameter: 'name', value: `${value}.service`, arrives: `/etc/systemd/system/${value}.service` },
      { parameter: 'dropIn', value, arrives: `/etc/systemd/system/keel-fuzz.service.d/${value}.conf` },
      { parameter: 'content', value, arrives: contentStart(value) },
    ],
    scenarios: (accepted) => {
      const name = (accepted.get('name') as string) ?? 'keel-fuzz.service';
      const content = (accepted.get('content') as string) ?? '[Service]\n';
      const dropIn = accepted.get('dropIn') as string | undefined;
      const absent = { content: null, link: null };
      return [
        { instance: () => systemdUnit({ name, content }), current: absent },
        ...(dropIn === undefined ? [] : [{ instance: () => systemdUnit({ name: 'keel-fuzz.service', dropIn, content }), current: absent }]),
        { instance: () => systemdUnit({ name, state: 'absent' }), current: { content: 'x', link: null } },
      ];
    },
  },
  {
    resource: 'aptRepository',
    attempts: (value) => [
      { parameter: 'name', value, arrives: `/etc/apt/sources.list.d/${value}.sources` },
      { parameter: 'uris[]', value: [value] },
      { parameter: 'suites[]', value: [value] },
      { parameter: 'components[]', value: [value] },
    ],
    scenarios: (accepted) => {
      const params = {
        name: (accepted.get('name') as string) ?? 'keel-fuzz',
        uris: (accepted.get('uris[]') as string[]) ?? ['file:/srv/keel-fuzz'],
        suites: (accepted.get('suites[]') as string[]) ?? ['./'],
        components: (accepted.get('components[]') as string[]) ?? [],
        key: FUZZ_KEY,
      };
      return [
        { instance: () => aptRepository(params), current: { source: null, key: null } },
        { instance: () => aptRepository({ name: params.name, state: 'absent' }), current: { source: 'x', key: 'x' } },
      ];
    },
  },
  {
    resource: 'command',
    attempts: (value, index) => [
      { parameter: 'name', value },
      { parameter: 'creates', value: framedPath(index, value) },
    ],
    scenarios: (accepted) => [
      {
        instance: () =>
          command({
            run: 'true',
            ...(accepted.has('name') ? { name: accepted.get('name') as string } : {}),
            ...(accepted.has('creates') ? { creates: accepted.get('creates') as string } : {}),
          }),
        current: { needsToRun: true, because: 'fuzz' },
        actions: true,
      },
    ],
  },
  {
    resource: 'package',
    attempts: (value) => [
      { parameter: 'name', value, arrives: value },
      { parameter: 'name[]', value: ['nginx', value], arrives: value },
      { parameter: 'version', value, arrives: value },
      { parameter: 'state', value },
    ],
    scenarios: (accepted) => {
      const names = (accepted.get('name[]') as string[]) ?? [(accepted.get('name') as string) ?? 'nginx'];
      const version = accepted.get('version') as string | undefined;
      const single = version === undefined ? names : [names[0]!];
      return [
        {
          instance: () => pkg({ name: single.length === 1 ? single[0]! : single, ...(version === undefined ? {} : { version }) }),
          current: aptNothing(single),
        },
        {
          instance: () => pkg({ name: single.length === 1 ? single[0]! : single, ...(version === undefined ? {} : { version }) }),
          current: { ...aptNothing(single), manager: 'dnf' },
        },
        ...(version === undefined
          ? [
              {
                instance: () => pkg({ name: names, state: 'absent' }),
                current: {
                  manager: 'apt',
                  packages: Object.fromEntries(names.map((name) => [name, { installed: '1.0', candidate: '1.0', available: ['1.0'] }])),
                },
              },
            ]
          : []),
      ];
    },
  },
  {
    resource: 'service',
    attempts: (value) => [{ parameter: 'name', value, arrives: value }],
    scenarios: (accepted) => {
      const name = (accepted.get('name') as string) ?? 'nginx';
      return [
        { instance: () => service({ name, running: true, enabled: true }), current: noService, actions: true },
        { instance: () => service({ name, running: true, enabled: true }), current: sysvService },
      ];
    },
  },
  {
    resource: 'kernelModule',
    attempts: (value) => [{ parameter: 'name', value, arrives: value }],
    scenarios: (accepted) => [
      { instance: () => kernelModule({ name: (accepted.get('name') as string) ?? 'dummy' }), current: { loaded: false, persisted: false } },
    ],
  },
  {
    resource: 'ifaceAlias',
    attempts: (value) => [
      { parameter: 'device', value, arrives: value },
      { parameter: 'address', value, arrives: value },
      { parameter: 'label', value: `lo:${value}`, arrives: `lo:${value}` },
      { parameter: 'state', value },
    ],
    scenarios: (accepted) => {
      const device = (accepted.get('device') as string) ?? 'lo';
      const label = accepted.get('label') as string | undefined;
      const params = { device, address: (accepted.get('address') as string) ?? '192.0.2.7', prefix: 32 };
      return [
        { instance: () => ifaceAlias(params), current: noAddress },
        {
          instance: () => ifaceAlias({ ...params, state: 'absent' }),
          current: {
            ...noAddress,
            entries: [{ family: 'inet', local: params.address, prefix: 32, label: null, secondary: false }],
            persisted: 'yes',
          },
        },
        // A label must start with its device's name: it goes with lo.
        ...(label === undefined ? [] : [{ instance: () => ifaceAlias({ ...params, device: 'lo', label }), current: noAddress }]),
      ];
    },
  },
  {
    resource: 'ipvsRule',
    attempts: (value) => [
      { parameter: 'name', value, arrives: value },
      { parameter: 'address', value, arrives: value },
      { parameter: 'protocol', value },
      { parameter: 'scheduler', value },
      { parameter: 'realServers[].address', value, arrives: value },
      { parameter: 'realServers[].forwarding', value },
    ],
    scenarios: (accepted) => [
      {
        instance: () =>
          ipvsRule({
            name: (accepted.get('name') as string) ?? 'web',
            address: (accepted.get('address') as string) ?? '192.0.2.100',
            port: 80,
            realServers: [{ address: (accepted.get('realServers[].address') as string) ?? '192.0.2.11' }],
            drainSeconds: 1,
          }),
        current: emptyIpvs,
      },
    ],
  },
  {
    resource: 'group',
    attempts: (value) => [
      { parameter: 'name', value, arrives: value },
      { parameter: 'state', value },
    ],
    scenarios: (accepted) => {
      const name = (accepted.get('name') as string) ?? 'keelops';
      return [
        { instance: () => group({ name, gid: 4100, system: true }), current: { exists: false, gid: null } },
        { instance: () => group({ name, gid: 4100 }), current: { exists: true, gid: 4200 } },
        { instance: () => group({ name, state: 'absent' }), current: { exists: true, gid: 4200 } },
      ];
    },
  },
  {
    resource: 'symlink',
    attempts: (value, index) => [
      { parameter: 'path', value: framedPath(index, value), arrives: framedPath(index, value) },
      { parameter: 'target', value, arrives: value },
      { parameter: 'state', value },
    ],
    scenarios: (accepted, index) => {
      const path = (accepted.get('path') as string) ?? `${FUZZ_ROOT}/${index}/link`;
      const target = (accepted.get('target') as string) ?? 'elsewhere';
      return [
        { instance: () => symlink({ path, target, force: true }), current: { type: 'directory', target: null, parentExists: true } },
        { instance: () => symlink({ path, target, state: 'absent' }), current: { type: 'symlink', target: 'x', parentExists: true } },
      ];
    },
  },
  {
    resource: 'directory',
    attempts: ownedPathAttempts,
    scenarios: (accepted, index) => {
      const params = ownedPathParams(accepted, `${FUZZ_ROOT}/${index}/dir`, '0750');
      const absent = { type: 'absent', owner: null, uid: null, group: null, gid: null, mode: null, empty: null, differingBeneath: null };
      return [
        { instance: () => directory({ ...params, recursive: true }), current: absent },
        { instance: () => directory({ path: params.path, state: 'absent' }), current: { ...absent, type: 'directory', empty: true } },
      ];
    },
  },
  {
    resource: 'cronJob',
    // The command and env values travel in the file's content; the canary shows none of them ran.
    attempts: (value) => [
      { parameter: 'name', value, arrives: `/etc/cron.d/${value}` },
      { parameter: 'schedule', value },
      { parameter: 'user', value },
      { parameter: 'command', value },
      { parameter: 'state', value },
    ],
    scenarios: (accepted) => {
      const params = {
        name: (accepted.get('name') as string) ?? 'keel-fuzz',
        schedule: (accepted.get('schedule') as string) ?? '@daily',
        user: (accepted.get('user') as string) ?? 'root',
        command: (accepted.get('command') as string) ?? 'true',
      };
      const present = { exists: true, content: 'other\n', mode: '0600', owner: 'daemon' };
      return [
        { instance: () => cronJob({ ...params, env: { MAILTO: params.command } }), current: present },
        { instance: () => cronJob({ ...params, state: 'absent' }), current: present },
      ];
    },
  },
  {
    resource: 'lineInFile',
    // Line and expressions shape only the content; the canary shows none of them ran.
    attempts: (value, index) => [
      { parameter: 'path', value: framedPath(index, value), arrives: framedPath(index, value) },
      { parameter: 'line', value, arrives: contentStart(`${value}\n`) },
      { parameter: 'regexp', value },
      { parameter: 'after', value },
      { parameter: 'state', value },
    ],
    scenarios: (accepted, index) => {
      const path = (accepted.get('path') as string) ?? `${FUZZ_ROOT}/${index}/lines`;
      const line = (accepted.get('line') as string) ?? 'plain';
      const regexp = accepted.get('regexp') as string | undefined;
      const after = accepted.get('after') as string | undefined;
      return [
        { instance: () => lineInFile({ path, line, create: true, ...(after === undefined ? {} : { after }) }), current: { content: '' } },
        ...(regexp === undefined
          ? []
          : [{ instance: () => lineInFile({ path, regexp, state: 'absent' }), current: { content: `${line}\nother\n` } }]),
      ];
    },
  },
  {
    resource: 'user',
    attempts: (value, index) => [
      { parameter: 'name', value, arrives: value },
      { parameter: 'group', value, arrives: value },
      { parameter: 'groups[]', value: ['adm', value], arrives: `adm,${value}` },
      { parameter: 'home', value: framedPath(index, value), arrives: framedPath(index, value) },
      { parameter: 'shell', value: framedPath(index, value), arrives: framedPath(index, value) },
      { parameter: 'comment', value, arrives: value },
      { parameter: 'state', value },
    ],
    scenarios: (accepted, index) => {
      const params = {
        name: (accepted.get('name') as string) ?? 'deploy',
        group: (accepted.get('group') as string) ?? 'users',
        groups: (accepted.get('groups[]') as string[]) ?? ['adm'],
        home: (accepted.get('home') as string) ?? `${FUZZ_ROOT}/${index}/home`,
        shell: (accepted.get('shell') as string) ?? '/bin/sh',
        comment: (accepted.get('comment') as string) ?? 'plain',
        password: new Secret('$6$salt$abc'),
      };
      const absent: UserState = {
        exists: false,
        uid: null,
        gid: null,
        group: null,
        groups: [],
        home: null,
        shell: null,
        comment: null,
        password: null,
      };
      const other: UserState = {
        exists: true,
        uid: 1,
        gid: 1,
        group: 'x',
        groups: ['y'],
        home: '/x',
        shell: '/x',
        comment: 'x',
        password: 'other',
      };
      return [
        { instance: () => user({ ...params, uid: 4200, system: true }), current: absent },
        { instance: () => user({ ...params, uid: 4200 }), current: other },
        { instance: () => user({ ...params, append: true }), current: other },
        { instance: () => user({ name: params.name, state: 'absent', removeHome: true }), current: other },
      ];
    },
  },
];

const FACTORIES: Record<string, (params: Record<string, unknown>) => ResourceInstance> = {
  sysctl: (params) => sysctl(params as never),
  file: (params) => file(params as never),
  template: (params) => templateFile(params as never),
  systemdUnit: (params) => systemdUnit(params as never),
  aptRepository: (params) => aptRepository(params as never),
  command: (params) => command(params as never),
  package: (params) => pkg(params as never),
  service: (params) => service(params as never),
  kernelModule: (params) => kernelModule(params as never),
  ifaceAlias: (params) => ifaceAlias(params as never),
  ipvsRule: (params) => ipvsRule(params as never),
  group: (params) => group(params as never),
  directory: (params) => directory(params as never),
  lineInFile: (params) => lineInFile(params as never),
  user: (params) => user(params as never),
  cronJob: (params) => cronJob(params as never),
  symlink: (params) => symlink(params as never),
};

/** Plain parameters of each resource, which an attempt changes in one place. */
const PLAIN = new Map(
  RESOURCES.map((resource) => [resource.resource, resource.scenarios(new Map(), 0)[0]!.instance().params as Record<string, unknown>]),
);

function accepts(resource: ResourceFuzz, attempt: Attempt): boolean {
  const params = { ...PLAIN.get(resource.resource) };
  const [list, field] = attempt.parameter.split('[].');
  const [record, key] = attempt.parameter.split('.');
  if (field !== undefined) params[list!] = [{ address: '192.0.2.11', [field]: attempt.value }];
  else if (key !== undefined) params[record!] = { [key]: attempt.value };
  else params[attempt.parameter.replace('[]', '')] = attempt.value;
  try {
    FACTORIES[resource.resource]!(params);
    return true;
  } catch (error) {
    if (error instanceof ResourceParamsError) return false;
    throw error;
  }
}

interface FuzzCase {
  id: number;
  /** Commands that may run `exit`, which must not end the whole section. */
  isolated: Set<ShellCommand>;
  /** The cases of one string and one resource: what must arrive may arrive in any of its scenarios. */
  group: number;
  commands: ShellCommand[];
  arrives: { parameter: string; text: string }[];
}

let lab: Lab;
let transport: Transport;

/** Canary files anywhere near the places a payload could have written one (its own path, or the shell's directory). */
async function canaries(): Promise<string> {
  const found = await lab.exec(
    lab.hosts[0]!.name,
    `find / -xdev -maxdepth 4 \\( -name ${CANARY.split('/').pop()} -o -name ${RELATIVE_CANARY} \\) 2>/dev/null`,
  );
  return found.stdout;
}

beforeAll(async () => {
  lab = await startHosts({ lab: 'fuzz', count: 1, kind: 'light' });
  transport = await connectHost(loadInventory(lab.inventoryPath).hosts[0]!, { kind: 'ssh' });
  const scripts = RECORDED_SCRIPTS.map(
    (name) =>
      `printf '%s\\n' '#!/bin/sh' 'printf "%s\\\\0" @call "$(($# + 1))" "\${0##*/}" "$@" >> "$__fz_log_file"' > ${STUB_BIN}/${name}`,
  ).join('; ');
  const setup = await lab.exec(lab.hosts[0]!.name, `mkdir -p ${STUB_BIN} && ${scripts} && chmod +x ${STUB_BIN}/*`);
  if (setup.code !== 0) throw new Error(setup.stderr);
});

afterAll(async () => {
  await transport?.close();
  await lab?.down();
});

describe('injection fuzz', () => {
  it(`sends ${STRINGS.toLocaleString('en')} hostile strings through every string parameter: each refused or arriving literally, none executed`, async () => {
    const strings = hostileStrings(STRINGS, 20260611);
    const counts = new Map<string, { tried: number; refused: number; passed: number }>();
    const cases: FuzzCase[] = [];
    const notObservable = new Set<string>();
    let refusedByQuoting = 0;
    strings.forEach((value, index) => {
      for (const resource of RESOURCES) {
        const accepted = new Map<string, unknown>();
        const arrives: FuzzCase['arrives'] = [];
        for (const attempt of resource.attempts(value, index)) {
          const key = `${resource.resource}.${attempt.parameter}`;
          const count = counts.get(key) ?? { tried: 0, refused: 0, passed: 0 };
          counts.set(key, count);
          count.tried += 1;
          if (!accepts(resource, attempt)) {
            count.refused += 1;
            continue;
          }
          count.passed += 1;
          accepted.set(attempt.parameter, attempt.value);
          if (attempt.arrives === undefined) notObservable.add(key);
          else arrives.push({ parameter: key, text: attempt.arrives });
        }
        if (accepted.size === 0) continue;
        const group = cases.length;
        resource.scenarios(accepted, index).forEach((scenario, position) => {
          const instance = scenario.instance();
          if (resource.resource === 'command' && accepted.has('name'))
            expect(instance.id).toBe(`command[${accepted.get('name') as string}]`);
          try {
            const changes = scenario.current === undefined ? [] : diffResource(instance, scenario.current);
            const commands = [
              instance.definition.read(instance.params).command,
              ...(scenario.current === undefined ? [] : instance.definition.apply(instance.params, scenario.current, changes)),
            ];
            if (scenario.actions)
              for (const action of Object.values(instance.definition.actions ?? {})) commands.push(...action(instance.params));
            const isolated = new Set(
              commands.filter((shellCommand, at) =>
                at === 0 && scenario.readMayExit !== undefined ? scenario.readMayExit : /\bexit\b/.test(shellCommand.text),
              ),
            );
            cases.push({ id: cases.length, group, isolated, commands, arrives: position === 0 ? arrives : [] });
          } catch (error) {
            if (!(error instanceof TypeError)) throw error;
            refusedByQuoting += 1;
          }
        });
      }
    });
    // A value the schema takes must never be one the quoting primitive refuses (a NUL): that would be a crash, not a refusal.
    expect(refusedByQuoting).toBe(0);

    const sections: Section[] = [];
    for (let start = 0; start < cases.length; start += CASES_PER_SECTION) {
      const lines = cases.slice(start, start + CASES_PER_SECTION).flatMap((fuzz) => [
        `__fz_case ${fuzz.id}`,
        // A command that may `exit` runs in a subshell of its own, as the engine runs each section; the rest runs in line.
        ...fuzz.commands.map((shellCommand) => (fuzz.isolated.has(shellCommand) ? `(\n${shellCommand.text}\n)` : shellCommand.text)),
      ]);
      sections.push({ name: `cases from ${start}`, command: new ShellCommand(lines.join('\n')) });
    }
    const halves = [sections.filter((_, index) => index % 2 === 0), sections.filter((_, index) => index % 2 === 1)];
    const started = Date.now();
    const runs = await Promise.all(
      halves.map(async (half, index) => {
        const log = `/tmp/keel-fuzz-${index}.log`;
        const batch = batchScript(half);
        // Run as the host's long-lived shell runs a script, `sh FILE`, but on a channel of its own so the halves overlap.
        const scriptFile = `/tmp/keel-fuzz-${index}.sh`;
        writeFileSync(join(lab.hosts[0]!.root, scriptFile), recorderPrelude(log, `${FUZZ_ROOT}-content-${index}`) + batch.script);
        const result = await transport.exec(`sh ${scriptFile}`, { timeoutMs: 1_500_000 });
        return { result, outputs: batch.parse(result.stdout, result.stderr).sections, log };
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    for (const { result, outputs } of runs) {
      expect(result.code, result.stderr.toString()).toBe(0);
      for (const [name, output] of outputs) expect(output.stderr, name).not.toMatch(/Syntax error|unexpected|unterminated/);
    }

    const observed = new Map<number, Observation>();
    for (const { log } of runs)
      for (const [id, observation] of parseLog(readFileSync(join(lab.hosts[0]!.root, log)))) observed.set(id, observation);
    const groups = new Map<number, string[]>();
    for (const fuzz of cases) groups.set(fuzz.group, [...(groups.get(fuzz.group) ?? []), ...(observed.get(fuzz.id)?.seen ?? [])]);
    const missing: string[] = [];
    for (const fuzz of cases) {
      const seen = groups.get(fuzz.group)!;
      for (const { parameter, text } of fuzz.arrives)
        if (!seen.some((argument) => argument.includes(text))) missing.push(`${parameter}: ${JSON.stringify(text).slice(0, 200)}`);
    }
    expect(missing.slice(0, 10)).toEqual([]);
    expect(observed.size).toBe(cases.length);

    expect(await canaries()).toBe('');

    const total = [...counts.values()].reduce(
      (sum, count) => ({ tried: sum.tried + count.tried, refused: sum.refused + count.refused, passed: sum.passed + count.passed }),
      { tried: 0, refused: 0, passed: 0 },
    );
    const rows = [...counts].map(
      ([key, count]) =>
        `  ${key.padEnd(34)} tried ${String(count.tried).padStart(6)}  refused by the schema ${String(count.refused).padStart(6)}  passed ${String(count.passed).padStart(6)}${count.passed === 0 ? '' : notObservable.has(key) ? ' (reaches no program: checked by id or [ -e ])' : ' (arrived literally)'}`,
    );
    console.log(
      [
        `injection fuzz: ${strings.length} hostile strings, ${total.tried} tried, ${total.refused} refused by the schema, ${total.passed} passed and arrived literally or reach no program; ${cases.length} command sets run in ${seconds.toFixed(0)} s; no canary`,
        ...rows,
      ].join('\n'),
    );
    expect(strings.length).toBeGreaterThanOrEqual(10_000);
  }, 1_800_000);

  it('writes real files at hostile paths with hostile content through the real engine and tools, byte for byte', async () => {
    const root = `${FUZZ_ROOT}-real`;
    const values = hostileStrings(400, 7).filter((value) => value.length < 200);
    const files = values
      .map((value, index) => ({ path: `${root}/${index}/${value}`, content: `${value}\n` }))
      .filter(({ path }) => accepts(RESOURCES[1]!, { parameter: 'path', value: path }))
      .slice(0, 16);
    const instances = files.map(({ path, content }) => file({ path, content, mode: '0640', makeParents: true }));
    const applied = await runOnce('apply', instances, transport);
    expect(applied.resources.map((result) => [result.id, result.outcome, result.error?.message])).toEqual(
      instances.map((instance) => [instance.id, 'changed', undefined]),
    );
    // Read back through this machine's view of the host's disk, not through keel.
    const hostRoot = lab.hosts[0]!.root;
    for (const { path, content } of files) expect(readFileSync(join(hostRoot, path), 'utf8')).toBe(content);
    const guards = files.map(({ path }, index) => command({ run: 'false', name: `guard ${index}`, creates: path }));
    const plan = await runOnce('plan', [...instances, ...guards], transport);
    expect(plan.resources.filter((result) => result.outcome !== 'unchanged').map((result) => result.id)).toEqual([]);
    expect(await canaries()).toBe('');
    rmSync(join(hostRoot, root), { recursive: true, force: true });
  });
});
