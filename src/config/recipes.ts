/**
 * Which laser recipe marks a firearm. Orders and configuration are typed by different people,
 * so make and model match without regard to case, Unicode width forms or runs of spaces.
 */
import { type Config, type RecipeSettings, recipeKey } from './schema.js';

/**
 * The recipe for a make and model: the entry for that make and model, else the entry for the
 * whole make (no model), else `recipes.default`; an entry's missing values come from the default.
 */
export function recipeFor(recipes: Config['recipes'], make: string, model: string): RecipeSettings {
  const exact = recipeKey(make, model);
  const wholeMake = recipeKey(make, undefined);
  const entry =
    recipes.models.find((m) => recipeKey(m.make, m.model) === exact) ??
    recipes.models.find((m) => recipeKey(m.make, m.model) === wholeMake);
  return { ...recipes.default, ...definedOnly(entry?.recipe ?? {}) };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
