/**
 * Worker thread of the image commands (worker-pool.ts): reads case image files for
 * `code decode --batch`, and renders, reads and decodes simulated guns for
 * `sim identify --images`. One image at a time per thread, sharp on one thread of its own.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { type GunTask, runGun } from '../../simulators/reading/trial.js';
import { readImageFile } from '../codes/image/read-image.js';
import { StamplineError } from '../errors.js';

export type ImageTask = { kind: 'read'; path: string } | ({ kind: 'gun' } & GunTask);

sharp.concurrency(1);

/** One image file's read: the soft read for the decoder, the hard read and geometry for people. */
export async function readImagePath(path: string) {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new StamplineError(
      'INVALID_INPUT',
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { path },
    );
  }
  const r = await readImageFile(bytes, basename(path));
  return { soft: r.soft, text: r.text, gear: r.gear, geometry: r.geometry, ms: r.ms };
}

async function handle(task: ImageTask): Promise<unknown> {
  if (task.kind === 'read') return readImagePath(task.path);
  return runGun(task);
}

parentPort?.on('message', async (m: { id: number; task: ImageTask }) => {
  try {
    parentPort!.postMessage({ id: m.id, result: await handle(m.task) });
  } catch (err) {
    const code = err instanceof StamplineError ? err.code : 'INTERNAL';
    parentPort!.postMessage({
      id: m.id,
      error: { code, message: err instanceof Error ? err.message : String(err) },
    });
  }
});
