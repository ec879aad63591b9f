import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StamplineError } from '../../src/errors.js';
import {
  type AuditEntry,
  AuditTrail,
  type AuditTrailOptions,
  GENESIS_HASH,
  hashAuditEntry,
} from '../../src/store/audit.js';

let dataDir: string;
const trails: AuditTrail[] = [];
let tick = 0;
const clock = () => new Date(Date.UTC(2025, 0, 1, 8, 0, 0) + tick++ * 1000);

async function makeTrail(extra: Partial<AuditTrailOptions> = {}): Promise<AuditTrail> {
  const trail = new AuditTrail({ dataDir, now: clock, ...extra });
  trails.push(trail);
  await trail.start();
  return trail;
}

const segmentFile = (n = 1) => join(dataDir, 'audit', `audit.${String(n).padStart(8, '0')}.jsonl`);

async function readLines(n = 1): Promise<string[]> {
  return (await readFile(segmentFile(n), 'utf8')).split('\n').filter((l) => l !== '');
}

async function writeLines(lines: string[], n = 1): Promise<void> {
  await writeFile(segmentFile(n), lines.map((l) => `${l}\n`).join(''));
}

/** Five entries: seq 1..5 about subjects ORD-1, ORD-2 alternately. */
async function recordFive(trail: AuditTrail): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (let i = 1; i <= 5; i++) {
    out.push(
      await trail.record({
        actor: i % 2 ? 'operator:ana' : 'line',
        action: i === 1 ? 'order.create' : 'job.state',
        subject: i % 2 ? 'ORD-1' : 'ORD-2',
        before: i === 1 ? undefined : { state: `s${i - 1}` },
        after: { state: `s${i}` },
        reason: i === 3 ? 'engraver fault reset' : undefined,
      }),
    );
  }
  return out;
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stampline-audit-'));
  tick = 0;
});

afterEach(async () => {
  for (const t of trails.splice(0)) await t.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('AuditTrail', () => {
  it('chains entries: each hash is SHA-256 over the sorted-key JSON of the entry with its prev', async () => {
    const trail = await makeTrail();
    const [first, second] = await recordFive(trail);
    expect(first).toMatchObject({
      seq: 1,
      actor: 'operator:ana',
      before: null,
      reason: null,
      prev: GENESIS_HASH,
    });
    // computed here by hand, independently of the code under test
    const canonical =
      '{"action":"order.create","actor":"operator:ana","after":{"state":"s1"},"before":null,' +
      `"prev":"${GENESIS_HASH}","reason":null,"seq":1,"subject":"ORD-1","time":"2025-01-01T08:00:00.000Z"}`;
    expect(first!.hash).toBe(createHash('sha256').update(canonical).digest('hex'));
    expect(second!.prev).toBe(first!.hash);
    const onDisk = (await readLines()).map((l) => JSON.parse(l) as AuditEntry);
    expect(onDisk.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(onDisk[2]!.reason).toBe('engraver fault reset');
    expect(await trail.verify()).toEqual({ ok: true, count: 5, head: onDisk[4]!.hash });
  });

  it('keeps seq and chain consistent under concurrent records', async () => {
    const trail = await makeTrail();
    const entries = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        trail.record({ actor: `w${i % 6}`, action: 'x', subject: `S${i}` }),
      ),
    );
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(entries.map((e) => e.subject)).toEqual(Array.from({ length: 60 }, (_, i) => `S${i}`));
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prev).toBe(entries[i - 1]!.hash);
    expect(await trail.verify()).toMatchObject({ ok: true, count: 60 });
  });

  it('continues the chain across a restart and across segments', async () => {
    const trail = await makeTrail({ maxSegmentBytes: 700 });
    const five = await recordFive(trail);
    await trail.stop();
    const again = await makeTrail({ maxSegmentBytes: 700 });
    expect(again.head.seq).toBe(5);
    const sixth = await again.record({ actor: 'line', action: 'job.state', subject: 'ORD-3' });
    expect(sixth.seq).toBe(6);
    expect(sixth.prev).toBe(five[4]!.hash);
    await recordFive(again);
    const files = (await readdir(join(dataDir, 'audit'))).filter((f) => f.endsWith('.jsonl'));
    expect(files.length).toBeGreaterThan(1);
    expect(await again.verify()).toMatchObject({ ok: true, count: 11 });
  });

  it('continues from the tail without reading the whole trail at start', async () => {
    const trail = await makeTrail();
    await recordFive(trail);
    await trail.stop();
    const lines = await readLines();
    // the same length, so that only reading the line could tell (a shorter trail is refused as cut)
    lines[1] = '{"seq":2, this line is damaged'.padEnd(lines[1]!.length, ' ');
    await writeLines(lines);
    const again = await makeTrail();
    const sixth = await again.record({ actor: 'line', action: 'x', subject: 'S' });
    expect(sixth.seq).toBe(6);
    expect(sixth.prev).toBe(JSON.parse(lines[4]!).hash);
    expect(await again.verify()).toEqual({
      ok: false,
      count: 1,
      firstBad: { seq: 2, segment: 1, line: 2, reason: expect.stringContaining('unreadable') },
    });
  });

  it('repairs a torn last entry left by a crash and chains on from the last whole one', async () => {
    const trail = await makeTrail();
    const five = await recordFive(trail);
    await appendFile(segmentFile(), '{"seq":6,"time":"2025-01-01T09:');
    const again = await makeTrail();
    const sixth = await again.record({ actor: 'line', action: 'x', subject: 'S' });
    expect(sixth).toMatchObject({ seq: 6, prev: five[4]!.hash });
    expect(await again.verify()).toMatchObject({ ok: true, count: 6 });
  });

  describe('verify names the first bad entry', () => {
    async function tamper(edit: (lines: string[]) => string[]) {
      const trail = await makeTrail();
      await recordFive(trail);
      await trail.stop();
      await writeLines(edit(await readLines()));
      const reader = await makeTrail({ readOnly: true });
      return reader.verify();
    }

    it('a changed field', async () => {
      const result = await tamper((lines) => {
        lines[2] = lines[2]!.replace('"actor":"operator:ana"', '"actor":"operator:bob"');
        return lines;
      });
      expect(result).toEqual({
        ok: false,
        count: 2,
        firstBad: { seq: 3, segment: 1, line: 3, reason: expect.stringContaining('hash') },
      });
    });

    it('a changed field whose hash was recomputed', async () => {
      const result = await tamper((lines) => {
        const e = JSON.parse(lines[2]!) as AuditEntry;
        e.after = { state: 'forged' };
        e.hash = hashAuditEntry(e);
        lines[2] = JSON.stringify(e);
        return lines;
      });
      expect(result).toEqual({
        ok: false,
        count: 3,
        firstBad: { seq: 4, segment: 1, line: 4, reason: expect.stringContaining('prev') },
      });
    });

    it('a deleted entry', async () => {
      const result = await tamper((lines) => lines.filter((_, i) => i !== 2));
      expect(result).toEqual({
        ok: false,
        count: 2,
        firstBad: { seq: 4, segment: 1, line: 3, reason: expect.stringContaining('seq 3 is missing') },
      });
    });

    it('a deleted first entry', async () => {
      const result = await tamper((lines) => lines.slice(1));
      expect(result).toMatchObject({ ok: false, count: 0, firstBad: { seq: 2, line: 1 } });
    });

    it('two entries swapped', async () => {
      const result = await tamper((lines) => [lines[0]!, lines[1]!, lines[3]!, lines[2]!, lines[4]!]);
      expect(result).toMatchObject({ ok: false, count: 2, firstBad: { seq: 4, segment: 1, line: 3 } });
    });

    it('an entry repeated', async () => {
      const result = await tamper((lines) => [...lines.slice(0, 3), lines[2]!, ...lines.slice(3)]);
      expect(result).toMatchObject({ ok: false, count: 3, firstBad: { seq: 3, line: 4 } });
    });
  });

  it('answers queries newest first, filtered, limited and paged', async () => {
    const trail = await makeTrail({ maxSegmentBytes: 600 });
    await recordFive(trail);
    await recordFive(trail);
    expect((await trail.query()).map((e) => e.seq)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect((await trail.query({ subject: 'ORD-2' })).map((e) => e.seq)).toEqual([9, 7, 4, 2]);
    expect((await trail.query({ actor: 'operator:ana', limit: 2 })).map((e) => e.seq)).toEqual([10, 8]);
    expect((await trail.query({ action: 'order.create' })).map((e) => e.seq)).toEqual([6, 1]);
    expect((await trail.query({ before: 4, limit: 2 })).map((e) => e.seq)).toEqual([3, 2]);
    await expect(trail.query({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('rejects a bad record without breaking the chain', async () => {
    const trail = await makeTrail();
    await trail.record({ actor: 'line', action: 'a', subject: 's' });
    const bad: Promise<unknown>[] = [
      trail.record({ actor: '', action: 'a', subject: 's' }),
      trail.record({ actor: 'line', action: 'a', subject: 's', after: { n: 1n } }),
      trail.record({ actor: 'line', action: 'a', subject: 's', reason: 42 as unknown as string }),
    ];
    for (const p of bad) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StamplineError);
      expect((err as StamplineError).code).toBe('INVALID_INPUT');
    }
    await trail.record({ actor: 'line', action: 'b', subject: 's' });
    expect(await trail.verify()).toMatchObject({ ok: true, count: 2 });
  });

  it('a read-only trail does not record', async () => {
    const writer = await makeTrail();
    await writer.record({ actor: 'line', action: 'a', subject: 's' });
    const reader = await makeTrail({ readOnly: true });
    await expect(reader.record({ actor: 'line', action: 'a', subject: 's' })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    expect(await reader.verify()).toMatchObject({ ok: true, count: 1 });
  });
});
