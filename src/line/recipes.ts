/**
 * Laser recipes per firearm make and model. A stamp transfers well only when the marking is
 * tuned to the pin, so each model can have its own power, frequency, speed and passes; anything
 * else gets the default. Make and model match without regard to case or surrounding spaces.
 */
import type { Recipe } from '../engraver/types.js';

export interface RecipeSettings {
  default: Recipe;
  models?: Array<{ make: string; model: string; recipe: Recipe }>;
}

const key = (make: string, model: string) =>
  `${make.trim().toLowerCase()}\u0000${model.trim().toLowerCase()}`;

export class RecipeBook {
  private readonly byModel = new Map<string, Recipe>();

  constructor(private readonly settings: RecipeSettings) {
    for (const m of settings.models ?? []) this.byModel.set(key(m.make, m.model), m.recipe);
  }

  recipeFor(make: string, model: string): Recipe {
    return { ...(this.byModel.get(key(make, model)) ?? this.settings.default) };
  }
}
