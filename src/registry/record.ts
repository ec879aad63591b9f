/**
 * The registry contract v1 (spec/registry-mqtt.md) as zod schemas: the record the line reports,
 * the ack the registry answers, and the topics both travel on. The line validates a record
 * before it enters the outbox and the simulated registry validates it again on arrival, with the
 * same schema, so the two cannot drift apart.
 *
 * Each event carries exactly the fields the contract gives it: a field of another event (a
 * `gear` on a `voided` record, say) or an unknown field is an error, since the topic is versioned
 * (`microstamp/v1`) and anything new belongs to a new version.
 */
import { z } from 'zod';
import { StamplineError } from '../errors.js';

export const RECORD_SCHEMA_ID = 'microstamp.record/v1';

/** Crockford's base-32 alphabet, as used for the 10 characters of a code (spec/codes.md). */
export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const nonEmpty = z.string().trim().min(1, 'must not be empty');

/** A topic level: printable ASCII without the separator or the wildcards. */
export const lineIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[!-~]+$/, 'must be printable ASCII without spaces')
  .regex(/^[^/+#]+$/, 'must not contain /, + or #');

export const issuerSchema = z.number().int('must be an integer').min(0).max(4095);

const isoUtc = z.iso
  .datetime({ message: 'must be an ISO 8601 UTC time ending in Z' })
  .refine((s) => !Number.isNaN(Date.parse(s)), 'is not a real date');

const codeSchema = z
  .string()
  .regex(/^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{10}$/, 'must be 10 characters of 0-9 A-Z without I L O U');

const gearSchema = z.string().regex(/^[01]{88}$/, 'must be 88 characters of 0 and 1');

const firearmSchema = z.strictObject({
  make: nonEmpty,
  model: nonEmpty,
  serial: z.string().regex(/^[A-Z0-9-]{1,32}$/, 'must be 1..32 characters of A-Z 0-9 -'),
  caliber: nonEmpty.optional(),
});

const orderSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/, 'must be 1..64 printable characters'),
  destination: nonEmpty.optional(),
});

const certifiedBySchema = z.strictObject({
  kind: z.enum(['manufacturer', 'engraver']),
  licence: nonEmpty,
});

/** Units as in the engraver profiles: power in 0.1 %, frequency in kHz, speed in mm/s. */
const recipeSchema = z.strictObject({
  power: z.number().nonnegative(),
  frequency: z.number().nonnegative(),
  speed: z.number().nonnegative(),
  passes: z.number().int().min(1).max(20),
});

const common = {
  schema: z.literal(RECORD_SCHEMA_ID),
  recordId: z.uuid('must be a UUID'),
  occurredAt: isoUtc,
  issuer: issuerSchema,
  line: lineIdSchema,
  code: codeSchema,
  firearm: firearmSchema,
  target: z.enum(['firing-pin', 'breech-face']),
  order: orderSchema,
  certifiedBy: certifiedBySchema,
};

export const engravedRecordSchema = z.strictObject({
  ...common,
  event: z.literal('engraved'),
  gear: gearSchema,
  engraver: z.strictObject({ id: nonEmpty, recipe: recipeSchema }),
});

export const verifiedRecordSchema = z.strictObject({
  ...common,
  event: z.literal('verified'),
  qa: z.strictObject({
    result: z.enum(['pass', 'fail']),
    policy: nonEmpty,
    /** How many test-fired cases the decision rests on. */
    casings: z.number().int().nonnegative(),
    grade: z.enum(['A', 'B', 'C', 'D', 'F']),
  }),
});

export const voidedRecordSchema = z.strictObject({
  ...common,
  event: z.literal('voided'),
  reason: nonEmpty,
});

export const recordSchema = z.discriminatedUnion('event', [
  engravedRecordSchema,
  verifiedRecordSchema,
  voidedRecordSchema,
]);

export type RegistryRecord = z.infer<typeof recordSchema>;
export type EngravedRecord = z.infer<typeof engravedRecordSchema>;
export type VerifiedRecord = z.infer<typeof verifiedRecordSchema>;
export type VoidedRecord = z.infer<typeof voidedRecordSchema>;
export type RecordEvent = RegistryRecord['event'];

export const ackStatusSchema = z.enum(['accepted', 'duplicate', 'rejected']);
export type AckStatus = z.infer<typeof ackStatusSchema>;

/** Acks are read tolerantly (unknown fields ignored): the line must act on any ack it can. */
export const ackSchema = z.object({
  recordId: z.string().min(1),
  status: ackStatusSchema,
  reason: z.string().optional(),
});

export type Ack = z.infer<typeof ackSchema>;

/** Formats zod issues as `path: message; path: message`, naming the field at fault. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(record)'}: ${issue.message}`)
    .join('; ');
}

export type RecordCheck = { ok: true; record: RegistryRecord } | { ok: false; reason: string };

/** Validates an already parsed value against the record schema. */
export function checkRecord(value: unknown): RecordCheck {
  const result = recordSchema.safeParse(value);
  return result.success
    ? { ok: true, record: result.data }
    : { ok: false, reason: describeIssues(result.error) };
}

export interface Topics {
  status: string;
  records: string;
  acks: string;
}

export const TOPIC_ROOT = 'microstamp/v1';

/** The three topic names of one line, unchecked: see `topics` for the checked form. */
export function topicNames(issuer: number, line: string): Topics {
  const base = `${TOPIC_ROOT}/${issuer}/${line}`;
  return { status: `${base}/status`, records: `${base}/records`, acks: `${base}/acks` };
}

/** The three topics of one line. Throws REGISTRY_BAD_CONFIG on an issuer or line id that cannot form a topic. */
export function topics(issuer: number, line: string): Topics {
  const i = issuerSchema.safeParse(issuer);
  if (!i.success) {
    throw new StamplineError('REGISTRY_BAD_CONFIG', `issuer ${issuer} ${i.error.issues[0]?.message}`, {
      issuer,
    });
  }
  const l = lineIdSchema.safeParse(line);
  if (!l.success) {
    throw new StamplineError(
      'REGISTRY_BAD_CONFIG',
      `line id ${JSON.stringify(line)} ${l.error.issues[0]?.message}`,
      {
        line,
      },
    );
  }
  return topicNames(issuer, line);
}

/** The subscription a registry uses to hear every line. */
export const ALL_RECORDS_TOPIC = `${TOPIC_ROOT}/+/+/records`;

/** Splits `microstamp/v1/{issuer}/{line}/{kind}`, or returns undefined for any other topic. */
export function parseTopic(topic: string): { issuer: number; line: string; kind: string } | undefined {
  const m = /^microstamp\/v1\/(0|[1-9][0-9]{0,3})\/([^/]+)\/(status|records|acks)$/.exec(topic);
  if (!m) return undefined;
  const issuer = Number(m[1]);
  if (issuer > 4095) return undefined;
  return { issuer, line: m[2]!, kind: m[3]! };
}
