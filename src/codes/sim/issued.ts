/**
 * The issued set of `stampline sim identify --issued N`, without materialising N codes: each
 * codeword other than the gun's own is issued with probability N / 2^40, independently, by a
 * keyed hash of its data word compared with that probability; the gun's own code is always
 * issued. A codeword gets the same answer throughout a chunk of trials, as a fixed set would give.
 */
import { unpackIssuer, unpackPermuted } from '../codeword.js';
import type { IssuedCodes } from '../issued.js';

const TWO_POW_40 = 2 ** 40;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class RandomIssued implements IssuedCodes {
  /** the code of the gun being simulated */
  readonly truth = new Uint8Array(16);
  private readonly threshold: number;

  constructor(
    readonly size: number,
    private readonly salt: number,
  ) {
    // issued when a uniform 32-bit hash falls below N / 2^40 of its range
    this.threshold = (size / TWO_POW_40) * 2 ** 32;
  }

  has(codeword: ArrayLike<number>): boolean {
    let same = true;
    for (let j = 0; j < 8; j++) if (codeword[j] !== this.truth[j]) same = false;
    if (same) return true;
    const h = fmix32(unpackPermuted(codeword) ^ fmix32((unpackIssuer(codeword) + this.salt) | 0));
    return h < this.threshold;
  }
}
