/**
 * A kernel parameter: the live value under /proc/sys, and (unless `persist: false`) the same value in a
 * file under /etc/sysctl.d so it survives a reboot. The diff shows the two separately.
 */
import { Type } from '@sinclair/typebox';
import { defineResource, type ReadOutput, Unknowable } from '../engine/resource.js';
import { atomicWriteScript, ensureDirectory, joinCommands, printTextFile, ShellCommand, sh } from '../shell/index.js';

export const SysctlKey = Type.String({
  pattern: '^[a-z][a-z0-9_]*(\\.[A-Za-z0-9_][A-Za-z0-9_:@/-]*)+$',
  maxLength: 256,
  title: 'a sysctl key such as net.ipv4.conf.eth0.arp_ignore',
});

const SysctlParams = Type.Object(
  {
    key: SysctlKey,
    value: Type.Union([Type.Integer(), Type.String({ pattern: '^[ \\t!-~]*$', maxLength: 4096 })], {
      title: 'an integer or a printable string',
    }),
    /** Write the value to `file` too, so it survives a reboot. */
    persist: Type.Optional(Type.Boolean({ default: true })),
    file: Type.Optional(
      Type.String({
        pattern: '^(?!.*(^|/)\\.\\.(/|$))/[^\\x00-\\x1f\\x7f]*\\.conf$',
        maxLength: 4096,
        title: 'an absolute path ending in .conf',
      }),
    ),
  },
  { additionalProperties: false },
);

export interface SysctlState {
  /** The live value, whitespace normalised. */
  value: string;
  /** The value the persistence file sets, or null when it does not set this key. */
  persisted: string | null;
  /** The persistence file's content, kept to rewrite it without losing other lines. */
  fileContent: string | null;
}

const DEFAULT_FILE = '/etc/sysctl.d/99-keel.conf';

/** `net.ipv4.conf.eth0/100.rp_filter` → `net/ipv4/conf/eth0.100/rp_filter` (a slash stands for a dot in a name). */
export function sysctlPath(key: string): string {
  return `/proc/sys/${key
    .split('.')
    .map((part) => part.replace(/\//g, '.'))
    .join('/')}`;
}

function normalise(value: string | number): string {
  return String(value).trim().split(/\s+/).join(' ');
}

function canonicalKey(key: string): string {
  return key.trim().replace(/\//g, '.');
}

/** The value a sysctl.d file gives a key: the last assignment wins, as with systemd-sysctl. */
export function persistedValue(content: string, key: string): string | null {
  let found: string | null = null;
  for (const raw of content.split('\n')) {
    const line = raw.trim().replace(/^-/, '');
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const equals = line.indexOf('=');
    if (equals < 0) continue;
    if (canonicalKey(line.slice(0, equals)) === canonicalKey(key)) found = normalise(line.slice(equals + 1));
  }
  return found;
}

/** The file with this key set to `value`: the first assignment rewritten, later ones dropped, or a line appended. */
export function withPersistedValue(content: string | null, key: string, value: string): string {
  const lines = (content ?? '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const output: string[] = [];
  let written = false;
  for (const raw of lines) {
    const line = raw.trim().replace(/^-/, '');
    const equals = line.indexOf('=');
    const isAssignment = equals > 0 && !line.startsWith('#') && !line.startsWith(';');
    if (isAssignment && canonicalKey(line.slice(0, equals)) === canonicalKey(key)) {
      if (!written) output.push(`${key} = ${value}`);
      written = true;
    } else {
      output.push(raw);
    }
  }
  if (!written) output.push(`${key} = ${value}`);
  return `${output.join('\n')}\n`;
}

const LIVE = 'live:';
const MISSING = 'missing';
const FILE_MARK = '--file--';
const NO_FILE = '--no-file--';

export function parseSysctlRead(stdout: string, key: string): SysctlState | Unknowable {
  const firstBreak = stdout.indexOf('\n');
  const first = firstBreak < 0 ? stdout : stdout.slice(0, firstBreak);
  const rest = firstBreak < 0 ? '' : stdout.slice(firstBreak + 1);
  if (first === MISSING) return new Unknowable(`${sysctlPath(key)} does not exist (is the module loaded, does the interface exist?)`);
  if (!first.startsWith(LIVE)) throw new Error(`unexpected output: ${JSON.stringify(stdout.slice(0, 80))}`);
  const valueEnd = rest.indexOf(`\n${FILE_MARK}\n`);
  const noFile = rest.indexOf(`\n${NO_FILE}\n`);
  const split = valueEnd >= 0 ? valueEnd : noFile;
  if (split < 0) throw new Error('the persistence file marker is missing');
  const value = normalise(first.slice(LIVE.length) + rest.slice(0, split));
  const fileContent = valueEnd >= 0 ? rest.slice(valueEnd + FILE_MARK.length + 2) : null;
  return { value, persisted: fileContent === null ? null : persistedValue(fileContent, key), fileContent };
}

const TOGETHER_MISSING = 'missing ';
const TOGETHER_FILE = 'file ';
const TOGETHER_NO_FILE = 'no-file ';
const TOGETHER_LINE = '|';

/**
 * Several keys' reads in one: `grep -H` prints each existing key's value after its path, one program for them all,
 * then each persistence file once, its lines marked. `paths` are the keys' /proc/sys paths, `files` their files.
 */
function readTogetherCommand(paths: readonly string[], files: readonly string[]): ShellCommand {
  return joinCommands(
    [
      new ShellCommand('set --'),
      ...paths.map((path) => sh`if [ -e ${path} ]; then set -- "$@" ${path}; else printf '%s\n' ${TOGETHER_MISSING + path}; fi`),
      new ShellCommand(`if [ $# -gt 0 ]; then grep -H '' -- "$@"; fi`),
      ...files.map(
        (file) =>
          sh`if [ -f ${file} ]; then printf '%s\n' ${TOGETHER_FILE + file}; ${printTextFile(file, TOGETHER_LINE)}; else printf '%s\n' ${TOGETHER_NO_FILE + file}; fi`,
      ),
    ],
    '\n',
  );
}

/** What the command of `readTogetherCommand` printed, as each key's own read would print it (`parseSysctlRead`). */
export function splitSysctlReads(output: ReadOutput, keys: readonly { key: string; file: string }[]): ReadOutput[] {
  const paths = [...new Set(keys.map(({ key }) => sysctlPath(key)))].sort((a, b) => b.length - a.length);
  const values = new Map<string, string[]>();
  const missing = new Set<string>();
  const files = new Map<string, string[] | null>();
  let content: string[] | undefined;
  const lines = output.stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith(TOGETHER_LINE) && content) {
      content.push(line.slice(TOGETHER_LINE.length));
      continue;
    }
    content = undefined;
    if (line.startsWith(TOGETHER_MISSING)) missing.add(line.slice(TOGETHER_MISSING.length));
    else if (line.startsWith(TOGETHER_FILE)) {
      content = [];
      files.set(line.slice(TOGETHER_FILE.length), content);
    } else if (line.startsWith(TOGETHER_NO_FILE)) files.set(line.slice(TOGETHER_NO_FILE.length), null);
    else {
      const path = paths.find((known) => line.startsWith(`${known}:`));
      if (path === undefined) throw new Error(`unexpected output: ${JSON.stringify(line.slice(0, 80))}`);
      values.set(path, [...(values.get(path) ?? []), line.slice(path.length + 1)]);
    }
  }
  return keys.map(({ key, file }) => {
    const path = sysctlPath(key);
    if (missing.has(path)) return { stdout: `${MISSING}\n`, stderr: output.stderr, code: 0 };
    const lines = files.get(file);
    if (lines === undefined) throw new Error(`${file} is missing from the output`);
    const filePart = lines === null ? `\n${NO_FILE}\n` : `\n${FILE_MARK}\n${lines.map((line) => `${line}\n`).join('')}`;
    return { stdout: `${LIVE}${(values.get(path) ?? []).join('\n')}\n${filePart}`, stderr: output.stderr, code: output.code };
  });
}

export const sysctl = defineResource({
  type: 'sysctl',
  schema: SysctlParams,
  key: (params) => params.key,
  read(params) {
    const file = params.file ?? DEFAULT_FILE;
    // The live value through cat, not a shell's read builtin: dash reads a byte at a time, and the kernel's
    // integer handlers return nothing past the first byte, so `32768\t60999` would arrive as `3`.
    return {
      command: sh`if [ -e ${sysctlPath(params.key)} ]; then printf '%s' ${LIVE}; cat -- ${sysctlPath(params.key)}; else echo ${MISSING}; exit 0; fi
if [ -f ${file} ]; then printf '\n%s\n' ${FILE_MARK}; ${printTextFile(file)}; else printf '\n%s\n' ${NO_FILE}; fi`,
      parse: (output) => parseSysctlRead(output.stdout, params.key),
    };
  },
  readTogether(all) {
    const keys = all.map((params) => ({ key: params.key, file: params.file ?? DEFAULT_FILE }));
    return {
      command: readTogetherCommand([...new Set(keys.map(({ key }) => sysctlPath(key)))], [...new Set(keys.map(({ file }) => file))]),
      split: (output) => splitSysctlReads(output, keys),
    };
  },
  desired(params) {
    const value = normalise(params.value);
    return params.persist === false ? { value } : { value, persisted: value };
  },
  apply(params, current, changes) {
    const value = normalise(params.value);
    const steps = [];
    if (changes.some((c) => c.field === 'value')) steps.push(sh`printf '%s\n' ${value} > ${sysctlPath(params.key)}`);
    if (changes.some((c) => c.field === 'persisted')) {
      const file = params.file ?? DEFAULT_FILE;
      steps.push(
        ensureDirectory(file.replace(/\/[^/]+$/, '') || '/'),
        atomicWriteScript(file, withPersistedValue(current.fileContent, params.key, value)),
      );
    }
    return steps;
  },
});
