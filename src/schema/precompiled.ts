/**
 * The standalone code of the validators the build generated, by `schemaKey`. Run from source there are none and
 * every schema compiles at run time; the build (scripts/build.mjs) puts the table of the schemas it knows
 * (scripts/validatorSchemas.ts) in this module's place. Kept as text, evaluated on first use: a run pays for
 * parsing only the validators it uses.
 */
export const PRECOMPILED: ReadonlyMap<string, string> = new Map();
