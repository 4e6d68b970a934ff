/**
 * Schema fragments for the values configuration is made of. Strict patterns keep hostile strings out long
 * before any command is built; the `title` doubles as the error message ("must be an interface name").
 */
import { type TSchema, type TUnsafe, Type } from '@sinclair/typebox';
import type { Secret } from '../shell/index.js';

export const Ipv4 = Type.String({ format: 'ipv4', title: 'an IPv4 address' });
export const IpAddress = Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })], { title: 'an IP address' });
/** An IP address as the kernel's tools print it (`inet_ntop`): IPv6 lower-case and compressed, IPv4 unchanged. */
export function canonicalIp(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}
export const Port = Type.Integer({ minimum: 1, maximum: 65535, title: 'a port number (1-65535)' });
export const InterfaceName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$', title: 'an interface name' });
/** An address label: the interface name, a colon and a suffix, at most 15 characters (`lo:8`, `eth0:0`). */
export const AddressLabel = Type.String({
  pattern: '^(?=.{1,15}$)[A-Za-z0-9_][A-Za-z0-9_.-]*:[A-Za-z0-9_.-]+$',
  title: 'an address label such as eth0:0',
});
/** No control characters: they would reach terminals and logs through ids and messages. */
export const AbsolutePath = Type.String({
  pattern: '^(?!.*(^|/)\\.\\.(/|$))/[^\\x00-\\x1f\\x7f]*$',
  maxLength: 4096,
  title: 'an absolute path without ".." or control characters',
});
export const PackageName = Type.String({ pattern: '^[a-z0-9][a-z0-9+.-]+$', maxLength: 200, title: 'a package name' });
export const PackageVersion = Type.String({ pattern: '^[A-Za-z0-9.+~:_-]+$', maxLength: 200, title: 'a package version' });
/** Not starting with "-" (an option to update-rc.d) or "." (/etc/init.d/..). */
export const UnitName = Type.String({ pattern: '^[A-Za-z0-9:_@\\\\][A-Za-z0-9:_.@\\\\-]*$', maxLength: 256, title: 'a service name' });
export const UserOrGroup = Type.String({ pattern: '^[a-z_][a-z0-9_-]*\\$?$|^[0-9]+$', maxLength: 32, title: 'a user or group name' });
/** A user or group name as useradd and groupadd accept it by default: never numeric, never an option. */
export const AccountName = Type.String({ pattern: '^[a-z_][a-z0-9_-]*\\$?$', maxLength: 32, title: 'a user or group name' });
export const FileMode = Type.String({ pattern: '^0?[0-7]{3,4}$', title: 'an octal file mode such as 0644' });

/** The attributes of a managed file besides its path and content, which `file` and `template` share. */
export const FileAttributes = {
  owner: Type.Optional(UserOrGroup),
  group: Type.Optional(UserOrGroup),
  mode: Type.Optional(FileMode),
  /** Create missing parent directories; without it a missing directory is an error. */
  makeParents: Type.Optional(Type.Boolean()),
  /** Show content changes as checksums only, so secrets in the file never reach a report. */
  sensitive: Type.Optional(Type.Boolean()),
};

/** A string enum that validates as `enum` (clear error messages) and types as a union of literals. */
export function StringEnum<const Values extends readonly string[]>(
  values: Values,
  options: { default?: Values[number] } = {},
): TUnsafe<Values[number]> {
  return Type.Unsafe<Values[number]>({ type: 'string', enum: [...values], ...options });
}

/**
 * A recipe var that holds a secret. The inventory names where it comes from, `{secret: {env: NAME}}` or
 * `{secret: {file: PATH}}`, never the value; the recipe receives a `Secret`, which prints as "[redacted]".
 */
export const SecretString = Type.Unsafe<Secret>({
  keelSecret: true,
  title: 'a secret: {secret: {env: NAME}} or {secret: {file: PATH}} in the inventory',
});

type SchemaNode = {
  keelSecret?: boolean;
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  allOf?: SchemaNode[];
  oneOf?: SchemaNode[];
};

/** The paths at which `value` fills a `SecretString` of `schema`: where plain data would stand in for a secret. */
export function secretPaths(schema: TSchema, value: unknown, path: (string | number)[] = []): (string | number)[][] {
  const node = schema as SchemaNode;
  if (value === undefined) return [];
  if (node.keelSecret) return [path];
  const found = [...(node.anyOf ?? []), ...(node.allOf ?? []), ...(node.oneOf ?? [])].flatMap((branch) =>
    secretPaths(branch as TSchema, value, path),
  );
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [key, item] of entries) {
      const property = node.properties?.[key];
      if (property) found.push(...secretPaths(property as TSchema, item, [...path, key]));
      for (const [pattern, sub] of Object.entries(node.patternProperties ?? {})) {
        if (new RegExp(pattern, 'u').test(key)) found.push(...secretPaths(sub as TSchema, item, [...path, key]));
      }
    }
  }
  if (Array.isArray(value) && node.items)
    value.forEach((item, index) => found.push(...secretPaths(node.items as TSchema, item, [...path, index])));
  // A union's branches may name the same slot twice.
  return [...new Map(found.map((at) => [JSON.stringify(at), at])).values()];
}

/** A tag on a resource or recipe, as `--tags` and `--skip-tags` name it. */
export const Tag = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.:-]*$', maxLength: 64, title: 'a tag: letters, digits, _ . : -' });
