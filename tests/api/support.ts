/**
 * What the API tests share: callers of every role, an access layer that knows them by bearer
 * token, and a QA service that keeps reads in memory over a real line.
 */
import { EventEmitter } from 'node:events';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiOptions, buildApp, type QaApi } from '../../src/api/app.js';
import type { Identity } from '../../src/api/auth/types.js';
import type { QaPolicy } from '../../src/config/schema.js';
import { StamplineError } from '../../src/errors.js';
import type { Line } from '../../src/line/line.js';
import type { Firearm, OrderHeader } from '../../src/line/model.js';
import type {
  CaseReadInput,
  StatsDimension,
  StatsRow,
  StoredRead,
  SubmitResult,
  Verdict,
} from '../../src/qa/types.js';

type QaReadEvent = SubmitResult & { serial: string };

export const CALLERS = {
  'user operator': { kind: 'user', name: 'olga', role: 'operator' },
  'user qa': { kind: 'user', name: 'quentin', role: 'qa' },
  'user supervisor': { kind: 'user', name: 'sam', role: 'supervisor' },
  'user admin': { kind: 'user', name: 'ada', role: 'admin' },
  'token erp': { kind: 'token', name: 'erp', role: 'erp' },
  'token operator': { kind: 'token', name: 'operator', role: 'operator' },
  'token qa': { kind: 'token', name: 'qa', role: 'qa' },
} as const satisfies Record<string, Identity>;

export type Caller = keyof typeof CALLERS;

const tokenOf = (who: Caller) => `test-token-${who.replace(' ', '-')}-0123456789`;

/** The headers of a request sent by `who`. */
export function as(who: Caller): { authorization: string } {
  return { authorization: `Bearer ${tokenOf(who)}` };
}

/** An access layer that knows each caller by its bearer token, as the real one knows tokens and sessions. */
export function fakeAuth(): { register(app: FastifyInstance): void } {
  const byToken = new Map(Object.entries(CALLERS).map(([who, id]) => [tokenOf(who as Caller), id]));
  return {
    register(app) {
      app.addHook('onRequest', async (req: FastifyRequest) => {
        const h = req.headers.authorization;
        const id = h?.startsWith('Bearer ') ? byToken.get(h.slice(7)) : undefined;
        if (id) req.identity = { ...id };
      });
    },
  };
}

const quietPolicy: QaPolicy = { kind: 'every-case', cases: 2, minGrade: 'C' };

/**
 * Keeps reads in memory and judges them the simple way: a read passes when its text is the
 * code; `cases` passing reads verify the firearm, one failing read fails it. Enough to exercise
 * the routes; the real policies are tested with the QA service.
 */
export class MemoryQa extends EventEmitter<{ read: [QaReadEvent] }> implements QaApi {
  readonly policy: QaPolicy = quietPolicy;
  readonly reads: StoredRead[] = [];
  private readonly decided = new Map<string, Verdict>();

  constructor(private readonly line: Line) {
    super();
  }

  private async find(serial: string): Promise<{ order: OrderHeader; firearm: Firearm }> {
    for (const order of await this.line.listOrders()) {
      const view = await this.line.orderView(order.id);
      const firearm = view.firearms.find((f) => f.serial === serial);
      if (firearm) return { order: view.order, firearm };
    }
    throw new StamplineError('QA_UNKNOWN_FIREARM', `no firearm ${serial}`, { serial });
  }

  async submit(input: CaseReadInput, actor: string): Promise<SubmitResult> {
    const { order, firearm } = await this.find(input.serial ?? '');
    if (firearm.state !== 'engraved' || !firearm.code)
      throw new StamplineError('QA_NOT_ENGRAVED', `firearm ${firearm.serial} is ${firearm.state}`);
    if (this.decided.has(firearm.code.text))
      throw new StamplineError('QA_ALREADY_DECIDED', `code ${firearm.code.text} is decided`);
    const matches = input.text === firearm.code.text;
    const read: StoredRead = {
      id: this.reads.length + 1,
      at: new Date().toISOString(),
      by: actor,
      serial: firearm.serial,
      orderId: order.id,
      code: { index: firearm.code.index, text: firearm.code.text },
      ...(input.text !== undefined ? { text: input.text } : {}),
      ammo: input.ammo,
      make: order.make,
      model: order.model,
      engraverId: 'eng-1',
      recipe: '500/30/200/2',
      decode: {
        ok: matches,
        matches,
        confident: matches,
        errors: 0,
        erasures: 0,
        uec: matches ? 1 : 0,
        grade: matches ? 'A' : 'F',
        illegibleChars: 0,
        illegibleTeeth: null,
      },
    };
    this.reads.push(read);
    const mine = this.reads.filter((r) => r.code.text === firearm.code!.text);
    const status = !matches ? 'fail' : mine.length >= 2 ? 'pass' : 'pending';
    const verdict: Verdict = {
      status,
      policy: 'every-case',
      casings: mine.length,
      needed: 2,
      grade: matches ? 'A' : 'F',
      reason: status,
    };
    if (status !== 'pending') this.decided.set(firearm.code.text, verdict);
    const result: SubmitResult = {
      read,
      verdict,
      outcome: status === 'pass' ? 'verified' : status === 'fail' ? 'rework' : 'pending',
    };
    this.emit('read', { ...result, serial: firearm.serial });
    return result;
  }

  async firearm(serial: string) {
    const { order, firearm } = await this.find(serial);
    return {
      order,
      firearm,
      reads: this.reads.filter((r) => r.serial === serial),
      verdict: firearm.code ? (this.decided.get(firearm.code.text) ?? null) : null,
    };
  }

  async records(query: { serial?: string; code?: string; order?: string }) {
    if (query.serial) return [await this.firearm(query.serial)];
    if (query.order) {
      const view = await this.line.orderView(query.order);
      return Promise.all(view.firearms.map((f) => this.firearm(f.serial)));
    }
    const out = [];
    for (const order of await this.line.listOrders()) {
      for (const f of (await this.line.orderView(order.id)).firearms) {
        if (f.code?.text === query.code || f.voided.some((v) => v.text === query.code))
          out.push(await this.firearm(f.serial));
      }
    }
    return out;
  }

  statistics(by: StatsDimension): StatsRow[] {
    const rows = new Map<string, StatsRow>();
    for (const r of this.reads) {
      const key = by === 'ammo' ? r.ammo.brand : by === 'model' ? `${r.make} ${r.model}` : r.engraverId;
      const row = rows.get(key) ?? {
        key,
        reads: 0,
        charLegibility: 1,
        gearPresent: 0,
        decodeRate: 0,
        grades: { A: 0, B: 0, C: 0, D: 0, F: 0 },
        verdicts: { pass: 0, fail: 0 },
      };
      row.reads++;
      row.grades[r.decode.grade]++;
      rows.set(key, row);
    }
    for (const v of this.decided.values()) {
      const row = [...rows.values()][0];
      if (row && v.status !== 'pending') row.verdicts[v.status]++;
    }
    return [...rows.values()];
  }
}

/** The API over a line, with the test access layer and without process metrics. */
export function appFor(line: Line, extra: Partial<ApiOptions> = {}): FastifyInstance {
  return buildApp({
    line,
    auth: fakeAuth(),
    health: () => ({ ok: true, checks: {} }),
    version: 'test',
    processMetrics: false,
    ...extra,
  });
}
