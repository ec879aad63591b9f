/**
 * The image work of the command line that runs on every core: `code decode --batch` items with
 * `images`, and `sim identify --images` (docs/reading.md). Images are read in worker threads
 * (`--workers N`, default one per core); decoding the reads is quick and stays here.
 */
import { availableParallelism } from 'node:os';
import {
  type GunResult,
  type ImageRow,
  imageMarkdownTable,
  MAX_IMAGE_CASES,
  rowsOf,
} from '../../simulators/reading/trial.js';
import type { Read } from '../codes/index.js';
import { StamplineError } from '../errors.js';
import type { ImageTask } from './image-worker.js';
import { WorkerPool, workerScript } from './worker-pool.js';

/** `--workers`: a whole number from 1, default the number of cores. */
export function workerCount(value: string | undefined): number {
  if (value === undefined) return availableParallelism();
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1) {
    throw new StamplineError(
      'INVALID_INPUT',
      `--workers must be a whole number from 1, got ${JSON.stringify(value)}`,
      {
        workers: value,
      },
    );
  }
  return n;
}

function imagePool(workers: number): WorkerPool<ImageTask, unknown> {
  return new WorkerPool<ImageTask, unknown>(workerScript(import.meta.url, './image-worker'), workers);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function hasImages(item: unknown): boolean {
  return isObject(item) && item.images !== undefined;
}

interface ImageReadJson {
  soft: Read['soft'];
  text: string;
  gear: string;
  geometry: object;
  ms: number;
}

/**
 * Decodes batch items some of which carry `images: [path, ...]` beside or instead of `reads`:
 * every image of every item is read across the workers, then each item is decoded from its
 * typed reads and its images' soft reads together, with `images` (per image its hard read and
 * geometry, or the error that kept it out) added to its result. An image that cannot be read
 * leaves the item to its other reads; an item with no read left fails, naming why.
 */
export async function decodeImageBatch(
  items: readonly unknown[],
  opts: {
    workers: number;
    decode: (item: Record<string, unknown>) => object;
    progress?: (done: number, of: number) => void;
  },
): Promise<object[]> {
  const paths: string[] = [];
  const problems = new Map<number, string>();
  items.forEach((item, n) => {
    if (!hasImages(item)) return;
    const images = (item as Record<string, unknown>).images;
    if (!Array.isArray(images) || images.some((p) => typeof p !== 'string' || p === '')) {
      problems.set(n, 'images must be a list of image file paths');
      return;
    }
    paths.push(...(images as string[]));
  });
  const unique = [...new Set(paths)];
  const reads = new Map<string, Promise<ImageReadJson>>();
  if (unique.length > 0) {
    const pool = imagePool(Math.min(opts.workers, unique.length));
    let done = 0;
    try {
      for (const path of unique) {
        const p = pool.run({ kind: 'read', path }) as Promise<ImageReadJson>;
        p.then(
          () => opts.progress?.(++done, unique.length),
          () => opts.progress?.(++done, unique.length),
        );
        reads.set(path, p);
      }
      await Promise.allSettled(reads.values());
    } finally {
      await pool.close();
    }
  }
  const out: object[] = [];
  for (const [n, item] of items.entries()) {
    if (!hasImages(item)) {
      out.push(opts.decode(item as Record<string, unknown>));
      continue;
    }
    const problem = problems.get(n);
    if (problem) {
      out.push({ ok: false, error: problem });
      continue;
    }
    const it = item as Record<string, unknown>;
    const soft: Read[] = [];
    const images: object[] = [];
    for (const path of it.images as string[]) {
      try {
        const r = await reads.get(path)!;
        soft.push({ soft: r.soft });
        images.push({ file: path, text: r.text, gear: r.gear, geometry: r.geometry, ms: r.ms });
      } catch (err) {
        images.push({
          file: path,
          error: (err as Error).message,
          code: (err as StamplineError).code ?? 'INTERNAL',
        });
      }
    }
    const typed = it.reads === undefined ? [] : it.reads;
    if (!Array.isArray(typed)) {
      out.push({ ok: false, error: 'reads must be a list of reads', images });
      continue;
    }
    if (typed.length + soft.length === 0) {
      out.push({
        ok: false,
        error: 'no read: none of the images of the item could be read, and it has no reads',
        images,
      });
      continue;
    }
    out.push({ ...opts.decode({ ...it, reads: [...typed, ...soft] }), images });
  }
  return out;
}

export interface ImageIdentifyOptions {
  levels: number[];
  cases: number;
  guns: number;
  seed: number;
  workers: number;
  size?: number;
  progress?: (done: number, of: number) => void;
}

/** Runs `sim identify --images`: every gun of every level across the workers; the rows by level and cases. */
export async function identifyFromImages(o: ImageIdentifyOptions): Promise<ImageRow[]> {
  if (o.cases < 1 || o.cases > MAX_IMAGE_CASES) {
    throw new StamplineError('INVALID_INPUT', `--cases must be 1 to ${MAX_IMAGE_CASES}, got ${o.cases}`, {
      cases: o.cases,
    });
  }
  for (const level of o.levels) {
    if (!Number.isInteger(level) || level < 0 || level > 4) {
      throw new StamplineError('INVALID_INPUT', `--levels must be levels 0 to 4, got ${level}`, { level });
    }
  }
  const total = o.levels.length * o.guns;
  const pool = imagePool(Math.max(1, Math.min(o.workers, total)));
  let done = 0;
  try {
    const byLevel = await Promise.all(
      o.levels.map((level) =>
        Promise.all(
          Array.from({ length: o.guns }, (_, gun) =>
            (
              pool.run({
                kind: 'gun',
                level,
                gun,
                seed: o.seed,
                cases: o.cases,
                ...(o.size !== undefined ? { size: o.size } : {}),
              }) as Promise<GunResult>
            ).then((r) => {
              o.progress?.(++done, total);
              return r;
            }),
          ),
        ),
      ),
    );
    return o.levels.flatMap((level, k) => rowsOf(level, byLevel[k]!, o.cases));
  } finally {
    await pool.close();
  }
}

export { imageMarkdownTable };

/** `stampline sim identify --images`: the table (or JSON) of identification from case images. */
export async function identifyImagesCommand(o: {
  trials: number;
  seed: number;
  workers: number;
  levels: string;
  cases: number;
  json: boolean;
}): Promise<void> {
  if (o.trials < 1)
    throw new StamplineError('INVALID_INPUT', 'trials must be at least 1', { trials: o.trials });
  const levels = o.levels.split(',').map((l) => (/^\s*\d+\s*$/.test(l) ? Number(l) : Number.NaN));
  const started = Date.now();
  const tty = process.stderr.isTTY === true && !o.json;
  const rows = await identifyFromImages({
    levels,
    cases: o.cases,
    guns: o.trials,
    seed: o.seed,
    workers: o.workers,
    ...(tty ? { progress: (d: number, of: number) => process.stderr.write(`\r${d} of ${of} guns`) } : {}),
  });
  if (tty) process.stderr.write('\n');
  const seconds = (Date.now() - started) / 1000;
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ seed: o.seed, workers: o.workers, guns: o.trials, cases: o.cases, rows })}\n`,
    );
    return;
  }
  process.stdout.write(
    [
      `images:        case-image simulator (800 pixels), read by the image reader, decoded with no issued set`,
      `typed reads:   the same guns' cases as typed reads of scenario (a) of sim identify`,
      `trials:        ${o.trials} guns per level, ${o.cases} case${o.cases === 1 ? '' : 's'} each, the first n decoded together for row n (seed ${o.seed}, ${o.workers} worker${o.workers === 1 ? '' : 's'}, ${seconds.toFixed(0)} s)`,
      '',
      imageMarkdownTable(rows),
      '',
    ].join('\n'),
  );
}
