import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { TransformOptions } from 'jiti';
import { isRecipe, type Recipe } from './recipe.js';
import { cachedTransform, importCached, keelCacheDirectory } from './recipeCache.js';
import { recipeLocation } from './resource.js';

export class RecipeLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecipeLoadError';
  }
}

/** A recipe's own code threw, as it loaded or as it built a host's resources: located at the recipe's line. */
export class RecipeError extends Error {
  constructor(
    message: string,
    /** The stack of what the recipe threw, for `-v`. */
    readonly recipeStack: string | undefined,
  ) {
    super(message);
    this.name = 'RecipeError';
  }
}

/** Errors keel raises about a recipe that say where they are already (an inventory line, a declaration). */
const LOCATED = new Set(['RecipeError', 'RecipeVarsError', 'ResourceParamsError', 'InventoryError']);

function sourceLine(location: string): string | undefined {
  const match = /^(.*):(\d+)$/.exec(location);
  if (!match) return undefined;
  try {
    return readFileSync(resolve(match[1]!), 'utf8').split('\n')[Number(match[2]) - 1]?.trim();
  } catch {
    return undefined;
  }
}

function recipeError(error: unknown, file: string, context?: string): Error {
  if (error instanceof Error && LOCATED.has(error.name)) return error;
  const stack = error instanceof Error ? error.stack : undefined;
  const where = recipeLocation(stack) ?? file;
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'SecretInterpolationError') {
    const line = sourceLine(where);
    message += `${line ? `: in \`${line}\`` : ''}; give it to the command as \`env: { NAME: secret }\``;
  }
  return new RecipeError(`${where}: ${message}${context ? ` (${context})` : ''}`, stack);
}

/** The recipe, its resources() reporting a throw of its own as a RecipeError. */
function locatingThrows(loaded: Recipe, file: string): Recipe {
  return {
    ...loaded,
    resources(host) {
      try {
        return loaded.resources(host);
      } catch (error) {
        throw recipeError(error, file, `recipe ${loaded.name}, host ${host.name}`);
      }
    },
  };
}

/**
 * jiti compiles the recipe in-process, its output kept by content hash in keel's own cache rather than jiti's, which
 * falls back to a /tmp/jiti every user shares.
 */
async function importWithJiti(file: string, cache: string | undefined): Promise<{ default?: unknown }> {
  const { createJiti } = createRequire(import.meta.url)('jiti') as typeof import('jiti');
  let transpiler: ReturnType<typeof createJiti> | undefined;
  const transpile = (options: TransformOptions): string => {
    transpiler ??= createJiti(import.meta.url, { fsCache: false });
    return transpiler.transform(options);
  };
  const jiti = createJiti(import.meta.url, {
    nativeModules: ['keel'],
    fsCache: false,
    ...(cache && { transform: cachedTransform(cache, transpile) }),
  });
  return jiti.import<{ default?: unknown }>(resolve(file));
}

/**
 * Imports a recipe module straight from its .ts source: from keel's cache when it holds it (recipeCache.ts), else
 * compiled in-process by jiti; 'keel' itself is imported natively so the recipe and the engine share one copy of
 * every class.
 */
export async function loadRecipe(file: string): Promise<Recipe> {
  const cache = keelCacheDirectory('recipes');
  let module: { default?: unknown } | undefined;
  try {
    module = cache ? await importCached(cache, resolve(file)) : undefined;
    module ??= await importWithJiti(file, cache);
  } catch (error) {
    const message = (error as Error).message;
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (/Cannot find module '[^']*'/.test(message) && message.includes(resolve(file)))
    ) {
      throw new RecipeLoadError(`${file}: no such recipe file`);
    }
    if (recipeLocation((error as Error).stack) !== undefined) throw recipeError(error, file);
    throw new RecipeLoadError(`${file}: cannot load the recipe: ${message}`);
  }
  if (!isRecipe(module.default)) {
    throw new RecipeLoadError(`${file}: the default export is not a recipe (write \`export default recipe({ ... })\`)`);
  }
  return locatingThrows(module.default, file);
}
