import { describe, expect, it } from 'vitest';
import { RecipeBook } from '../../src/line/recipes.js';

const base = { power: 500, frequency: 30, speed: 200, passes: 2 };

describe('laser recipes per make and model', () => {
  const book = new RecipeBook({
    default: base,
    models: [
      { make: 'Acme', recipe: { power: 600 } },
      { make: 'acme ', model: ' P1 ', recipe: { passes: 4 } },
    ],
  });

  it('uses the model entry over the make entry, filling the rest from the default', () => {
    expect(book.recipeFor('ACME', 'p1')).toEqual({ ...base, passes: 4 });
  });

  it('uses the make entry for a model without one', () => {
    expect(book.recipeFor('Acme', 'P2')).toEqual({ ...base, power: 600 });
  });

  it('uses the default for another make, and never hands out the default object itself', () => {
    const r = book.recipeFor('Other', 'X');
    expect(r).toEqual(base);
    r.power = 1;
    expect(book.recipeFor('Other', 'X').power).toBe(500);
  });
});
