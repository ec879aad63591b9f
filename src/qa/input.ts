/**
 * What the QA station may send for one case, as a zod schema (the route declares it; the
 * service checks it again, so a read that reaches the log is always well formed), and the
 * normalised form the service works with.
 *
 * The schema only validates, never transforms, so that the OpenAPI document shows what a client
 * sends. Reads follow spec codes.md §5: a text read is up to 10 characters, `?` for an illegible
 * one, case-insensitive, dashes and spaces ignored, and any character outside the alphabet an
 * erasure; a gear read is 88 of `0 1 ?` at any rotation, an empty one meaning the ring was not
 * read.
 */
import { z } from 'zod';
import { CHAR_VALUE } from '../codes/alphabet.js';
import { GEAR_LENGTH, TEXT_LENGTH } from '../codes/index.js';
import type { SoftRead } from '../codes/soft-read.js';
import { StamplineError } from '../errors.js';
import type { CaseReadInput, StoredRead } from './types.js';

export const MAX_ROUNDS = 10_000;

const SERIAL = /^[A-Za-z0-9-]{1,32}$/;

const probability = z.number({ error: 'must be a probability 0..1' }).min(0).max(1);

/** A soft read as the image reader gives it (codes/soft-read.ts): 10 × 32 and 88 probabilities. */
const softReadSchema = z.strictObject({
  chars: z
    .array(z.array(probability).length(32, { error: 'must be 32 probabilities, one a symbol' }))
    .length(TEXT_LENGTH, { error: `must be ${TEXT_LENGTH} lists of 32 probabilities` }),
  teeth: z.array(probability).length(GEAR_LENGTH, { error: `must be ${GEAR_LENGTH} probabilities` }),
  rotation: z.number().optional(),
});
const GEAR = /^[01?]+$/;

/** Symbols of a text read once dashes and spaces are taken out. */
function symbolsOf(text: string): string[] {
  return [...text].filter((c) => c !== '-' && c !== ' ');
}

/** A code as scanned or typed, as its 10 characters (O read as 0, I and L as 1), or undefined. */
export function normaliseCode(code: string): string | undefined {
  const symbols = symbolsOf(code.trim());
  if (symbols.length !== TEXT_LENGTH) return undefined;
  let out = '';
  for (const c of symbols) {
    const cp = c.codePointAt(0)!;
    const v = cp < 128 ? CHAR_VALUE[cp]! : -1;
    if (v < 0) return undefined;
    out += '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[v];
  }
  return out;
}

function present(s: string | undefined): boolean {
  return s !== undefined && s.trim().length > 0;
}

export const caseReadInputSchema: z.ZodType<CaseReadInput> = z
  .strictObject({
    serial: z
      .string()
      .regex(SERIAL, { error: 'must be 1..32 characters of A-Z, 0-9 and -' })
      .optional()
      .describe('the firearm, by serial (either case) ...'),
    code: z
      .string()
      .max(32, { error: 'must be a code of 10 characters, as XXXXX-XXXXX or without the dash' })
      .refine((c) => normaliseCode(c) !== undefined, {
        error: 'must be a code of 10 characters of the code alphabet, as XXXXX-XXXXX or without the dash',
      })
      .optional()
      .describe('... or by its code as scanned or typed (`XXXXX-XXXXX` or 10 characters)'),
    text: z
      .string()
      .max(64, { error: `must be at most ${TEXT_LENGTH} characters (dashes and spaces aside)` })
      .refine((t) => symbolsOf(t).length <= TEXT_LENGTH, {
        error: `must be at most ${TEXT_LENGTH} characters once dashes and spaces are taken out; use ? for an illegible character`,
      })
      .optional()
      .describe(`the text read: up to ${TEXT_LENGTH} characters in code order, \`?\` for an illegible one`),
    gear: z
      .string()
      .max(GEAR_LENGTH + 16, { error: `must be ${GEAR_LENGTH} characters of 0, 1 and ?` })
      .refine((g) => g.trim() === '' || (g.trim().length === GEAR_LENGTH && GEAR.test(g.trim())), {
        error: `must be ${GEAR_LENGTH} characters of 0, 1 and ? (from any tooth), or empty when the ring was not read`,
      })
      .optional()
      .describe(`the gear read: ${GEAR_LENGTH} characters of \`0 1 ?\` starting at any tooth`),
    ammo: z
      .strictObject({
        brand: z
          .string()
          .trim()
          .min(1, { error: 'must name the ammunition (brand and load), 1..64 characters' })
          .max(64, { error: 'must be at most 64 characters' })
          .describe('brand (and load) as the station names it'),
        lacquered: z.boolean({ error: 'must be true or false' }).describe('whether the primer is lacquered'),
      })
      .describe('the ammunition the case came from'),
    round: z
      .number({ error: 'must be a whole number from 1' })
      .int({ error: 'must be a whole number from 1' })
      .min(1, { error: 'must be a whole number from 1' })
      .max(MAX_ROUNDS, { error: `must be at most ${MAX_ROUNDS}` })
      .optional()
      .describe('the round of the test fire this case came from, from 1; needed by the ca-4075 policy'),
    station: z
      .string()
      .trim()
      .min(1, { error: 'must not be empty' })
      .max(64, { error: 'must be at most 64 characters' })
      .optional()
      .describe('the station or instrument'),
    imageRead: z
      .strictObject({
        text: z
          .string()
          .max(64, { error: `must be at most ${TEXT_LENGTH} characters` })
          .refine((t) => symbolsOf(t).length <= TEXT_LENGTH, {
            error: `must be at most ${TEXT_LENGTH} characters once dashes and spaces are taken out`,
          })
          .describe('the text as the image reader read it, `?` where it was unsure'),
        gear: z
          .string()
          .max(GEAR_LENGTH + 16, { error: `must be ${GEAR_LENGTH} characters of 0, 1 and ?` })
          .refine((g) => g.trim() === '' || (g.trim().length === GEAR_LENGTH && GEAR.test(g.trim())), {
            error: `must be ${GEAR_LENGTH} characters of 0, 1 and ?, or empty`,
          })
          .optional()
          .describe('the gear as the image reader read it'),
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/, {
            error: 'must be the SHA-256 of the image file, 64 lower-case hex digits',
          })
          .optional()
          .describe('the SHA-256 of the image file, recorded with the read to find it again'),
        soft: softReadSchema
          .optional()
          .describe(
            "the reader's likelihoods (`soft` of the image read): the decoder weighs them in place of the hard read, except for a part the person corrected",
          ),
      })
      .optional()
      .describe(
        "the image reader's read, when this read comes from a case image: the read is recorded as from an image, and a text or gear that differs from it as a correction",
      ),
    askBeforeVoid: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe(
        'true: a read that would fail the firearm (and void its code) is not stored but answered 409 QA_VOID_UNCONFIRMED with what it shows, to be confirmed by sending it again without this',
      ),
  })
  .superRefine((r, ctx) => {
    if (r.serial === undefined && r.code === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['serial'],
        message: 'name the firearm by serial or by code',
      });
    }
    if (!present(r.text) && !present(r.gear)) {
      ctx.addIssue({
        code: 'custom',
        path: ['text'],
        message: 'give the text read, the gear read, or both (? for each illegible character)',
      });
    }
  })
  .describe('One test-fired case as the QA station read it.') as z.ZodType<CaseReadInput>;

export interface Problem {
  path: string;
  reason: string;
}

/** zod issues as problems naming the field, `ammo.brand` style. */
export function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.map((i) => ({
    path: i.path
      .map((p, n) => (typeof p === 'number' ? `[${p}]` : `${n > 0 ? '.' : ''}${String(p)}`))
      .join(''),
    reason: i.message,
  }));
}

/** A checked read, serial upper-cased and code reduced to its 10 characters. */
export interface CheckedRead extends CaseReadInput {
  serial?: string;
  code?: string;
}

/** Checks a read: QA_INVALID_READ naming every field at fault, with `problems` in its context. */
export function checkRead(input: unknown): CheckedRead {
  const parsed = caseReadInputSchema.safeParse(input);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error);
    throw new StamplineError(
      'QA_INVALID_READ',
      `the case read is not valid: ${problems.map((p) => `${p.path || '(read)'}: ${p.reason}`).join('; ')}`,
      { problems },
    );
  }
  const r = parsed.data;
  const read: CheckedRead = { ammo: { brand: r.ammo.brand, lacquered: r.ammo.lacquered } };
  if (r.serial !== undefined) read.serial = r.serial.toUpperCase();
  if (r.code !== undefined) read.code = normaliseCode(r.code)!;
  if (present(r.text)) read.text = r.text!;
  if (present(r.gear)) read.gear = r.gear!.trim();
  if (r.round !== undefined) read.round = r.round;
  if (r.station !== undefined) read.station = r.station;
  if (r.imageRead !== undefined) {
    read.imageRead = { text: r.imageRead.text };
    if (present(r.imageRead.gear)) read.imageRead.gear = r.imageRead.gear!.trim();
    if (r.imageRead.sha256 !== undefined) read.imageRead.sha256 = r.imageRead.sha256;
    if (r.imageRead.soft !== undefined) read.imageRead.soft = compactSoft(r.imageRead.soft);
  }
  if (r.askBeforeVoid === true) read.askBeforeVoid = true;
  return read;
}

/**
 * A soft read as kept in the read log: each probability to 3 significant digits (the reader's
 * floor is 1 %, so nothing the decoder weighs is lost), which keeps a read to about 3 KB.
 */
export function compactSoft(soft: SoftRead): SoftRead {
  const round = (p: number) => Number(p.toPrecision(3));
  return {
    chars: soft.chars.map((row) => row.map(round)),
    teeth: soft.teeth.map(round),
    ...(soft.rotation !== undefined ? { rotation: Math.round(soft.rotation * 100) / 100 } : {}),
  };
}

/** Throws QA_INVALID_READ for one field. */
export function invalid(path: string, reason: string, context: Record<string, unknown> = {}): StamplineError {
  return new StamplineError('QA_INVALID_READ', `the case read is not valid: ${path}: ${reason}`, {
    ...context,
    problems: [{ path, reason }],
  });
}

/** A text read as compared: dashes and spaces out, upper case. */
function textKey(text: string | undefined): string {
  return symbolsOf(text ?? '')
    .join('')
    .toUpperCase();
}

/**
 * Where a checked read came from, and what the person changed of the image reader's read: the
 * text and the gear, each when it differs from the reader's (the text compared without dashes,
 * spaces or case).
 */
export function provenanceOf(
  read: CheckedRead,
): Pick<StoredRead, 'source' | 'corrected' | 'imageSha256' | 'soft'> {
  const image = read.imageRead;
  if (!image) return { source: 'typed' };
  const corrected: NonNullable<StoredRead['corrected']> = {};
  if (textKey(read.text) !== textKey(image.text)) corrected.text = { from: image.text, to: read.text ?? '' };
  if ((read.gear ?? '') !== (image.gear ?? ''))
    corrected.gear = { from: image.gear ?? '', to: read.gear ?? '' };
  return {
    source: 'image',
    ...(corrected.text || corrected.gear ? { corrected } : {}),
    ...(image.sha256 !== undefined ? { imageSha256: image.sha256 } : {}),
    ...(image.soft !== undefined ? { soft: image.soft } : {}),
  };
}
