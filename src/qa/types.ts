/**
 * The QA station's vocabulary: a read of one test-fired case as entered, the decode of it, and
 * the verdict of the configured policy over the reads of one firearm's current code.
 */
import type { Grade } from '../codes/index.js';
import type { SoftRead } from '../codes/soft-read.js';
import type { Firearm, OrderHeader } from '../line/model.js';

export interface Ammunition {
  /** brand (and load) as the station names it, 1..64 characters */
  brand: string;
  /** lacquered primers take a stamp less well */
  lacquered: boolean;
}

/** What the QA station sends for one case. */
export interface CaseReadInput {
  /** the firearm, by serial ... */
  serial?: string;
  /** ... or by its code as scanned or typed (`XXXXX-XXXXX` or 10 characters) */
  code?: string;
  /** 10 characters, `?` for an illegible one (codes.md, Reads) */
  text?: string;
  /** 88 characters of `0 1 ?` at any rotation */
  gear?: string;
  ammo: Ammunition;
  /** the round of the test fire this case came from (1-based); needed by `ca-4075` */
  round?: number;
  /** the station or instrument, free text */
  station?: string;
  /**
   * The read the image reader made, when this read comes from a case image (the station, the
   * image route, the watched folder): the read is then recorded as from an image, and a `text`
   * or `gear` that differs from it as a correction of it by the person who sent it.
   */
  imageRead?: { text: string; gear?: string; sha256?: string; soft?: SoftRead };
  /**
   * Ask before a failing verdict voids the code: a read that would fail the firearm is then
   * refused (409 QA_VOID_UNCONFIRMED, nothing stored) with what it shows, for the person to
   * confirm by sending it again without this, or to read the case again.
   */
  askBeforeVoid?: boolean;
}

/** The decode of one read on its own, kept with the read. */
export interface ReadDecode {
  ok: boolean;
  /** the text decoded to, when ok */
  text?: string;
  /** true when it decoded, confidently, to the code expected for the firearm */
  matches: boolean;
  confident: boolean;
  errors: number;
  erasures: number;
  uec: number;
  grade: Grade;
  /** illegible characters in the text read (0..10), and teeth in the gear read (0..88) */
  illegibleChars: number;
  illegibleTeeth: number | null;
  error?: string;
}

/** What a person changed of the image reader's read before recording it: the reader's, then theirs. */
export interface ReadCorrection {
  from: string;
  to: string;
}

/** A read as stored: appended, never changed. */
export interface StoredRead {
  /** sequence number in the line's read log, from 1 */
  id: number;
  at: string;
  /** who entered it: the audit actor */
  by: string;
  serial: string;
  orderId: string;
  /** the code the firearm carried when the case was fired */
  code: { index: number; text: string };
  text?: string;
  gear?: string;
  ammo: Ammunition;
  round?: number;
  station?: string;
  /**
   * Where the read came from: typed by a person, or the image reader's read of a case image.
   * Absent on reads logged before it was recorded (their station may say `(image)`).
   */
  source?: ReadSource;
  /** for a read from an image: the text and gear as the reader read them and as recorded, where a person changed them */
  corrected?: { text?: ReadCorrection; gear?: ReadCorrection };
  /** for a read from an image: the SHA-256 of the image file, when the sender gave it */
  imageSha256?: string;
  /**
   * for a read from an image: the reader's likelihoods, which the decoder weighs in place of the
   * hard `text` and `gear` (except a part the person corrected). Absent on typed reads and on
   * image reads sent without them.
   */
  soft?: SoftRead;
  /** what the statistics group by */
  make: string;
  model: string;
  engraverId: string;
  /** `power/frequency/speed/passes` of the recipe the pin was marked with */
  recipe: string;
  decode: ReadDecode;
}

export type ReadSource = 'typed' | 'image';

export type VerdictStatus = 'pending' | 'pass' | 'fail';

export interface Verdict {
  status: VerdictStatus;
  policy: 'every-case' | 'ca-4075' | 'pooled';
  /** cases the decision rests on so far */
  casings: number;
  /** cases the policy needs */
  needed: number;
  /** the grade of the decision: the worst examined case, or the pooled decode; F when none */
  grade: Grade;
  /** for people: why it passed, failed, or what is still needed */
  reason: string;
  /** ca-4075: the rounds still to be read */
  missingRounds?: number[];
}

export interface SubmitResult {
  read: StoredRead;
  verdict: Verdict;
  /** what happened to the firearm: nothing yet, verified, or sent to rework with a new code to come */
  outcome: 'pending' | 'verified' | 'rework';
}

/**
 * A decision applied without a read of its own: one the line could not apply when its deciding
 * read arrived, completed at the next read of the firearm (`retry`) or at start-up (`start`). A
 * decision applied at its read is told by that read's event, never by this one.
 */
export interface QaDecisionEvent {
  serial: string;
  orderId: string;
  code: { index: number; text: string };
  verdict: Verdict;
  outcome: 'verified' | 'rework';
  when: 'retry' | 'start';
}

export type StatsDimension = 'ammo' | 'lacquer' | 'engraver' | 'recipe' | 'model';

export interface StatsRow {
  /** the value of the dimension (brand, `lacquered`/`plain`, engraver id, recipe, `make model`) */
  key: string;
  reads: number;
  /** share of characters read (not `?`), 0..1 */
  charLegibility: number;
  /** share of gear reads present (not missing), 0..1 */
  gearPresent: number;
  /** share of reads that decoded on their own to the expected code, 0..1 */
  decodeRate: number;
  grades: Record<Grade, number>;
  verdicts: { pass: number; fail: number };
}

/** A firearm as the records screen shows it: its order, its state and codes, its reads and verdict. */
export interface FirearmRecord {
  order: OrderHeader;
  firearm: Firearm;
  /** every read of this firearm in this order, voided codes too, in the order entered */
  reads: StoredRead[];
  /** the verdict on the current code; null when the firearm has no engraved code now */
  verdict: Verdict | null;
}
