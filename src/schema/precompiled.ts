import type { ValidateFunction } from 'ajv';

/**
 * The validators the build generated with ajv's standalone code, by `schemaKey`, each evaluated on first use. Run
 * from source there are none and every schema compiles at run time; the build (scripts/build.mjs) puts the table of
 * the schemas it knows (scripts/validatorSchemas.ts) in this module's place.
 */
export const PRECOMPILED: Readonly<Record<string, () => ValidateFunction>> = {};
