/** Regenerates the published JSON Schemas from their TypeBox sources: `npx tsx scripts/write-schemas.ts`. */
import { writeFileSync } from 'node:fs';
import { DoctorReportSchema } from '../src/doctor/report.js';
import { FactsDocumentSchema } from '../src/facts/model.js';
import { InventorySchema } from '../src/inventory/schema.js';
import { SavedPlanSchema } from '../src/planner/savedPlan.js';
import { AdhocReportSchema } from '../src/report/adhoc.js';
import { ReportSchema } from '../src/report/json.js';

const publish = (path: string, schema: object): void =>
  writeFileSync(new URL(`../${path}`, import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);

publish('inventory/schema.json', InventorySchema);
publish('schema/report.v1.json', ReportSchema);
publish('schema/adhoc.v1.json', AdhocReportSchema);
publish('schema/plan.v1.json', SavedPlanSchema);
publish('schema/facts.v1.json', FactsDocumentSchema);
publish('schema/doctor.v1.json', DoctorReportSchema);
