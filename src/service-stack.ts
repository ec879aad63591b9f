/**
 * What a composition root started, to stop it again: each service is pushed as it starts and the
 * stack is popped to stop, so the stop order is the start order reversed and is written nowhere
 * else. A start that fails unwinds what was already started, last first, before the error goes
 * on; the service that failed is stopped first, since its start may have taken something (a lock,
 * a file) before failing, and every service's `stop()` is safe to call on a half-started one.
 */

/** Where a stop that fails is told; the others go on. */
export type StopErrorHandler = (name: string, err: unknown) => void;

interface Entry {
  name: string;
  stop: () => unknown;
}

export class ServiceStack {
  private readonly entries: Entry[] = [];
  private unwinding: Promise<void> | undefined;

  constructor(private readonly onStopError: StopErrorHandler) {}

  /**
   * Starts a service and keeps its stop. When `start` fails, everything on the stack is stopped
   * (this service first) and the start's error is thrown.
   */
  async start<T>(name: string, start: () => Promise<T> | T, stop: () => unknown): Promise<T> {
    this.push(name, stop);
    try {
      return await start();
    } catch (err) {
      await this.stopAll();
      throw err;
    }
  }

  /** Keeps a stop for something started already (a watch, a hook, a simulator). */
  push(name: string, stop: () => unknown): void {
    this.entries.push({ name, stop });
  }

  /** The names on the stack, first started first. */
  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /**
   * Stops everything on the stack, last started first, and empties it. A stop that throws is
   * told to the handler and the next one still runs. While one call is stopping, another waits
   * for it.
   */
  stopAll(): Promise<void> {
    this.unwinding ??= this.unwind().finally(() => {
      this.unwinding = undefined;
    });
    return this.unwinding;
  }

  private async unwind(): Promise<void> {
    for (let entry = this.entries.pop(); entry; entry = this.entries.pop()) {
      try {
        await entry.stop();
      } catch (err) {
        this.onStopError(entry.name, err);
      }
    }
  }
}
