/**
 * The QA station's service: takes case reads, keeps them for ever, judges each firearm's current
 * code by the configured policy, and has the line apply the decision (a pass is reported, a
 * failure sends the firearm to rework).
 *
 * Reads are taken one at a time, in the order they arrive: each is checked, decoded, made
 * durable in the read log, and only then looked at by the policy. A decision is applied by the
 * line and then written to the log; one cut short by a crash is completed at start-up, because
 * the verdict is a pure function of the reads, which are all in the log.
 *
 * In memory: the reads of codes not yet decided, the statistics, and the log segments holding
 * each serial's reads since the last checkpoint. When the log moves to a new segment, all of that
 * up to the closed segment is written to a checkpoint (and the serials' segments to an on-disk
 * index), so start-up reads the checkpoint and the segments after it, not the whole log.
 */
import { EventEmitter } from 'node:events';
import { StamplineError } from '../errors.js';
import type { Line, QaDecision } from '../line/line.js';
import type { Firearm } from '../line/model.js';
import type { FirearmRef } from '../line/repository.js';
import { SerialQueue } from '../serial-queue.js';
import { type AuditSink, type Logger, silentLogger } from '../shared.js';
import type { AppendLogRepair } from '../store/append-log.js';

import { checkRound, dashed, locateFirearm, notEngraved } from './admission.js';
import type { DayRange, Per } from './calendar.js';
import { CHECKPOINT_VERSION, readCheckpoint, serialiseCheckpoint, writeCheckpoint } from './checkpoint.js';
import { compareRead } from './compare.js';
import { decodeCase } from './decode.js';
import { type CheckedRead, checkRead, provenanceOf } from './input.js';
import { evaluate, type QaPolicy } from './policy.js';
import { type DecisionEntry, type QaLogEntry, ReadLog } from './read-log.js';
import { QaRecords } from './records.js';
import { DEFAULT_REGISTRY, type RegistrySize } from './registry-check.js';
import { SegmentsBySerial } from './serial-segments.js';
import { ReadStatistics } from './stats.js';
import { type TrendRow, trend } from './trend.js';
import type {
  CaseReadInput,
  FirearmRecord,
  QaDecisionEvent,
  StatsDimension,
  StatsRow,
  StoredRead,
  SubmitResult,
  Verdict,
} from './types.js';

/** What the service needs of the line. */
export type QaLine = Pick<Line, 'findFirearms' | 'firearm' | 'applyVerdict' | 'orderView' | 'listOrders'>;

export interface QaServiceOptions {
  line: QaLine;
  policy: QaPolicy;
  /** the issuer key, to decode reads */
  key: Buffer;
  dataDir: string;
  /** the engraver the line marks pins with, for the statistics */
  engraverId: string;
  audit?: AuditSink;
  logger?: Logger;
  /** segment size of the read log (tests use small ones) */
  maxSegmentBytes?: number;
  /** the registry `ca-4075` judges a case against (`qa.registry`); default 10,000,000 codes */
  registry?: RegistrySize;
  /** told when start() cut off a torn last entry of the read log (the daemon raises an alarm) */
  onRepair?: (note: AppendLogRepair) => void;
}

interface OpenCode {
  ref: FirearmRef;
  serial: string;
  code: { index: number; text: string };
  reads: StoredRead[];
}

/** How the last start() rebuilt its state. */
export interface QaStartInfo {
  /** the segment the checkpoint covered, or null when the whole log was replayed */
  checkpoint: number | null;
  /** why the checkpoint was not used, when it was not */
  fallback?: string;
  /** log entries read after the checkpoint (all of them without one) */
  replayedEntries: number;
}

export interface QaServiceEvents {
  /** every accepted read, with the verdict and what it did (a decision it took included) */
  read: [SubmitResult & { serial: string }];
  /** a decision applied without a read of its own (see QaDecisionEvent) */
  decision: [QaDecisionEvent];
}

/**
 * The `decision` side of the QA service, for code that knows the service through a narrower
 * view (the API's): its events, and the decisions completed at start-up, before anyone could
 * listen.
 */
export interface QaDecisions {
  on(event: 'decision', listener: (e: QaDecisionEvent) => void): unknown;
  off(event: 'decision', listener: (e: QaDecisionEvent) => void): unknown;
  decidedAtStart(): readonly QaDecisionEvent[];
}

export class QaService extends EventEmitter<QaServiceEvents> implements QaDecisions {
  readonly policy: QaPolicy;
  /** the registry the policy judges cases against, when it does (`ca-4075`) */
  readonly registry: RegistrySize;
  private readonly log: ReadLog;
  private readonly logger: Logger;
  /** reads of codes without a decision, by code index (unique for the issuer) */
  private readonly open = new Map<number, OpenCode>();
  /** the log segments holding entries of each serial */
  private readonly segments: SegmentsBySerial;
  private readonly views: QaRecords;
  /** the segment up to which the last checkpoint taken folds the log in */
  private covered = 0;
  /** the segment of the last entry folded in */
  private tailSegment = 0;
  /** an append failed: the log may hold an entry the memory lacks, so no checkpoint until restart */
  private checkpointsOff = false;
  /** checkpoints being written, one at a time */
  private readonly checkpointing = new SerialQueue();
  private startInfo: QaStartInfo = { checkpoint: null, replayedEntries: 0 };
  private stats = new ReadStatistics();
  private lastReadId = 0;
  /** reads being taken, one at a time */
  private readonly queue = new SerialQueue();
  private started = false;
  private completedAtStart: QaDecisionEvent[] = [];

  constructor(private readonly o: QaServiceOptions) {
    super();
    this.policy = o.policy;
    this.registry = o.registry ?? DEFAULT_REGISTRY;
    this.logger = o.logger ?? silentLogger;
    this.log = new ReadLog({
      dataDir: o.dataDir,
      ...(o.maxSegmentBytes !== undefined ? { maxSegmentBytes: o.maxSegmentBytes } : {}),
      onRepair: (note) => {
        this.logger.warn({ note }, 'QA read log: cut off a torn last entry');
        o.onRepair?.(note);
      },
    });
    this.segments = new SegmentsBySerial(o.dataDir);
    this.views = new QaRecords({
      line: o.line,
      segmentsOf: (serial) => this.segments.of(serial),
      scan: (segments, accept) => this.log.scan(segments, accept),
      openVerdict: (index) => {
        const open = this.open.get(index);
        return open ? this.verdictOf(open) : undefined;
      },
      evaluate: (reads, expected) => this.evaluate(reads, expected),
    });
  }

  /** Opens the read log, rebuilds the indexes and statistics, and completes decisions cut short. */
  async start(): Promise<void> {
    if (this.started) return;
    await this.log.start();
    this.open.clear();
    this.segments.reset();
    this.stats = new ReadStatistics();
    this.lastReadId = 0;
    this.covered = 0;
    this.tailSegment = 0;
    this.checkpointsOff = false;
    this.completedAtStart = [];
    const current = this.log.currentSegment;
    const loaded = await readCheckpoint(this.o.dataDir);
    let fallback: string | undefined;
    if ('checkpoint' in loaded) {
      const c = loaded.checkpoint;
      if (c.segment >= current) {
        fallback = `it covers segment ${c.segment} but the log ends at segment ${current}`;
      } else {
        this.stats = ReadStatistics.fromSnapshot(c.stats);
        for (const o of c.open) this.open.set(o.code.index, { ...o, reads: [...o.reads] });
        this.lastReadId = c.lastReadId;
        this.covered = c.segment;
        this.tailSegment = c.segment;
      }
    } else if ('unusable' in loaded) {
      fallback = loaded.unusable;
    } else if (current > 1) {
      fallback = 'there is none';
    }
    if (fallback !== undefined) {
      this.logger.warn({ reason: fallback }, 'QA checkpoint not used: replaying the whole read log');
    }
    let replayed = 0;
    for await (const batch of this.log.replay(this.covered + 1)) {
      for (const { segment, entry } of batch) {
        // One checkpoint at most while replaying: just before the segment being written.
        if (segment !== this.tailSegment && segment === current) this.enterSegment(segment);
        this.tailSegment = segment;
        this.take(entry, segment);
      }
      replayed += batch.length;
    }
    if (this.tailSegment < current && current - 1 > this.covered) this.checkpoint(current - 1);
    this.startInfo = {
      checkpoint:
        fallback === undefined && this.covered > 0 && 'checkpoint' in loaded
          ? loaded.checkpoint.segment
          : null,
      ...(fallback !== undefined ? { fallback } : {}),
      replayedEntries: replayed,
    };
    this.started = true;
    for (const open of [...this.open.values()]) {
      const verdict = this.verdictOf(open);
      if (verdict.status === 'pending') continue;
      try {
        await this.decide(open, verdict, 'start');
        this.logger.info({ serial: open.serial, code: open.code.text }, 'completed a QA decision cut short');
      } catch (err) {
        this.logger.error(
          { err, serial: open.serial, code: open.code.text },
          'cannot complete a QA decision',
        );
      }
    }
  }

  /** Lets the read in progress end, then closes the log. Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.queue.settled();
    await this.checkpointing.settled();
    await this.log.stop();
  }

  /** How the last start() rebuilt its state: from which checkpoint, and how much log it read. */
  lastStart(): QaStartInfo {
    return { ...this.startInfo };
  }

  /** The decisions cut short by a stop that `start()` completed (announced before anyone listened). */
  decidedAtStart(): readonly QaDecisionEvent[] {
    return this.completedAtStart;
  }

  // ---- Reads --------------------------------------------------------------------------------

  /**
   * Takes one case read entered by `actor`. Refuses, storing nothing: bad input
   * (QA_INVALID_READ, naming the field), an unknown firearm (QA_UNKNOWN_FIREARM), one with no
   * engraved pin (QA_NOT_ENGRAVED), a code already decided or voided (QA_ALREADY_DECIDED), and
   * a round already read under `ca-4075` (QA_DUPLICATE_ROUND).
   */
  submit(input: CaseReadInput, actor: string): Promise<SubmitResult> {
    let read: CheckedRead;
    try {
      if (typeof actor !== 'string' || actor.trim() === '')
        throw new StamplineError('INVALID_INPUT', 'a read needs the actor who entered it');
      read = checkRead(input);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.queue.run(() => this.submitNow(read, actor));
  }

  private async submitNow(input: CheckedRead, actor: string): Promise<SubmitResult> {
    if (!this.started) throw new StamplineError('LINE_NOT_READY', 'the QA service is not started');
    const { order, firearm } = await locateFirearm(this.o.line, input);
    await this.completeDecision(firearm);
    const code = firearm.code;
    if (firearm.state !== 'engraved' || !code) throw notEngraved(firearm);
    if (firearm.qa) {
      throw new StamplineError(
        'QA_ALREADY_DECIDED',
        `code ${dashed(code.text)} of firearm ${firearm.serial} already ${firearm.qa.result === 'pass' ? 'passed' : 'failed'} QA (${firearm.qa.policy}, grade ${firearm.qa.grade}, ${firearm.qa.at} by ${firearm.qa.by}); no more reads are taken for it`,
        { serial: firearm.serial, code: code.text, qa: firearm.qa },
      );
    }
    const ref: FirearmRef = { orderId: firearm.orderId, seq: firearm.seq };
    let open = this.open.get(code.index);
    if (open && (open.ref.orderId !== ref.orderId || open.ref.seq !== ref.seq)) {
      throw new StamplineError('INTERNAL', `reads of code ${code.text} name two firearms`, {
        code: code.text,
        firearms: [open.ref, ref],
      });
    }
    checkRound(this.policy, input, open?.reads ?? [], firearm.serial);

    const provenance = provenanceOf(input);
    const decode = decodeCase({ ...input, ...provenance }, code.text, this.o.key);
    const recipe = firearm.recipe;
    const stored: StoredRead = {
      id: this.lastReadId + 1,
      at: new Date().toISOString(),
      by: actor,
      serial: firearm.serial,
      orderId: firearm.orderId,
      code: { index: code.index, text: code.text },
      ...(input.text !== undefined ? { text: input.text } : {}),
      ...(input.gear !== undefined ? { gear: input.gear } : {}),
      ammo: { brand: input.ammo.brand, lacquered: input.ammo.lacquered },
      ...(input.round !== undefined ? { round: input.round } : {}),
      ...(input.station !== undefined ? { station: input.station } : {}),
      ...provenance,
      make: order.make,
      model: order.model,
      engraverId: this.o.engraverId,
      recipe: recipe ? `${recipe.power}/${recipe.frequency}/${recipe.speed}/${recipe.passes}` : 'unknown',
      decode,
    };
    if (input.askBeforeVoid) this.askBeforeVoid(input, stored, open, code);
    const segment = await this.append({ type: 'read', seq: firearm.seq, read: stored });
    this.takeRead(stored, ref, segment);
    open ??= this.open.get(code.index)!;
    await this.o.audit?.record({
      actor,
      action: 'qa.read',
      subject: `firearm:${firearm.serial}`,
      after: {
        read: stored.id,
        code: code.text,
        ...(stored.round !== undefined ? { round: stored.round } : {}),
        grade: decode.grade,
        matches: decode.matches,
        ammo: stored.ammo,
        source: stored.source,
        ...(stored.corrected ? { corrected: stored.corrected } : {}),
      },
    });

    const verdict = this.verdictOf(open);
    let outcome: SubmitResult['outcome'] = 'pending';
    if (verdict.status !== 'pending') {
      try {
        outcome = (await this.decide(open, verdict)).outcome;
      } catch (err) {
        if (err instanceof StamplineError) {
          throw new StamplineError(
            err.code,
            `read ${stored.id} is stored and the code ${verdict.status === 'pass' ? 'passed' : 'failed'} QA, but the line could not apply it yet (${err.message}); it is applied at the next read of this firearm or at the next start`,
            { ...err.context, read: stored.id, verdict },
            { cause: err },
          );
        }
        throw err;
      }
    }
    const result: SubmitResult = { read: stored, verdict, outcome };
    this.emit('read', { ...result, serial: firearm.serial });
    return result;
  }

  /**
   * A code of this firearm decided by reads already stored, whose decision the line has not been
   * seen to apply (it refused or failed, perhaps part-way: the firearm may already carry the
   * pass, or be back in the queue after the void): it is applied now, rather than a read taken
   * that the decision no longer needs, and the read is refused as for any decided code.
   */
  private async completeDecision(firearm: Firearm): Promise<void> {
    const indexes = [firearm.code?.index, firearm.voided.at(-1)?.index];
    for (const index of indexes) {
      const open = index === undefined ? undefined : this.open.get(index);
      if (!open || open.ref.orderId !== firearm.orderId || open.ref.seq !== firearm.seq) continue;
      const verdict = this.verdictOf(open);
      if (verdict.status === 'pending') continue;
      await this.decide(open, verdict, 'retry');
      throw new StamplineError(
        'QA_ALREADY_DECIDED',
        `code ${dashed(open.code.text)} of firearm ${firearm.serial} already ${verdict.status === 'pass' ? 'passed' : 'failed'} QA: ${verdict.reason}`,
        { serial: firearm.serial, code: open.code.text, verdict },
      );
    }
  }

  /** The firearm a read names, by serial or by code; both must agree when both are given. */
  private verdictOf(open: OpenCode): Verdict {
    return this.evaluate(open.reads, open.code.text);
  }

  private evaluate(reads: readonly StoredRead[], expected: string): Verdict {
    return evaluate(this.policy, reads, { expected, key: this.o.key, registry: this.registry });
  }

  /**
   * Refuses a read that would fail the firearm, storing nothing, with what the person needs to
   * decide: the verdict it would give, how the read compares with the code (without the code),
   * and whether the policy lets another case of the test fire be read in its place.
   */
  private askBeforeVoid(
    input: CheckedRead,
    read: StoredRead,
    open: OpenCode | undefined,
    code: { text: string; gear: string },
  ): void {
    const judged = this.evaluate([...(open?.reads ?? []), read], code.text);
    if (judged.status !== 'fail') return;
    // ca-4075 examines given rounds: the case of a round is the only one there is
    const anotherCase = this.policy.kind !== 'ca-4075';
    // the person may look at the case again: the answer must not tell them the code
    const verdict = { ...judged, reason: judged.reason.replaceAll(code.text, "the firearm's code") };
    const { text: decodedText, ...decode } = read.decode;
    throw new StamplineError(
      'QA_VOID_UNCONFIRMED',
      `this read would fail firearm ${read.serial} and void its code: ${verdict.reason}. Nothing is stored: look at the case again${anotherCase ? ', read another case of the test fire,' : ''} or send the read again to confirm`,
      {
        serial: read.serial,
        verdict,
        decode: decodedText === code.text ? decode : read.decode,
        compared: compareRead(input, code),
        anotherCase,
      },
    );
  }

  /**
   * Has the line apply a decided verdict, then logs the decision. Applied again (`retry`,
   * `start`: the log has no decision entry, so a crash may have cut the first application short),
   * the line also writes the audit entries that are missing, and the decision is announced by a
   * `decision` event, there being no read event to carry it.
   */
  private async decide(open: OpenCode, verdict: Verdict, again?: 'retry' | 'start') {
    const last = open.reads.at(-1)!;
    const result = verdict.status === 'pass' ? 'pass' : 'fail';
    const decision: QaDecision = {
      result,
      policy: verdict.policy,
      grade: verdict.grade,
      casings: verdict.casings,
      reason: verdict.reason,
      at: last.at,
      by: last.by,
      reads: open.reads.map((r) => r.id),
    };
    const applied = await this.o.line.applyVerdict(open.ref, open.code, decision, {
      replay: again !== undefined,
    });
    const entry: DecisionEntry = {
      type: 'decision',
      at: decision.at,
      by: decision.by,
      serial: open.serial,
      orderId: open.ref.orderId,
      seq: open.ref.seq,
      code: open.code,
      verdict,
      readIds: open.reads.map((r) => r.id),
    };
    const segment = await this.append(entry);
    this.take(entry, segment);
    if (again) {
      const event: QaDecisionEvent = {
        serial: open.serial,
        orderId: open.ref.orderId,
        code: open.code,
        verdict,
        outcome: applied.outcome,
        when: again,
      };
      if (again === 'start') this.completedAtStart.push(event);
      this.emit('decision', event);
    }
    return applied;
  }

  /** Appends an entry and, when it opened a new segment, checkpoints what came before it. */
  private async append(entry: QaLogEntry): Promise<number> {
    let segment: number;
    try {
      segment = await this.log.append(entry);
    } catch (err) {
      this.checkpointsOff = true;
      throw err;
    }
    this.enterSegment(segment);
    return segment;
  }

  /** Called before the first entry of a segment is folded in: the state then covers exactly the segments before it. */
  private enterSegment(segment: number): void {
    if (segment > this.tailSegment && segment - 1 > this.covered) this.checkpoint(segment - 1);
    this.tailSegment = Math.max(this.tailSegment, segment);
  }

  /**
   * Takes a checkpoint of the state now, said to cover the log up to `segment`, and writes it in
   * the background: first the serials' segments since the last one to the on-disk index, then
   * the checkpoint. Until the index is durable its lines stay in memory for lookups; a failure
   * leaves them there for the next checkpoint and keeps the previous checkpoint.
   */
  private checkpoint(segment: number): void {
    if (this.checkpointsOff) return;
    const text = serialiseCheckpoint({
      version: CHECKPOINT_VERSION,
      segment,
      lastReadId: this.lastReadId,
      stats: this.stats.snapshot(),
      open: [...this.open.values()].map((o) => ({
        ref: o.ref,
        serial: o.serial,
        code: o.code,
        reads: o.reads,
      })),
    });
    const writeIndex = this.segments.detach();
    this.covered = segment;
    void this.checkpointing.run(async () => {
      try {
        await writeIndex();
      } catch (err) {
        this.logger.warn({ err, segment }, 'cannot write the QA serial index; no checkpoint written');
        return;
      }
      try {
        await writeCheckpoint(this.o.dataDir, text);
      } catch (err) {
        this.logger.warn({ err, segment }, 'cannot write the QA checkpoint; the previous one stays');
      }
    });
  }

  /** Folds one log entry into the indexes and statistics. */
  private take(entry: QaLogEntry, segment: number): void {
    if (entry.type === 'read') {
      this.takeRead(entry.read, { orderId: entry.read.orderId, seq: entry.seq }, segment);
      return;
    }
    const open = this.open.get(entry.code.index);
    const reads = open ? open.reads.filter((r) => entry.readIds.includes(r.id)) : [];
    this.stats.addVerdict(entry.verdict.status === 'pass' ? 'pass' : 'fail', reads, entry.at);
    this.open.delete(entry.code.index);
    // The log may have moved to a new segment since the deciding read.
    this.segments.note(entry.serial, segment);
  }

  private takeRead(read: StoredRead, ref: FirearmRef, segment: number): void {
    this.lastReadId = Math.max(this.lastReadId, read.id);
    let open = this.open.get(read.code.index);
    if (!open) {
      open = { ref, serial: read.serial, code: read.code, reads: [] };
      this.open.set(read.code.index, open);
    }
    open.reads.push(read);
    this.segments.note(read.serial, segment);
    this.stats.addRead(read);
  }

  // ---- Views --------------------------------------------------------------------------------

  /** The firearm that holds this serial now (the latest order), with all its reads and verdict. */
  firearm(serial: string): Promise<FirearmRecord> {
    return this.views.firearm(serial);
  }

  /** Firearm records by serial, by code or by order (`QaRecords.records`). */
  records(query: { serial?: string; code?: string; order?: string }): Promise<FirearmRecord[]> {
    return this.views.records(query);
  }

  /** Statistics of the reads taken on the days of `range` (all of them without one), grouped by one dimension. */
  statistics(by: StatsDimension, range?: DayRange): StatsRow[] {
    return this.stats.rows(by, range);
  }

  /** Engraved, read, passed, failed and scrapped per day or shift of a range of days. */
  trend(range: { from: string; to: string; per: Per }): Promise<TrendRow[]> {
    return trend(this.o.line, this.stats, range);
  }
}
