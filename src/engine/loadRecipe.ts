import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isRecipe, type Recipe } from './recipe.js';

export class RecipeLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecipeLoadError';
  }
}

/** Imports a recipe module straight from its .ts source (the CLI registers the TypeScript loader). */
export async function loadRecipe(file: string): Promise<Recipe> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(resolve(file))) {
      throw new RecipeLoadError(`${file}: no such recipe file`);
    }
    throw new RecipeLoadError(`${file}: cannot load the recipe: ${(error as Error).message}`);
  }
  if (!isRecipe(module.default)) {
    throw new RecipeLoadError(`${file}: the default export is not a recipe (write \`export default recipe({ ... })\`)`);
  }
  return module.default;
}
