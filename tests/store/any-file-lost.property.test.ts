/**
 * Whatever file of whatever store kind is deleted or cut short, a line with history never hands
 * out an index twice and never loses a record: its start is refused naming the file, or it runs
 * on correctly (a torn log tail cut off and logged, the order catalogue rebuilt and logged).
 */
import { readFile, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StamplineError } from '../../src/errors.js';
import {
  allFirearms,
  copyOf,
  engrave,
  makeHistory,
  removeDir,
  startDaemon,
  storeFiles,
} from './support/history.js';

let history: string;
let files: string[];
let recordsOwed: string[];
let engraved: Map<string, string>;

beforeAll(async () => {
  history = await makeHistory();
  files = await storeFiles(history);
  const { daemon } = await startDaemon(history, false);
  try {
    recordsOwed = daemon.reporter!.outbox.pending(1000).map((r) => r.recordId);
    engraved = new Map(
      (await allFirearms(daemon))
        .filter((f) => f.code)
        .map((f) => [f.serial, f.code!.text] as [string, string]),
    );
  } finally {
    await daemon.stop();
  }
}, 120_000);

afterAll(async () => {
  await removeDir(history);
});

type Damage = { kind: 'delete' } | { kind: 'truncate'; keep: number };

async function damage(dir: string, file: string, d: Damage): Promise<void> {
  const path = join(dir, file);
  if (d.kind === 'delete') await rm(path);
  else await truncate(path, Math.floor((await stat(path)).size * d.keep));
}

describe('a line with history, one store file deleted or cut short', () => {
  it('refuses naming the file, or runs on without an index given twice or a record lost', async () => {
    expect(files.length).toBeGreaterThan(20);
    const damages = fc.oneof(
      fc.constant<Damage>({ kind: 'delete' }),
      fc.double({ min: 0, max: 0.99, noNaN: true }).map<Damage>((keep) => ({ kind: 'truncate', keep })),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...files), damages, async (file, d) => {
        const dir = await copyOf(history);
        try {
          const before = await readFile(join(dir, file));
          await damage(dir, file, d);
          if (d.kind === 'truncate' && (await stat(join(dir, file))).size === before.length) return;
          let started: Awaited<ReturnType<typeof startDaemon>>;
          try {
            started = await startDaemon(dir);
          } catch (err) {
            expect(err).toBeInstanceOf(StamplineError);
            expect((err as StamplineError).code).toMatch(/^(STORE_|AUDIT_CHAIN_BROKEN)/);
            expect((err as StamplineError).message).toContain(join(dir, file));
            return;
          }
          const { daemon, logged } = started;
          try {
            const repaired = logged().filter((l) => l.level === 40);
            const heldNow = new Set(daemon.reporter!.outbox.pending(1000).map((r) => r.recordId));
            const lost = recordsOwed.filter((id) => !heldNow.has(id));
            // a record may go only with a torn tail cut off its log, and that is logged
            if (lost.length > 0)
              expect(repaired.map((l) => l.msg).join('\n')).toContain('outbox: cut off a torn last entry');
            await engrave(daemon, 'P', 2);
            // a finished order's file is read when asked for: damaged, it is refused by name then
            let firearms: Awaited<ReturnType<typeof allFirearms>>;
            try {
              firearms = await allFirearms(daemon);
            } catch (err) {
              expect((err as StamplineError).code).toMatch(/^STORE_/);
              expect((err as StamplineError).message).toContain(join(dir, file));
              return;
            }
            const indexes = firearms.flatMap((f) => [
              ...(f.code ? [f.code.index] : []),
              ...f.voided.map((v) => v.index),
            ]);
            expect(new Set(indexes).size).toBe(indexes.length);
            const bySerial = new Map(firearms.map((f) => [f.serial, f.code?.text]));
            for (const [serial, code] of engraved) expect(bySerial.get(serial)).toBe(code);
          } finally {
            await daemon.stop();
          }
        } finally {
          await removeDir(dir);
        }
      }),
      { numRuns: 25 },
    );
  }, 600_000);
});
