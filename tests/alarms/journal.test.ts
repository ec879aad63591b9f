/** The alarm journal and service: durable across a restart, a torn tail, and small however long the line runs. */
import { appendFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmService } from '../../src/alarms/service.js';
import type { AuditRecordInput } from '../../src/store/audit.js';
import { rejection, tempFolderPerTest } from '../support/temp.js';

const running: AlarmService[] = [];
const dir = tempFolderPerTest('alarms');
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

function service(opts: { audit?: AuditRecordInput[]; maxSegmentBytes?: number } = {}) {
  const audited = opts.audit;
  const s = new AlarmService({
    dataDir: dir.path,
    thresholds: { qaWindow: 10, qaMinVerdicts: 5, qaFailShare: 0.2, codesLeftBelow: 100 },
    ...(audited ? { audit: { record: async (e: AuditRecordInput) => void audited.push(e) } } : {}),
    ...(opts.maxSegmentBytes ? { maxSegmentBytes: opts.maxSegmentBytes, keepSegments: 3 } : {}),
  });
  running.push(s);
  return s;
}

async function restart(s: AlarmService, opts: Parameters<typeof service>[0] = {}) {
  await s.stop();
  running.splice(running.indexOf(s), 1);
  const again = service(opts);
  await again.start();
  return again;
}

describe('the alarm journal', () => {
  it('keeps raise, acknowledgement (by whom) and clear across a restart, and audits the acknowledgement', async () => {
    const audit: AuditRecordInput[] = [];
    let s = service({ audit });
    await s.start();
    await s.observe({ kind: 'engraver', connected: true, state: 'FAULT', fault: 2 });
    await s.observe({ kind: 'registry-link', state: 'down', error: 'ECONNREFUSED' });
    const fault = s.active().find((a) => a.kind === 'engraver-fault')!;
    await s.acknowledge(fault.id, 'otto');
    expect(audit).toEqual([
      expect.objectContaining({ actor: 'otto', action: 'alarm.acknowledge', subject: `alarm:${fault.id}` }),
    ]);
    await s.observe({ kind: 'registry-link', state: 'up', error: null });

    s = await restart(s);
    // the fault is still active, acknowledged by otto; the link alarm is in the journal, cleared
    expect(s.active()).toEqual([
      expect.objectContaining({ kind: 'engraver-fault', acknowledgedBy: 'otto', clearedAt: null }),
    ]);
    const { alarms } = s.page({ limit: 10 });
    expect(alarms.map((a) => [a.kind, a.clearedAt !== null])).toEqual([
      ['registry-link-down', true],
      ['engraver-fault', false],
    ]);
    // a READY read after the restart clears what was restored
    await s.observe({ kind: 'engraver', connected: true, state: 'READY', fault: 0 });
    expect(s.active()).toEqual([]);
    // and new alarms get new ids
    await s.observe({ kind: 'outbox', rejected: 1 });
    expect(s.active()[0]!.id).toBeGreaterThan(fault.id + 1);
  });

  it('cuts off a torn last entry at start, keeps what came before it, and raises a store-repair alarm', async () => {
    let s = service();
    await s.start();
    await s.observe({ kind: 'codes', left: 3 });
    await s.stop();
    running.splice(0);
    const folder = join(dir.path, 'alarms');
    const [file] = (await readdir(folder)).filter((f) => f.endsWith('.jsonl'));
    await appendFile(join(folder, file!), '{"t":"raise","alarm":{"id":9');
    s = service();
    await s.start();
    await s.observe({ kind: 'codes', left: 2 });
    const active = s.active();
    expect(active.map((a) => a.kind).sort()).toEqual(['codes-low', 'store-repair']);
    const repair = active.find((a) => a.kind === 'store-repair')!;
    expect(repair.message).toContain('alarm journal');
    // acknowledging a repair clears it: it has no condition that could end
    await s.acknowledge(repair.id, 'sam');
    expect(s.active().map((a) => a.kind)).toEqual(['codes-low']);
    s = await restart(s);
    expect(s.active().map((a) => a.kind)).toEqual(['codes-low']);
  });

  it('stays small: old segments go, and an alarm raised long ago stays active', async () => {
    let s = service({ maxSegmentBytes: 2048 });
    await s.start();
    await s.observe({ kind: 'codes', left: 1 });
    const old = s.active()[0]!;
    for (let i = 0; i < 200; i++) {
      await s.observe({ kind: 'outbox', rejected: 1 });
      await s.observe({ kind: 'outbox', rejected: 0 });
    }
    const folder = join(dir.path, 'alarms');
    const files = (await readdir(folder)).filter((f) => f.endsWith('.jsonl'));
    expect(files.length).toBeLessThanOrEqual(3);
    let bytes = 0;
    for (const f of files) bytes += (await stat(join(folder, f))).size;
    expect(bytes).toBeLessThan(4 * 2048);
    s = await restart(s, { maxSegmentBytes: 2048 });
    expect(s.active()).toEqual([old]);
    expect(s.page({ limit: 5 }).alarms[0]!.kind).toBe('records-rejected');
  });

  it('refuses an acknowledgement of an alarm that is not active, changing nothing', async () => {
    const audit: AuditRecordInput[] = [];
    const s = service({ audit });
    await s.start();
    expect((await rejection(s.acknowledge(5, 'otto'))).code).toBe('ALARM_NOT_FOUND');
    expect(audit).toEqual([]);
  });

  it('pages the journal newest first', async () => {
    const s = service();
    await s.start();
    for (let i = 0; i < 5; i++) {
      await s.observe({ kind: 'outbox', rejected: 1 });
      await s.observe({ kind: 'outbox', rejected: 0 });
    }
    const first = s.page({ limit: 2 });
    expect(first.alarms.map((a) => a.id)).toEqual([5, 4]);
    const second = s.page({ limit: 10, before: first.next! });
    expect(second.alarms.map((a) => a.id)).toEqual([3, 2, 1]);
    expect(second.next).toBeNull();
  });
});
