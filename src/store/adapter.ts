/**
 * A lowdb adapter that writes through `writeFileDurable`. lowdb's own file adapters never fsync
 * and its presets switch to memory under NODE_ENV=test, so the line constructs `Low` with this
 * adapter and nothing else. A file that does not parse is an error naming the file: replacing
 * it with defaults would silently forget what the line had recorded.
 */
import type { Adapter } from 'lowdb';
import { StamplineError } from '../errors.js';
import { readFileIfExists, writeFileDurable } from './durable.js';

/** The exact text written for a document: compact JSON and a final newline. */
export function serializeDocument(data: unknown, path: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (err) {
    throw new StamplineError(
      'INVALID_INPUT',
      `cannot store ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  if (text === undefined || data === null) {
    throw new StamplineError('INVALID_INPUT', `cannot store ${path}: the data is not a JSON value`, { path });
  }
  return `${text}\n`;
}

export class DurableJsonAdapter<T> implements Adapter<T> {
  constructor(readonly path: string) {}

  /** The stored data, or null when the file does not exist. */
  async read(): Promise<T | null> {
    const text = await readFileIfExists(this.path);
    if (text === undefined) return null;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new StamplineError(
        'STORE_CORRUPT',
        `${this.path} is corrupt: ${(err as Error).message}`,
        { file: this.path },
        { cause: err },
      );
    }
    if (data === null) {
      throw new StamplineError('STORE_CORRUPT', `${this.path} is corrupt: it holds null`, {
        file: this.path,
      });
    }
    return data as T;
  }

  async write(data: T): Promise<void> {
    await writeFileDurable(this.path, serializeDocument(data, this.path));
  }
}
