/**
 * Every repair the store makes at start-up is counted, whichever store made it: a log's torn tail
 * (the audit trail, the QA log, any AppendLog) and a drop folder's unreadable intake marker.
 */
import { appendFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IntakeJournal, JOURNAL_DIR } from '../../src/erp/intake-journal.js';
import { AuditTrail } from '../../src/store/audit.js';
import { recentRepairs, repairCounts } from '../../src/store/repairs.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'stampline-repairs-'));
  dirs.push(d);
  return d;
}

describe('store repairs', () => {
  it('counts a torn audit tail with the bytes dropped, and lists it', async () => {
    const dataDir = await tempDir();
    const trail = new AuditTrail({ dataDir });
    await trail.start();
    await trail.record({ actor: 'a', action: 'x', subject: 's' });
    await trail.stop();
    await appendFile(join(dataDir, 'audit', 'audit.00000001.jsonl'), '{"seq":2,"ti');
    const before = repairCounts().get('audit/audit')?.droppedBytes ?? 0;
    const notes: unknown[] = [];
    const again = new AuditTrail({ dataDir, onRepair: (n) => notes.push(n) });
    await again.start();
    await again.stop();
    expect(notes).toEqual([expect.objectContaining({ droppedBytes: 12 })]);
    expect(repairCounts().get('audit/audit')!.droppedBytes - before).toBe(12);
    expect(recentRepairs().at(-1)).toMatchObject({ log: 'audit/audit', droppedBytes: 12 });
  });

  it('counts an intake marker that cannot be read, and still treats the file as begun', async () => {
    const drop = await tempDir();
    const journal = new IntakeJournal(drop);
    await journal.put({
      file: 'a.csv',
      sha256: 'f'.repeat(64),
      state: 'accepted',
      at: new Date().toISOString(),
    });
    await mkdir(join(drop, JOURNAL_DIR), { recursive: true });
    const [marker] = await readdir(join(drop, JOURNAL_DIR));
    await writeFile(join(drop, JOURNAL_DIR, marker!), '{"file":"a.cs');
    const before = repairCounts().get(`${JOURNAL_DIR}/markers`)?.repairs ?? 0;
    expect(await journal.get('a.csv', 'f'.repeat(64))).toMatchObject({ state: 'accepting' });
    expect(repairCounts().get(`${JOURNAL_DIR}/markers`)!.repairs).toBe(before + 1);
  });
});
