/**
 * The line's events are emitted in the middle of durable steps (a firearm written, a record
 * queued). A listener's failure is the listener's: it is logged, and the step goes on, so no
 * subscriber (the live events, metrics, alarms) can cut a durable step short.
 */
import { EventEmitter } from 'node:events';
import type { LineLogger } from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: the shape EventEmitter's own type parameter takes
export class GuardedEmitter<T extends Record<keyof T, any[]>> extends EventEmitter<T> {
  /** Set by the owner once its logger is known; until then a listener's failure is dropped. */
  protected listenerLog: LineLogger | undefined;

  /**
   * Calls every listener of `event` in the order they were added, each guarded: one that throws
   * is logged and the next is still called. Answers whether there was any listener.
   */
  // biome-ignore lint/suspicious/noExplicitAny: matches EventEmitter's signature
  override emit(event: any, ...args: any[]): boolean {
    // `rawListeners` keeps a `once` listener's wrapper, which removes it when called.
    const listeners = this.rawListeners(event) as Array<(...a: unknown[]) => unknown>;
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (err) {
        this.listenerLog?.error({ err, event: String(event) }, 'an event listener failed; the line goes on');
      }
    }
    return listeners.length > 0;
  }
}
