/** Schemas of the registry outbox routes. */
import { z } from 'zod';

export const outboxItemSchema = z
  .looseObject({
    recordId: z.string(),
    state: z.enum(['waiting', 'in-flight', 'rejected']),
    event: z.string(),
    serial: z.string(),
    code: z.string(),
    occurredAt: z.string(),
    enqueuedAt: z.string(),
    attempts: z.number().int(),
    lastSentAt: z.string().nullable(),
    rejection: z.looseObject({ reason: z.string(), at: z.string() }).optional(),
    record: z.looseObject({}),
  })
  .describe('A record held in the outbox.');

export const outboxViewSchema = z.object({
  depth: z.number().int().describe('records held: pending and rejected'),
  pending: z.array(outboxItemSchema).describe('the first 100 pending records, oldest first'),
  rejected: z.array(outboxItemSchema).describe('records the registry rejected, waiting for an operator'),
  oldestPendingAt: z
    .string()
    .nullable()
    .describe('when the oldest record still waiting for the registry was queued; null when none waits'),
});

export const recordIdParams = z.strictObject({
  id: z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
      error: 'must be a record id (a UUID)',
    })
    .describe('the record id'),
});

export const dismissBodySchema = z.strictObject({
  reason: z
    .string({ error: 'required: say why the record is given up' })
    .trim()
    .min(1, { error: 'required: say why the record is given up' })
    .max(500),
});
