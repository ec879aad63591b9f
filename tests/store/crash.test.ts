import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppendLog } from '../../src/store/append-log.js';
import { AuditTrail } from '../../src/store/audit.js';
import { DocumentStore } from '../../src/store/documents.js';

const writer = resolve(import.meta.dirname, 'support', 'crash-writer.ts');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampline-crash-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the writer until it has reported `acks` acknowledged writes, kills it with SIGKILL, returns what it acknowledged. */
function writeThenKill(mode: string, acks: number): Promise<number[]> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, mode, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let buffer = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.stdout.on('data', (b: Buffer) => {
      buffer += b.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) if (/^\d+$/.test(line)) acked.push(Number(line));
      if (!killed && acked.length >= acks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', fail);
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') done(acked);
      else fail(new Error(`writer exited before it was killed: ${stderr}`));
    });
  });
}

describe('after SIGKILL mid-write', () => {
  it('an AppendLog holds every acknowledged entry, reads cleanly and takes appends again', async () => {
    const acked = await writeThenKill('log', 400);
    const log = new AppendLog<{ n: number }>({ dir, name: 'crash', maxSegmentBytes: 16 * 1024 });
    await log.start();
    const seen: number[] = [];
    for await (const { entry } of log.read()) seen.push(entry.n);
    expect(log.segments().length).toBeGreaterThan(1);
    const present = new Set(seen);
    expect(acked.filter((n) => !present.has(n))).toEqual([]);
    expect(new Set(seen).size).toBe(seen.length);
    await log.append([{ n: -1 }]);
    expect(log.lastEntry()).toEqual({ n: -1 });
    await log.stop();
  });

  it('the audit trail holds every acknowledged entry, verifies, and chains on', async () => {
    const acked = await writeThenKill('audit', 300);
    const trail = new AuditTrail({ dataDir: dir, maxSegmentBytes: 16 * 1024 });
    await trail.start();
    const result = await trail.verify();
    expect(result.ok).toBe(true);
    expect(result.count).toBeGreaterThanOrEqual(acked.length);
    const subjects = new Set((await trail.query({ limit: 1_000_000 })).map((e) => e.subject));
    expect(acked.filter((n) => !subjects.has(`S${n}`))).toEqual([]);
    const next = await trail.record({ actor: 'line', action: 'restart', subject: 'line' });
    expect(next.seq).toBe(result.count + 1);
    expect(await trail.verify()).toMatchObject({ ok: true, count: result.count + 1 });
    await trail.stop();
  });

  it('a document holds the last acknowledged update or a later one, and parses', async () => {
    const acked = await writeThenKill('doc', 150);
    const store = new DocumentStore({ dir });
    await store.start();
    const doc = await store.open('counter', () => ({ n: -1, history: [] as number[] }));
    expect(doc.data.n).toBeGreaterThanOrEqual(Math.max(...acked));
    await store.stop();
  });
});
