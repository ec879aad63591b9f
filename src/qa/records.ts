/**
 * The QA side of the Records screen and `GET /api/v1/qa/firearms`: a firearm's reads, from every
 * order that held its serial, and the verdict of its current code. Reads are found through the
 * read log's segments that hold the serial (memory first, then the on-disk index) and read back
 * from those segments only.
 */
import { StamplineError } from '../errors.js';
import type { Firearm } from '../line/model.js';
import type { StoredFirearm } from '../line/repository.js';
import { normaliseCode } from './input.js';
import type { DecisionEntry, QaLogEntry } from './read-log.js';
import type { FirearmRecord, StoredRead, Verdict } from './types.js';

/** Where the records come from: the line's firearms, the read log, and the open verdicts. */
export interface RecordSources {
  line: {
    findFirearms(query: { serial: string } | { code: string }): Promise<StoredFirearm[]>;
    orderView(id: string): Promise<{ order: StoredFirearm['order']; firearms: Firearm[] }>;
  };
  /** the read log's segments holding entries of this serial: those in memory first, then the index */
  segmentsOf(serial: string): Promise<Iterable<number>>;
  /** the entries of these segments that `accept` keeps */
  scan(segments: Iterable<number>, accept: (e: QaLogEntry) => boolean): Promise<QaLogEntry[]>;
  /** the verdict of a code with reads and no decision yet; undefined when it has no reads */
  openVerdict(codeIndex: number): Verdict | undefined;
  /** the verdict the policy gives these reads of a code */
  evaluate(reads: readonly StoredRead[], expected: string): Verdict;
}

export class QaRecords {
  constructor(private readonly s: RecordSources) {}

  /** The firearm that holds this serial now (the latest order), with all its reads and verdict. */
  async firearm(serial: string): Promise<FirearmRecord> {
    const s = typeof serial === 'string' ? serial.trim().toUpperCase() : '';
    const found = s === '' ? undefined : (await this.s.line.findFirearms({ serial: s })).at(-1);
    if (!found) {
      throw new StamplineError(
        'QA_UNKNOWN_FIREARM',
        `no firearm on this line has serial ${s || JSON.stringify(serial)}`,
        { serial },
      );
    }
    return (await this.recordsOf([found]))[0]!;
  }

  /**
   * Firearm records by serial (every order that held it, oldest first), by code (current or
   * voided) or by order (every firearm of it). Exactly one of the three.
   */
  async records(query: { serial?: string; code?: string; order?: string }): Promise<FirearmRecord[]> {
    const given = (['serial', 'code', 'order'] as const).filter((k) => query[k] !== undefined);
    if (given.length !== 1) {
      throw new StamplineError('INVALID_INPUT', 'search by exactly one of serial, code or order', {
        problems: [{ path: given[1] ?? 'serial', reason: 'give exactly one of serial, code or order' }],
      });
    }
    if (query.serial !== undefined) {
      return this.recordsOf(await this.s.line.findFirearms({ serial: query.serial.trim().toUpperCase() }));
    }
    if (query.code !== undefined) {
      const code = normaliseCode(query.code);
      if (!code) {
        throw new StamplineError(
          'INVALID_INPUT',
          `${JSON.stringify(query.code)} is not a code of 10 characters`,
          {
            problems: [
              { path: 'code', reason: 'must be a code of 10 characters, as XXXXX-XXXXX or without the dash' },
            ],
          },
        );
      }
      return this.recordsOf(await this.s.line.findFirearms({ code }));
    }
    let view: Awaited<ReturnType<RecordSources['line']['orderView']>>;
    try {
      view = await this.s.line.orderView(query.order!);
    } catch (err) {
      if (err instanceof StamplineError && err.code === 'ORDER_NOT_FOUND') return [];
      throw err;
    }
    return this.recordsOf(view.firearms.map((firearm) => ({ order: view.order, firearm })));
  }

  private async recordsOf(firearms: StoredFirearm[]): Promise<FirearmRecord[]> {
    if (firearms.length === 0) return [];
    const serials = new Set(firearms.map((f) => f.firearm.serial));
    const wanted = new Set<number>();
    for (const s of serials) for (const n of await this.s.segmentsOf(s)) wanted.add(n);
    const entries = await this.s.scan(wanted, (e) =>
      serials.has(e.type === 'read' ? e.read.serial : e.serial),
    );
    const reads = new Map<string, StoredRead[]>();
    const decisions = new Map<number, DecisionEntry>();
    for (const e of entries) {
      if (e.type === 'decision') {
        decisions.set(e.code.index, e);
        continue;
      }
      const key = `${e.read.orderId}\u0000${e.read.serial}`;
      const list = reads.get(key);
      if (list) list.push(e.read);
      else reads.set(key, [e.read]);
    }
    return firearms.map(({ order, firearm }) => ({
      order,
      firearm,
      reads: reads.get(`${firearm.orderId}\u0000${firearm.serial}`) ?? [],
      verdict: this.currentVerdict(firearm, decisions),
    }));
  }

  private currentVerdict(firearm: Firearm, decisions: Map<number, DecisionEntry>): Verdict | null {
    const code = firearm.code;
    if (firearm.state !== 'engraved' || !code) return null;
    const decided = decisions.get(code.index);
    if (decided) return decided.verdict;
    const open = this.s.openVerdict(code.index);
    if (open) return open;
    if (firearm.qa) {
      return {
        status: firearm.qa.result,
        policy: firearm.qa.policy,
        casings: firearm.qa.casings,
        needed: firearm.qa.casings,
        grade: firearm.qa.grade,
        reason: `${firearm.qa.result === 'pass' ? 'passed' : 'failed'} QA ${firearm.qa.at}`,
      };
    }
    return this.s.evaluate([], code.text);
  }
}
