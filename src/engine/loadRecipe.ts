import { resolve } from 'node:path';
import { isRecipe, type Recipe } from './recipe.js';

export class RecipeLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecipeLoadError';
  }
}

/**
 * Imports a recipe module straight from its .ts source. jiti compiles it in-process (cached on disk);
 * 'keel' itself is imported natively so the recipe and the engine share one copy of every class.
 */
export async function loadRecipe(file: string): Promise<Recipe> {
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, { nativeModules: ['keel'] });
  let module: { default?: unknown };
  try {
    module = await jiti.import<{ default?: unknown }>(resolve(file));
  } catch (error) {
    const message = (error as Error).message;
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (/Cannot find module '[^']*'/.test(message) && message.includes(resolve(file)))
    ) {
      throw new RecipeLoadError(`${file}: no such recipe file`);
    }
    throw new RecipeLoadError(`${file}: cannot load the recipe: ${message}`);
  }
  if (!isRecipe(module.default)) {
    throw new RecipeLoadError(`${file}: the default export is not a recipe (write \`export default recipe({ ... })\`)`);
  }
  return module.default;
}
