/**
 * The work loop: one job at a time, a firearm in flight first (it must be settled), then the
 * queue of the running orders. Each engraver interaction gives the job machine an observation,
 * and the runner carries out what the machine answers. After a restart, and whenever a job is
 * lost, what became of a `marking` firearm is read from the engraver (`reconcile`).
 */
import type { EngraveJob, EngraverStatus, JobOutcome } from '../engraver/types.js';
import { faultName } from '../engraver/types.js';
import { isStamplineError } from '../errors.js';
import { inFlight, type LineContext, type Runtime } from './context.js';
import { afterTimeout, type MarkingResult, outcomeOf, reconcile, type StartKnown } from './job-machine.js';
import type { JobRunner } from './job-runner.js';
import type { CodeRef, Firearm, OrderHeader } from './model.js';
import type { OrderLifecycle } from './orders.js';
import { engravedRecord } from './records.js';
import { firearmAt, firearmsOf } from './repository.js';

/** A halt of the work loop that waits for a person (engraver fault, rejected job). */
class Halt extends Error {}

export class WorkLoop {
  constructor(
    private readonly ctx: LineContext,
    private readonly orders: OrderLifecycle,
    private readonly runner: JobRunner,
  ) {}

  /**
   * What a stop may have cut short, before the loop runs: `engraved` records that may not have
   * reached the outbox are queued again, and codes whose index entry a crash cut off are indexed.
   */
  async recover(): Promise<void> {
    const requeued = await this.requeueUnreported();
    if (requeued > 0)
      this.ctx.o.logger.info({ requeued }, 'queued records again that may not have reached the outbox');
    for (const rt of this.ctx.runtimes.values()) {
      for (const f of inFlight(rt)) {
        if (f.code && !(await this.ctx.o.repo.codeIndexed(f.code.text, f)))
          await this.ctx.o.repo.indexCode(f.code.text, f);
      }
    }
  }

  private async requeueUnreported(): Promise<number> {
    const { o } = this.ctx;
    let n = 0;
    for (const rt of this.ctx.runtimes.values()) {
      const header = rt.order.header.data;
      for (const f of firearmsOf(rt.order)) {
        if (f.state !== 'engraved' || f.reported || !f.code) continue;
        await o.sink.report([engravedRecord(o.records, header, f, f.code, f.recipe!, f.engravedAt!)]);
        f.reported = true;
        n++;
      }
    }
    return n;
  }

  async run(): Promise<void> {
    const { ctx } = this;
    let delay = 250;
    while (!ctx.stopping) {
      const work = this.nextWork();
      if (!work) {
        await ctx.wake.wait();
        continue;
      }
      if (!ctx.o.engraver.connected) {
        await ctx.wake.wait(1000);
        continue;
      }
      const [rt, firearm] = work;
      ctx.current = { orderId: rt.order.header.data.id, serial: firearm.serial };
      try {
        await this.advance(rt, firearm);
        delay = 250;
      } catch (err) {
        if (err instanceof Halt) {
          await ctx.wake.wait();
        } else if (isStamplineError(err) && err.transient) {
          ctx.o.logger.warn(
            { err: err.toJSON(), serial: firearm.serial },
            'engraver link trouble; will retry',
          );
          await ctx.wake.wait(delay);
          delay = Math.min(delay * 2, 5000);
        } else {
          await this.orders.halt(rt, err);
        }
      } finally {
        ctx.current = undefined;
      }
    }
  }

  /** The next firearm to work on: one in flight first (it must be settled), then the queue. */
  private nextWork(): [Runtime, Firearm] | undefined {
    if (this.ctx.halted) return undefined;
    const runtimes = [...this.ctx.runtimes.values()];
    for (const rt of runtimes) {
      for (const f of inFlight(rt)) {
        if (f.state === 'marking' || rt.order.header.data.state === 'running') return [rt, f];
      }
    }
    const running = runtimes
      .filter((rt) => rt.order.header.data.state === 'running')
      .sort((a, b) =>
        (a.order.header.data.startedAt ?? '').localeCompare(b.order.header.data.startedAt ?? ''),
      );
    for (const rt of running) {
      const f = nextQueued(rt);
      if (f) return [rt, f];
    }
    return undefined;
  }

  private async advance(rt: Runtime, start: Firearm): Promise<void> {
    const { o } = this.ctx;
    const header = () => rt.order.header.data;
    let f = start;
    if (f.state === 'queued') {
      const code = await o.allocator.allocate();
      const recipe = o.recipeFor(header().make, header().model);
      f = await this.runner.advance(rt, f, { kind: 'allocated', code, recipe });
    }
    let justStarted = false;
    if (f.state === 'allocated' || f.state === 'loaded') {
      // A `loaded` firearm is loaded again: a power cut since may have cleared the registers, and
      // a load that has not been started marks nothing.
      const before = await this.ensureEngraverFree(rt, f);
      const code = f.code!;
      await o.engraver.loadJob(this.jobFor(header(), f, code));
      f = await this.runner.advance(rt, f, { kind: 'loaded' });
      if (header().state === 'aborted') {
        // Aborted while the job was being loaded: it is never started.
        await this.runner.advance(rt, f, { kind: 'cancelled' });
        await this.orders.retireIfFinished(rt);
        return;
      }
      f = await this.runner.advance(rt, f, { kind: 'starting', before });
      try {
        await o.engraver.startJob(code.jobId);
      } catch (err) {
        if (!isStamplineError(err, 'ENGRAVER_REJECTED') && !isStamplineError(err, 'ENGRAVER_FAULT'))
          throw err;
        // The engraver refused the start (fault 4 over Modbus, a NAK over ASCII, or a fault in
        // the way). What it did is read from its registers, as after a restart; whatever it was,
        // the line halts for an operator, whose reset lets the order go on.
        const result = await this.settle(f, 'refused');
        await this.runner.advance(rt, f, this.ended(rt, result, err.message));
        return;
      }
      justStarted = true;
    }
    if (f.state === 'marking') {
      const result = await this.settle(f, justStarted ? 'started' : 'unknown');
      await this.runner.advance(rt, f, this.ended(rt, result));
    }
  }

  private ended(rt: Runtime, result: MarkingResult, refused?: string) {
    return {
      kind: 'ended' as const,
      result,
      orderAborted: rt.order.header.data.state === 'aborted',
      ...(refused !== undefined ? { refused } : {}),
    };
  }

  private jobFor(header: OrderHeader, f: Firearm, code: CodeRef): EngraveJob {
    return {
      jobId: code.jobId,
      text: code.text,
      gear: code.gear,
      mirror: this.ctx.o.mirror,
      target: header.target,
      recipe: f.recipe ?? this.ctx.o.recipeFor(header.make, header.model),
    };
  }

  /**
   * Waits until the engraver may take the firearm's job (the recovery table's rows for an
   * `allocated` or `loaded` firearm), and returns the status that said so; a fault halts the
   * order for an operator.
   */
  private async ensureEngraverFree(rt: Runtime, f: Firearm): Promise<EngraverStatus> {
    const { ctx } = this;
    const deadline = Date.now() + ctx.o.jobTimeoutMs;
    for (;;) {
      if (ctx.stopping) throw new Halt();
      const status = await ctx.o.engraver.readStatus();
      ctx.noteStatus(status);
      const { row } = reconcile(f, status, 'unknown');
      if (row === 'load-again') return status;
      if (row === 'halt-on-fault') {
        await this.orders.fault(rt, status.fault, `engraver in fault: ${faultName(status.fault)}`);
        throw new Halt();
      }
      // BUSY with a job that is not ours in flight: someone else is marking; wait it out.
      if (Date.now() > deadline) {
        await this.orders.fault(rt, 0, `engraver busy with job ${status.activeJob} that is not this line's`);
        throw new Halt();
      }
      await ctx.wake.wait(200);
    }
  }

  /**
   * Finds out how the job of a `marking` firearm ended, from the engraver itself. `start`: what
   * the line knows of the start, which it just sent (`started`), or which the engraver has just
   * refused (`refused`), or nothing (`unknown`: after a restart, or a job the engraver lost).
   */
  private async settle(f: Firearm, start: StartKnown): Promise<MarkingResult> {
    const { ctx } = this;
    const { engraver, jobTimeoutMs, logger } = ctx.o;
    const code = f.code!;
    if (start !== 'started') {
      // A marker that keeps no job id learns which job the line had started, and the count before it.
      if (start === 'unknown') engraver.recallJob?.(code.jobId, f.completedBefore);
      const status = await engraver.readStatus();
      ctx.noteStatus(status);
      const { result } = reconcile(f, status, start);
      if (result) return result;
    }
    ctx.crash('during-marking', f);
    let outcome: JobOutcome;
    try {
      outcome = await engraver.waitForEnd(code.jobId, { timeoutMs: jobTimeoutMs });
    } catch (err) {
      // The engraver no longer holds the job (a power cut, or a reset nobody saw): what became
      // of it is read from the engraver, as after a restart.
      if (isStamplineError(err, 'ENGRAVER_JOB_LOST')) return this.settle(f, 'unknown');
      if (!isStamplineError(err, 'ENGRAVER_TIMEOUT')) throw err;
      // The job outlived the job timeout: stop the laser; the pin is scrapped.
      logger.error({ jobId: code.jobId }, 'job exceeded the job timeout; aborting it');
      await engraver.abort();
      const status = await engraver.readStatus();
      ctx.noteStatus(status);
      return afterTimeout(f, status);
    }
    // The end of the job is the engraver's state as last read, by the driver's wait.
    ctx.noteStatus({
      state: outcome.kind === 'done' ? 'DONE' : 'FAULT',
      fault: outcome.kind === 'done' ? 0 : outcome.fault,
      completed: outcome.kind === 'done' ? outcome.completed : (ctx.lastStatus?.completed ?? 0),
      activeJob: code.jobId,
    });
    return outcomeOf(outcome);
  }
}

function nextQueued(rt: Runtime): Firearm | undefined {
  while (rt.retry.length > 0) {
    const f = firearmAt(rt.order, rt.retry[0]!);
    if (f && f.state === 'queued') return f;
    rt.retry.shift();
  }
  while (rt.cursor < rt.order.header.data.size) {
    const f = firearmAt(rt.order, rt.cursor);
    if (f && f.state === 'queued') return f;
    rt.cursor++;
  }
  return undefined;
}
