/**
 * A simulated test fire and QA station: when the line engraves a firearm, it fires the cases the
 * QA policy needs (the four examined rounds for `ca-4075`), reads each through the degradation
 * model, and enters the reads at the QA service as `testfire`, a short while later, as a bench
 * would. A failure goes to rework like any other; the new pin is test-fired in its turn.
 *
 * Each firearm is fired with one box of ammunition (a brand, lacquered or not), drawn with the
 * code's own random stream, so that what a code's cases read does not depend on timing.
 */

import { readImageFile } from '../../src/codes/image/read-image.js';
import type { SoftRead } from '../../src/codes/soft-read.js';
import { isStamplineError } from '../../src/errors.js';
import type { Line, LineEvents } from '../../src/line/line.js';
import type { Firearm } from '../../src/line/model.js';
import { examinedRounds, type QaService, type SubmitResult } from '../../src/qa/index.js';
import type { Logger as LineLogger } from '../../src/shared.js';
import { caseImageModel } from '../case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../case-image/render.js';
import { DEFAULT_DEGRADATION, type DegradationSettings, fireCase, fireModels, Random } from './model.js';

export const DEFAULT_BRANDS = [
  'Federal HST',
  'Winchester White Box',
  'Remington UMC',
  'Blazer Brass',
  'Fiocchi',
];

export interface TestFireOptions {
  line: Pick<Line, 'on' | 'off' | 'status' | 'orderView'>;
  qa: Pick<QaService, 'policy' | 'submit' | 'firearm'>;
  /** how long after a firearm is engraved its cases are entered, in ms */
  delayMs: number;
  degradation?: DegradationSettings;
  /** share of test fires made with lacquered-primer ammunition */
  lacqueredShare: number;
  brands?: string[];
  seed: number;
  /** the audit actor of the reads; `testfire` */
  actor?: string;
  /**
   * Send images instead of typed reads: each case is rendered by the case-image simulator at
   * this degradation level (0..4), read by the image reader, and its hard read entered as a read
   * from an image (`source: image`). Unset: typed reads from the degradation model.
   */
  imageLevel?: number;
  logger?: LineLogger;
}

/** A case of this code as the image reader reads it off a simulated microscope image. */
async function imageMarks(
  code: { text: string; gear: string },
  level: number,
  rng: Random,
): Promise<{ text: string; gear?: string; imageRead: { text: string; gear?: string; soft?: SoftRead } }> {
  const image = renderCaseImage(code, caseImageModel(level, { size: 700 }), rng.below(2 ** 31));
  try {
    const read = await readImageFile(await encodeCaseImage(image), 'the test-fire image');
    return {
      text: read.text,
      gear: read.gear,
      imageRead: { text: read.text, gear: read.gear, soft: read.soft },
    };
  } catch (err) {
    // no stamp found on the case: a person would enter it as wholly illegible
    if (isStamplineError(err, 'IMAGE_NO_STAMP'))
      return { text: '??????????', imageRead: { text: '??????????' } };
    throw err;
  }
}

const quiet: LineLogger = { info() {}, warn() {}, error() {}, debug() {} };

export class TestFireStation {
  private readonly models;
  private readonly brands: string[];
  private readonly logger: LineLogger;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  /** codes already fired or scheduled, by index */
  private readonly fired = new Set<number>();
  private stopped = true;
  private readonly onFirearm = ({ firearm }: LineEvents['firearm'][0]) => this.consider(firearm, false);

  constructor(private readonly o: TestFireOptions) {
    this.models = fireModels(o.degradation ?? DEFAULT_DEGRADATION);
    this.brands = o.brands && o.brands.length > 0 ? o.brands : DEFAULT_BRANDS;
    this.logger = o.logger ?? quiet;
  }

  /** Listens to the line; firearms of unfinished orders engraved and not yet decided are fired too. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.o.line.on('firearm', this.onFirearm);
    for (const order of this.o.line.status().activeOrders) {
      const view = await this.o.line.orderView(order.id).catch(() => undefined);
      for (const f of view?.firearms ?? []) this.consider(f, true);
    }
  }

  /** Stops listening, drops what is scheduled and waits for the firing in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.line.off('firearm', this.onFirearm);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  /** `earlier`: the firearm was engraved before the station listened, and may have reads already. */
  private consider(f: Firearm, earlier: boolean): void {
    if (this.stopped || f.state !== 'engraved' || !f.code || f.qa || this.fired.has(f.code.index)) return;
    const code = f.code;
    this.fired.add(code.index);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = this.fire(f.serial, code, earlier).catch((err) => {
        if (!this.stopped)
          this.logger.warn({ err, serial: f.serial, code: code.text }, 'test fire: a read was refused');
      });
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }, this.o.delayMs);
    this.timers.add(timer);
  }

  /**
   * Fires the cases the policy needs for this code (with `resume`, less those read already) and
   * enters their reads, one at a time, until the verdict is decided. Resolves with the answers
   * of the QA service.
   */
  async fire(
    serial: string,
    code: { index: number; text: string; gear: string },
    resume = false,
  ): Promise<SubmitResult[]> {
    const rng = new Random(this.o.seed, code.index);
    const lacquered = rng.next() < this.o.lacqueredShare;
    const ammo = { brand: this.brands[rng.below(this.brands.length)]!, lacquered };
    const model = lacquered ? this.models.lacquered : this.models.plain;
    const rounds = await this.roundsToFire(serial, code.index, resume);
    const results: SubmitResult[] = [];
    for (const round of rounds) {
      const marks =
        this.o.imageLevel === undefined
          ? fireCase(code, model, rng)
          : await imageMarks(code, this.o.imageLevel, rng);
      if (this.stopped) break;
      const result = await this.o.qa.submit(
        { code: code.text, ...marks, ammo, round, station: 'testfire' },
        this.o.actor ?? 'testfire',
      );
      results.push(result);
      if (result.outcome !== 'pending') {
        this.logger.info(
          { serial, code: code.text, verdict: result.verdict.status, grade: result.verdict.grade, ammo },
          result.outcome === 'verified'
            ? 'test fire: QA passed'
            : 'test fire: QA failed; firearm sent to rework',
        );
        break;
      }
    }
    return results;
  }

  /** The rounds to fire: the examined ones for `ca-4075`, else the first N; less those already read. */
  private async roundsToFire(serial: string, codeIndex: number, resume: boolean): Promise<number[]> {
    const policy = this.o.qa.policy;
    const all =
      policy.kind === 'ca-4075'
        ? examinedRounds(policy.rounds)
        : Array.from({ length: policy.cases }, (_, i) => i + 1);
    if (!resume) return all;
    let read: Array<number | undefined> = [];
    try {
      const record = await this.o.qa.firearm(serial);
      read = record.reads.filter((r) => r.code.index === codeIndex).map((r) => r.round);
    } catch (err) {
      if (!isStamplineError(err, 'QA_UNKNOWN_FIREARM')) throw err;
    }
    if (policy.kind === 'ca-4075') return all.filter((r) => !read.includes(r));
    return all.slice(read.length);
  }
}
