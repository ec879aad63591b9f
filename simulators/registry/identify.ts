/**
 * What an investigator asks the registry: which firearm fired these cases? The simulated
 * registry weighs the reads against every code it holds, of every issuer (codes.md §6a), and
 * answers with the firearm a code is bound to, or the candidates when no code stands out.
 *
 * The registry has no issuer's key and needs none: a code is identified by its text, which the
 * records carry. Indexes, an issuer's own sequence, are not part of the answer.
 */
import { type DecodeResult, decodeReads } from '../../src/codes/index.js';
import { IssuedSet } from '../../src/codes/issued.js';
import { isStamplineError, StamplineError } from '../../src/errors.js';
import { checkIdentifyInput, type DecodeFigures, decodeFigures } from '../../src/line/identify.js';
import type { Binding, RegistryBook } from './book.js';

/** Any key will do to decode: only the text and issuer of a candidate are used. */
const NO_KEY = Buffer.alloc(16);
/** No issuer's key is given, so no candidate is given an index. */
const NO_ISSUER = -1;

export interface RegistryCandidate {
  code: string;
  issuer: number;
  weightRatio: number;
  binding?: Binding;
}

export interface RegistryIdentification {
  outcome: 'identified' | 'candidates' | 'none';
  /** the code identified and the firearm it is bound to */
  binding?: Binding;
  candidates: RegistryCandidate[];
  decode: DecodeFigures;
  /** codes the registry holds, all issuers together */
  issuedCodes: number;
}

export class RegistryIdentifier {
  private readonly issued = new IssuedSet();
  private known = 0;

  constructor(private readonly book: RegistryBook) {}

  /** The issued set, caught up with the codes bound since the last query. */
  private catchUp(): IssuedSet {
    const bindings = this.book.codes();
    for (let i = this.known; i < bindings.length; i++) {
      try {
        this.issued.addText(bindings[i]!);
      } catch (err) {
        // the registry checks a code's form, not its check characters: such a code is on no pin
        if (!isStamplineError(err, 'CODE_BAD_SYMBOLS')) throw err;
      }
    }
    this.known = bindings.length;
    return this.issued;
  }

  identify(input: unknown): RegistryIdentification {
    const reads = checkIdentifyInput(input);
    const issued = this.catchUp();
    let result: DecodeResult;
    try {
      result = decodeReads(
        reads.map((r) => ({ text: r.text ?? null, gear: r.gear ?? null })),
        NO_KEY,
        { issued, keyIssuer: NO_ISSUER },
      );
    } catch (err) {
      if (isStamplineError(err, 'CODE_BAD_READ'))
        throw new StamplineError('IDENTIFY_INVALID_READS', err.message, { ...err.context });
      throw err;
    }
    const candidates: RegistryCandidate[] = (result.candidates ?? []).map((c) => {
      const binding = this.book.binding(c.text);
      return { code: c.text, issuer: c.issuer, weightRatio: c.weightRatio, ...(binding ? { binding } : {}) };
    });
    const decode = decodeFigures(result);
    const answer =
      result.ok && result.confident ? candidates.find((c) => c.code === result.text)?.binding : undefined;
    if (answer)
      return { outcome: 'identified', binding: answer, candidates, decode, issuedCodes: issued.size };
    return {
      outcome: candidates.length > 0 ? 'candidates' : 'none',
      candidates,
      decode,
      issuedCodes: issued.size,
    };
  }
}
