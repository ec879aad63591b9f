/**
 * A fixed set of worker threads that run tasks of one worker module, as many at a time as there
 * are workers, answering each task's promise in turn. Run from the sources the module is
 * TypeScript loaded through tsx (a worker does not inherit the loader, so it is started from a
 * one-line script that registers it first); run from the compiled build it is plain JavaScript.
 *
 * The worker module answers `{id, task}` messages with `{id, result}` or `{id, error: {code,
 * message}}` (see image-worker.ts).
 */
import { Worker } from 'node:worker_threads';
import { ERROR_CATALOGUE, type ErrorCode, StamplineError } from '../errors.js';

interface Pending {
  id: number;
  task: unknown;
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
}

/** The one-line script that starts a worker on `entry` (a module beside `from`, without extension). */
export function workerScript(from: string, entry: string): string {
  const compiled = from.endsWith('.js');
  const url = new URL(`${entry}${compiled ? '.js' : '.ts'}`, from).href;
  if (compiled) return `import(${JSON.stringify(url)})`;
  const loader = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(loader)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
}

export class WorkerPool<T, R> {
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #queue: Pending[] = [];
  readonly #running = new Map<Worker, Pending>();
  #next = 1;
  #closed = false;

  constructor(script: string, size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new StamplineError('INVALID_INPUT', `workers must be a whole number from 1, got ${size}`, {
        workers: size,
      });
    }
    for (let i = 0; i < size; i++) {
      const w = new Worker(script, { eval: true });
      w.on('message', (m: { id: number; result?: unknown; error?: { code: string; message: string } }) => {
        const p = this.#running.get(w);
        if (!p || p.id !== m.id) return;
        this.#running.delete(w);
        if (m.error) p.reject(toError(m.error));
        else p.resolve(m.result);
        this.#idle.push(w);
        this.#pump();
      });
      w.on('error', (err) => this.#lost(w, err));
      w.on('exit', (code) => {
        if (!this.#closed) this.#lost(w, new Error(`a worker thread stopped (exit code ${code})`));
      });
      this.#workers.push(w);
      this.#idle.push(w);
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  run(task: T): Promise<R> {
    if (this.#closed) return Promise.reject(new Error('the worker pool is closed'));
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ id: this.#next++, task, resolve: resolve as (r: unknown) => void, reject });
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const w = this.#idle.pop()!;
      const p = this.#queue.shift()!;
      this.#running.set(w, p);
      w.postMessage({ id: p.id, task: p.task });
    }
  }

  /** A worker that died takes its task with it, and every task waiting: nothing else would run them. */
  #lost(w: Worker, err: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    const p = this.#running.get(w);
    this.#running.delete(w);
    p?.reject(err);
    for (const q of this.#queue.splice(0)) q.reject(err);
    for (const r of this.#running.values()) r.reject(err);
    this.#running.clear();
    void Promise.all(this.#workers.map((x) => x.terminate()));
  }
}

function toError(e: { code: string; message: string }): Error {
  return e.code in ERROR_CATALOGUE
    ? new StamplineError(e.code as ErrorCode, e.message)
    : new Error(e.message);
}
