/**
 * The set of issued codes that identification decodes against (spec §6a).
 *
 * A code is its 40-bit data word D = issuer << 28 | permuted (the parity follows from it), so
 * the set keeps, per issuer, a sorted Uint32Array of the 28-bit permuted values: 4 bytes a
 * code, 40 MB for 10,000,000 codes, and a lookup is one map access plus a binary search. The
 * permutation spreads a line's consecutive indexes uniformly, so nothing smaller would do
 * better than a list of the values themselves. See docs/codes.md.
 */
import { StamplineError } from '../errors.js';
import { CHAR_VALUE } from './alphabet.js';
import {
  checkIndex,
  checkIssuer,
  ISSUER_MAX,
  TEXT_LENGTH,
  unpackIssuer,
  unpackPermuted,
} from './codeword.js';
import { KeyContext, keyContext } from './key.js';
import { permuteIndex } from './permutation.js';
import { computeParity, K, N } from './rs.js';

/** What identification needs of the issued codes: a membership test and the size. */
export interface IssuedCodes {
  /** whether the codeword (its 16 symbols; the first 8 decide) was issued */
  has(codeword: ArrayLike<number>): boolean;
  /** how many codes were issued */
  readonly size: number;
  /** the issuers whose codes are in the set, when known */
  readonly issuers?: ReadonlySet<number>;
  /**
   * The chance that a codeword `has` does not list was issued all the same: for a registry
   * known only in part (say, by its size), each codeword it does not list is still issued with
   * this probability. 0 (the default) when `has` lists every issued code.
   */
  readonly unlisted?: number;
}

/**
 * A registry of `size` codes of which only `known` are listed (say, one line's codes inside a
 * state's registry): what QA asks when it wants to know whether a case would identify its
 * firearm at the registry. Every codeword not in `known` is issued with the chance that the
 * rest of the registry gives it, uniformly over the issuers in use.
 */
export class RegistryOfSize implements IssuedCodes {
  readonly unlisted: number;

  constructor(
    private readonly known: IssuedCodes,
    readonly size: number,
    readonly issuers?: ReadonlySet<number>,
  ) {
    if (!Number.isFinite(size) || size < known.size) {
      throw new StamplineError(
        'INVALID_INPUT',
        `a registry of ${size} codes cannot hold the ${known.size} listed`,
        {
          size,
          listed: known.size,
        },
      );
    }
    const inUse = issuers ? Math.max(1, issuers.size) : 4096;
    this.unlisted = Math.min(1, (size - known.size) / (inUse * 2 ** 28));
  }

  has(codeword: ArrayLike<number>): boolean {
    return this.known.has(codeword);
  }
}

/** Issued codes of one issuer, growing by appends and sorted when first asked. */
class IssuerCodes {
  values = new Uint32Array(16);
  count = 0;
  sorted = true;

  add(permuted: number): void {
    if (this.count === this.values.length) {
      const grown = new Uint32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    if (this.count > 0 && permuted <= this.values[this.count - 1]!) this.sorted = false;
    this.values[this.count++] = permuted;
  }

  /** Sorts, drops duplicates and spare room; returns how many duplicates went. */
  settle(): number {
    let dropped = 0;
    if (!this.sorted) {
      const v = this.values.subarray(0, this.count).sort();
      let n = 0;
      for (let i = 0; i < v.length; i++) if (i === 0 || v[i] !== v[n - 1]) v[n++] = v[i]!;
      dropped = this.count - n;
      this.count = n;
      this.sorted = true;
    }
    // give back the slack of the doublings: a settled set holds about 4 bytes a code
    const n = this.count;
    if (this.values.length > n + (n >> 3) + 16) this.values = this.values.slice(0, n);
    return dropped;
  }

  has(permuted: number): boolean {
    if (!this.sorted) this.settle();
    const v = this.values;
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = v[mid]!;
      if (x < permuted) lo = mid + 1;
      else if (x > permuted) hi = mid - 1;
      else return true;
    }
    return false;
  }
}

/** A compact issued-codes set: per issuer, the sorted 28-bit permuted values. */
export class IssuedSet implements IssuedCodes {
  private readonly byIssuer = new Map<number, IssuerCodes>();
  private count = 0;
  private settled = true;
  private readonly scratch = new Uint8Array(N);

  /** Adds a code by its codeword symbols (at least the 8 data symbols). */
  addCodeword(codeword: ArrayLike<number>): this {
    for (let j = 0; j < K; j++) {
      const s = codeword[j];
      if (!Number.isInteger(s) || s! < 0 || s! > 31) {
        throw new StamplineError('CODE_BAD_SYMBOLS', `symbol ${j} of an issued codeword is not 0..31`, {
          symbol: s,
        });
      }
    }
    return this.addData(unpackIssuer(codeword), unpackPermuted(codeword));
  }

  /** Adds a code by issuer and index, permuted with the issuer's key. */
  addIndex(issuer: number, index: number, key: KeyContext | Buffer | Uint8Array | string): this {
    const ctx = isKeyContext(key) ? key : keyContext(key);
    return this.addData(checkIssuer(issuer), permuteIndex(checkIndex(index), ctx));
  }

  /** Adds a code by its 10-character text (grouping dash and spaces allowed). */
  addText(text: string): this {
    const symbols = textSymbols(text, this.scratch);
    if (!symbols) {
      throw new StamplineError('CODE_BAD_SYMBOLS', `not a code text: ${JSON.stringify(text)}`, { text });
    }
    return this.addCodeword(symbols);
  }

  /** Adds a code by issuer (0..4095) and permuted index (0..2^28 − 1), unchecked. */
  addData(issuer: number, permuted: number): this {
    let codes = this.byIssuer.get(issuer);
    if (!codes) {
      codes = new IssuerCodes();
      this.byIssuer.set(issuer, codes);
    }
    codes.add(permuted);
    this.count++;
    this.settled = false;
    return this;
  }

  private settle(): void {
    if (this.settled) return;
    for (const codes of this.byIssuer.values()) this.count -= codes.settle();
    this.settled = true;
  }

  has(codeword: ArrayLike<number>): boolean {
    if (!this.settled) this.settle();
    const codes = this.byIssuer.get(unpackIssuer(codeword));
    return codes ? codes.has(unpackPermuted(codeword)) : false;
  }

  /** Distinct codes in the set (a code added twice counts once). */
  get size(): number {
    this.settle();
    return this.count;
  }

  get issuers(): ReadonlySet<number> {
    return new Set(this.byIssuer.keys());
  }

  /** Bytes held by the code lists (for the benchmark). */
  get bytes(): number {
    let b = 0;
    for (const codes of this.byIssuer.values()) b += codes.values.byteLength;
    return b;
  }

  static fromCodewords(codewords: Iterable<ArrayLike<number>>): IssuedSet {
    const set = new IssuedSet();
    for (const c of codewords) set.addCodeword(c);
    return set;
  }

  static fromTexts(texts: Iterable<string>): IssuedSet {
    const set = new IssuedSet();
    for (const t of texts) set.addText(t);
    return set;
  }
}

function isKeyContext(key: unknown): key is KeyContext {
  return key instanceof KeyContext;
}

/**
 * The codeword of a complete 10-character code text whose two check characters agree with its
 * eight data characters, or null. An issued code is written down exactly: no character may be
 * illegible and no error is corrected.
 */
export function textSymbols(text: string, out: Uint8Array = new Uint8Array(N)): Uint8Array | null {
  let n = 0;
  const read = new Uint8Array(TEXT_LENGTH);
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 45 || ch === 32) continue; // grouping dash, space
    const v = ch < 128 ? CHAR_VALUE[ch]! : -1;
    if (v < 0 || n === TEXT_LENGTH) return null;
    read[n++] = v;
  }
  if (n !== TEXT_LENGTH) return null;
  out.set(read.subarray(0, K));
  computeParity(out, out);
  return out[K] === read[K] && out[K + 1] === read[K + 1] ? out : null;
}

export interface IssuedFileOptions {
  /** the issuer key, needed for lines of the form `issuer,index` */
  key?: Buffer | Uint8Array | string;
  /** how the file is named in errors */
  source?: string;
}

/**
 * Parses an issued-codes file: one code a line, either the 10-character text or
 * `issuer,index` (which needs the key). Blank lines and lines starting with `#` are skipped.
 * A line that is not a code is an error naming the line.
 */
export function parseIssuedFile(content: string, options: IssuedFileOptions = {}): IssuedSet {
  const source = options.source ?? 'issued codes';
  const ctx = options.key === undefined ? undefined : keyContext(options.key);
  const set = new IssuedSet();
  const scratch = new Uint8Array(N);
  let lineNo = 0;
  let start = 0;
  while (start <= content.length) {
    let end = content.indexOf('\n', start);
    if (end < 0) end = content.length;
    lineNo++;
    const line = content.slice(start, end).trim();
    start = end + 1;
    if (line === '' || line.startsWith('#')) continue;
    const bad = (why: string): never => {
      throw new StamplineError('CODE_BAD_ISSUED', `${source}, line ${lineNo}: ${why}`, {
        source,
        line: lineNo,
        text: line.length > 80 ? `${line.slice(0, 80)}…` : line,
      });
    };
    const comma = line.indexOf(',');
    if (comma < 0) {
      const symbols = textSymbols(line, scratch);
      if (!symbols) {
        bad(
          `${JSON.stringify(line)} is not a code: expected the 10 characters of a code (its two check characters must agree) or issuer,index`,
        );
      }
      set.addCodeword(symbols!);
      continue;
    }
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length !== 2 || !/^\d+$/.test(parts[0]!) || !/^\d+$/.test(parts[1]!)) {
      bad(`${JSON.stringify(line)} is not issuer,index (two whole numbers)`);
    }
    const issuer = Number(parts[0]);
    const index = Number(parts[1]);
    if (issuer > ISSUER_MAX) bad(`issuer ${issuer} is not 0..${ISSUER_MAX}`);
    if (!ctx) bad('issuer,index lines need the issuer key (--key)');
    try {
      set.addIndex(issuer, index, ctx!);
    } catch (err) {
      bad(err instanceof Error ? err.message : String(err));
    }
  }
  return set;
}
