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

export const HostAddress = Type.String({ pattern: '^[A-Za-z0-9:._%-]+$', maxLength: 253, title: 'a host name or IP address' });
const SshUser = Type.String({ pattern: '^[A-Za-z0-9._][A-Za-z0-9._-]*\\$?$', maxLength: 64, title: 'a user name' });
const LocalPath = Type.String({ minLength: 1, maxLength: 4096 });

const Become = Type.Union([Type.Boolean(), Type.Object({ password: SecretSource }, { additionalProperties: false })], {
  title: 'true, false or {password: {env: NAME}}',
});

export const connectionProperties = {
  /** `local`: this machine, without SSH (Ansible's `ansible_connection=local`). */
  connection: Type.Optional(Type.Union([Type.Literal('ssh'), Type.Literal('local')], { title: 'ssh or local' })),
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
  {
    address: Type.Optional(HostAddress),
    ...connectionProperties,
    vars: Type.Optional(Vars),
    groups: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

const GroupName = Type.String({ pattern: '^[A-Za-z0-9_.-]+$' });

const GroupEntry = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Type.String())),
    /** Groups nested in this one: their hosts are this group's hosts too, and their vars override this group's. */
    children: Type.Optional(Type.Array(GroupName)),
    /** Among groups of the same depth, the vars of a higher priority win (default 1); otherwise the later name. */
    priority: Type.Optional(Type.Integer()),
    vars: Type.Optional(Vars),
  },
  { additionalProperties: false },
);

export const InventorySchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    defaults: Type.Optional(Type.Object(connectionProperties, { additionalProperties: false })),
    vars: Type.Optional(Vars),
    groups: Type.Optional(Type.Record(GroupName, GroupEntry)),
    hosts: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), HostEntry),
  },
  { additionalProperties: false, title: 'keel inventory' },
);

export type InventoryFile = Static<typeof InventorySchema>;
/** How to reach one host: the inventory's `defaults` with the host's own settings over them. */
export type ConnectionSettings = Static<typeof InventorySchema>['defaults'] & {};
export type SecretSourceSpec = Static<typeof SecretSource>;
