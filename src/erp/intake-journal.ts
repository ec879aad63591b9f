/**
 * The drop folder's memory of files it has begun to take, so that a crash between the line
 * storing a file's orders and the file moving to processed/ cannot take them a second time.
 *
 * Before `accept` is called a marker `accepting` is written; once `accept` says ok the marker
 * becomes `accepted`; it is removed after the file has moved. On restart, a file with an
 * `accepted` marker goes straight to processed/; one with an `accepting` marker is offered again
 * marked as a replay, and the line answers ok for orders it already holds identically.
 * Markers are keyed by file name and content digest: a different file under the same name is new.
 */
import { createHash } from 'node:crypto';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, readFileIfExists, writeFileDurable } from '../store/durable.js';
import { noteRepair } from '../store/repairs.js';

export interface IntakeMarker {
  file: string;
  sha256: string;
  state: 'accepting' | 'accepted';
  at: string;
}

export const JOURNAL_DIR = '.stampline-intake';

export class IntakeJournal {
  readonly dir: string;

  constructor(dropDir: string) {
    this.dir = join(dropDir, JOURNAL_DIR);
  }

  #path(file: string, sha256: string): string {
    const key = createHash('sha256').update(`${file}\0${sha256}`).digest('hex').slice(0, 40);
    return join(this.dir, `${key}.json`);
  }

  async get(file: string, sha256: string): Promise<IntakeMarker | undefined> {
    const text = await readFileIfExists(this.#path(file, sha256));
    if (text === undefined) return undefined;
    try {
      const m = JSON.parse(text) as IntakeMarker;
      if (m.file === file && m.sha256 === sha256 && (m.state === 'accepting' || m.state === 'accepted'))
        return m;
    } catch {
      // A marker that cannot be read still says an attempt began: the file is offered again as a
      // replay, which the line answers for orders it already holds. The damage is counted and shown.
      noteRepair(
        { file: this.#path(file, sha256), segment: 0, keptBytes: 0, droppedBytes: Buffer.byteLength(text) },
        `${JOURNAL_DIR}/markers`,
      );
    }
    return { file, sha256, state: 'accepting', at: new Date(0).toISOString() };
  }

  async put(marker: IntakeMarker): Promise<void> {
    await writeFileDurable(this.#path(marker.file, marker.sha256), `${JSON.stringify(marker)}\n`);
  }

  async remove(file: string, sha256: string): Promise<void> {
    try {
      await unlink(this.#path(file, sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await fsyncDir(this.dir).catch(() => {});
  }

  /** Removes markers of files no longer waiting in the folder (moved just before a crash). */
  async prune(waiting: ReadonlySet<string>): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let removed = 0;
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const text = await readFileIfExists(join(this.dir, n));
      let file: string | undefined;
      try {
        file = (JSON.parse(text ?? '') as IntakeMarker).file;
      } catch {
        file = undefined;
      }
      // A marker that cannot be read is kept: it may belong to a file still waiting.
      if (file !== undefined && !waiting.has(file)) {
        await unlink(join(this.dir, n)).catch(() => {});
        removed++;
      }
    }
    return removed;
  }
}
