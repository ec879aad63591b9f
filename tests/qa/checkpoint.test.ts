import { createHash } from 'node:crypto';
import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Firearm } from '../../src/line/model.js';
import { checkpointPath } from '../../src/qa/checkpoint.js';
import { STATS_DIMENSIONS } from '../../src/qa/index.js';
import { order } from '../line/harness.js';
import { cleanupRigs, FEDERAL, LACQUERED, type QaRig, qaRig, readOf, until } from './support.js';

afterEach(cleanupRigs);

// About two reads a segment: a handful of firearms fill several segments.
const SEGMENT_BYTES = 2048;

async function engraved(rig: QaRig, id: string, count: number): Promise<Firearm[]> {
  await rig.h.line.submitOrder(order(id, count), 'http', 'erp');
  await rig.h.line.startOrder(id, 'operator');
  await until(async () => (await rig.h.line.orderView(id)).order.state === 'engraved', `order ${id} done`);
  return (await rig.h.line.orderView(id)).firearms;
}

type Records = Awaited<ReturnType<QaRig['qa']['records']>>;

/** What QA gives of each record (the firearm itself is the line's). */
function qaPart(records: Records) {
  return records.map((r) => ({
    serial: r.firearm.serial,
    orderId: r.firearm.orderId,
    code: r.firearm.code?.text,
    voided: r.firearm.voided.map((v) => v.text),
    reads: r.reads,
    verdict: r.verdict,
  }));
}

/** Everything a user can see of QA: statistics by each dimension, and the records by serial, code and order. */
async function view(rig: QaRig, serials: string[], orders: string[]) {
  // Reworked firearms are engraved again: let the line finish first.
  for (const o of orders) {
    await until(async () => (await rig.h.line.orderView(o)).order.state === 'engraved', `order ${o} done`);
  }
  const stats = Object.fromEntries(STATS_DIMENSIONS.map((by) => [by, rig.qa.statistics(by)]));
  const bySerial = [];
  for (const s of serials) bySerial.push(qaPart(await rig.qa.records({ serial: s })));
  const byOrder = [];
  for (const o of orders) byOrder.push(qaPart(await rig.qa.records({ order: o })));
  const byCode = [];
  for (const r of bySerial.flat()) {
    for (const c of [r.code, ...r.voided]) if (c) byCode.push(qaPart(await rig.qa.records({ code: c })));
  }
  return { stats, bySerial, byOrder, byCode };
}

async function segmentCount(rig: QaRig): Promise<number> {
  return (await readdir(join(rig.dir, 'qa'))).filter((n) => n.endsWith('.jsonl')).length;
}

/**
 * Reads for each firearm in turn: passes (A, B, C), fails (F on the second case), and firearms
 * left open with one or two reads, so that checkpoints hold open codes and decided ones.
 */
async function readSome(rig: QaRig, firearms: Firearm[], from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const f = (await rig.h.line.orderView(firearms[i]!.orderId)).firearms.find(
      (x) => x.serial === firearms[i]!.serial,
    )!;
    const code = f.code!;
    const grades: ('A' | 'B' | 'C' | 'F')[] =
      i % 4 === 1 ? ['A', 'F'] : i % 4 === 3 ? ['B'] : i % 4 === 2 ? ['A', 'C'] : ['A', 'B', 'C'];
    for (const [n, g] of grades.entries()) {
      await rig.qa.submit(
        { serial: f.serial, ...readOf(code, g), ammo: n % 2 ? LACQUERED : FEDERAL },
        'alice',
      );
    }
  }
}

describe('the QA checkpoint', () => {
  it('gives the same statistics, verdicts and records as a full replay, restarted at different points', async () => {
    const rig = await qaRig(undefined, { maxSegmentBytes: SEGMENT_BYTES });
    const firearms = await engraved(rig, 'o1', 14);
    const serials = firearms.map((f) => f.serial);
    const steps = [0, 3, 6, 7, 11, 14];
    for (let k = 1; k < steps.length; k++) {
      await readSome(rig, firearms, steps[k - 1]!, steps[k]!);
      const live = await view(rig, serials, ['o1']);
      await rig.restart();
      expect(await view(rig, serials, ['o1'])).toEqual(live);
      if (k >= 2) expect(rig.qa.lastStart().checkpoint).not.toBeNull();
    }
    expect(await segmentCount(rig)).toBeGreaterThan(5);
    const start = rig.qa.lastStart();
    expect(start.replayedEntries).toBeLessThan(10);

    // The second half of the reads of the open firearms, after the restarts: they decide.
    for (const i of [2, 3, 6, 7]) {
      const f = (await rig.h.line.orderView('o1')).firearms.find((x) => x.serial === serials[i])!;
      await rig.qa.submit({ serial: f.serial, ...readOf(f.code!, 'A'), ammo: FEDERAL }, 'bob');
    }
    const withCheckpoint = await view(rig, serials, ['o1']);
    // Reworked firearms have a new pin and a voided code; the records keep the reads of both.
    expect(withCheckpoint.stats.ammo!.reduce((n, r) => n + r.verdicts.fail, 0)).toBeGreaterThan(0);

    await rig.stop();
    // The checkpoint carries the last read id of the segments it covers, for the next read's id.
    const checkpoint = JSON.parse((await readFile(checkpointPath(rig.dir), 'utf8')).split('\n')[1]!);
    let lastId = 0;
    for (const name of (await readdir(join(rig.dir, 'qa'))).filter((n) => n.endsWith('.jsonl'))) {
      if (Number(name.split('.')[1]) > checkpoint.segment) continue;
      for (const line of (await readFile(join(rig.dir, 'qa', name), 'utf8')).split('\n')) {
        const e = line ? JSON.parse(line) : undefined;
        if (e?.type === 'read') lastId = Math.max(lastId, e.read.id);
      }
    }
    expect(lastId).toBeGreaterThan(0);
    expect(checkpoint.lastReadId).toBe(lastId);
    await rm(checkpointPath(rig.dir));
    await rig.restart();
    expect(rig.qa.lastStart()).toMatchObject({ checkpoint: null, fallback: 'there is none' });
    expect(await view(rig, serials, ['o1'])).toEqual(withCheckpoint);
  });

  it('falls back to the full replay when the checkpoint is torn, with the same results', async () => {
    const rig = await qaRig(undefined, { maxSegmentBytes: SEGMENT_BYTES });
    const firearms = await engraved(rig, 'o1', 8);
    await readSome(rig, firearms, 0, 8);
    const serials = firearms.map((f) => f.serial);
    const live = await view(rig, serials, ['o1']);
    await rig.stop();
    const text = await readFile(checkpointPath(rig.dir), 'utf8');
    await writeFile(checkpointPath(rig.dir), text.slice(0, Math.floor(text.length / 2)));
    await rig.restart();
    expect(rig.qa.lastStart().checkpoint).toBeNull();
    expect(rig.qa.lastStart().fallback).toMatch(/torn/);
    expect(await view(rig, serials, ['o1'])).toEqual(live);
  });

  it('replays the whole log once over a version 1 checkpoint, whose statistics had no days', async () => {
    const rig = await qaRig(undefined, { maxSegmentBytes: SEGMENT_BYTES });
    const firearms = await engraved(rig, 'o1', 8);
    await readSome(rig, firearms, 0, 8);
    const serials = firearms.map((f) => f.serial);
    const live = await view(rig, serials, ['o1']);
    await rig.stop();
    // What the previous release wrote: statistics for all time, by value only, and a good digest.
    const body = JSON.parse((await readFile(checkpointPath(rig.dir), 'utf8')).split('\n')[1]!);
    const old = JSON.stringify({
      ...body,
      version: 1,
      stats: Object.fromEntries(STATS_DIMENSIONS.map((by) => [by, []])),
    });
    await writeFile(checkpointPath(rig.dir), `${createHash('sha256').update(old).digest('hex')}\n${old}\n`);
    await rig.restart();
    expect(rig.qa.lastStart().checkpoint).toBeNull();
    expect(rig.qa.lastStart().fallback).toMatch(/version 1 is not 2/);
    expect(await view(rig, serials, ['o1'])).toEqual(live);
  });

  it('loses nothing when the line stops between closing a segment and writing its checkpoint', async () => {
    const rig = await qaRig(undefined, { maxSegmentBytes: SEGMENT_BYTES });
    const firearms = await engraved(rig, 'o1', 12);
    const serials = firearms.map((f) => f.serial);
    await readSome(rig, firearms, 0, 4);
    await rig.stop();
    const early = join(rig.dir, 'early-checkpoint');
    await copyFile(checkpointPath(rig.dir), early);
    const earlySegment = JSON.parse((await readFile(early, 'utf8')).split('\n')[1]!).segment as number;
    await rig.restart();
    await readSome(rig, firearms, 4, 12);
    const live = await view(rig, serials, ['o1']);
    await rig.stop();
    // The segments written since were closed, their serials indexed, but their checkpoints lost.
    await copyFile(early, checkpointPath(rig.dir));
    await rig.restart();
    expect(rig.qa.lastStart().checkpoint).toBe(earlySegment);
    expect(await view(rig, serials, ['o1'])).toEqual(live);
    // And once more from the checkpoint that start-up wrote.
    await rig.restart();
    expect(rig.qa.lastStart().checkpoint).toBeGreaterThan(earlySegment);
    expect(await view(rig, serials, ['o1'])).toEqual(live);
  });
});
