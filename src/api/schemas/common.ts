/**
 * Schemas every route shares: the error body, the problem list, the security requirement of a
 * guarded route, and the conversion of zod issues into problems that name the field.
 */
import { z } from 'zod';
import type { ErrorCode } from '../../errors.js';

export const problemSchema = z
  .object({
    path: z.string().describe('the field: `reason`, `firearms[2].serial`, `by`; empty for the whole input'),
    reason: z.string(),
  })
  .describe('One thing wrong with the input.');

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('a stable code of the catalogue, GET /api/v1/errors'),
      message: z.string(),
      context: z.record(z.string(), z.unknown()),
    }),
    problems: z.array(problemSchema).optional(),
  })
  .describe('Every error: a catalogue code, a message for people, and each problem of the input.');

/** The error answers a route documents, besides its success. */
export function errorResponses(...statuses: Array<400 | 401 | 403 | 404 | 409 | 429 | 503>) {
  return Object.fromEntries(statuses.map((s) => [s, errorBodySchema])) as Record<
    number,
    typeof errorBodySchema
  >;
}

/** The refusals every guarded route can answer, and bad input. */
export const GUARDED_ERRORS = errorResponses(400, 401, 403);

/** Either way of proving who is calling; the OpenAPI document names both. */
export const SECURED: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }];

export const reasonBodySchema = z
  .strictObject({ reason: z.string().trim().max(500).optional().describe('why, for the audit trail') })
  .nullish();

/** A POST that takes nothing: fastify gives `null` for a request without a body. */
export const emptyBodySchema = z.strictObject({}).nullish().describe('nothing, or an empty object');

export const orderIdParams = z.strictObject({
  id: z.string().min(1).max(64).describe('the order id'),
});

export const serialParams = z.strictObject({
  serial: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,32}$/, { error: 'must be 1..32 characters of A-Z, 0-9 and -' })
    .toUpperCase()
    .describe('the firearm serial (either case)'),
});

export interface Problem {
  path: string;
  reason: string;
}

/** A path as the order intake writes it: `firearms[2].serial`, so every problem list reads alike. */
export function pathOf(parts: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

/** What fastify-type-provider-zod puts in `err.validation`, one per zod issue. */
export interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * One problem per issue. Zod says "expected string, received undefined" for a missing field;
 * people at the line read "required" faster. An unknown key is named by its own path.
 */
export function problemsOf(issues: readonly ValidationIssue[]): Problem[] {
  const out: Problem[] = [];
  for (const v of issues) {
    const parts = v.instancePath
      .split('/')
      .slice(1)
      .filter((s) => s !== '')
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const base = pathOf(parts);
    const message = v.message ?? 'not valid';
    if (v.keyword === 'unrecognized_keys' && Array.isArray(v.params?.keys)) {
      for (const key of v.params.keys as string[]) {
        out.push({ path: pathOf([...parts, key]), reason: 'not a field of this input' });
      }
      continue;
    }
    // fastify gives `null` for a request sent without a body
    const absent = /received undefined$/.test(message) || (base === '' && /received null$/.test(message));
    if (v.keyword === 'invalid_type' && absent) {
      out.push({ path: base, reason: `required (${String(v.params?.expected ?? 'a value')})` });
      continue;
    }
    out.push({ path: base, reason: message });
  }
  return out;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The catalogue code a failed validation answers with on this route (INVALID_INPUT when unset). */
    invalidInput?: ErrorCode;
  }
}

/**
 * A response schema typed as the model it documents. Loose objects carry an index signature in
 * their zod type, which TypeScript interfaces such as `OrderHeader` lack; at run time the schema
 * still checks the answer and lets through fields it does not name.
 */
export function answers<T>(schema: z.ZodType): z.ZodType<T> {
  return schema as unknown as z.ZodType<T>;
}

/**
 * For answers whose size grows with an order (an order of 100,000 firearms, its records): the
 * schema documents the answer and types the handler, but the answer is not checked against it
 * when sent, which would hold the event loop for over a second on such an order.
 */
export const serializeUnchecked = () => (data: unknown) => JSON.stringify(data);
