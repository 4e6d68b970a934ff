/**
 * keel compiles schemas without checking them against the JSON Schema meta-schema (it would cost every start-up),
 * so its own are checked here: the inventory's, the report's, every built-in resource's and recipe's vars.
 */

import type { TSchema } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import director from '../../recipes/director.js';
import realserver from '../../recipes/realserver.js';
import { FactsDocumentSchema } from '../../src/facts/model.js';
import * as keel from '../../src/index.js';
import { InventorySchema } from '../../src/inventory/schema.js';
import { SavedPlanSchema } from '../../src/planner/savedPlan.js';
import { AdhocReportSchema } from '../../src/report/adhoc.js';
import { ReportSchema } from '../../src/report/json.js';

const metaSchemaChecker = new Ajv({ strict: false });
metaSchemaChecker.addKeyword({ keyword: 'keelSecret', schemaType: 'boolean' });

const resources = (Object.values(keel) as unknown[]).filter(
  (value): value is keel.ResourceFactory<TSchema, unknown> => typeof value === 'function' && 'definition' in value,
);

describe('built-in schemas', () => {
  it('covers every built-in resource', () => {
    expect(resources.map((resource) => resource.type).sort()).toEqual([
      'aptRepository',
      'command',
      'cronJob',
      'directory',
      'file',
      'group',
      'ifaceAlias',
      'ipvsRule',
      'kernelModule',
      'lineInFile',
      'package',
      'service',
      'symlink',
      'sysctl',
      'systemdUnit',
      'template',
      'user',
    ]);
  });

  it.each([
    ['inventory', InventorySchema],
    ['report', ReportSchema],
    ['facts', FactsDocumentSchema],
    ['ad-hoc report', AdhocReportSchema],
    ['saved plan', SavedPlanSchema],
    ['director vars', director.vars],
    ['realserver vars', realserver.vars],
    ...resources.map((resource) => [`${resource.type} parameters`, resource.definition.schema] as [string, TSchema]),
  ])('%s: a valid JSON Schema', (_name, schema) => {
    expect(metaSchemaChecker.validateSchema(schema as object), JSON.stringify(metaSchemaChecker.errors)).toBe(true);
  });

  it('the checker does reject a malformed schema', () => {
    expect(metaSchemaChecker.validateSchema({ type: 'string', minLength: 'three' })).toBe(false);
  });
});
