/**
 * Identifying a cartridge case against the codes this line issued (codes.md §6a). A case found
 * at a scene, or a test-fired case whose firearm got mixed up, is read like any other; the
 * decoder weighs the reads against the line's issued codes, voided ones included (a pin that was
 * scrapped still fired cases), and the line names the firearm that carried the code.
 *
 * The issued set is built once from the code index, which lists every code the line gave a
 * firearm, and grows with each allocation the line announces: a query never reads the firearms.
 * Codes allocated before the code index existed are not in it (docs/identification.md).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { CHAR_VALUE } from '../codes/alphabet.js';
import { type DecodeResult, decodeReads, GEAR_LENGTH, type Grade, TEXT_LENGTH } from '../codes/index.js';
import { type IssuedCodes, IssuedSet, textSymbols } from '../codes/issued.js';
import { isStamplineError, StamplineError } from '../errors.js';
import { scanCodes } from './code-index.js';
import type { Line } from './line.js';
import type { FirearmQa, FirearmState } from './model.js';
import type { StoredFirearm } from './repository.js';

export const MAX_IDENTIFY_READS = 20;

export interface IdentifyRead {
  /** up to 10 characters in code order, `?` for an illegible one */
  text?: string | undefined;
  /** 88 of `0 1 ?` from any tooth; empty when the ring was not read */
  gear?: string | undefined;
}

const GEAR = /^[01?]+$/;
const symbols = (t: string) => [...t].filter((c) => c !== '-' && c !== ' ').length;

export const identifyInputSchema = z
  .strictObject({
    reads: z
      .array(
        z
          .strictObject({
            text: z
              .string()
              .max(64, { error: `must be at most ${TEXT_LENGTH} characters (dashes and spaces aside)` })
              .refine((t) => symbols(t) <= TEXT_LENGTH, {
                error: `must be at most ${TEXT_LENGTH} characters once dashes and spaces are taken out; use ? for an illegible character`,
              })
              .optional()
              .describe(
                `the text read: up to ${TEXT_LENGTH} characters in code order, \`?\` for an illegible one`,
              ),
            gear: z
              .string()
              .max(GEAR_LENGTH + 16, { error: `must be ${GEAR_LENGTH} characters of 0, 1 and ?` })
              .refine((g) => g.trim() === '' || (g.trim().length === GEAR_LENGTH && GEAR.test(g.trim())), {
                error: `must be ${GEAR_LENGTH} characters of 0, 1 and ? (from any tooth), or empty when the ring was not read`,
              })
              .optional()
              .describe(`the gear read: ${GEAR_LENGTH} characters of \`0 1 ?\` from any tooth`),
          })
          .refine((r) => (r.text ?? '').trim() !== '' || (r.gear ?? '').trim() !== '', {
            error: 'give the text read, the gear read, or both',
          })
          .describe('what was read on one case'),
      )
      .min(1, { error: 'give at least one read' })
      .max(MAX_IDENTIFY_READS, { error: `at most ${MAX_IDENTIFY_READS} reads at a time` })
      .describe('reads of one or more cases fired from the same gun'),
  })
  .describe('Reads of cases to identify against the codes this line issued.');

export type IdentifyInput = z.infer<typeof identifyInputSchema>;

/** Checks the input: IDENTIFY_INVALID_READS naming every field at fault (`reads[1].gear`). */
export function checkIdentifyInput(input: unknown): IdentifyRead[] {
  const parsed = identifyInputSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({
      path: i.path
        .map((p, n) => (typeof p === 'number' ? `[${p}]` : `${n > 0 ? '.' : ''}${String(p)}`))
        .join(''),
      reason: i.message,
    }));
    throw new StamplineError(
      'IDENTIFY_INVALID_READS',
      `the reads are not valid: ${problems.map((p) => `${p.path || '(body)'}: ${p.reason}`).join('; ')}`,
      { problems },
    );
  }
  return parsed.data.reads.map((r) => ({
    ...((r.text ?? '').trim() !== '' ? { text: r.text } : {}),
    ...((r.gear ?? '').trim() !== '' ? { gear: r.gear!.trim() } : {}),
  }));
}

/** A firearm that carried an identified code, as an investigator needs it. */
export interface IdentifiedFirearm {
  serial: string;
  make: string;
  model: string;
  caliber?: string;
  order: string;
  destination?: string;
  /** the firearm's state now */
  state: FirearmState;
  /** when the pin with the identified code was engraved (a current code's) */
  engravedAt?: string;
  /** the code identified: the one the firearm carries now, or one voided */
  code: { text: string; index: number; status: 'current' | 'voided' };
  /** for a voided code: when and why, and whether the pin went to the scrap */
  voided?: { at: string; reason: string; pinScrapped: boolean };
  /** the QA decision on the identified code, when there was one */
  qa?: FirearmQa;
}

export interface IdentifyCandidate {
  text: string;
  issuer: number;
  /** its index, for a code of this line's issuer */
  index?: number;
  /** the candidate's evidence weight over the best candidate's (1 for the best) */
  weightRatio: number;
  /** the firearms of this line that were given the code (none when the index names none that carries it) */
  firearms: IdentifiedFirearm[];
}

/** What an identification says of the decode behind it, for a person or a client to weigh. */
export interface DecodeFigures {
  ok: boolean;
  text?: string;
  errors: number;
  erasures: number;
  uec: number;
  grade: Grade;
  confident: boolean;
  /** probability that another issued code explains the reads at least as well (§6a) */
  miscorrectionRisk?: number;
  warning?: string;
}

/** The figures of a decode against issued codes; a failed decode is grade F with its reason. */
export function decodeFigures(result: DecodeResult): DecodeFigures {
  return result.ok
    ? {
        ok: true,
        text: result.text,
        errors: result.errors,
        erasures: result.erasures,
        uec: result.uec,
        grade: result.grade,
        confident: result.confident,
        miscorrectionRisk: result.miscorrectionRisk,
        ...(result.warning ? { warning: result.warning } : {}),
      }
    : { ok: false, errors: 0, erasures: 0, uec: 0, grade: 'F', confident: false, warning: result.error };
}

export interface Identification {
  /** `identified`: one of this line's codes, confidently; `candidates`: several explain the reads; `none`: none does */
  outcome: 'identified' | 'candidates' | 'none';
  /** the firearm, when identified */
  firearm?: IdentifiedFirearm;
  /** the issued codes that explain the reads, best first */
  candidates: IdentifyCandidate[];
  /** the decode's figures */
  decode: DecodeFigures;
  /** codes the line has issued, voided ones included: the set the reads were weighed against */
  issuedCodes: number;
}

/** Where the identifier finds the line's codes and their firearms. */
export interface IdentifySource {
  /** every code the line issued (repeats allowed) */
  codes(): AsyncIterable<string>;
  /** the firearms given this code, current or voided, as stored */
  firearmsWithCode(code: string): Promise<StoredFirearm[]>;
}

/**
 * The line's issued codes: the set built from the index, and the codes allocated since, kept
 * aside so that one allocation does not sort the whole set again.
 */
class LineIssued implements IssuedCodes {
  private readonly added = new IssuedSet();

  constructor(private readonly base: IssuedSet) {}

  add(text: string): void {
    const codeword = textSymbols(text);
    // a code allocated while the index was read may be in it already
    if (codeword && !this.base.has(codeword)) this.added.addCodeword(codeword);
  }

  has(codeword: ArrayLike<number>): boolean {
    return this.base.has(codeword) || this.added.has(codeword);
  }

  get size(): number {
    return this.base.size + this.added.size;
  }

  get issuers(): ReadonlySet<number> {
    return new Set([...this.base.issuers, ...this.added.issuers]);
  }
}

export interface LineIdentifierOptions {
  /** the issuer key: candidates' indexes are read back through it */
  key: Buffer;
  /** the line's issuer number (`issuer.number`) */
  issuer: number;
  source: IdentifySource;
}

export class LineIdentifier {
  private issued: Promise<LineIssued> | undefined;
  /** codes announced before the build finished, added once it has */
  private early: string[] = [];
  private built: LineIssued | undefined;

  constructor(private readonly o: LineIdentifierOptions) {}

  /** Begins reading the code index in the background; `identify` waits for it. */
  start(): void {
    this.load();
  }

  /** Adds a code the line has just allocated. */
  noteIssued(code: string): void {
    if (this.built) this.built.add(code);
    else this.early.push(code);
  }

  private load(): Promise<LineIssued> {
    this.issued ??= (async () => {
      const set = new IssuedSet();
      const data = new Uint8Array(16);
      for await (const code of this.o.source.codes()) {
        // the index holds the texts the line wrote: their data characters are the code, and
        // checking the two check characters again would cost more than the rest of the build
        // (docs/benchmarks.md); a line that is not a code cannot be a candidate and is passed over
        if (dataSymbols(code, data)) set.addCodeword(data);
      }
      const issued = new LineIssued(set);
      for (const code of this.early) issued.add(code);
      this.early = [];
      this.built = issued;
      return issued;
    })();
    this.issued.catch(() => {
      // the next query tries again
      this.issued = undefined;
    });
    return this.issued;
  }

  /** Codes the line has issued, once the index is read. */
  async size(): Promise<number> {
    return (await this.load()).size;
  }

  async identify(input: unknown): Promise<Identification> {
    const reads = checkIdentifyInput(input);
    const issued = await this.load();
    let result: DecodeResult;
    try {
      result = decodeReads(
        reads.map((r) => ({ text: r.text ?? null, gear: r.gear ?? null })),
        this.o.key,
        { issued, keyIssuer: this.o.issuer },
      );
    } catch (err) {
      if (isStamplineError(err, 'CODE_BAD_READ'))
        throw new StamplineError('IDENTIFY_INVALID_READS', err.message, { ...err.context });
      throw err;
    }
    const candidates: IdentifyCandidate[] = [];
    for (const c of result.candidates ?? []) {
      const stored = await this.o.source.firearmsWithCode(c.text);
      candidates.push({
        text: c.text,
        issuer: c.issuer,
        ...(c.index !== undefined ? { index: c.index } : {}),
        weightRatio: c.weightRatio,
        firearms: stored.map((s) => describe(s, c.text)),
      });
    }
    const decode = decodeFigures(result);
    const answer = result.ok && result.confident ? candidates.find((c) => c.text === result.text) : undefined;
    const firearm = answer?.firearms.at(-1);
    if (answer && firearm) {
      return { outcome: 'identified', firearm, candidates, decode, issuedCodes: issued.size };
    }
    return {
      outcome: candidates.length > 0 ? 'candidates' : 'none',
      candidates,
      decode,
      issuedCodes: issued.size,
    };
  }
}

/** The 8 data symbols of a 10-character code text into `out`, or false when it is not one. */
function dataSymbols(text: string, out: Uint8Array): boolean {
  if (text.length !== TEXT_LENGTH) return false;
  for (let i = 0; i < TEXT_LENGTH; i++) {
    const ch = text.charCodeAt(i);
    const v = ch < 128 ? CHAR_VALUE[ch]! : -1;
    if (v < 0) return false;
    if (i < 8) out[i] = v;
  }
  return true;
}

/** What an investigator is told of a firearm that carried `code`. */
export function describe({ order, firearm }: StoredFirearm, code: string): IdentifiedFirearm {
  const voided = firearm.voided.find((v) => v.text === code);
  const current = firearm.code?.text === code ? firearm.code : undefined;
  const ref = current ?? voided;
  const qa: FirearmQa | undefined = current ? firearm.qa : voided?.qa;
  return {
    serial: firearm.serial,
    make: order.make,
    model: order.model,
    ...(order.caliber ? { caliber: order.caliber } : {}),
    order: order.id,
    ...(order.destination ? { destination: order.destination } : {}),
    state: firearm.state,
    ...(current && firearm.engravedAt ? { engravedAt: firearm.engravedAt } : {}),
    code: { text: code, index: ref?.index ?? -1, status: current ? 'current' : 'voided' },
    ...(!current && voided
      ? { voided: { at: voided.voidedAt, reason: voided.reason, pinScrapped: voided.pinScrapped } }
      : {}),
    ...(qa ? { qa } : {}),
  };
}

/**
 * The identifier of a running line: its codes from the code index in `<dataDir>/codes`, the
 * firearms through the line, and every code the line allocates from now on. Begins reading the
 * index at once, in the background.
 */
export function identifierForLine(
  line: Pick<Line, 'findFirearms' | 'on'>,
  dataDir: string,
  key: Buffer,
  issuer: number,
): LineIdentifier {
  const identifier = new LineIdentifier({
    key,
    issuer,
    source: {
      codes: () => scanCodes(join(dataDir, 'codes')),
      firearmsWithCode: (code) => line.findFirearms({ code }),
    },
  });
  line.on('firearm', ({ firearm }) => {
    // `allocated` announces a new code; any later state carries one already noted
    if (firearm.state === 'allocated' && firearm.code) identifier.noteIssued(firearm.code.text);
  });
  identifier.start();
  return identifier;
}
