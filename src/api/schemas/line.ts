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

const recordEventSchema = z.enum(['engraved', 'verified', 'voided']);

export const recordAtRegistrySchema = z
  .looseObject({
    recordId: z.string(),
    event: recordEventSchema,
    code: z.string(),
    state: z.enum(['queued', 'rejected', 'accepted', 'dismissed']),
    since: iso.optional().describe('queued or rejected: when the record entered the outbox'),
    at: iso
      .optional()
      .describe('accepted: when the registry answered; rejected: when it refused; dismissed: when'),
    ack: z
      .enum(['accepted', 'duplicate'])
      .optional()
      .describe('accepted: the answer (duplicate: it had it already)'),
    reason: z.string().optional().describe("rejected: the registry's reason; dismissed: the operator's"),
    by: z.string().nullable().optional().describe('dismissed: who'),
  })
  .describe('One record of the firearm, as the registry stands with it.');

export const firearmRegistrySchema = z
  .looseObject({
    state: z
      .enum(['none', 'queued', 'rejected', 'accepted', 'dismissed'])
      .describe('the least settled of its records: rejected, then queued, then accepted, then dismissed'),
    records: z.array(recordAtRegistrySchema),
  })
  .describe("The firearm's records at the registry: queued in the outbox, rejected, accepted or dismissed.");

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
    reported: z
      .boolean()
      .optional()
      .describe('true once the registry has accepted every record of the firearm (see `registry`)'),
    registry: firearmRegistrySchema.optional(),
    qa: firearmQaSchema.optional().describe('set once the current code passed QA'),
    history: z.array(z.looseObject({ at: iso, state: firearmStateSchema, note: z.string().optional() })),
  })
  .describe('A firearm of an order: its state, current code, voided codes and history.');

export const orderStateSchema = z
  .enum(['queued', 'running', 'paused', 'faulted', 'aborted', 'engraved', 'complete'])
  .describe(
    '`engraved`: every pin is marked and the order has left the engraver; `complete`: besides, QA has passed every firearm and the registry has accepted every record',
  );

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
    finishedAt: iso.optional().describe('when the last pin was marked, or the order aborted'),
    completedAt: iso
      .optional()
      .describe('when QA had passed every firearm and the registry had accepted every record'),
    reason: z.string().optional().describe('why the order is paused or faulted'),
    size: z.number().int(),
    source: z.enum(['http', 'drop-folder', 'ui', 'demo']),
  })
  .describe('An order as stored.');

export const orderCountsSchema = z.looseObject({
  queued: z.number().int(),
  inProgress: z.number().int(),
  engraved: z.number().int().describe('firearms whose pin is marked'),
  verified: z.number().int().describe('engraved firearms whose current code passed QA'),
  accepted: z
    .number()
    .int()
    .describe('verified firearms whose every record the registry has accepted: complete firearms'),
  cancelled: z.number().int(),
  voidedCodes: z.number().int(),
});

/**
 * Active orders an answer or a live snapshot carries at most. A line may hold thousands queued;
 * every answer stays small whatever it holds, and the rest are paged through `GET /api/v1/orders`.
 */
export const ACTIVE_PAGE = 50;

const activeByStateSchema = z
  .looseObject({
    running: z.number().int(),
    faulted: z.number().int(),
    paused: z.number().int(),
    queued: z.number().int(),
  })
  .describe('how many active orders are in each state');

export const orderListSchema = z.object({
  active: z
    .array(orderHeaderSchema.extend({ counts: orderCountsSchema }))
    .describe(
      `the first ${ACTIVE_PAGE} orders the line is working on, with counts (running, faulted and paused first, then the queue), whatever the filters and page; page through them all with state=queued,running,paused,faulted`,
    ),
  activeTotal: z.number().int().describe('how many orders the line is working on'),
  all: z
    .array(orderHeaderSchema.extend({ counts: orderCountsSchema.optional() }))
    .describe(
      'at most `limit` orders matching the filters, after the cursor, newest first; an order the line is working on carries its counts',
    ),
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
    status: engraverStatusSchema.optional().describe("the engraver's state as the line last read it"),
    statusAt: z.iso.datetime().optional().describe('when `status` was read'),
  }),
  current: z.looseObject({ orderId: z.string(), serial: z.string() }).optional(),
  halted: z.looseObject({ reason: z.string(), fault: z.number().int().optional() }).optional(),
  activeOrders: z
    .array(orderHeaderSchema.extend({ counts: orderCountsSchema }))
    .describe(
      `at most ${ACTIVE_PAGE} of the active orders, with counts: running, faulted and paused first, then the queue in the order it came`,
    ),
  activeTotal: z.number().int().describe('how many orders the line is working on'),
  activeByState: activeByStateSchema,
  backlog: z
    .looseObject({
      awaitingQa: z
        .number()
        .int()
        .describe('engraved firearms whose code has not passed QA yet, in active and engraved orders'),
      engravedOrders: z
        .array(orderHeaderSchema.extend({ counts: orderCountsSchema }))
        .describe(
          `at most ${ACTIVE_PAGE} engraved orders not yet complete (waiting for QA or the registry), oldest first, with counts`,
        ),
      engravedTotal: z.number().int().describe('how many engraved orders are not yet complete'),
    })
    .describe('what waits after the engraver'),
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
