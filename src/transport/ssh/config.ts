/**
 * The part of ssh_config(5) keel honours: Host and Match blocks with HostName, User, Port, IdentityFile, ProxyJump,
 * ProxyCommand and ConnectTimeout, and Include. Files are read as ssh reads them: the user's ~/.ssh/config, then
 * /etc/ssh/ssh_config, line by line, the first value obtained winning (IdentityFile adds up). Keywords are
 * case-insensitive.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import SSHConfig, { type Directive, type Line, type Match } from 'ssh-config';
import { wildcardMatch } from './knownHosts.js';

export interface SshConfigHost {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
  proxyCommand?: string;
  connectTimeoutSeconds?: number;
}

/** A config file and whose it is: a relative Include is under ~/.ssh for the user's, under /etc/ssh for the system's. */
export interface SshConfigFile {
  path: string;
  scope: 'user' | 'system';
}

export function userSshDirectory(): string {
  return join(homedir(), '.ssh');
}

/** The files ssh reads when no -F is given, in its order. */
function defaultSshConfigFiles(): SshConfigFile[] {
  return [
    { path: join(userSshDirectory(), 'config'), scope: 'user' },
    { path: '/etc/ssh/ssh_config', scope: 'system' },
  ];
}

/** As ssh's READCONF_MAX_DEPTH. */
const MAX_INCLUDE_DEPTH = 16;

/** One evaluation of the config for one alias: what Host lines match against, and the values obtained so far. */
interface Reading {
  alias: string;
  /** The alias, or in the final pass (`Match final`) the HostName. */
  host: string;
  finalPass: boolean;
  wantsFinalPass: boolean;
  values: Map<string, string[]>;
}

/** A Host or Match block in force, shared with the files it includes; an include does not change the includer's. */
interface BlockState {
  active: boolean;
}

function words(value: Directive['value']): string[] {
  return typeof value === 'string' ? [value] : value.map(({ val }) => val);
}

/** ProxyCommand keeps its words as written, quotes included: it is a command line. */
function commandText(value: Directive['value']): string {
  if (typeof value === 'string') return value;
  return value
    .map(({ val, separator, quoted }) => `${separator}${quoted ? `"${val.replace(/"/g, '\\"')}"` : val}`)
    .join('')
    .trim();
}

function first(reading: Reading, keyword: string): string | undefined {
  return reading.values.get(keyword)?.[0];
}

/** A pattern list (`a,b,!c`): some pattern matches and no negated one does. */
function matchesPatternList(text: string, patterns: readonly string[]): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(text, pattern.slice(1))) return false;
    } else if (wildcardMatch(text, pattern)) matched = true;
  }
  return matched;
}

/** The HostName obtained so far, %h expanded, or the alias: what `Match host` and the final pass's Host lines see. */
function currentHostName(reading: Reading): string {
  const hostName = first(reading, 'hostname');
  return hostName === undefined ? reading.alias : expandTokens(hostName, { h: reading.alias });
}

/**
 * A Match line, criterion by criterion as ssh's match_cfg_line. `exec` would run a command from the config file on
 * every connection, and `localnetwork` and `tagged` need state keel does not have: a block with one never applies.
 */
function matchApplies(line: Match, reading: Reading): boolean {
  let result = true;
  for (const [key, value] of Object.entries(line.criteria)) {
    const negated = key.startsWith('!');
    const criterion = (negated ? key.slice(1) : key).toLowerCase();
    const patterns = words(value).flatMap((word) => word.split(','));
    let matched: boolean;
    switch (criterion) {
      case 'all':
        matched = true;
        break;
      case 'canonical':
      case 'final':
        if (criterion === 'final' && !negated) reading.wantsFinalPass = true;
        matched = reading.finalPass;
        break;
      case 'host':
        matched = matchesPatternList(
          currentHostName(reading).toLowerCase(),
          patterns.map((p) => p.toLowerCase()),
        );
        break;
      case 'originalhost':
        matched = matchesPatternList(
          reading.alias,
          patterns.map((p) => p.toLowerCase()),
        );
        break;
      case 'user':
        matched = matchesPatternList(first(reading, 'user') ?? userInfo().username, patterns);
        break;
      case 'localuser':
        matched = matchesPatternList(userInfo().username, patterns);
        break;
      default:
        return false;
    }
    if (matched === negated) result = false;
  }
  return result;
}

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function globSegment(segment: string): RegExp {
  let source = '';
  for (let index = 0; index < segment.length; index += 1) {
    const character = segment[index]!;
    if (character === '*') source += '.*';
    else if (character === '?') source += '.';
    else if (character === '[' && segment.indexOf(']', index + 2) > index) {
      const close = segment.indexOf(']', index + 2);
      const body = segment.slice(index + 1, close);
      source += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`.replace(/\\/g, '\\\\');
      index = close;
    } else if (character === '\\' && index + 1 < segment.length) {
      index += 1;
      source += literal(segment[index]!);
    } else source += literal(character);
  }
  return new RegExp(`^${source}$`, 's');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The existing files an absolute pattern names, sorted, as ssh's glob(3): `*`, `?` and `[...]` within a path
 * segment, and dot files only for a segment that starts with a dot. */
function globPaths(pattern: string): string[] {
  let paths = ['/'];
  const segments = pattern.split('/').filter(Boolean);
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const next: string[] = [];
    for (const directory of paths) {
      if (!/[*?[]/.test(segment)) {
        const path = join(directory, segment.replace(/\\(.)/g, '$1'));
        if (last ? exists(path) : isDirectory(path)) next.push(path);
        continue;
      }
      if (!isDirectory(directory)) continue;
      const matcher = globSegment(segment);
      for (const entry of readdirSync(directory)) {
        if (entry.startsWith('.') && !segment.startsWith('.')) continue;
        const path = join(directory, entry);
        if (matcher.test(entry) && (last || isDirectory(path))) next.push(path);
      }
    }
    paths = next;
  }
  return paths.sort();
}

/** The home directory of `~` or `~user`, as glob(3)'s GLOB_TILDE finds it; undefined for an unknown user. */
function tildeHome(name: string): string | undefined {
  if (name === '') return homedir();
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  return passwd
    .split('\n')
    .map((entry) => entry.split(':'))
    .find((fields) => fields[0] === name)?.[5];
}

/** The files one Include word names, as ssh finds them (ssh_config(5)). */
function includedFiles(word: string, file: SshConfigFile): string[] {
  if (word.startsWith('~') && file.scope === 'system')
    throw new Error(`${file.path}: Include ${word}: a system-wide ssh config may not name a path under ~`);
  let pattern = word;
  if (!isAbsolute(word) && !word.startsWith('~')) pattern = file.scope === 'user' ? `~/.ssh/${word}` : `/etc/ssh/${word}`;
  if (pattern.startsWith('~')) {
    const slash = pattern.indexOf('/');
    const home = tildeHome(pattern.slice(1, slash === -1 ? undefined : slash));
    if (home === undefined) return [];
    pattern = slash === -1 ? home : join(home, pattern.slice(slash));
  }
  return globPaths(pattern);
}

function readLines(file: SshConfigFile, depth: number): Line[] | undefined {
  if (depth > MAX_INCLUDE_DEPTH) throw new Error(`${file.path}: too many nested Include levels (more than ${MAX_INCLUDE_DEPTH})`);
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file.path}: cannot read the ssh config: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return SSHConfig.parse(text);
  } catch (error) {
    throw new Error(`${file.path}: ${(error as Error).message}`);
  }
}

function obtain(reading: Reading, line: Directive): void {
  const keyword = line.param.toLowerCase();
  const value = keyword === 'proxycommand' ? [commandText(line.value)] : words(line.value);
  const known = reading.values.get(keyword);
  // ssh adds an identity file once, however often it is named (the final pass names them all again).
  if (keyword === 'identityfile') reading.values.set(keyword, [...new Set([...(known ?? []), ...value])]);
  else if (known === undefined) reading.values.set(keyword, value);
}

/** `neverMatches`: the lines are inside a block that does not apply (an Include there is read, never applied). */
function readConfigLines(
  lines: readonly Line[],
  file: SshConfigFile,
  reading: Reading,
  block: BlockState,
  neverMatches: boolean,
  depth: number,
): void {
  for (const line of lines) {
    if (line.type !== SSHConfig.DIRECTIVE) continue;
    const keyword = line.param.toLowerCase();
    if (keyword === 'host' || keyword === 'match') {
      block.active =
        !neverMatches && (keyword === 'host' ? matchesPatternList(reading.host, words(line.value)) : matchApplies(line as Match, reading));
      readConfigLines('config' in line ? line.config : [], file, reading, block, neverMatches, depth);
    } else if (keyword === 'include') {
      const includerActive = block.active;
      for (const word of words(line.value)) {
        for (const path of includedFiles(word, file)) {
          const included = { path, scope: file.scope };
          readConfigLines(readLines(included, depth + 1) ?? [], included, reading, block, neverMatches || !includerActive, depth + 1);
          block.active = includerActive;
        }
      }
    } else if (block.active && !neverMatches) obtain(reading, line);
  }
}

function positive(value: string | undefined): number | undefined {
  const parsed = Number(value);
  return value !== undefined && Number.isInteger(parsed) && parsed > 0 ? parsed : undefined;
}

/** `none` switches a proxy off, as in ssh. */
function unlessNone(value: string | undefined): string | undefined {
  return value === undefined || value.toLowerCase() === 'none' ? undefined : value;
}

/** What the config says about `alias` (the host as it would be typed after `ssh`). A missing file says nothing. */
export function sshConfigFor(alias: string, files: readonly SshConfigFile[] = defaultSshConfigFiles()): SshConfigHost {
  const parsed = files.map((file) => ({ file, lines: readLines(file, 0) ?? [] }));
  const reading: Reading = {
    alias: alias.toLowerCase(),
    host: alias.toLowerCase(),
    finalPass: false,
    wantsFinalPass: false,
    values: new Map(),
  };
  const pass = (): void => {
    for (const { file, lines } of parsed) readConfigLines(lines, file, reading, { active: true }, false, 0);
  };
  pass();
  if (reading.wantsFinalPass) {
    reading.finalPass = true;
    reading.host = currentHostName(reading).toLowerCase();
    pass();
  }
  const result: SshConfigHost = { identityFiles: reading.values.get('identityfile') ?? [] };
  const hostName = first(reading, 'hostname');
  const user = first(reading, 'user');
  const port = positive(first(reading, 'port'));
  const proxyJump = unlessNone(first(reading, 'proxyjump'));
  const proxyCommand = unlessNone(first(reading, 'proxycommand'));
  const connectTimeoutSeconds = positive(first(reading, 'connecttimeout'));
  if (hostName !== undefined) result.hostName = hostName;
  if (user !== undefined) result.user = user;
  if (port !== undefined) result.port = port;
  if (proxyJump !== undefined) result.proxyJump = proxyJump;
  if (proxyCommand !== undefined) result.proxyCommand = proxyCommand;
  if (connectTimeoutSeconds !== undefined) result.connectTimeoutSeconds = connectTimeoutSeconds;
  return result;
}

/** Replaces ssh's `%x` tokens (`%%` is a literal `%`); an unknown token is left as written. */
export function expandTokens(text: string, values: Record<string, string>): string {
  return text.replace(/%(.)/g, (token, letter: string) => (letter === '%' ? '%' : (values[letter] ?? token)));
}

/** `~/x` → the home directory's x, as ssh does for file names. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}
