/**
 * The validators the build generates (ajv's standalone code, scripts/validatorSchemas.ts) say exactly what the ones
 * compiled at run time say: every build-time schema, fed the same wrong values, gives the same issues through the
 * bundle (dist/) as through the source, which has no generated validators and compiles each schema.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TIME_SCHEMAS, schemaKey } from '../../scripts/validatorSchemas.js';
import { type command, type file, Secret, validate } from '../../src/index.js';

const REPO = join(import.meta.dirname, '../..');

type Keel = { validate: typeof validate; Secret: typeof Secret; file: typeof file; command: typeof command };
let bundled: Keel;

beforeAll(async () => {
  // bin/keel.js rebuilds dist/ first when src/ is newer than it.
  execFileSync(process.execPath, [join(REPO, 'bin/keel.js'), '--version']);
  bundled = (await import(pathToFileURL(join(REPO, 'dist/index.js')).href)) as Keel;
});

type Node = { type?: string | string[]; properties?: Record<string, Node>; keelSecret?: boolean; items?: Node };

/** A value of another kind than the schema wants, and one that no pattern of keel's lets through. */
function wrongValues(node: Node | undefined, secret: (text: string) => unknown): unknown[] {
  const type = ([] as string[]).concat(node?.type ?? [])[0];
  if (node?.keelSecret) return ['plain text'];
  if (type === 'string') return [12, '; rm -rf / $(id) `id`\n', '', 'x'.repeat(70000), secret('s')];
  if (type === 'integer' || type === 'number') return ['8o', -1, 1.5, 1e12];
  if (type === 'boolean') return ['yes'];
  if (type === 'array') return ['x', [12, 12], [null]];
  return ['x', null, [], { unknownKey: 1 }];
}

/** Values that each go wrong somewhere: at the top, and in each property in turn, in every way of its own. */
function samples(schema: TSchema, secret: (text: string) => unknown): unknown[] {
  const node = schema as Node;
  const values: unknown[] = [undefined, null, 'text', 42, [], {}, { unknownKey: 1 }];
  for (const [name, property] of Object.entries(node.properties ?? {})) {
    for (const wrong of wrongValues(property, secret)) values.push({ [name]: wrong });
    for (const [inner, innerNode] of Object.entries(property.properties ?? {}))
      for (const wrong of wrongValues(innerNode, secret)) values.push({ [name]: { [inner]: wrong } });
    if (property.items) for (const wrong of wrongValues(property.items, secret)) values.push({ [name]: [wrong] });
  }
  return values;
}

describe('validators generated at build time', () => {
  it('cover every build-time schema, each in a file of its own named by the key the validator looks it up by', () => {
    const bundle = readFileSync(join(REPO, 'dist/keel.cjs'), 'utf8');
    expect(BUILD_TIME_SCHEMAS.length).toBeGreaterThan(20);
    for (const schema of BUILD_TIME_SCHEMAS) {
      expect(bundle).toContain(JSON.stringify(schemaKey(schema)));
      expect(readFileSync(join(REPO, 'dist/validators', `${schemaKey(schema)}.cjs`), 'utf8')).toContain('module.exports');
    }
  });

  it('give the same issues as validators compiled at run time, for every build-time schema', () => {
    let compared = 0;
    let failing = 0;
    for (const schema of BUILD_TIME_SCHEMAS) {
      const fromSource = samples(schema, (text) => new Secret(text));
      const fromBundle = samples(schema, (text) => new bundled.Secret(text));
      fromSource.forEach((value, index) => {
        const expected = validate(schema, value);
        expect(bundled.validate(schema, fromBundle[index]), `${schemaKey(schema)} ${JSON.stringify(value)}`).toEqual(expected);
        compared += 1;
        if (expected.length > 0) failing += 1;
      });
    }
    // The comparison means something only if most samples are wrong somewhere.
    expect(failing).toBeGreaterThan(compared * 0.8);
  });

  it("take the bundle's own Secret where a parameter may hold one", () => {
    // A generated validator that checked against a second copy of the Secret class would refuse every secret.
    const secret = new bundled.Secret('s3cret');
    expect(() => bundled.file({ path: '/etc/app/token', content: secret })).not.toThrow();
    expect(() => bundled.command({ run: 'deploy', env: { TOKEN: secret } })).not.toThrow();
    expect(() => bundled.file({ path: '/etc/app/token', content: new Secret('s3cret') })).toThrow(/content/);
  });

  it('fill in defaults as the run-time ones do', () => {
    for (const schema of BUILD_TIME_SCHEMAS) {
      const fromSource: Record<string, unknown> = {};
      const fromBundle: Record<string, unknown> = {};
      validate(schema, fromSource);
      bundled.validate(schema, fromBundle);
      expect(fromBundle).toEqual(fromSource);
    }
  });
});
