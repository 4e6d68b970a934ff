/** The inventory's shape. `inventory/schema.json` is this schema, published for editors and other tools. */
import { type Static, Type } from '@sinclair/typebox';
import { Port } from '../schema/index.js';

export const SecretSource = Type.Union(
  [
    Type.Object({ env: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }) }, { additionalProperties: false }),
    Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ],
  { title: 'a secret source: {env: NAME} or {file: PATH}' },
);

const HostAddress = Type.String({ pattern: '^[A-Za-z0-9:._%-]+$', maxLength: 253, title: 'a host name or IP address' });
const SshUser = Type.String({ pattern: '^[A-Za-z0-9._][A-Za-z0-9._-]*\\$?$', maxLength: 64, title: 'a user name' });
const LocalPath = Type.String({ minLength: 1, maxLength: 4096 });

const Become = Type.Union([Type.Boolean(), Type.Object({ password: SecretSource }, { additionalProperties: false })], {
  title: 'true, false or {password: {env: NAME}}',
});

export const connectionProperties = {
  address: Type.Optional(HostAddress),
  port: Type.Optional(Port),
  user: Type.Optional(SshUser),
  identityFile: Type.Optional(LocalPath),
  /** Read from the environment or a file: never written in the inventory itself. */
  passphrase: Type.Optional(SecretSource),
  password: Type.Optional(SecretSource),
  knownHostsFile: Type.Optional(LocalPath),
  proxyCommand: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  proxyJump: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  connectTimeout: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600, title: 'seconds' })),
  become: Type.Optional(Become),
};

const Vars = Type.Record(Type.String(), Type.Unknown());

const HostEntry = Type.Object(
  { ...connectionProperties, vars: Type.Optional(Vars), groups: Type.Optional(Type.Array(Type.String())) },
  { additionalProperties: false },
);

const GroupEntry = Type.Object(
  { hosts: Type.Optional(Type.Array(Type.String())), vars: Type.Optional(Vars) },
  { additionalProperties: false },
);

export const InventorySchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    defaults: Type.Optional(Type.Object(connectionProperties, { additionalProperties: false })),
    vars: Type.Optional(Vars),
    groups: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), GroupEntry)),
    hosts: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), HostEntry),
  },
  { additionalProperties: false, title: 'keel inventory' },
);

export type InventoryFile = Static<typeof InventorySchema>;
export type ConnectionSettings = Static<typeof InventorySchema>['defaults'] & {};
export type SecretSourceSpec = Static<typeof SecretSource>;
