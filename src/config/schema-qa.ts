/**
 * The laser recipes and QA sections of the configuration schema (`schema.ts`): how a pin is
 * marked per make and model, and the policy, registry check and image folder of the QA station.
 */
import { z } from 'zod';
import { int, MIN_GRADES, type MinGrade, recipeKey, setting } from './schema-base.js';

const recipeFields = {
  power: int(1, 1000).describe(
    'Laser power in 0.1 % (1..1000). 0 is refused: it would mark nothing and still record a pin as engraved.',
  ),
  frequency: int(1, 65535).describe('Pulse frequency, kHz.'),
  speed: int(1, 65535).describe('Mark speed, mm/s.'),
  passes: int(1, 20).describe('Number of passes, 1..20.'),
};

const defaultRecipe = z
  .strictObject({
    power: recipeFields.power.default(800),
    frequency: recipeFields.frequency.default(30),
    speed: recipeFields.speed.default(200),
    passes: recipeFields.passes.default(3),
  })
  .prefault({})
  .describe('The recipe for any firearm that no entry of `models` matches.');

const modelRecipe = z
  .strictObject({
    make: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .describe('Firearm make, as in orders; matched without regard to case.'),
    model: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .optional()
      .describe(
        'Firearm model, as in orders; matched without regard to case. Absent: every model of the make that has no entry of its own.',
      ),
    recipe: z
      .strictObject({
        power: recipeFields.power.optional(),
        frequency: recipeFields.frequency.optional(),
        speed: recipeFields.speed.optional(),
        passes: recipeFields.passes.optional(),
      })
      .describe('The values that differ from `recipes.default`; the others are taken from it.'),
  })
  .describe('A recipe for one make and model (or one make).');

const minGrade = (dflt?: MinGrade) => {
  const grade = z.enum(MIN_GRADES);
  return dflt ? grade.default(dflt) : grade.optional();
};

const qaPolicy = z
  .discriminatedUnion('kind', [
    z
      .strictObject({
        kind: z.literal('every-case').describe('Each case must decode on its own.'),
        cases: int(1, 100).default(3).describe('Cases test-fired and read per firearm.'),
        minGrade: minGrade('C').describe('Lowest grade (A..D) each case must reach.'),
      })
      .describe(
        '`every-case`: each of `cases` cases must decode on its own to the expected code with at least `minGrade`.',
      ),
    z
      .strictObject({
        kind: z.literal('ca-4075').describe("Modelled on California's rule for examining a test fire."),
        rounds: int(4, 10_000)
          .default(100)
          .describe('Rounds in the test fire; the first two and last two cases are examined.'),
        minGrade: minGrade().describe(
          'Lowest grade (A..D) each examined case must reach besides identifying the firearm. Absent: identifying the firearm against the registry of `qa.registry` is enough, whatever the grade.',
        ),
      })
      .describe(
        "`ca-4075`: of a test fire of `rounds` rounds, the first two and the last two cases must each identify the firearm on its own against the registry's issued codes (`qa.registry`).",
      ),
    z
      .strictObject({
        kind: z.literal('pooled').describe('The reads of all cases are decoded together.'),
        cases: int(1, 100).default(3).describe('Cases test-fired and read per firearm.'),
        minGrade: minGrade('C').describe('Lowest grade (A..D) the pooled decode must reach.'),
      })
      .describe(
        '`pooled`: the reads of all `cases` cases, decoded together, must give the expected code with at least `minGrade`.',
      ),
  ])
  .prefault({ kind: 'every-case' })
  .describe('The QA policy that decides pass or fail, chosen by `kind`.');

const qaImageFolder = z
  .strictObject({
    path: setting(
      z.string().min(1),
      "Folder a microscope's software saves case images to (PNG, JPEG, TIFF); `processed/` and `failed/` are made inside it.",
      { fsPath: true },
    ),
    pollMs: int(100, 3_600_000).default(1000).describe('How often the folder is scanned, in ms.'),
    settleMs: int(0, 3_600_000)
      .default(2000)
      .describe(
        'An image is read only once its size and time have not changed for this long, in ms, so that an image still being written is not read early.',
      ),
    completion: z
      .enum(['settle', 'done-file'])
      .default('settle')
      .describe(
        'How an image is known to be complete. settle: unchanged for settleMs. done-file: only once `<name>.done` stands beside it, written after the image (and its sidecar) are closed.',
      ),
    nameIs: z
      .enum(['serial', 'code'])
      .default('serial')
      .describe(
        "What the first part of an image's name (up to `_`) is, when no sidecar names the firearm: its serial or its code.",
      ),
    brand: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .describe("The bench's ammunition (brand and load), for images whose sidecar does not say."),
    lacquered: z
      .boolean()
      .default(false)
      .describe(
        "Whether the bench's ammunition has lacquered primers, for images whose sidecar does not say.",
      ),
    station: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .default('image folder')
      .describe('The station recorded with each read, unless a sidecar says.'),
  })
  .nullable()
  .default(null)
  .describe(
    'A watched folder of case images (docs/reading.md). Absent or null: images come through the QA station and the API only.',
  );

const qaRegistry = z
  .strictObject({
    issuedCodes: int(1, 2 ** 40)
      .default(10_000_000)
      .describe(
        "Codes the registry holds, all issuers together: a state's microstamped pistols over decades are of the order of 10,000,000. The more there are, the more a case must show to single one out.",
      ),
    issuers: int(1, 4096)
      .optional()
      .describe(
        'Issuers (manufacturers and licensed engravers) with codes at the registry. Absent: any of the 4096 may hold a rival code.',
      ),
  })
  .prefault({})
  .describe(
    'The registry a case will be identified against, for policies that judge a case as the registry would (`ca-4075`).',
  );

export const recipesSection = z
  .strictObject({
    default: defaultRecipe,
    models: z
      .array(modelRecipe)
      .default([])
      .describe(
        'Recipes per firearm make and model. Make and model match without regard to case or surrounding spaces; an entry with a model wins over an entry for the whole make.',
      ),
  })
  .superRefine((r, ctx) => {
    const seen = new Map<string, number>();
    r.models.forEach((m, i) => {
      const key = recipeKey(m.make, m.model);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else
        ctx.addIssue({
          code: 'custom',
          message: `same make and model as recipes.models[${first}]`,
          path: ['models', i],
        });
    });
  })
  .prefault({})
  .describe(
    'Laser recipes: how the pin is marked, per firearm make and model, since a stamp transfers well only when the marking is tuned to the pin.',
  );

export const qaSection = z
  .strictObject({ policy: qaPolicy, registry: qaRegistry, imageFolder: qaImageFolder })
  .prefault({})
  .describe('Verification of test-fired cases at the QA station.');
