/**
 * Carries out what the job machine answers: the durable write of the step's change, the records
 * queued in the outbox, the audit entry, the events, the halt and the order's end, in the order
 * the machine gave them. The machine decides; the runner only does.
 */
import { type LineContext, now, type Runtime } from './context.js';
import { applyChange, type Effect, type Observation, type Step, step } from './job-machine.js';
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
    if (!s.effects.some((e) => e.kind === 'report' && e.record === 'engraved'))
      return this.run(rt, f, s, s.effects, f);
    // The firearm is `engraved` in memory from its write on; the views wait in the line's tail
    // until its record is in the outbox (or the step failed).
    let reached!: () => void;
    const queued = new Promise<void>((resolve) => {
      reached = resolve;
    });
    this.ctx.follow(
      () => queued,
      async () => {},
    );
    try {
      return await this.run(rt, f, s, s.effects, f, reached);
    } finally {
      reached();
    }
  }

  private async run(
    rt: Runtime,
    f: Firearm,
    s: Step,
    effects: Effect[],
    from: Firearm,
    reached: () => void = () => {},
  ): Promise<Firearm> {
    const { o } = this.ctx;
    const order = rt.order;
    const orderId = order.header.data.id;
    // The code the step is about: a voiding step clears it from the firearm.
    const code: CodeRef | undefined = s.change.set?.code ?? f.code;
    let current = from;
    for (let i = 0; i < effects.length; i++) {
      const e = effects[i]!;
      switch (e.kind) {
        case 'crash':
          this.ctx.crash(e.point, current);
          break;
        case 'write': {
          // The code's index entry is written with the write that puts the firearm holding the
          // code on the disk (`marking`, before the start), beside the job, and waited for before
          // the code's end (engraved or voided) is written: a crash before that leaves the firearm
          // in flight, and start-up indexes the code of a firearm in flight that lacks it
          // (`WorkLoop.recover`). An entry whose firearm does not hold the code is passed over.
          const index = e.indexCode && code ? () => o.repo.indexCode(code.text, f) : undefined;
          current = await o.repo.updateFirearm(order, f.seq, (x) => applyChange(x, s.change), {
            ...(e.deferred ? { deferred: true } : {}),
            ...(index ? { after: index } : {}),
          });
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
          if (e.record === 'engraved') {
            // The firearm is durably `engraved`, so its record is owed whatever happens next: a
            // restart queues it again for every engraved firearm not noted as reported
            // (`WorkLoop.recover`). It goes to the outbox beside the next job, and the rest of
            // the step waits for it, in the line's tail of steps (which the views wait for); the
            // order's end, which may wait for the order catalogue, is begun after it.
            const queued = o.sink.report([record]);
            queued.then(reached, reached);
            const rest = effects.slice(i + 1);
            const firearm = current;
            const failed = (err: unknown) => this.orders.halt(rt, err);
            this.ctx.follow(async () => {
              await queued;
              await this.run(
                rt,
                f,
                s,
                rest.filter((x) => x.kind !== 'retire'),
                firearm,
              );
              if (rest.some((x) => x.kind === 'retire'))
                this.ctx.track(this.orders.retireIfFinished(rt), failed);
            }, failed);
            return current;
          }
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
