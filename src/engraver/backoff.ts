/**
 * Reconnect delays: exponential with full jitter, so that several lines restarting together after
 * a power cut do not hammer a shared gateway in step.
 */
import { SerialQueue } from '../serial-queue.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Source of randomness in [0, 1); replaceable for tests. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; grows until `reset()`. */
  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const random = this.options.random ?? Math.random;
    // Half fixed, half jitter: never zero, never above the ceiling.
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/**
 * Runs tasks one at a time, in order. A serial bus (and modbus-serial on it) cannot carry two
 * requests at once, so every request on one bus goes through one queue.
 */
export class RequestQueue {
  private readonly queue = new SerialQueue();

  run<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(task);
  }

  get depth(): number {
    return this.queue.depth;
  }
}
