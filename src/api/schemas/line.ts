/**
 * Response schemas of the line's orders and firearms. They are loose objects: they document
 * the fields every client may rely on and let through fields the line adds later (the `qa` of a
 * verified firearm, say), rather than silently dropping them from the answer.
 */
import { z } from 'zod';

const iso = z.string().describe('ISO 8601 time, UTC');

export const recipeSchema = z.looseObject({
  power: z.number().describe('laser power in 0.1 %'),
  frequency: z.number().describe('pulse frequency, kHz'),
  speed: z.number().describe('mark speed, mm/s'),
  passes: z.number(),
});

export const firearmQaSchema = z
  .looseObject({
    result: z.enum(['pass', 'fail']),
    policy: z.enum(['every-case', 'ca-4075', 'pooled']),
    grade: z.enum(['A', 'B', 'C', 'D', 'F']),
    casings: z.number().int(),
    at: iso,
    by: z.string(),
  })
  .describe("The QA station's decision on a code.");

export const codeRefSchema = z.looseObject({
  index: z.number().int(),
  text: z.string().describe('the 10 characters of the code'),
  gear: z.string().describe('the 88 teeth of the gear ring, 0 and 1'),
  jobId: z.number().int(),
  allocatedAt: iso,
});

export const voidedCodeSchema = codeRefSchema.extend({
  voidedAt: iso,
  reason: z.string(),
  pinScrapped: z.boolean(),
  fault: z.number().int().optional(),
  qa: firearmQaSchema.optional().describe('set when the code was voided by a failed verification'),
});

export const firearmStateSchema = z.enum([
  'queued',
  'allocated',
  'loaded',
  'marking',
  'engraved',
  'cancelled',
]);

export const firearmSchema = z
  .looseObject({
    serial: z.string(),
    orderId: z.string(),
    seq: z.number().int(),
    rework: z.boolean(),
    state: firearmStateSchema,
    code: codeRefSchema.optional(),
    voided: z.array(voidedCodeSchema),
    recipe: recipeSchema.optional(),
    engravedAt: iso.optional(),
    reported: z.boolean().optional(),
    qa: firearmQaSchema.optional().describe('set once the current code passed QA'),
    history: z.array(z.looseObject({ at: iso, state: firearmStateSchema, note: z.string().optional() })),
  })
  .describe('A firearm of an order: its state, current code, voided codes and history.');

export const orderStateSchema = z.enum(['queued', 'running', 'paused', 'faulted', 'aborted', 'done']);

export const orderHeaderSchema = z
  .looseObject({
    id: z.string(),
    make: z.string(),
    model: z.string(),
    caliber: z.string().optional(),
    target: z.enum(['firing-pin', 'breech-face']),
    destination: z.string().optional(),
    state: orderStateSchema,
    createdAt: iso,
    startedAt: iso.optional(),
    finishedAt: iso.optional(),
    reason: z.string().optional().describe('why the order is paused or faulted'),
    size: z.number().int(),
    source: z.enum(['http', 'drop-folder', 'ui', 'demo']),
  })
  .describe('An order as stored.');

export const orderCountsSchema = z.looseObject({
  queued: z.number().int(),
  inProgress: z.number().int(),
  engraved: z.number().int(),
  cancelled: z.number().int(),
  voidedCodes: z.number().int(),
});

export const orderListSchema = z.object({
  active: z
    .array(orderHeaderSchema.extend({ counts: orderCountsSchema }))
    .describe('every order the line is working on, with counts, whatever the filters and page'),
  all: z
    .array(orderHeaderSchema)
    .describe('at most `limit` orders matching the filters, after the cursor, newest first'),
  next: z.string().nullable().describe('the `before` of the following page; null when this page is the last'),
});

export const orderViewSchema = z.object({
  order: orderHeaderSchema,
  counts: orderCountsSchema,
  firearms: z.array(firearmSchema),
});

export const engraverStatusSchema = z.looseObject({
  state: z.enum(['READY', 'BUSY', 'DONE', 'FAULT']),
  fault: z.number().int(),
  completed: z.number().int(),
  activeJob: z.number().int(),
});

export const lineStatusSchema = z.looseObject({
  engraver: z.looseObject({
    url: z.string(),
    connected: z.boolean(),
    status: engraverStatusSchema.optional(),
  }),
  current: z.looseObject({ orderId: z.string(), serial: z.string() }).optional(),
  halted: z.looseObject({ reason: z.string(), fault: z.number().int().optional() }).optional(),
  activeOrders: z.array(orderHeaderSchema.extend({ counts: orderCountsSchema })),
  indexesLeft: z.number().int(),
  /** Torn last lines cut off store logs at start-up, latest last (see docs/store.md). */
  storeRepairs: z
    .array(
      z.looseObject({
        log: z.string(),
        file: z.string(),
        droppedBytes: z.number().int(),
        at: z.string(),
      }),
    )
    .optional(),
});
