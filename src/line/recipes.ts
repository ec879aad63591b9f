/**
 * Laser recipes per firearm make and model. A stamp transfers well only when the marking is
 * tuned to the pin, so a make, or one model of it, can have its own power, frequency, speed and
 * passes; what an entry leaves out comes from the default. Make and model match without regard
 * to case or surrounding spaces; an entry for the model wins over one for the whole make.
 */
import type { Recipe } from '../engraver/types.js';

export interface RecipeSettings {
  default: Recipe;
  models?: Array<{ make: string; model?: string | undefined; recipe: Partial<Recipe> }>;
}

const norm = (s: string) => s.trim().toLowerCase();
const key = (make: string, model?: string) => `${norm(make)}\u0000${model === undefined ? '*' : norm(model)}`;

export class RecipeBook {
  private readonly entries = new Map<string, Partial<Recipe>>();

  constructor(private readonly settings: RecipeSettings) {
    for (const m of settings.models ?? []) this.entries.set(key(m.make, m.model), m.recipe);
  }

  recipeFor(make: string, model: string): Recipe {
    const override = this.entries.get(key(make, model)) ?? this.entries.get(key(make)) ?? {};
    const recipe = { ...this.settings.default };
    for (const [k, v] of Object.entries(override) as Array<[keyof Recipe, number | undefined]>) {
      if (v !== undefined) recipe[k] = v;
    }
    return recipe;
  }
}
