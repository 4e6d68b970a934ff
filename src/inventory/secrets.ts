/** Secrets named by the inventory (`{env: NAME}` or `{file: PATH}`), read only when needed and held as `Secret`. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { formatPath, validate } from '../schema/index.js';
import { Secret } from '../shell/index.js';
import { InventoryError, type InventoryHost } from './load.js';
import { SecretSource, type SecretSourceSpec } from './schema.js';

/** `what` names the setting in messages, e.g. `rs1: become.password`; the value never appears in one. */
export function resolveSecret(source: SecretSourceSpec, what: string): Secret {
  if ('env' in source) {
    const value = process.env[source.env];
    if (value === undefined) throw new InventoryError(`${what}: environment variable ${source.env} is not set`);
    return new Secret(value);
  }
  const path = source.file.startsWith('~/') ? join(homedir(), source.file.slice(2)) : source.file;
  try {
    return new Secret(readFileSync(path, 'utf8').replace(/\r?\n$/, ''));
  } catch (error) {
    throw new InventoryError(`${what}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Every secret of a host's connection settings, so that messages about the host can be scrubbed of them. */
export function connectionSecrets(host: InventoryHost): Secret[] {
  const { become, password, passphrase } = host.connection;
  const sources: [SecretSourceSpec | undefined, string][] = [
    [typeof become === 'object' ? become.password : undefined, 'become.password'],
    [password, 'password'],
    [passphrase, 'passphrase'],
  ];
  return sources.flatMap(([source, field]) => (source ? [resolveSecret(source, `${host.name}: ${field}`)] : []));
}

/** `{secret: …}` in the vars: a reference to a secret, resolved before any recipe sees the vars. */
function isSecretReference(value: unknown): value is { secret: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && 'secret' in value;
}

/**
 * The host's vars with every `{secret: {env: NAME}}` or `{secret: {file: PATH}}` replaced by a `Secret`, and those
 * secrets, so that messages about the host can be scrubbed of them.
 */
export function resolveSecretVars(host: InventoryHost): { vars: Record<string, unknown>; secrets: Secret[] } {
  const secrets: Secret[] = [];
  const resolve = (value: unknown, path: (string | number)[]): unknown => {
    if (isSecretReference(value)) {
      const where = `${host.locateVar(path) ?? host.name}: vars.${formatPath(path)}`;
      const issues = validate(SecretSource, value.secret);
      if (issues.length > 0) throw new InventoryError(`${where}.secret: must be {env: NAME} or {file: PATH}`);
      const secret = resolveSecret(value.secret as SecretSourceSpec, where);
      secrets.push(secret);
      return secret;
    }
    if (Array.isArray(value)) return value.map((item, index) => resolve(item, [...path, index]));
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item, [...path, key])]));
    return value;
  };
  const vars = resolve(host.vars, []) as Record<string, unknown>;
  return { vars, secrets };
}
