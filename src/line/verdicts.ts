/**
 * QA verdicts on the line: a pass is kept on the firearm and reported as `verified`; a failure
 * voids the code through the job machine (the pin scrapped), queues the firearm for a new pin and
 * reopens its order by the order table. Applying the same decision again completes what a crash
 * cut short and writes nothing twice.
 */
import { StamplineError } from '../errors.js';
import { type LineContext, makeRuntime } from './context.js';
import { applyChange, step } from './job-machine.js';
import type { CodeRef, Firearm, FirearmQa, OrderHeader, OrderState } from './model.js';
import { nextOrderState, type OrderLifecycle } from './orders.js';
import { verifiedRecord, voidedRecord } from './records.js';
import type { FirearmRef } from './repository.js';
import { firearmAt } from './repository.js';
import type { AppliedDecision, AuditEntryInput, QaDecision } from './types.js';

export class Verdicts {
  constructor(
    private readonly ctx: LineContext,
    private readonly orders: OrderLifecycle,
  ) {}

  /**
   * Applies the QA station's decision on the firearm's code `code`. A pass is kept on the
   * firearm and reported as `verified`. A failure is reported as `verified` with `fail`, voids
   * the code (the pin is scrapped, reported as `voided`), queues the firearm for a new pin and a
   * new code, and reopens its order: `done` goes back to `running`, `aborted` to `paused`.
   *
   * The firearm is written before its records are queued. Applying the same decision again
   * (after a crash part-way) changes nothing stored and queues the same records, whose ids the
   * registry knows, so it completes what was cut short.
   */
  async applyVerdict(
    ref: FirearmRef,
    code: { index: number; text: string },
    decision: QaDecision,
    options: { replay?: boolean } = {},
  ): Promise<AppliedDecision> {
    const applied = await this.ctx.exclusive(() =>
      this.applyNow(ref, code, decision, options.replay === true),
    );
    this.ctx.wake.notify();
    return applied;
  }

  private async applyNow(
    ref: FirearmRef,
    codeRef: { index: number; text: string },
    d: QaDecision,
    replay: boolean,
  ): Promise<AppliedDecision> {
    const stored = await this.ctx.o.repo.firearm(ref);
    if (!stored) {
      throw new StamplineError('QA_UNKNOWN_FIREARM', `no firearm ${ref.seq} in order ${ref.orderId}`, {
        ...ref,
      });
    }
    const before = stored.firearm;
    const qa: FirearmQa = {
      result: d.result,
      policy: d.policy,
      grade: d.grade,
      casings: d.casings,
      at: d.at,
      by: d.by,
    };
    const done =
      d.result === 'pass'
        ? before.code?.index === codeRef.index && before.qa?.result === 'pass'
        : before.voided.some((v) => v.index === codeRef.index && v.qa?.result === 'fail');
    let code: CodeRef;
    let firearm: Firearm;
    if (done) {
      firearm = before;
      code = (d.result === 'pass' ? before.code : before.voided.find((v) => v.index === codeRef.index))!;
    } else {
      if (before.state !== 'engraved' || before.code?.index !== codeRef.index) {
        throw new StamplineError(
          'QA_NOT_ENGRAVED',
          `firearm ${before.serial} does not carry code ${codeRef.text} on an engraved pin (it is ${before.state})`,
          { serial: before.serial, code: codeRef.text, state: before.state },
        );
      }
      if (before.qa) {
        throw new StamplineError(
          'QA_ALREADY_DECIDED',
          `code ${codeRef.text} of firearm ${before.serial} already ${before.qa.result === 'pass' ? 'passed' : 'failed'} QA`,
          { serial: before.serial, code: codeRef.text, result: before.qa.result },
        );
      }
      code = before.code;
      const s =
        d.result === 'pass'
          ? step(
              before,
              {
                kind: 'qa-passed',
                qa,
                note: `code ${code.text} passed QA (${d.policy}, grade ${d.grade}, ${d.casings} cases)`,
              },
              d.at,
            )
          : step(before, { kind: 'qa-failed', qa, reason: d.reason }, d.at);
      firearm = await this.ctx.o.repo.updateStoredFirearm(ref, (x) => applyChange(x, s.change));
    }
    const header = stored.order;
    const records = [verifiedRecord(this.ctx.o.records, header, firearm, code, qa, d.at)];
    if (d.result === 'fail')
      records.push(voidedRecord(this.ctx.o.records, header, firearm, code, `failed QA: ${d.reason}`, d.at));
    await this.ctx.o.sink.report(records);

    let order = header;
    if (d.result === 'fail' && firearm.state === 'queued') order = await this.reopenFor(ref, d, replay);
    // Applied before (done): its entries were written then, unless a crash cut them off, which
    // only a replay of the decision has to look for.
    if (!done || replay) {
      const tag = d.reads ? { reads: d.reads } : {};
      await this.auditDecision(
        {
          actor: d.by,
          action: d.result === 'pass' ? 'qa.pass' : 'qa.fail',
          subject: `firearm:${firearm.serial}`,
          after: {
            code: code.text,
            result: d.result,
            policy: d.policy,
            grade: d.grade,
            casings: d.casings,
            ...tag,
          },
          reason: d.reason,
        },
        done,
        d,
      );
      if (d.result === 'fail') {
        await this.auditDecision(
          {
            actor: d.by,
            action: 'code.void',
            subject: `firearm:${firearm.serial}`,
            before: { code: code.text, state: 'engraved' },
            after: { state: 'queued', pinScrapped: true, ...tag },
            reason: `failed QA: ${d.reason}`,
          },
          done,
          d,
        );
      }
    }
    if (!done) {
      this.ctx.o.logger.info(
        { order: order.id, serial: firearm.serial, code: code.text, result: d.result, grade: d.grade },
        d.result === 'pass' ? 'verified' : 'failed QA; code voided, firearm queued for a new pin',
      );
    }
    this.ctx.emit('firearm', { orderId: order.id, firearm });
    return { outcome: d.result === 'pass' ? 'verified' : 'rework', order, firearm };
  }

  /**
   * Makes sure the order of a firearm sent to rework will engrave it: `done` goes back to
   * `running`, `aborted` to `paused` (an operator resumes it), and any other state is kept; the
   * firearm joins the order's queue. The same whether the line still holds the order (an aborted
   * order whose last job was still marking) or brings it back from disk.
   */
  private async reopenFor(ref: FirearmRef, d: QaDecision, replay: boolean): Promise<OrderHeader> {
    let rt = this.ctx.runtimes.get(ref.orderId);
    const held = rt !== undefined;
    const order = rt?.order ?? (await this.ctx.o.repo.reactivate(ref.orderId));
    const before = order.header.data.state;
    const serial = firearmAt(order, ref.seq)?.serial ?? String(ref.seq);
    const reason = `rework: firearm ${serial} failed QA`;
    const to: OrderState = nextOrderState(before, 'reopen') ?? before;
    if (to !== before) {
      // The entry goes first: a crash before the header is written leaves the entry, which the
      // replay that completes the reopening finds, and never a reopened order without its entry.
      await this.auditDecision(
        {
          actor: d.by,
          action: 'order.reopen',
          subject: `order:${ref.orderId}`,
          before: { state: before },
          after: { state: to, ...(d.reads ? { reads: d.reads } : {}) },
          reason,
        },
        replay,
        d,
      );
      await this.orders.move(order, 'reopen', (h, to) => {
        delete h.finishedAt;
        if (to === 'paused') h.reason = reason;
        else if (to === 'running') delete h.reason;
      });
    }
    if (rt) {
      if (!rt.retry.includes(ref.seq)) rt.retry.push(ref.seq);
    } else {
      rt = makeRuntime(order);
      this.ctx.runtimes.set(ref.orderId, rt);
    }
    if (to !== before || !held) this.ctx.emit('order', { order: order.header.data });
    return order.header.data;
  }

  /**
   * Writes one audit entry of a QA decision. When the decision may have been applied before
   * (`again`), an entry it already has (the same action on the same subject, tagged with the same
   * reads) is not written twice; without the tag, or a trail that cannot be searched, it is.
   */
  private async auditDecision(entry: AuditEntryInput, again: boolean, d: QaDecision): Promise<void> {
    if (again && d.reads && this.ctx.o.audit.query) {
      const reads = JSON.stringify(d.reads);
      const earlier = await this.ctx.o.audit.query({
        subject: entry.subject,
        action: entry.action,
        limit: 1000,
      });
      if (earlier.some((e) => JSON.stringify((e.after as { reads?: unknown } | null)?.reads) === reads))
        return;
    }
    await this.ctx.o.audit.record(entry);
  }
}
