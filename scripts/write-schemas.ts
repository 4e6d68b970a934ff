/** Regenerates the published JSON Schemas from their TypeBox sources: `npx tsx scripts/write-schemas.ts`. */
import { writeFileSync } from 'node:fs';
import { InventorySchema } from '../src/inventory/schema.js';

writeFileSync(new URL('../inventory/schema.json', import.meta.url), `${JSON.stringify(InventorySchema, null, 2)}\n`);
