/** What keel knows of a host before it plans its resources: the shape recipes see as `host.facts`, and schema/facts.v1.json. */
import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from '../schema/index.js';

const Count = Type.Integer({ minimum: 0 });

const Address = Type.Object(
  {
    family: StringEnum(['inet', 'inet6']),
    address: Type.String({ title: 'e.g. 192.168.9.10 or fd00:9::10' }),
    prefix: Type.Integer({ minimum: 0, maximum: 128, title: 'the prefix length, e.g. 24' }),
  },
  { additionalProperties: false },
);

const Interface = Type.Object(
  {
    name: Type.String(),
    mac: Type.Union([Type.String(), Type.Null()], { title: 'null for devices without one (lo has 00:00:00:00:00:00)' }),
    up: Type.Boolean({ title: 'administratively up (the UP flag)' }),
    addresses: Type.Array(Address),
  },
  { additionalProperties: false },
);

export const FactsSchema = Type.Object(
  {
    os: Type.Object(
      {
        id: Type.String({ title: 'ID of /etc/os-release, e.g. debian, rocky' }),
        version: Type.String({ title: 'VERSION_ID of /etc/os-release, e.g. 12; empty when it has none (testing, sid)' }),
        family: StringEnum(['debian', 'rhel', 'other']),
      },
      { additionalProperties: false },
    ),
    kernel: Type.Object({ release: Type.String({ title: 'uname -r' }) }, { additionalProperties: false }),
    architecture: Type.String({ title: 'uname -m, e.g. x86_64, aarch64' }),
    hostname: Type.String(),
    fqdn: Type.String({ title: 'hostname -f; the hostname when it resolves to nothing longer' }),
    init: StringEnum(['systemd', 'sysv']),
    packageManager: StringEnum(['apt', 'dnf', 'yum', 'none']),
    interfaces: Type.Array(Interface, { title: 'as ip -j addr lists them' }),
    defaultRoute: Type.Union(
      [
        Type.Object({ interface: Type.String(), gateway: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false }),
        Type.Null(),
      ],
      { title: 'the IPv4 default route; null when there is none' },
    ),
    cpus: Type.Integer({ minimum: 1, title: 'nproc' }),
    memoryBytes: Count,
  },
  { additionalProperties: false, title: 'the facts of one host' },
);

export type Facts = Static<typeof FactsSchema>;
export type OsFamily = Facts['os']['family'];
export type PackageManager = Facts['packageManager'];

export const FACTS_VERSION = 'keel.facts/v1';

/** What `keel facts` prints: one object per selected host, in inventory order. */
export const FactsDocumentSchema = Type.Object(
  {
    version: Type.Literal(FACTS_VERSION),
    hosts: Type.Array(
      Type.Union([
        Type.Object({ host: Type.String(), facts: FactsSchema }, { additionalProperties: false }),
        Type.Object(
          { host: Type.String(), outcome: StringEnum(['failed', 'unreachable']), error: Type.String() },
          { additionalProperties: false },
        ),
      ]),
    ),
  },
  { additionalProperties: false, title: 'keel facts, version 1' },
);

export type FactsDocument = Static<typeof FactsDocumentSchema>;
