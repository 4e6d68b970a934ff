import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { runInThisContext } from 'node:vm';
import type { TSchema } from '@sinclair/typebox';
import type { Ajv, KeywordCxt, ValidateFunction } from 'ajv';
import { Secret } from '../shell/index.js';

const requireFromKeel = createRequire(import.meta.url);

/** What standalone validator code requires keel's `Secret` class by. */
const SECRET_MODULE = 'keel:secret';

/**
 * keel's ajv, for compiling at run time and for standalone validators (`standalone`: the code kept as source).
 * Compiling at run time skips its two costliest extras: checking each schema against the JSON Schema meta-schema
 * (TypeBox builds them typed; test/unit/schemas.test.ts checks keel's own) and optimising the generated code, which
 * only ever validates a handful of values. ajv is required here, on first use: a run whose validators are all
 * generated already never loads it.
 */
export function createAjv(standalone = false): Ajv {
  const { Ajv, _ } = requireFromKeel('ajv') as typeof import('ajv');
  const addFormats = requireFromKeel('ajv-formats') as typeof import('ajv-formats');
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    strict: true,
    allowUnionTypes: true,
    verbose: true,
    validateSchema: false,
    code: { optimize: false, source: standalone },
  });
  addFormats.default(ajv, ['ipv4', 'ipv6', 'hostname', 'uri', 'date-time']);
  // `SecretString`: only a Secret passes, so a secret never arrives as plain text. Standalone code requires the class
  // by a name evaluateStandalone answers with this very class, so every validator checks against one Secret.
  ajv.addKeyword({
    keyword: 'keelSecret',
    schemaType: 'boolean',
    code(context: KeywordCxt) {
      const secretClass = context.gen.scopeValue('keyword', { ref: Secret, code: _`require(${SECRET_MODULE}).Secret` });
      context.fail(_`!(${context.data} instanceof ${secretClass})`);
    },
  });
  return ajv;
}

/** ajv's standalone code for the schema: a CommonJS module whose export is its validator. */
export function standaloneSource(schema: TSchema): string {
  const standaloneCode = (requireFromKeel('ajv/dist/standalone') as typeof import('ajv/dist/standalone/index.js')).default;
  const ajv = createAjv(true);
  return standaloneCode(ajv, ajv.compile(schema));
}

/** The modules standalone code requires: ajv's runtime helpers, and keel's one `Secret` class. */
function requireForValidator(specifier: string): unknown {
  return specifier === SECRET_MODULE ? { Secret } : requireFromKeel(specifier);
}

/** Evaluates standaloneSource's code, its stack frames named by `filename`. */
export function evaluateStandalone(source: string, filename: string): ValidateFunction {
  const module = { exports: {} as ValidateFunction & { default?: ValidateFunction } };
  const evaluate = runInThisContext(`(function (module, exports, require) {${source}\n})`, { filename }) as (...args: unknown[]) => void;
  evaluate(module, module.exports, requireForValidator);
  return module.exports.default ?? module.exports;
}

/** What a schema is known by among the build's standalone validators: the hash of its JSON. */
export function schemaKey(schema: TSchema): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 32);
}
