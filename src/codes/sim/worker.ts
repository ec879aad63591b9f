/** Worker thread of `stampline sim identify`: runs its share of the trials and reports tallies. */
import { parentPort, workerData } from 'node:worker_threads';
import { keyContext } from '../key.js';
import { weightsFor } from '../model.js';
import { emptyTally, runTrials } from './identify.js';
import { Random } from './random.js';
import type { WorkerTask } from './run.js';

const task = workerData as WorkerTask;
const rng = new Random(task.seed, task.stream);
const ctx = keyContext(task.key);
const weights = weightsFor(task.readModel);
let left = task.trials;
while (left > 0) {
  const n = Math.min(task.chunk, left);
  parentPort!.postMessage({ tally: runTrials(task.fire, n, rng, ctx, weights, task.issued) });
  left -= n;
}
parentPort!.postMessage({ done: true, tally: emptyTally() });
