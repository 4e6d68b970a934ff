/**
 * Ansible's connection variables (`ansible_host`, `ansible_user`, `ansible_ssh_common_args` …) of a host's merged
 * vars, as keel's connection settings. Other `ansible_*` vars are returned by name: keel does not use them.
 */
import { Type } from '@sinclair/typebox';
import { formatPath, validate } from '../../schema/index.js';
import { InventoryError } from '../errors.js';
import type { InventoryHost } from '../model.js';
import { type ConnectionSettings, connectionProperties, HostAddress } from '../schema.js';
import { shlexSplit } from './python.js';

const MappedSettings = Type.Object({ address: Type.Optional(HostAddress), ...connectionProperties }, { additionalProperties: false });

/** Ansible's `boolean()`: the spellings it takes for true and false. */
function ansibleBoolean(value: unknown): boolean | undefined {
  const text = typeof value === 'string' ? value.toLowerCase() : value;
  if ([true, 1, 'y', 'yes', 'on', '1', 'true', 't'].includes(text as never)) return true;
  if ([false, 0, 'n', 'no', 'off', '0', 'false', 'f', ''].includes(text as never)) return false;
  return undefined;
}

const SECRETS = ['ansible_password', 'ansible_ssh_pass', 'ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass'];
const SECRET_ADVICE =
  'keel never reads a password from the inventory: use --ask-become-pass, or in a keel inventory become: {password: {env: NAME}} or password: {file: PATH}';

/** The ssh options keel has a setting for, by their lower-case names. */
const SSH_OPTIONS: Record<string, keyof ConnectionSettings> = {
  proxyjump: 'proxyJump',
  proxycommand: 'proxyCommand',
  userknownhostsfile: 'knownHostsFile',
  identityfile: 'identityFile',
  connecttimeout: 'connectTimeout',
};

/** `-o ProxyJump=…`, `-J …`, `-o ProxyCommand="…"` and the like, from `ansible_ssh_common_args`; the rest is left over. */
function sshArguments(text: string, fail: (message: string) => never): { settings: Partial<ConnectionSettings>; unused: string[] } {
  let tokens: string[];
  try {
    tokens = shlexSplit(text).tokens;
  } catch (error) {
    return fail((error as Error).message);
  }
  const settings: Record<string, unknown> = {};
  const unused: string[] = [];
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    const flag = /^-([oJi])(.*)$/.exec(token);
    if (!flag) {
      unused.push(token);
      continue;
    }
    const argument = flag[2] !== '' ? flag[2]! : tokens[++index];
    if (argument === undefined) fail(`${token} has no argument`);
    if (flag[1] === 'J') settings.proxyJump = argument;
    else if (flag[1] === 'i') settings.identityFile = argument;
    else {
      const option = /^([A-Za-z]+)\s*(?:=|\s)\s*(.*)$/s.exec(argument!);
      const setting = option ? SSH_OPTIONS[option[1]!.toLowerCase()] : undefined;
      if (!option || !setting) unused.push(`-o ${argument}`);
      else if (setting === 'connectTimeout') settings.connectTimeout = Number(option[2]);
      else if (!(setting === 'proxyCommand' && option[2]!.toLowerCase() === 'none')) settings[setting] = option[2];
    }
  }
  return { settings: settings as Partial<ConnectionSettings>, unused };
}

export interface MappedHost {
  address?: string;
  connection: ConnectionSettings;
  /** The vars a recipe sees: every `ansible_*` var taken out. */
  vars: Record<string, unknown>;
  /** `ansible_*` vars (or parts of them) keel does not use, for the warning. */
  unused: string[];
}

export function mapConnectionVars(host: InventoryHost): MappedHost {
  const where = (name: string): string => host.locateVar([name]) ?? host.name;
  const fail = (name: string, message: string): never => {
    throw new InventoryError(`${where(name)}: host ${host.name}: ${name}: ${message}`);
  };
  const settings: Record<string, unknown> = {};
  const unused: string[] = [];
  const vars: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  const set = (setting: string, value: unknown, from: string): void => {
    settings[setting] = value;
    origin.set(setting, from);
  };
  for (const [name, value] of Object.entries(host.vars)) {
    if (!name.startsWith('ansible_')) {
      vars[name] = value;
      continue;
    }
    if (SECRETS.includes(name)) fail(name, SECRET_ADVICE);
    switch (name) {
      case 'ansible_host':
      case 'ansible_ssh_host':
        set('address', String(value), name);
        break;
      case 'ansible_port':
      case 'ansible_ssh_port':
        set('port', typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value, name);
        break;
      case 'ansible_user':
      case 'ansible_ssh_user':
        set('user', String(value), name);
        break;
      case 'ansible_ssh_private_key_file':
      case 'ansible_private_key_file':
        set('identityFile', String(value), name);
        break;
      case 'ansible_timeout':
      case 'ansible_ssh_timeout':
        set('connectTimeout', Number(value), name);
        break;
      case 'ansible_become': {
        const become = ansibleBoolean(value);
        if (become === undefined) fail(name, `must be true or false, not ${JSON.stringify(value)}`);
        set('become', become, name);
        break;
      }
      case 'ansible_become_user':
        if (value !== 'root')
          fail(name, `keel becomes root only (with sudo), so it cannot become ${JSON.stringify(value)}; remove it or set it to root`);
        break;
      case 'ansible_become_method':
        if (value !== 'sudo') fail(name, `keel becomes root with sudo only, not ${JSON.stringify(value)}`);
        break;
      case 'ansible_connection':
        if (value === 'local') set('connection', 'local', name);
        else if (!['ssh', 'paramiko', 'smart'].includes(String(value)))
          fail(name, `keel reaches hosts over SSH or locally, not ${JSON.stringify(value)}`);
        break;
      case 'ansible_ssh_common_args':
      case 'ansible_ssh_extra_args': {
        const parsed = sshArguments(String(value), (message) => fail(name, message));
        for (const [setting, item] of Object.entries(parsed.settings)) set(setting, item, name);
        if (parsed.unused.length > 0) unused.push(`${name} (${parsed.unused.join(' ')})`);
        break;
      }
      default:
        unused.push(name);
    }
  }
  const issues = validate(MappedSettings, settings);
  const [issue] = issues;
  if (issue) fail(origin.get(String(issue.path[0])) ?? 'ansible_host', `${formatPath(issue.path)} ${issue.message}`);
  const { address, ...connection } = settings as ConnectionSettings & { address?: string };
  return { ...(address === undefined ? {} : { address }), connection, vars, unused };
}
