/**
 * The QA station's image folder (docs/reading.md, "A watched folder of images"): the folder a
 * microscope's software saves case images to. Each image, once complete, is read by the image
 * reader and recorded as a read from an image, as `POST /api/v1/qa/images` would; it then moves
 * to `processed/`. An image that cannot be taken (no firearm named, unreadable, no stamp, too
 * large, a read the QA service refuses) moves to `failed/` with `<name>.error.txt` saying why,
 * and the log says it too; nothing is stored for it.
 *
 * When an image is complete is decided as for the ERP's drop folder (src/erp/settled-files.ts):
 * unchanged for `settleMs`, or with `completion: 'done-file'` once `<name>.done` stands beside it.
 *
 * Which firearm: a sidecar `<name>.json` beside the image (`{serial|code, brand, lacquered,
 * round, station}`, each optional), written before the image is complete; else the image's
 * name: its first `_`-separated part is the serial (or the code, with `nameIs: 'code'`), and a
 * part `r<N>` is the round (`SN-1234_r2_0001.png`). Ammunition and station not given by a
 * sidecar are the folder's.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { MAX_FILE_BYTES } from '../codes/image/load.js';
import { readImageFile } from '../codes/image/read-image.js';
import type { IntakeLogger } from '../erp/drop-folder.js';
import { freeName, fsyncDir, moveNoClobber, writeNoClobber } from '../erp/no-clobber.js';
import { PollLoop } from '../erp/poll-loop.js';
import { type DropCompletion, errno, message, type Seen, SettledFiles } from '../erp/settled-files.js';
import { StamplineError } from '../errors.js';
import type { Ammunition, CaseReadInput, FirearmRecord, SubmitResult } from './types.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.tif', '.tiff'];
export const SIDECAR_SUFFIX = '.json';
export const ERROR_SUFFIX = '.error.txt';
export const PROCESSED_DIR = 'processed';
export const FAILED_DIR = 'failed';
/** the audit actor of the reads the folder records */
export const IMAGE_FOLDER_ACTOR = 'image-folder';

export function isImageCandidate(name: string): boolean {
  return (
    !name.startsWith('.') && !name.startsWith('~') && IMAGE_EXTENSIONS.includes(extname(name).toLowerCase())
  );
}

export interface ImageFolderOptions {
  dir: string;
  /** how often the folder is listed; default 1000 ms */
  pollMs?: number;
  /** how long an image must stay unchanged before it is read; default 2000 ms */
  settleMs?: number;
  completion?: DropCompletion;
  /** what the first part of an image's name is; default `serial` */
  nameIs?: 'serial' | 'code';
  /** the bench's ammunition, for images whose sidecar does not say */
  ammo: Ammunition;
  /** the station recorded with each read unless a sidecar says; default `image folder` */
  station?: string;
  qa: {
    submit(input: CaseReadInput, actor: string): Promise<SubmitResult>;
    records(query: { serial?: string; code?: string }): Promise<FirearmRecord[]>;
  };
  logger: IntakeLogger;
}

export interface ImageTakenEvent {
  file: string;
  movedTo: string;
  serial: string;
  readId: number;
}

export interface ImageFailedEvent {
  file: string;
  movedTo: string;
  /** the error code: IMAGE_NO_STAMP, QA_UNKNOWN_FIREARM, ... */
  code: string;
  reason: string;
}

type Events = { processed: [ImageTakenEvent]; failed: [ImageFailedEvent] };

/** What names the firearm and the case, from the sidecar and the name. */
interface Naming {
  serial?: string;
  code?: string;
  round?: number;
  brand?: string;
  lacquered?: boolean;
  station?: string;
}

const SIDECAR_KEYS = ['serial', 'code', 'round', 'brand', 'lacquered', 'station'];

function refused(reason: string, context: Record<string, unknown> = {}): StamplineError {
  return new StamplineError('QA_INVALID_READ', reason, context);
}

/** The firearm and round an image's name gives: `SERIAL[_r<N>][_anything].ext`. */
export function namingOf(name: string, nameIs: 'serial' | 'code'): Naming {
  const stem = name.slice(0, name.length - extname(name).length);
  const [first, ...rest] = stem.split('_');
  const out: Naming = {};
  if (first) out[nameIs] = first;
  for (const part of rest) {
    const m = /^r(?:ound)?(\d{1,5})$/i.exec(part);
    if (m) out.round = Number(m[1]);
  }
  return out;
}

/** A sidecar's fields, checked; a sidecar that is not a JSON object of known fields is refused, naming it. */
export function parseSidecar(text: string, file: string): Naming {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw refused(`the sidecar ${file} is not JSON: ${message(err)}`, { sidecar: file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw refused(
      `the sidecar ${file} must be a JSON object {serial or code, brand, lacquered, round, station}`,
      {
        sidecar: file,
      },
    );
  }
  const o = parsed as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !SIDECAR_KEYS.includes(k));
  if (unknown.length > 0) {
    throw refused(
      `the sidecar ${file} has unknown fields ${unknown.join(', ')}; it takes ${SIDECAR_KEYS.join(', ')}`,
      {
        sidecar: file,
      },
    );
  }
  const out: Naming = {};
  for (const k of ['serial', 'code', 'brand', 'station'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'string')
      throw refused(`the sidecar ${file}: ${k} must be a string`, { sidecar: file });
    out[k] = o[k];
  }
  if (o.round !== undefined) {
    if (typeof o.round !== 'number')
      throw refused(`the sidecar ${file}: round must be a number`, { sidecar: file });
    out.round = o.round;
  }
  if (o.lacquered !== undefined) {
    if (typeof o.lacquered !== 'boolean')
      throw refused(`the sidecar ${file}: lacquered must be true or false`, { sidecar: file });
    out.lacquered = o.lacquered;
  }
  return out;
}

export class ImageFolder extends EventEmitter<Events> {
  readonly dir: string;
  readonly processedDir: string;
  readonly failedDir: string;
  readonly #o: ImageFolderOptions;
  readonly #pollMs: number;
  readonly #files: SettledFiles;
  readonly #log: IntakeLogger;
  readonly #loop: PollLoop;
  #prepared = false;

  constructor(o: ImageFolderOptions) {
    super();
    this.#o = o;
    this.dir = o.dir;
    this.processedDir = join(o.dir, PROCESSED_DIR);
    this.failedDir = join(o.dir, FAILED_DIR);
    this.#pollMs = o.pollMs ?? 1000;
    this.#log = o.logger;
    this.#files = new SettledFiles({
      dir: o.dir,
      pollMs: this.#pollMs,
      settleMs: o.settleMs ?? 2000,
      completion: o.completion ?? 'settle',
      isCandidate: isImageCandidate,
      logger: o.logger,
      label: 'image folder',
    });
    this.#loop = new PollLoop({
      dir: o.dir,
      pollMs: this.#pollMs,
      label: 'image folder',
      logger: o.logger,
      scan: () => this.#scan(),
    });
  }

  /** Starts watching. A folder that cannot be created is logged and retried, never thrown. */
  start(): Promise<void> {
    return this.#loop.start(async () => {
      await this.#prepare();
      this.#log.info(
        { dir: this.dir, pollMs: this.#pollMs, completion: this.#files.completion },
        'image folder: watching for case images',
      );
    });
  }

  /** Stops watching; waits for the image being taken. Safe to call twice. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Lists the folder once and takes every image that is complete. Used by the poll loop and by tests. */
  scanNow(): Promise<void> {
    return this.#loop.scanNow();
  }

  async #prepare(): Promise<void> {
    try {
      for (const d of [this.dir, this.processedDir, this.failedDir]) await mkdir(d, { recursive: true });
      await this.#files.pruneMarkers(await readdir(this.dir));
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
      this.#prepared = false;
      this.#loop.folderProblem(err, 'cannot list the folder; will retry');
      return;
    }
    for (const [name, seen] of await this.#files.ready(listed)) {
      if (this.#loop.stopping) break;
      await this.#take(name, seen, listed.includes(`${name}${SIDECAR_SUFFIX}`));
    }
  }

  async #take(name: string, settled: Seen, hasSidecar: boolean): Promise<void> {
    const got = await this.#files.read(name, settled, MAX_FILE_BYTES);
    if (!got) return;
    try {
      let result: SubmitResult;
      try {
        if (got.bytes === undefined) {
          throw new StamplineError(
            'IMAGE_TOO_LARGE',
            `${name} is ${got.size} bytes; the reader takes files of at most ${MAX_FILE_BYTES} bytes (64 MiB)`,
            { limit: MAX_FILE_BYTES },
          );
        }
        const input = await this.#inputFor(name, hasSidecar);
        const sha256 = createHash('sha256').update(got.bytes).digest('hex');
        const earlier = await this.#recorded(input, sha256);
        if (earlier) {
          // a stop between the read being stored and the image's move: the read is not taken twice
          this.#log.info({ file: name, read: earlier.id }, 'image folder: image already recorded; moved');
          await this.#moveTaken(name, hasSidecar, earlier.serial, earlier.id);
          return;
        }
        const image = await readImageFile(got.bytes, name);
        result = await this.#o.qa.submit(
          {
            ...input,
            text: image.text,
            gear: image.gear,
            imageRead: { text: image.text, gear: image.gear, sha256, soft: image.soft },
          },
          IMAGE_FOLDER_ACTOR,
        );
      } catch (err) {
        if (!(err instanceof StamplineError)) throw err;
        // A read stored whose decision the line has yet to apply: the image is taken.
        if (typeof err.context.read === 'number') {
          this.#log.warn({ file: name, err: err.message }, 'image folder: read stored, decision pending');
          await this.#moveTaken(name, hasSidecar, String(err.context.serial ?? ''), err.context.read);
          return;
        }
        if (err.transient || err.status >= 500) {
          this.#files.defer(name, err, 'the line could not take the image');
          return;
        }
        await this.#fail(name, hasSidecar, err.code, err.message);
        return;
      }
      const changed = await this.#files.changedSince(name, settled);
      if (changed) {
        this.#log.error(
          { file: name, readBytes: settled.size, nowBytes: changed.size, read: result.read.id },
          'image folder: the image changed after it was read: its writer paused longer than settleMs; the read was taken from what was there. Save images under a temporary name and rename them, or set completion: done-file',
        );
      }
      this.#log.info(
        {
          file: name,
          serial: result.read.serial,
          read: result.read.id,
          text: result.read.text,
          verdict: result.verdict.status,
          outcome: result.outcome,
        },
        'image folder: case image read and recorded',
      );
      await this.#moveTaken(name, hasSidecar, result.read.serial, result.read.id);
    } catch (err) {
      if (errno(err) === 'ENOENT') {
        this.#log.warn({ file: name }, 'image folder: the image disappeared while being taken');
        this.#files.forget(name);
        return;
      }
      this.#files.defer(name, err, 'cannot finish taking the image');
    }
  }

  /** The read to record for this image, less the read itself: the firearm, round, ammunition and station. */
  async #inputFor(name: string, hasSidecar: boolean): Promise<CaseReadInput> {
    const fromName = namingOf(name, this.#o.nameIs ?? 'serial');
    let side: Naming = {};
    if (hasSidecar) {
      const file = `${name}${SIDECAR_SUFFIX}`;
      let text: string;
      try {
        text = await readFile(join(this.dir, file), 'utf8');
      } catch (err) {
        if (errno(err) !== 'ENOENT') throw err;
        text = '';
      }
      if (text !== '') side = parseSidecar(text, file);
    }
    const byName = side.serial === undefined && side.code === undefined;
    const serial = byName ? fromName.serial : side.serial;
    const code = byName ? fromName.code : side.code;
    if (serial === undefined && code === undefined) {
      throw refused(
        `cannot tell which firearm ${name} is of: name it SERIAL_r<round>.png (the serial first, then _), or put a sidecar ${name}${SIDECAR_SUFFIX} with serial or code beside it`,
      );
    }
    const round = side.round ?? fromName.round;
    const station = side.station ?? this.#o.station ?? 'image folder';
    return {
      ...(serial !== undefined ? { serial } : {}),
      ...(code !== undefined ? { code } : {}),
      ammo: { brand: side.brand ?? this.#o.ammo.brand, lacquered: side.lacquered ?? this.#o.ammo.lacquered },
      ...(round !== undefined ? { round } : {}),
      station,
    };
  }

  /** The read of this very image file stored already for the firearm, if any. */
  async #recorded(input: CaseReadInput, sha256: string): Promise<{ id: number; serial: string } | undefined> {
    const query = input.code !== undefined ? { code: input.code } : { serial: input.serial! };
    let records: FirearmRecord[];
    try {
      records = await this.#o.qa.records(query);
    } catch (err) {
      // a name that is no serial or code: the read is refused below, naming it
      if (err instanceof StamplineError && !err.transient && err.status < 500) return undefined;
      throw err;
    }
    for (const rec of records) {
      const read = rec.reads.find((r) => r.imageSha256 === sha256);
      if (read) return { id: read.id, serial: read.serial };
    }
    return undefined;
  }

  /** Moves the image (and its sidecar) into `dir` under a free name; gives where the image went. */
  async #move(name: string, hasSidecar: boolean, dir: string, before?: (to: string) => Promise<boolean>) {
    for (;;) {
      const candidate = await freeName(dir, name, [SIDECAR_SUFFIX, ERROR_SUFFIX]);
      const to = join(dir, candidate);
      if (before && !(await before(to))) continue;
      if (hasSidecar) {
        const moved = await moveNoClobber(
          join(this.dir, `${name}${SIDECAR_SUFFIX}`),
          `${to}${SIDECAR_SUFFIX}`,
        ).catch((err) => {
          if (errno(err) === 'ENOENT') return true;
          throw err;
        });
        if (!moved) continue;
      }
      if (!(await moveNoClobber(join(this.dir, name), to))) continue;
      await fsyncDir(dir);
      await this.#files.removeMarker(name);
      await fsyncDir(this.dir);
      this.#files.forget(name);
      return to;
    }
  }

  async #moveTaken(name: string, hasSidecar: boolean, serial: string, readId: number): Promise<void> {
    const movedTo = await this.#move(name, hasSidecar, this.processedDir);
    this.emit('processed', { file: name, movedTo, serial, readId });
  }

  /** Moves a refused image aside with its reason beside it (written first) and logs it. */
  async #fail(name: string, hasSidecar: boolean, code: string, reason: string): Promise<void> {
    const movedTo = await this.#move(name, hasSidecar, this.failedDir, (to) =>
      writeNoClobber(
        `${to}${ERROR_SUFFIX}`,
        `${name}: not recorded, nothing stored\n${code}: ${reason}\nat ${new Date().toISOString()}\n`,
      ),
    );
    this.#log.error({ file: name, movedTo, code, err: reason }, 'image folder: image refused');
    this.emit('failed', { file: name, movedTo, code, reason });
  }
}
