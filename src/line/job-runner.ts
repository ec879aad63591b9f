/**
 * Carries out what the job machine answers: the durable write of the step's change, the records
 * queued in the outbox, the audit entry, the events, the halt and the order's end, in the order
 * the machine gave them. The machine decides; the runner only does.
 */
import { type LineContext, now, type Runtime } from './context.js';
import { applyChange, type Observation, type Step, step } from './job-machine.js';
import type { CodeRef, Firearm } from './model.js';
import { IN_FLIGHT } from './model.js';
import type { OrderLifecycle } from './orders.js';
import { engravedRecord, voidedRecord } from './records.js';

export class JobRunner {
  constructor(
    private readonly ctx: LineContext,
    private readonly orders: OrderLifecycle,
  ) {}

  /** Takes firearm `f` of `rt` one step on `obs`; answers the firearm as written. */
  advance(rt: Runtime, f: Firearm, obs: Observation): Promise<Firearm> {
    return this.carryOut(rt, f, step(f, obs, now()));
  }

  /** Carries out the effects of step `s` of firearm `f`, in order. */
  async carryOut(rt: Runtime, f: Firearm, s: Step): Promise<Firearm> {
    const { o } = this.ctx;
    const order = rt.order;
    const orderId = order.header.data.id;
    // The code the step is about: a voiding step clears it from the firearm.
    const code: CodeRef | undefined = s.change.set?.code ?? f.code;
    let current = f;
    for (const e of s.effects) {
      switch (e.kind) {
        case 'crash':
          this.ctx.crash(e.point, current);
          break;
        case 'write': {
          const write = o.repo.updateFirearm(order, f.seq, (x) => applyChange(x, s.change));
          // Both are durable before the job is loaded; a crash between them is mended on start-up
          // (`WorkLoop.recover`), and an index entry without its firearm write is passed over.
          if (e.indexCode && code) [, current] = await Promise.all([o.repo.indexCode(code.text, f), write]);
          else current = await write;
          if (IN_FLIGHT.has(current.state)) rt.inflight.add(f.seq);
          break;
        }
        case 'emit':
          this.ctx.emit('firearm', { orderId, firearm: current });
          break;
        case 'report': {
          const header = order.header.data;
          const record =
            e.record === 'engraved'
              ? engravedRecord(o.records, header, current, code!, current.recipe!, current.engravedAt!)
              : voidedRecord(o.records, header, current, code!, s.change.voided!.reason, s.change.at);
          await o.sink.report([record]);
          break;
        }
        case 'note-reported':
          // Persisted with the chunk's next write; if lost, the record is queued again on start-up
          // with the same id and the registry answers `duplicate`.
          current.reported = true;
          break;
        case 'audit-void':
          await o.audit.record({
            actor: 'line',
            action: 'code.void',
            subject: `firearm:${f.serial}`,
            before: { code: code!.text, state: s.change.from },
            after: { state: current.state, pinScrapped: e.pinScrapped },
            reason: e.reason,
          });
          break;
        case 'log': {
          const fields = {
            order: orderId,
            serial: f.serial,
            code: code?.text,
            ...(e.reason !== undefined ? { reason: e.reason, pinScrapped: e.pinScrapped } : {}),
          };
          o.logger[e.level](fields, e.msg);
          break;
        }
        case 'requeue':
          rt.retry.push(f.seq);
          break;
        case 'halt':
          await this.orders.fault(rt, e.fault, e.reason);
          break;
        case 'retire':
          await this.orders.retireIfFinished(rt);
          break;
      }
    }
    return current;
  }
}
