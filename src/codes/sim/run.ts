/**
 * Runs the identification Monte-Carlo over worker threads. Run from the sources, the code is
 * TypeScript loaded through tsx, and a worker does not inherit the loader, so each worker is
 * started from a one-line script that registers it first; run from the compiled build, the
 * worker is plain JavaScript beside this file.
 */
import { Worker } from 'node:worker_threads';
import { keyContext } from '../key.js';
import { type ReadModel, weightsFor } from '../model.js';
import { addTally, emptyTally, runTrials, type Tally } from './identify.js';
import type { FireModel } from './model.js';
import { Random } from './random.js';

export interface RunOptions {
  fire: FireModel;
  trials: number;
  seed: number;
  workers: number;
  readModel?: Partial<ReadModel>;
  /** decode against a random issued set of this many codes (0: against all 2^40) */
  issued?: number;
  /** called with the tally so far after each chunk */
  progress?: (tally: Tally) => void;
}

export interface WorkerTask {
  fire: FireModel;
  trials: number;
  seed: number;
  stream: number;
  chunk: number;
  key: string;
  readModel: Partial<ReadModel>;
  issued: number;
}

/** Any key will do: the decoder's work does not depend on it. */
const SIM_KEY = '5374616d706c696e652073696d756c61';
const CHUNK = 5000;

function workerScript(): string {
  const compiled = import.meta.url.endsWith('.js');
  const entry = new URL(compiled ? './worker.js' : './worker.ts', import.meta.url).href;
  if (compiled) return `import(${JSON.stringify(entry)})`;
  const loader = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(loader)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
}

export async function runIdentification(options: RunOptions): Promise<Tally> {
  const { fire, trials, seed, workers } = options;
  const readModel = options.readModel ?? {};
  const issued = options.issued ?? 0;
  const total = emptyTally();
  if (workers <= 1) {
    const rng = new Random(seed, 0);
    const ctx = keyContext(SIM_KEY);
    const weights = weightsFor(readModel);
    for (let left = trials; left > 0; left -= CHUNK) {
      addTally(total, runTrials(fire, Math.min(CHUNK, left), rng, ctx, weights, issued));
      options.progress?.(total);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }
  const script = workerScript();
  const shares = Array.from(
    { length: workers },
    (_, w) => Math.floor(trials / workers) + (w < trials % workers ? 1 : 0),
  );
  await Promise.all(
    shares.map(
      (share, stream) =>
        new Promise<void>((resolve, reject) => {
          if (share === 0) return resolve();
          const task: WorkerTask = {
            fire,
            trials: share,
            seed,
            stream,
            chunk: CHUNK,
            key: SIM_KEY,
            readModel,
            issued,
          };
          const worker = new Worker(script, { eval: true, workerData: task });
          let done = false;
          worker.on('message', (m: { tally: Tally; done?: boolean }) => {
            addTally(total, m.tally);
            if (m.done) done = true;
            else options.progress?.(total);
          });
          worker.on('error', reject);
          worker.on('exit', (code) => {
            if (code === 0 && done) resolve();
            else reject(new Error(`simulation worker ${stream} stopped early (exit code ${code})`));
          });
        }),
    ),
  );
  return total;
}
