/**
 * Faults aimed at the next marking instead of at a moment chosen by hand: drop the link, or cut
 * the power, a given fraction of the way through the next job's marking time. A script or a test
 * arms one before it starts the job and can be sure the fault strikes while the engraver is BUSY,
 * however slow the machine running it.
 */
import type { EngraverDevice } from './device.js';
import type { LinkFaults } from './link-faults.js';

export type MarkingAction = 'drop' | 'power-cycle';

/** When both strike at the same moment the link goes first, as it does when the power is cut. */
const ORDER: readonly MarkingAction[] = ['drop', 'power-cycle'];

export interface MarkingTriggerReport {
  action: MarkingAction;
  jobId: number;
}

export class MarkingTriggers {
  private readonly armed = new Map<MarkingAction, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly offDevice: () => void;

  /** `onFire` hears of each action as it is taken, e.g. to print it. */
  constructor(
    private readonly device: EngraverDevice,
    private readonly faults: LinkFaults,
    private readonly onFire: (report: MarkingTriggerReport) => void = () => {},
  ) {
    this.offDevice = device.on((event) => {
      if (event.kind === 'marking') this.fire(event.record.jobId);
    });
  }

  /**
   * When the next job starts marking, `action` is taken after `atFraction` (0..1) of its marking
   * time, whether or not the job is still marking by then. 0 acts just after the start command
   * has been answered.
   */
  arm(action: MarkingAction, atFraction = 0.5): void {
    if (!(atFraction >= 0 && atFraction <= 1)) throw new RangeError('the fraction must be between 0 and 1');
    this.armed.set(action, atFraction);
  }

  disarm(action: MarkingAction): void {
    this.armed.delete(action);
  }

  /** The armed actions and their fractions, e.g. "drop at 0.5, power-cycle at 0.5", or "none". */
  describe(): string {
    const armed = ORDER.filter((a) => this.armed.has(a)).map((a) => `${a} at ${this.armed.get(a)}`);
    return armed.length > 0 ? armed.join(', ') : 'none';
  }

  close(): void {
    this.offDevice();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.armed.clear();
  }

  private fire(jobId: number): void {
    for (const action of ORDER) {
      const atFraction = this.armed.get(action);
      if (atFraction === undefined) continue;
      this.armed.delete(action);
      // A timer even at 0, so that the start command's reply goes out before the link is cut.
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (action === 'drop') this.faults.dropLink();
        else this.device.powerCycle();
        this.onFire({ action, jobId });
      }, this.device.markingTimeMs * atFraction);
      this.timers.add(timer);
    }
  }
}
