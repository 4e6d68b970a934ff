import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Secret } from '../shell/index.js';

// Compiling runs at every start-up, so its two costliest extras are off: checking each schema against the JSON
// Schema meta-schema (TypeBox builds them typed; test/unit/schemas.test.ts checks keel's own) and optimising the
// generated code, which only ever validates a handful of values.
const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  strict: true,
  allowUnionTypes: true,
  verbose: true,
  validateSchema: false,
  code: { optimize: false },
});
addFormatsModule.default(ajv, ['ipv4', 'ipv6', 'hostname', 'uri', 'date-time']);
// `SecretString`: only a Secret passes, so a secret never arrives as plain text.
ajv.addKeyword({ keyword: 'keelSecret', schemaType: 'boolean', validate: (_enabled: boolean, data: unknown) => data instanceof Secret });

const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** One problem in a validated value, located by its path of keys. */
export interface ValidationIssue {
  path: (string | number)[];
  message: string;
}

const FORMAT_NAMES: Record<string, string> = {
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  hostname: 'a host name',
  uri: 'a URI',
  'date-time': 'a date and time (RFC 3339)',
};

function pathOf(error: ErrorObject): (string | number)[] {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
  if (error.keyword === 'additionalProperties') segments.push(String(error.params.additionalProperty));
  return segments;
}

function messageOf(error: ErrorObject): string {
  const title = (error.parentSchema as { title?: string } | undefined)?.title;
  switch (error.keyword) {
    case 'format':
      return `must be ${FORMAT_NAMES[String(error.params.format)] ?? `a valid ${String(error.params.format)}`}`;
    case 'pattern':
      return title ? `must be ${title}` : `must match ${String(error.params.pattern)}`;
    case 'additionalProperties':
      return 'is not a known key';
    case 'required':
      return `is missing required key "${String(error.params.missingProperty)}"`;
    case 'enum':
      return `must be one of: ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `must be ${/^[aeiou]/.test(String(error.params.type)) ? 'an' : 'a'} ${String(error.params.type)}`;
    default:
      return title ? `must be ${title}` : (error.message ?? 'is invalid');
  }
}

/**
 * Validates (and fills defaults into) a value. anyOf branches produce one error per branch; only the
 * summary error of the union is kept so messages stay readable.
 */
export function validate(schema: TSchema, value: unknown): ValidationIssue[] {
  const check = validatorFor(schema);
  if (check(value)) return [];
  const errors = check.errors ?? [];
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const error of errors) {
    if (error.keyword !== 'anyOf' && [...unionPaths].some((p) => error.instancePath.startsWith(p) && error.schemaPath.includes('/anyOf/')))
      continue;
    const issue = { path: pathOf(error), message: messageOf(error) };
    const key = `${issue.path.join('.')}|${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join('');
}
