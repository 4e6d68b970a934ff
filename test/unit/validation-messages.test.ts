/**
 * keel says what is wrong in its own words, never ajv's ("must NOT have more than 3 characters"): one case per
 * keyword ajv can report, and a check that every keyword keel's own schemas use has its case here.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import director from '../../recipes/director.js';
import realserver from '../../recipes/realserver.js';
import * as keel from '../../src/index.js';
import { InventorySchema } from '../../src/inventory/schema.js';
import { AdhocReportSchema } from '../../src/report/adhoc.js';
import { ReportSchema } from '../../src/report/json.js';
import { formatPath, SecretString, validate } from '../../src/schema/index.js';

const cases: Record<string, [schema: object, value: unknown, message: string]> = {
  type: [{ type: 'integer' }, 'eighty', 'must be an integer'],
  format: [{ type: 'string', format: 'ipv4' }, '192.168.9.300', 'must be an IPv4 address'],
  pattern: [{ type: 'string', pattern: '^[a-z]+$' }, 'A', 'must match ^[a-z]+$'],
  enum: [{ type: 'string', enum: ['rr', 'wrr'] }, 'lc', 'must be one of: "rr", "wrr"'],
  const: [{ const: 'tcp' }, 'udp', 'must be "tcp"'],
  required: [{ type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }, {}, 'is missing required key "name"'],
  dependencies: [{ type: 'object', dependencies: { user: ['password'] } }, { user: 'x' }, 'is missing key "password", which "user" needs'],
  additionalProperties: [{ type: 'object', additionalProperties: false }, { extra: 1 }, 'extra: is not a known key'],
  propertyNames: [{ type: 'object', propertyNames: { pattern: '^[a-z]+$' } }, { Bad: 1 }, 'Bad: is not an allowed key'],
  minLength: [{ type: 'string', minLength: 1 }, '', 'must not be empty'],
  maxLength: [{ type: 'string', maxLength: 65536 }, 'x'.repeat(65537), 'must be at most 65536 characters'],
  minItems: [{ type: 'array', minItems: 2 }, [1], 'must have at least 2 items'],
  maxItems: [{ type: 'array', maxItems: 1 }, [1, 2], 'must have at most 1 item'],
  additionalItems: [
    { type: 'array', items: [{ type: 'string' }], minItems: 1, additionalItems: false },
    ['a', 'b'],
    'must have at most 1 item',
  ],
  minProperties: [{ type: 'object', minProperties: 1 }, {}, 'must not be empty'],
  maxProperties: [{ type: 'object', maxProperties: 2 }, { a: 1, b: 2, c: 3 }, 'must have at most 2 keys'],
  uniqueItems: [{ type: 'array', uniqueItems: true }, ['nginx', 'curl', 'nginx'], 'must not repeat an item ([0] and [2] are the same)'],
  minimum: [{ type: 'integer', minimum: 0 }, -1, 'must be at least 0'],
  maximum: [{ type: 'integer', maximum: 65535, title: 'a port number (1-65535)' }, 70000, 'must be at most 65535'],
  exclusiveMinimum: [{ type: 'number', exclusiveMinimum: 0 }, 0, 'must be more than 0'],
  exclusiveMaximum: [{ type: 'number', exclusiveMaximum: 1 }, 1, 'must be less than 1'],
  multipleOf: [{ type: 'integer', multipleOf: 8 }, 12, 'must be a multiple of 8'],
  contains: [{ type: 'array', contains: { type: 'string' } }, [1], 'must have at least 1 item that is a string'],
  anyOf: [
    { anyOf: [{ type: 'integer' }, { type: 'string', format: 'ipv4', title: 'an IPv4 address' }] },
    true,
    'must be an integer or an IPv4 address',
  ],
  oneOf: [{ oneOf: [{ const: 'a' }, { const: 'b' }] }, 'c', 'must be "a" or "b"'],
  not: [{ not: { const: 'root' } }, 'root', 'must not be "root"'],
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, never awaited
  if: [{ if: { type: 'string' }, then: { type: 'string', maxLength: 3 } }, 'abcd', 'must be at most 3 characters'],
  keelSecret: [
    Type.Object({ token: SecretString }),
    { token: 'plain' },
    'token: must be a secret: {secret: {env: NAME}} or {secret: {file: PATH}} in the inventory',
  ],
};

/** Keywords that describe or structure a schema but report no error of their own. */
const SILENT = new Set([
  'title',
  'description',
  'default',
  '$id',
  '$schema',
  '$comment',
  'examples',
  'properties',
  'patternProperties',
  'items',
  'allOf',
  'then',
  'else',
]);

/** Where a schema holds other schemas: one, a list of them, or a record of them by name. */
const SUBSCHEMAS = new Set([
  'items',
  'additionalItems',
  'additionalProperties',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
  'anyOf',
  'oneOf',
  'allOf',
]);
const SCHEMA_RECORDS = new Set(['properties', 'patternProperties', 'dependencies']);

function keywordsOf(schema: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const item of schema) keywordsOf(item, into);
  else if (typeof schema === 'object' && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      into.add(key);
      if (SUBSCHEMAS.has(key)) keywordsOf(value, into);
      if (SCHEMA_RECORDS.has(key)) for (const child of Object.values(value as object)) keywordsOf(child, into);
    }
  }
  return into;
}

function said(schema: object, value: unknown): string {
  return validate(schema as TSchema, value)
    .map((issue) => (issue.path.length > 0 ? `${formatPath(issue.path)}: ${issue.message}` : issue.message))
    .join('; ');
}

describe("validation messages: keel's words", () => {
  it.each(Object.entries(cases))('%s', (_keyword, [schema, value, message]) => {
    expect(said(schema, value)).toBe(message);
  });

  it("has a case for every keyword keel's own schemas use", () => {
    const resources = (Object.values(keel) as unknown[]).filter(
      (value): value is keel.ResourceFactory<TSchema, unknown> => typeof value === 'function' && 'definition' in value,
    );
    const schemas = [
      InventorySchema,
      ReportSchema,
      AdhocReportSchema,
      director.vars,
      realserver.vars,
      ...resources.map((r) => r.definition.schema),
    ];
    const used = new Set<string>();
    for (const schema of schemas) keywordsOf(schema, used);
    const reporting = [...used].filter((keyword) => !SILENT.has(keyword));
    expect(reporting).toEqual(expect.arrayContaining(['type', 'pattern', 'maxLength', 'minimum', 'anyOf', 'keelSecret']));
    expect(reporting.filter((keyword) => !(keyword in cases))).toEqual([]);
  });

  it("a union says what its one branch of the value's kind wants, else names its branches where they say it", () => {
    const lockWait = Type.Union([Type.Integer({ minimum: 0 }), Type.Literal('auto')]);
    expect(said(lockWait, -1)).toBe('must be at least 0');
    expect(said(lockWait, true)).toBe('does not match any of the forms it may take');
    const packages = Type.Union([Type.String(), Type.Array(Type.String(), { uniqueItems: true })], { title: 'package names' });
    expect(said(packages, ['curl', 'curl'])).toBe('must not repeat an item ([0] and [1] are the same)');
    expect(said(packages, 7)).toBe('must be package names');
    expect(said(Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })]), 'x')).toBe(
      'must be an IPv4 address or an IPv6 address',
    );
  });

  it('says which key and which item, and the bound, where a schema title would hide it', () => {
    const schema = Type.Object({ pool: Type.Array(Type.Object({ weight: Type.Integer({ minimum: 0, title: 'a weight' }) })) });
    expect(said(schema, { pool: [{ weight: 1 }, { weight: -1 }] })).toBe('pool[1].weight: must be at least 0');
    expect(said(Type.Object({ page: Type.String({ maxLength: 4 }) }), { page: 'hello' })).toBe('page: must be at most 4 characters');
  });
});
