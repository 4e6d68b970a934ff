import { createHash } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import { _, Ajv, type KeywordCxt } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Secret } from '../shell/index.js';

/**
 * keel's ajv, for compiling at run time and for the standalone validators the build generates (`standalone`: the
 * code kept as source). Compiling at run time skips its two costliest extras: checking each schema against the JSON
 * Schema meta-schema (TypeBox builds them typed; test/unit/schemas.test.ts checks keel's own) and optimising the
 * generated code, which only ever validates a handful of values.
 */
export function createAjv(standalone = false): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    strict: true,
    allowUnionTypes: true,
    verbose: true,
    validateSchema: false,
    code: { optimize: false, source: standalone },
  });
  addFormatsModule.default(ajv, ['ipv4', 'ipv6', 'hostname', 'uri', 'date-time']);
  // `SecretString`: only a Secret passes, so a secret never arrives as plain text. Standalone code imports the class
  // from the specifier the build resolves to src/shell/secret.ts, so the bundle keeps one Secret class.
  ajv.addKeyword({
    keyword: 'keelSecret',
    schemaType: 'boolean',
    code(context: KeywordCxt) {
      const secretClass = context.gen.scopeValue('keyword', { ref: Secret, code: _`require("keel:secret").Secret` });
      context.fail(_`!(${context.data} instanceof ${secretClass})`);
    },
  });
  return ajv;
}

/** What a schema is known by among the build's standalone validators: the hash of its JSON. */
export function schemaKey(schema: TSchema): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 32);
}
