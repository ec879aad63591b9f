/** Small pieces many tests share: a temporary folder per test, and the StamplineError a promise rejects with. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { StamplineError } from '../../src/errors.js';

/**
 * A fresh temporary folder for each test of the file, removed after it once `cleanup` (services
 * that write in it, stopped first) has run. Read `folder.path` inside a test.
 */
export function tempFolderPerTest(prefix: string, cleanup: () => Promise<void> = async () => {}) {
  const folder = { path: '' };
  beforeEach(async () => {
    folder.path = await mkdtemp(join(tmpdir(), `stampline-${prefix}-`));
  });
  afterEach(async () => {
    await cleanup();
    await rm(folder.path, { recursive: true, force: true });
  });
  return folder;
}

/** The StamplineError `promise` rejects with; fails the test when it resolves or throws another error. */
export async function rejection(promise: Promise<unknown>): Promise<StamplineError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof StamplineError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}
