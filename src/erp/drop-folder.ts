/**
 * The CSV drop folder (spec: erp-and-qa.md, Orders). It polls the folder, which works the same on
 * local disks and network shares, where change notifications are unreliable.
 *
 * A file is taken when its name ends in `.csv` (any case) and does not start with `.` or `~`, and
 * when its size, modification time and inode have not changed for `settleMs`, and it can be opened
 * and read whole with no change during the read. A valid file whose orders the line accepts moves
 * to `processed/`; any other moves to `rejected/` with `<name>.report.txt` and `.report.json`
 * beside it. All or nothing: `accept` gets every order of a file or none.
 *
 * With `completion: 'done-file'` a file is looked at only once the ERP has put `<name>.done`
 * beside it, and the marker is removed once the file has moved; a writer's pause cannot then cut
 * an order. Without it, a file that changed after it was read is logged as an error.
 *
 * Files are never overwritten: a name already used in processed/ or rejected/ becomes
 * `name-2.csv`, `name-3.csv`. A crash between the line accepting a file and its move is covered
 * by the intake journal (see intake-journal.ts). File system errors are logged and retried with
 * backoff; nothing here throws out of the polling loop.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isStamplineError } from '../errors.js';
import { CsvRowIndex, parseOrdersCsv } from './csv.js';
import { IntakeJournal } from './intake-journal.js';
import { freeName, fsyncDir, moveNoClobber, writeNoClobber } from './no-clobber.js';
import type { Order } from './order.js';
import { PollLoop } from './poll-loop.js';
import { DEFAULT_MAX_PROBLEMS, omittedReason, ProblemCollector } from './problems.js';
import { type RejectionKind, type RejectionReport, type ReportProblem, renderReportText } from './report.js';
import { type DropCompletion, errno, type Seen, SettledFiles } from './settled-files.js';

export { DONE_SUFFIX, type DropCompletion } from './settled-files.js';

export interface IntakeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * A problem with an otherwise valid file, as the line reports it. Give the `serial` or the
 * `orderId` and the report names the row (a serial's own row, an order's first row); `row` may
 * also be given directly.
 */
export interface IntakeProblem {
  row?: number;
  path?: string;
  orderId?: string;
  serial?: string;
  reason: string;
}

export type AcceptResult = { ok: true } | { ok: false; problems: IntakeProblem[] };

export interface IntakeContext {
  /** SHA-256 of the file's bytes. */
  sha256: string;
  /**
   * True when an earlier attempt to take this same file was cut short (a crash, a thrown error)
   * and may already have stored its orders. The line must then answer ok for orders it already
   * holds identically (`sameOrder`), so a restart never turns an accepted file into a rejected one.
   */
  replay: boolean;
}

/** Stores the orders of one file, all or none; refuses with reasons (duplicate order id or serial). */
export type AcceptOrders = (orders: Order[], file: string, intake: IntakeContext) => Promise<AcceptResult>;

export interface DropFolderOptions {
  dir: string;
  /** How often the folder is listed. Default 1000 ms. */
  pollMs?: number;
  /** How long a file must stay unchanged before it is read. Default 2000 ms. */
  settleMs?: number;
  /** Larger files are rejected unread. Default 64 MiB (a 100,000-firearm order is about 7 MB). */
  maxFileBytes?: number;
  /**
   * How the folder knows a file is complete. `settle` (the default): its size, time and inode
   * have not changed for `settleMs`; right for a writer that renames a finished file into the
   * folder, and a guess for one that writes in place. `done-file`: only once a marker
   * `<name>.done` (any content) stands beside it, written by the ERP after closing the CSV file;
   * no pause of the writer, however long, can then cut an order.
   */
  completion?: DropCompletion;
  accept: AcceptOrders;
  logger: IntakeLogger;
}

export interface ProcessedEvent {
  file: string;
  movedTo: string;
  sha256: string;
  orderIds: string[];
  firearms: number;
}

export interface RejectedEvent {
  file: string;
  movedTo: string;
  report: string;
  kind: RejectionKind;
  problems: ReportProblem[];
  total: number;
}

type Events = { processed: [ProcessedEvent]; rejected: [RejectedEvent] };

export const PROCESSED_DIR = 'processed';
export const REJECTED_DIR = 'rejected';
const REPORT_SUFFIXES = ['.report.txt', '.report.json'] as const;

export function isDropCandidate(name: string): boolean {
  return !name.startsWith('.') && !name.startsWith('~') && name.toLowerCase().endsWith('.csv');
}

export class DropFolder extends EventEmitter<Events> {
  readonly dir: string;
  readonly processedDir: string;
  readonly rejectedDir: string;
  readonly #pollMs: number;
  readonly #settleMs: number;
  readonly #maxFileBytes: number;
  readonly #completion: DropCompletion;
  readonly #accept: AcceptOrders;
  readonly #log: IntakeLogger;
  readonly #journal: IntakeJournal;
  readonly #files: SettledFiles;
  readonly #loop: PollLoop;
  #prepared = false;

  constructor(opts: DropFolderOptions) {
    super();
    this.dir = opts.dir;
    this.processedDir = join(opts.dir, PROCESSED_DIR);
    this.rejectedDir = join(opts.dir, REJECTED_DIR);
    this.#pollMs = opts.pollMs ?? 1000;
    this.#settleMs = opts.settleMs ?? 2000;
    this.#maxFileBytes = opts.maxFileBytes ?? 64 * 1024 * 1024;
    this.#completion = opts.completion ?? 'settle';
    this.#accept = opts.accept;
    this.#log = opts.logger;
    this.#journal = new IntakeJournal(opts.dir);
    this.#files = new SettledFiles({
      dir: opts.dir,
      pollMs: this.#pollMs,
      settleMs: this.#settleMs,
      completion: this.#completion,
      isCandidate: isDropCandidate,
      logger: opts.logger,
      label: 'drop folder',
    });
    this.#loop = new PollLoop({
      dir: opts.dir,
      pollMs: this.#pollMs,
      label: 'drop folder',
      logger: opts.logger,
      scan: () => this.#scan(),
    });
  }

  /** Starts watching. A folder that cannot be created is logged and retried, never thrown. */
  start(): Promise<void> {
    return this.#loop.start(async () => {
      await this.#prepare();
      this.#log.info(
        { dir: this.dir, pollMs: this.#pollMs, settleMs: this.#settleMs, completion: this.#completion },
        'drop folder: watching for order files',
      );
    });
  }

  /** Stops watching; waits for a file being taken to finish. Safe to call twice. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Lists the folder once and takes every file that has settled. Used by the poll loop and by tests. */
  scanNow(): Promise<void> {
    return this.#loop.scanNow();
  }

  async #prepare(): Promise<void> {
    try {
      for (const d of [this.dir, this.processedDir, this.rejectedDir, this.#journal.dir]) {
        await mkdir(d, { recursive: true });
      }
      const listed = await readdir(this.dir);
      const waiting = new Set(listed.filter(isDropCandidate));
      await this.#files.pruneMarkers(listed);
      const pruned = await this.#journal.prune(waiting);
      if (pruned > 0)
        this.#log.debug({ dir: this.dir, pruned }, 'drop folder: removed markers of files already moved');
      this.#prepared = true;
      this.#loop.folderAvailable();
    } catch (err) {
      this.#prepared = false;
      this.#loop.folderProblem(err, 'cannot create or read the folder; will retry');
    }
  }

  async #scan(): Promise<void> {
    if (!this.#prepared) await this.#prepare();
    if (!this.#prepared) return;
    let listed: string[];
    try {
      listed = await readdir(this.dir);
    } catch (err) {
      // The folder vanished or the share dropped: create it again on the next poll.
      this.#prepared = false;
      this.#loop.folderProblem(err, 'cannot list the folder; will retry');
      return;
    }
    const ready = await this.#files.ready(listed);
    for (const [name, s] of ready) {
      // Stopping finishes the file in hand, not every file waiting.
      if (this.#loop.stopping) break;
      await this.#take(name, s);
    }
  }

  async #take(name: string, settled: Seen): Promise<void> {
    const path = join(this.dir, name);
    const got = await this.#files.read(name, settled, this.#maxFileBytes);
    if (!got) return;
    const { bytes, size } = got;

    try {
      if (bytes === undefined) {
        await this.#reject(name, undefined, 'too-large', [
          {
            row: 0,
            reason: `the file is ${size} bytes; the folder takes files of at most ${this.#maxFileBytes} bytes`,
          },
        ]);
        return;
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const marker = await this.#journal.get(name, sha256);
      const parsed = parseOrdersCsv(bytes);
      if (marker?.state === 'accepted' && parsed.ok) {
        this.#log.info({ file: name }, 'drop folder: finishing a file accepted before a restart');
        await this.#processed(
          name,
          sha256,
          parsed.orders.map((o) => o.id),
          parsed.orders.reduce((n, o) => n + o.firearms.length, 0),
        );
        return;
      }
      if (!parsed.ok) {
        await this.#reject(name, sha256, 'invalid', parsed.problems, parsed.total);
        return;
      }
      await this.#journal.put({ file: name, sha256, state: 'accepting', at: new Date().toISOString() });
      let result: AcceptResult;
      try {
        result = await this.#accept(parsed.orders, name, { sha256, replay: marker !== undefined });
      } catch (err) {
        if (isStamplineError(err) && !err.transient && err.status < 500) {
          result = { ok: false, problems: [{ reason: err.message }] };
        } else {
          // Whether the line stored anything is unknown; the next attempt is a replay.
          this.#files.defer(name, err, 'the line could not take the file');
          return;
        }
      }
      const firearms = parsed.orders.reduce((n, o) => n + o.firearms.length, 0);
      if (result.ok) {
        await this.#grewAfterRead(
          name,
          settled,
          parsed.orders.map((o) => o.id),
        );
        await this.#journal.put({ file: name, sha256, state: 'accepted', at: new Date().toISOString() });
        await this.#processed(
          name,
          sha256,
          parsed.orders.map((o) => o.id),
          firearms,
        );
        return;
      }
      const index = new CsvRowIndex(parsed.orders, parsed.rows);
      const problems = new ProblemCollector<ReportProblem>(DEFAULT_MAX_PROBLEMS);
      for (const p of Array.isArray(result.problems) ? result.problems : []) {
        const row = p.row ?? index.row(p.orderId, p.serial) ?? 0;
        const out: ReportProblem = { row, reason: p.reason };
        if (p.path !== undefined) out.field = p.path;
        if (p.orderId !== undefined) out.orderId = p.orderId;
        if (p.serial !== undefined) out.serial = p.serial;
        problems.add(out);
      }
      const listed = problems.finish((omitted, n) => ({ row: 0, reason: omittedReason(omitted, n) }));
      await this.#reject(name, sha256, 'refused', listed, problems.total);
    } catch (err) {
      if (errno(err) === 'ENOENT' && !(await stat(path).catch(() => undefined))) {
        this.#log.warn({ file: name }, 'drop folder: the file disappeared while being taken');
        this.#files.forget(name);
        return;
      }
      this.#files.defer(name, err, 'cannot finish taking the file');
    }
  }

  /**
   * A writer that went on writing after the file was read (it paused longer than `settleMs`)
   * has had its first rows taken as the whole file. Nothing can be taken back by then; the
   * operator and the integrator must hear of it at once.
   */
  async #grewAfterRead(name: string, read: Seen, orderIds: string[]): Promise<void> {
    const now = await this.#files.changedSince(name, read);
    if (!now) return;
    this.#log.error(
      { file: name, readBytes: read.size, nowBytes: now.size, orderIds },
      'drop folder: the file changed after it was read: its writer paused longer than settleMs, and the orders were taken from what was there; check them against the ERP, and write files under a temporary name then rename them, or set completion: done-file',
    );
  }

  async #processed(name: string, sha256: string, orderIds: string[], firearms: number): Promise<void> {
    let movedTo = '';
    for (;;) {
      const candidate = await freeName(this.processedDir, name);
      if (await moveNoClobber(join(this.dir, name), join(this.processedDir, candidate))) {
        movedTo = join(this.processedDir, candidate);
        break;
      }
    }
    await fsyncDir(this.processedDir);
    await this.#files.removeMarker(name);
    await fsyncDir(this.dir);
    await this.#journal.remove(name, sha256);
    this.#files.forget(name);
    this.#log.info({ file: name, movedTo, orderIds, firearms }, 'drop folder: file accepted');
    this.emit('processed', { file: name, movedTo, sha256, orderIds, firearms });
  }

  async #reject(
    name: string,
    sha256: string | undefined,
    kind: RejectionKind,
    problems: ReportProblem[],
    total?: number,
  ): Promise<void> {
    // Reports first: a crash before the move leaves the file to be rejected again, never a file without its report.
    for (;;) {
      const candidate = await freeName(this.rejectedDir, name, REPORT_SUFFIXES);
      const movedTo = join(this.rejectedDir, candidate);
      const report: RejectionReport = {
        schema: 'stampline.intake-rejection/v1',
        file: name,
        movedTo,
        rejectedAt: new Date().toISOString(),
        kind,
        total: total ?? problems.length,
        problems,
      };
      if (sha256) report.sha256 = sha256;
      const txt = `${movedTo}.report.txt`;
      if (!(await writeNoClobber(txt, renderReportText(report)))) continue;
      if (!(await writeNoClobber(`${movedTo}.report.json`, `${JSON.stringify(report, null, 2)}\n`))) continue;
      if (!(await moveNoClobber(join(this.dir, name), movedTo))) continue;
      await fsyncDir(this.rejectedDir);
      await this.#files.removeMarker(name);
      await fsyncDir(this.dir);
      // The line refused it: nothing was stored, so no replay is owed.
      if (kind === 'refused' && sha256) await this.#journal.remove(name, sha256);
      this.#files.forget(name);
      this.#log.warn(
        { file: name, movedTo, kind, problems: report.total, first: problems[0]?.reason },
        'drop folder: file rejected',
      );
      this.emit('rejected', { file: name, movedTo, report: txt, kind, problems, total: report.total });
      return;
    }
  }
}
