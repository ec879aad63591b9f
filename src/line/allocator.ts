/**
 * Hands out indexes from the line's configured block, each at most once, ever.
 *
 * Indexes are reserved durably in runs of RESERVE before any of them is used; after a restart
 * the line continues after the last reservation, so indexes reserved but not used are skipped,
 * never handed out twice. The spec allows skipping; it forbids reuse.
 */
import { encode } from '../codes/index.js';
import { StamplineError } from '../errors.js';
import type { Doc, DocumentStore } from '../store/documents.js';
import type { CodeRef } from './model.js';

const RESERVE = 64;

/** The allocator's document in the line's document store. */
export const ALLOCATOR_DOC = 'line/allocator';

export interface AllocatorDoc {
  /**
   * Every run of indexes this line has reserved, as [start, end) pairs; the last is the one in
   * use. Kept so that a configuration moving the line back to an older block cannot reuse one.
   */
  reserved: Array<[number, number]>;
}

export interface IndexBlock {
  start: number;
  size: number;
}

export class CodeAllocator {
  private doc!: Doc<AllocatorDoc>;
  private next = 0;

  constructor(
    private readonly store: DocumentStore,
    private readonly issuer: number,
    private readonly key: Buffer,
    private readonly block: IndexBlock,
  ) {}

  async start(): Promise<void> {
    this.doc = await this.store.open<AllocatorDoc>(ALLOCATOR_DOC, () => ({ reserved: [] }));
    this.next = firstFree(this.doc.data.reserved, this.block.start, this.block.start + this.block.size);
    const last = this.doc.data.reserved.at(-1);
    if (!last || last[1] !== this.next) {
      await this.doc.update((d) => {
        d.reserved.push([this.next, this.next]);
      });
    }
  }

  /** The runs of indexes reserved so far, [start, end) each, oldest first. */
  reservedRuns(): ReadonlyArray<readonly [number, number]> {
    return this.doc.data.reserved;
  }

  /** The document's file, as refusals name it. */
  get file(): string {
    return this.store.file(ALLOCATOR_DOC);
  }

  /** Indexes left in the block. */
  remaining(): number {
    return this.block.start + this.block.size - this.next;
  }

  /** Allocates the next code. The reservation is durable before the code is returned. */
  async allocate(): Promise<CodeRef> {
    const end = this.block.start + this.block.size;
    if (this.next >= end) {
      throw new StamplineError(
        'INDEX_BLOCK_EXHAUSTED',
        `index block ${this.block.start}:${this.block.size} is used up; configure a new block (issuer.indexBlock)`,
        { block: this.block },
      );
    }
    const current = this.doc.data.reserved.at(-1)!;
    if (this.next >= current[1]) {
      const upTo = Math.min(end, this.next + RESERVE);
      await this.doc.update((d) => {
        d.reserved.at(-1)![1] = upTo;
      });
    }
    const index = this.next++;
    const codeword = encode(this.issuer, index, this.key);
    return {
      index,
      text: codeword.text,
      gear: codeword.gear,
      jobId: index + 1,
      allocatedAt: new Date().toISOString(),
    };
  }
}

/** True when some reserved run holds `index`: the allocator may have handed it out. */
export function isReserved(reserved: ReadonlyArray<readonly [number, number]>, index: number): boolean {
  return reserved.some(([a, b]) => index >= a && index < b);
}

/**
 * The runs to add so that every one of `indexes` is reserved: one run from the lowest index not
 * reserved to past the highest, so the allocator moves past them all and never back.
 */
export function runsCovering(
  reserved: ReadonlyArray<readonly [number, number]>,
  indexes: Iterable<number>,
): Array<[number, number]> {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const i of indexes) {
    if (isReserved(reserved, i)) continue;
    low = Math.min(low, i);
    high = Math.max(high, i);
  }
  return low <= high ? [[low, high + 1]] : [];
}

/** The first index of [start, end) after every reserved run that reaches into it. */
export function firstFree(reserved: Array<[number, number]>, start: number, end: number): number {
  let next = start;
  for (const [a, b] of reserved) {
    if (a < end && b > next) next = Math.max(next, b);
  }
  return Math.min(next, end);
}
