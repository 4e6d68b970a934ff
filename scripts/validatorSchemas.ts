/**
 * The schemas keel validates against that are known when it is built: the inventory's, every resource's parameters,
 * tags, secret sources, reports and saved plans. The build generates their validators ahead (ajv's standalone code);
 * a schema missing here still works, compiled at run time, as a recipe's own vars always are.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import * as keel from '../src/index.js';
import { InventorySchema, SecretSource } from '../src/inventory/schema.js';
import { SavedPlanSchema } from '../src/planner/savedPlan.js';
import { ReportSchema } from '../src/report/json.js';
import { Tag } from '../src/schema/values.js';

export { schemaKey, standaloneSource } from '../src/schema/compile.js';

function resourceSchemas(): TSchema[] {
  return Object.values(keel).flatMap((exported) => {
    const definition = (exported as { definition?: { schema?: TSchema } }).definition;
    return typeof exported === 'function' && definition?.schema ? [definition.schema] : [];
  });
}

export const BUILD_TIME_SCHEMAS: TSchema[] = [
  InventorySchema,
  SecretSource,
  Tag,
  Type.Array(Tag),
  ReportSchema,
  SavedPlanSchema,
  ...resourceSchemas(),
];
