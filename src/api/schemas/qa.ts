/** Schemas of the QA routes: reads, verdicts, records and statistics (the vocabulary of src/qa/types.ts). */
import { z } from 'zod';
import { firearmSchema, orderHeaderSchema } from './line.js';

const grade = z.enum(['A', 'B', 'C', 'D', 'F']);

export const ammunitionSchema = z.looseObject({ brand: z.string(), lacquered: z.boolean() });

export const readDecodeSchema = z.looseObject({
  ok: z.boolean(),
  text: z.string().optional(),
  matches: z.boolean(),
  confident: z.boolean(),
  errors: z.number(),
  erasures: z.number(),
  uec: z.number(),
  grade,
  illegibleChars: z.number(),
  illegibleTeeth: z.number().nullable(),
  error: z.string().optional(),
});

export const storedReadSchema = z
  .looseObject({
    id: z.number().int(),
    at: z.string(),
    by: z.string().describe('who entered it'),
    serial: z.string(),
    orderId: z.string(),
    code: z.looseObject({ index: z.number().int(), text: z.string() }),
    text: z.string().optional(),
    gear: z.string().optional(),
    ammo: ammunitionSchema,
    round: z.number().int().optional(),
    station: z.string().optional(),
    source: z
      .enum(['typed', 'image'])
      .optional()
      .describe('typed by a person, or read off a case image; absent on reads logged before it was recorded'),
    corrected: z
      .looseObject({
        text: z.looseObject({ from: z.string(), to: z.string() }).optional(),
        gear: z.looseObject({ from: z.string(), to: z.string() }).optional(),
      })
      .optional()
      .describe(
        "for a read from an image: the image reader's text or gear (from) and what the person recorded instead (to)",
      ),
    imageSha256: z.string().optional().describe('for a read from an image: the SHA-256 of the image file'),
    soft: z
      .looseObject({ chars: z.array(z.array(z.number())), teeth: z.array(z.number()) })
      .optional()
      .describe(
        "for a read from an image: the reader's likelihoods (10 × 32 for the characters, 88 for the teeth), which the decoder weighs in place of the hard text and gear, except a part the person corrected",
      ),
    make: z.string(),
    model: z.string(),
    engraverId: z.string(),
    recipe: z.string(),
    decode: readDecodeSchema,
  })
  .describe('A read as stored: appended, never changed.');

export const verdictSchema = z
  .looseObject({
    status: z.enum(['pending', 'pass', 'fail']),
    policy: z.enum(['every-case', 'ca-4075', 'pooled']),
    casings: z.number().int(),
    needed: z.number().int(),
    grade,
    reason: z.string(),
    missingRounds: z.array(z.number().int()).optional(),
  })
  .describe("The policy's verdict over the reads of the firearm's current code.");

export const submitResultSchema = z.object({
  read: storedReadSchema,
  verdict: verdictSchema,
  outcome: z.enum(['pending', 'verified', 'rework']),
});

export const firearmRecordSchema = z
  .object({
    order: orderHeaderSchema,
    firearm: firearmSchema,
    reads: z.array(storedReadSchema).describe('every read, those of voided codes too'),
    verdict: verdictSchema.nullable(),
  })
  .describe('Everything the line knows of one firearm.');

export const statsDimensionSchema = z
  .enum(['ammo', 'lacquer', 'engraver', 'recipe', 'model'])
  .describe('what the reads are grouped by');

export const statsRowSchema = z.looseObject({
  key: z.string(),
  reads: z.number().int(),
  charLegibility: z.number(),
  gearPresent: z.number(),
  decodeRate: z.number(),
  grades: z.record(grade, z.number().int()),
  verdicts: z.looseObject({ pass: z.number().int(), fail: z.number().int() }),
});

export const trendRowSchema = z.looseObject({
  period: z.string(),
  day: z.string(),
  shift: z.string().optional(),
  start: z.string(),
  end: z.string(),
  engraved: z.number().int(),
  reads: z.number().int(),
  passed: z.number().int(),
  failed: z.number().int(),
  passRate: z.number().nullable(),
  scrapped: z.number().int(),
});

export const policySchema = z
  .looseObject({ kind: z.enum(['every-case', 'ca-4075', 'pooled']) })
  .describe('The configured QA policy and its parameters.');
