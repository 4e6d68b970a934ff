/**
 * The standalone code the build generated for a schema it knew, by `schemaKey`; undefined for any other. Run from
 * source there is none and every schema compiles at run time; the build (scripts/build.mjs) writes one file per
 * schema it knows (scripts/validatorSchemas.ts) and puts the reading of them in this module's place, so that a run
 * reads and evaluates only the validators it uses.
 */
export function precompiledValidator(_key: string): string | undefined {
  return undefined;
}
