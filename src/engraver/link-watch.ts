/**
 * The link listeners every transport keeps: who is told when the link goes up or down, and a
 * wait for the link to come up. A listener that throws is logged, never allowed to stop the
 * others or the driver.
 */
import type { LinkEvent } from './types.js';

export class LinkWatch {
  private readonly listeners = new Set<(event: LinkEvent) => void>();

  constructor(private readonly log: { error(obj: object, msg: string): void }) {}

  on(listener: (event: LinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: LinkEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'link listener threw');
      }
    }
  }

  /** Resolves at the next `up`, or rejects with `timeoutError()` after `timeoutMs`. */
  nextUp(timeoutMs: number, timeoutError: () => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(timeoutError());
      }, timeoutMs);
      const off = this.on((event) => {
        if (event.kind !== 'up') return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }
}
