import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isStamplineError } from '../../src/errors.js';
import type { Firearm } from '../../src/line/model.js';
import type { QaPolicy } from '../../src/qa/index.js';
import { order } from '../line/harness.js';
import { cleanupRigs, FEDERAL, LACQUERED, type QaRig, qaRig, readOf, textOnly, until } from './support.js';

afterEach(cleanupRigs);

async function engraved(rig: QaRig, id: string, count: number): Promise<Firearm[]> {
  await rig.h.line.submitOrder(order(id, count), 'http', 'erp');
  await rig.h.line.startOrder(id, 'operator');
  await until(async () => (await rig.h.line.orderView(id)).order.state === 'engraved', `order ${id} done`);
  return (await rig.h.line.orderView(id)).firearms;
}

/** The read log as it is on disk, every segment in order. */
async function logText(rig: QaRig): Promise<string> {
  const dir = join(rig.dir, 'qa');
  const files = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort();
  let text = '';
  for (const f of files) text += await readFile(join(dir, f), 'utf8');
  return text;
}

const doneMarks = (rig: QaRig) => rig.device.marks.filter((m) => m.outcome === 'done');

describe('a firearm that passes QA', () => {
  it('is verified once every case is read: the firearm carries qa, and one verified(pass) record is reported', async () => {
    const rig = await qaRig();
    const [f] = await engraved(rig, 'o1', 1);
    const code = f!.code!;
    const first = await rig.qa.submit({ serial: f!.serial, ...readOf(code, 'A'), ammo: FEDERAL }, 'alice');
    expect(first.outcome).toBe('pending');
    expect(first.read).toMatchObject({
      id: 1,
      by: 'alice',
      serial: f!.serial,
      orderId: 'o1',
      code: { index: code.index, text: code.text },
    });
    expect(first.read.decode).toMatchObject({
      ok: true,
      matches: true,
      grade: 'A',
      illegibleChars: 0,
      illegibleTeeth: 0,
    });
    expect(first.verdict).toMatchObject({ status: 'pending', casings: 1, needed: 3 });
    // By code as scanned, with the dash, in lower case.
    const scanned = `${code.text.slice(0, 5)}-${code.text.slice(5)}`.toLowerCase();
    await rig.qa.submit({ code: scanned, ...readOf(code, 'C'), ammo: LACQUERED, station: 'scope-2' }, 'bob');
    const last = await rig.qa.submit(
      { serial: f!.serial.toLowerCase(), ...readOf(code, 'B'), ammo: FEDERAL },
      'alice',
    );
    expect(last.outcome).toBe('verified');
    expect(last.verdict).toMatchObject({ status: 'pass', casings: 3, grade: 'C' });

    const after = (await rig.h.line.orderView('o1')).firearms[0]!;
    expect(after.state).toBe('engraved');
    expect(after.qa).toMatchObject({
      result: 'pass',
      policy: 'every-case',
      grade: 'C',
      casings: 3,
      by: 'alice',
    });
    const verified = rig.h.records.filter((r) => r.event === 'verified');
    expect(verified).toHaveLength(1);
    expect(verified[0]).toMatchObject({
      code: code.text,
      qa: { result: 'pass', policy: 'every-case', casings: 3, grade: 'C' },
    });
    expect(rig.h.records.some((r) => r.event === 'voided')).toBe(false);
    const actions = rig.h.audit.map((a) => `${a.actor} ${a.action}`);
    expect(actions.filter((a) => a.endsWith('qa.read'))).toEqual([
      'alice qa.read',
      'bob qa.read',
      'alice qa.read',
    ]);
    expect(actions).toContain('alice qa.pass');

    // A decided code takes no more reads, and nothing is stored for the refused one.
    const logged = await logText(rig);
    const again = await rig.qa
      .submit({ serial: f!.serial, ...readOf(code, 'A'), ammo: FEDERAL }, 'alice')
      .catch((e) => e);
    expect(isStamplineError(again, 'QA_ALREADY_DECIDED')).toBe(true);
    expect(again.message).toMatch(/already passed QA/);
    expect(await logText(rig)).toBe(logged);

    const record = await rig.qa.firearm(f!.serial);
    expect(record.reads.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(record.verdict).toMatchObject({ status: 'pass', casings: 3 });
    expect(record.firearm.qa?.result).toBe('pass');
  });
});

describe('a firearm that fails QA', () => {
  it('goes to rework: verified(fail) and voided records, the code void, and a new pin engraved exactly once', async () => {
    const rig = await qaRig();
    const firearms = await engraved(rig, 'o1', 2);
    const f = firearms[0]!;
    const oldCode = f.code!;
    expect(doneMarks(rig)).toHaveLength(2);

    await rig.qa.submit({ serial: f.serial, ...readOf(oldCode, 'A'), ammo: FEDERAL }, 'alice');
    const failed = await rig.qa.submit(
      { serial: f.serial, ...readOf(oldCode, 'D'), ammo: LACQUERED },
      'alice',
    );
    expect(failed.outcome).toBe('rework');
    expect(failed.verdict).toMatchObject({ status: 'fail', casings: 2, grade: 'D' });

    // The order was done; it runs again and the line engraves the firearm with a new code.
    await until(
      async () =>
        (await rig.h.line.orderView('o1')).order.state === 'engraved' && doneMarks(rig).length === 3,
      'new pin engraved',
    );
    const after = (await rig.h.line.orderView('o1')).firearms[0]!;
    expect(after.state).toBe('engraved');
    expect(after.code!.text).not.toBe(oldCode.text);
    expect(after.qa).toBeUndefined();
    expect(after.voided).toHaveLength(1);
    expect(after.voided[0]).toMatchObject({
      text: oldCode.text,
      pinScrapped: true,
      qa: { result: 'fail', grade: 'D', casings: 2, by: 'alice' },
    });
    expect(after.voided[0]!.reason).toMatch(/^failed QA: case 2 of 3 .*grade D, below C/);

    const forOld = rig.h.records.filter((r) => r.code === oldCode.text).map((r) => r.event);
    expect(forOld).toEqual(['engraved', 'verified', 'voided']);
    const verified = rig.h.records.find((r) => r.event === 'verified')!;
    expect(verified).toMatchObject({ qa: { result: 'fail', policy: 'every-case', casings: 2, grade: 'D' } });
    const voided = rig.h.records.find((r) => r.event === 'voided')!;
    expect(voided).toMatchObject({ reason: after.voided[0]!.reason });
    expect(rig.h.records.filter((r) => r.code === after.code!.text).map((r) => r.event)).toEqual([
      'engraved',
    ]);
    // The engraver's journal: the new code once, the old one never again, nothing else marked.
    expect(doneMarks(rig).map((m) => m.text)).toEqual([
      oldCode.text,
      firearms[1]!.code!.text,
      after.code!.text,
    ]);

    // The voided code names the firearm but takes no read; the new one does.
    const onOld = await rig.qa
      .submit({ code: oldCode.text, ...readOf(oldCode, 'A'), ammo: FEDERAL }, 'alice')
      .catch((e) => e);
    expect(isStamplineError(onOld, 'QA_ALREADY_DECIDED')).toBe(true);
    expect(onOld.message).toMatch(
      new RegExp(`was voided .*failed QA.*now carries code ${after.code!.text.slice(0, 5)}-`),
    );
    const onNew = await rig.qa.submit(
      { code: after.code!.text, ...readOf(after.code!, 'A'), ammo: FEDERAL },
      'alice',
    );
    expect(onNew.verdict).toMatchObject({ status: 'pending', casings: 1 });

    // Every read is kept, those of the voided code too.
    const record = await rig.qa.firearm(f.serial);
    expect(record.reads.map((r) => [r.id, r.code.text])).toEqual([
      [1, oldCode.text],
      [2, oldCode.text],
      [3, after.code!.text],
    ]);
    expect(record.verdict).toMatchObject({ status: 'pending', casings: 1 });
    const actions = rig.h.audit.map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['qa.fail', 'code.void', 'order.reopen']));
  });

  it('refuses reads while the firearm waits for its new pin', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 1, minGrade: 'C' }, { markingTimeMs: 400 });
    await rig.h.line.submitOrder(order('o1', 2), 'http', 'erp');
    await rig.h.line.startOrder('o1', 'operator');
    await until(
      async () => (await rig.h.line.orderView('o1')).firearms[0]!.state === 'engraved',
      'first engraved',
    );
    const f = (await rig.h.line.orderView('o1')).firearms[0]!;
    const res = await rig.qa.submit({ serial: f.serial, ...readOf(f.code!, 'F'), ammo: FEDERAL }, 'qa');
    expect(res.outcome).toBe('rework');
    // The order was still running: it keeps running and takes the firearm back into its queue.
    // Paused here so that the firearm waits for its new pin while the station tries again.
    expect((await rig.h.line.orderView('o1')).order.state).toBe('running');
    await rig.h.line.pauseOrder('o1', 'operator');
    await until(
      async () => (await rig.h.line.orderView('o1')).counts.inProgress === 0,
      'job in flight ended',
    );
    const waiting = await rig.qa
      .submit({ serial: f.serial, ...readOf(f.code!, 'A'), ammo: FEDERAL }, 'qa')
      .catch((e) => e);
    expect(isStamplineError(waiting, 'QA_NOT_ENGRAVED')).toBe(true);
    expect(waiting.message).toMatch(/failed QA and was voided; it waits for a new pin/);
    await rig.h.line.resumeOrder('o1', 'operator');
    await until(async () => (await rig.h.line.orderView('o1')).order.state === 'engraved', 'order done');
    expect(doneMarks(rig)).toHaveLength(3);
  });

  it('sends an aborted order back to paused with the reason, and the firearm is engraved once it is resumed', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 1, minGrade: 'C' }, { markingTimeMs: 300 });
    await rig.h.line.submitOrder(order('o1', 5), 'http', 'erp');
    await rig.h.line.startOrder('o1', 'operator');
    await until(
      async () => (await rig.h.line.orderView('o1')).firearms[0]!.state === 'engraved',
      'first engraved',
    );
    await rig.h.line.abortOrder('o1', 'operator', 'customer cancelled');
    await until(async () => (await rig.h.line.orderView('o1')).counts.inProgress === 0, 'abort settled');
    const f = (await rig.h.line.orderView('o1')).firearms[0]!;
    const marked = doneMarks(rig).length;

    await rig.qa.submit({ serial: f.serial, ...readOf(f.code!, 'D'), ammo: FEDERAL }, 'qa');
    const view = await rig.h.line.orderView('o1');
    expect(view.order.state).toBe('paused');
    expect(view.order.reason).toMatch(new RegExp(`rework: firearm ${f.serial} failed QA`));
    expect(view.firearms[0]!.state).toBe('queued');
    await new Promise((r) => setTimeout(r, 200));
    expect(doneMarks(rig)).toHaveLength(marked);

    await rig.h.line.resumeOrder('o1', 'operator');
    await until(
      async () => (await rig.h.line.orderView('o1')).order.state === 'engraved',
      'order done again',
    );
    const done = await rig.h.line.orderView('o1');
    expect(done.firearms[0]!.state).toBe('engraved');
    expect(done.firearms.slice(1).every((x) => x.state === 'cancelled' || x.state === 'engraved')).toBe(true);
    expect(doneMarks(rig)).toHaveLength(marked + 1);
  });
});

describe('ca-4075 at the station', () => {
  const policy: QaPolicy = { kind: 'ca-4075', rounds: 100, minGrade: 'C' };

  it('takes the four examined rounds in any order, refusing other rounds and a round read twice', async () => {
    const rig = await qaRig(policy);
    const [f] = await engraved(rig, 'o1', 1);
    const code = f!.code!;
    const base = { serial: f!.serial, ...readOf(code, 'A'), ammo: FEDERAL };
    const noRound = await rig.qa.submit(base, 'qa').catch((e) => e);
    expect(isStamplineError(noRound, 'QA_INVALID_READ')).toBe(true);
    expect(noRound.context.problems).toEqual([
      { path: 'round', reason: expect.stringMatching(/1, 2, 99, 100/) },
    ]);
    const fifty = await rig.qa.submit({ ...base, round: 50 }, 'qa').catch((e) => e);
    expect(isStamplineError(fifty, 'QA_INVALID_READ')).toBe(true);
    expect(fifty.message).toMatch(/round 50 is not examined/);

    expect((await rig.qa.submit({ ...base, round: 100 }, 'qa')).verdict.missingRounds).toEqual([1, 2, 99]);
    const twice = await rig.qa.submit({ ...base, round: 100 }, 'qa').catch((e) => e);
    expect(isStamplineError(twice, 'QA_DUPLICATE_ROUND')).toBe(true);
    expect(twice.status).toBe(409);
    await rig.qa.submit({ ...base, round: 1 }, 'qa');
    await rig.qa.submit({ ...base, round: 99 }, 'qa');
    const last = await rig.qa.submit({ ...base, round: 2 }, 'qa');
    expect(last).toMatchObject({
      outcome: 'verified',
      verdict: { status: 'pass', casings: 4, missingRounds: [] },
    });
    expect((await rig.qa.firearm(f!.serial)).reads.map((r) => r.round)).toEqual([100, 1, 99, 2]);
  });
});

describe('refusals', () => {
  it('names the field of bad input and stores nothing', async () => {
    const rig = await qaRig();
    const [f] = await engraved(rig, 'o1', 1);
    const good = { serial: f!.serial, ...readOf(f!.code!, 'A'), ammo: FEDERAL };
    const cases: Array<[unknown, string]> = [
      [{ ...good, serial: undefined }, 'serial'],
      [{ ...good, serial: 'BAD SERIAL!' }, 'serial'],
      [{ ...good, code: 'ABC' }, 'code'],
      [{ ...good, text: undefined, gear: undefined }, 'text'],
      [{ ...good, text: '?????-?????-?' }, 'text'],
      [{ ...good, gear: '0101' }, 'gear'],
      [{ ...good, gear: `${'x'.repeat(88)}` }, 'gear'],
      [{ ...good, ammo: undefined }, 'ammo'],
      [{ ...good, ammo: { brand: '', lacquered: false } }, 'ammo.brand'],
      [{ ...good, ammo: { brand: 'X', lacquered: 'yes' } }, 'ammo.lacquered'],
      [{ ...good, round: 0 }, 'round'],
      [{ ...good, round: 1.5 }, 'round'],
      [{ ...good, colour: 'red' }, ''],
    ];
    for (const [input, field] of cases) {
      const err = await rig.qa.submit(input as never, 'qa').catch((e) => e);
      expect(isStamplineError(err, 'QA_INVALID_READ'), JSON.stringify(input)).toBe(true);
      expect(err.status).toBe(400);
      const paths = (err.context.problems as Array<{ path: string }>).map((p) => p.path);
      expect(paths, JSON.stringify(input)).toContain(field);
      if (field === '') expect(err.message).toMatch(/colour/);
    }
    const wrongPair = await rig.qa
      .submit({ ...good, serial: 'O1-9999', code: f!.code!.text }, 'qa')
      .catch((e) => e);
    expect(isStamplineError(wrongPair, 'QA_INVALID_READ')).toBe(true);
    expect(wrongPair.message).toMatch(/is on firearm O1-0000, not O1-9999/);
    expect(await rig.qa.firearm(f!.serial)).toMatchObject({ reads: [] });
    expect(rig.h.audit.some((a) => a.action === 'qa.read')).toBe(false);
  });

  it('refuses an unknown firearm (404) and one not yet engraved (409)', async () => {
    const rig = await qaRig();
    await rig.h.line.submitOrder(order('o1', 1), 'http', 'erp');
    const unknown = await rig.qa
      .submit({ serial: 'NOPE-1', text: '0000000000', ammo: FEDERAL }, 'qa')
      .catch((e) => e);
    expect(isStamplineError(unknown, 'QA_UNKNOWN_FIREARM')).toBe(true);
    expect(unknown.status).toBe(404);
    const byCode = await rig.qa
      .submit({ code: '00000-00000', text: '0000000000', ammo: FEDERAL }, 'qa')
      .catch((e) => e);
    expect(isStamplineError(byCode, 'QA_UNKNOWN_FIREARM')).toBe(true);
    const queued = await rig.qa
      .submit({ serial: 'O1-0000', text: '0000000000', ammo: FEDERAL }, 'qa')
      .catch((e) => e);
    expect(isStamplineError(queued, 'QA_NOT_ENGRAVED')).toBe(true);
    expect(queued.status).toBe(409);
    await expect(rig.qa.firearm('NOPE-1')).rejects.toMatchObject({ code: 'QA_UNKNOWN_FIREARM' });
  });
});

describe('the read log', () => {
  it('keeps every read as entered across a restart, never rewriting one, and goes on numbering', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 3, minGrade: 'C' }, { maxSegmentBytes: 2048 });
    const firearms = await engraved(rig, 'o1', 2);
    const [a, b] = [firearms[0]!, firearms[1]!];
    const typed = `${a.code!.text.slice(0, 5)}-${a.code!.text.slice(5)}`.toLowerCase();
    const entered = [
      { serial: a.serial, text: typed, gear: readOf(a.code!, 'A').gear, ammo: FEDERAL, station: 'scope-1' },
      { serial: b.serial, ...readOf(b.code!, 'B'), ammo: LACQUERED },
      { serial: a.serial, ...readOf(a.code!, 'C'), ammo: FEDERAL },
    ];
    for (const r of entered) await rig.qa.submit(r, 'alice');
    const before = await rig.qa.firearm(a.serial);
    expect(before.reads[0]).toMatchObject({ text: typed, station: 'scope-1', ammo: FEDERAL, by: 'alice' });
    expect(before.reads[0]!.decode).toMatchObject({ illegibleChars: 0, matches: true, grade: 'A' });
    expect(before.verdict).toMatchObject({ status: 'pending', casings: 2 });
    const other = await rig.qa.firearm(b.serial);
    const logged = await logText(rig);

    await rig.restart();
    expect(await rig.qa.firearm(a.serial)).toEqual(before);
    expect(await rig.qa.firearm(b.serial)).toEqual(other);
    // The pending verdict is rebuilt from the log: one more case decides it.
    const third = await rig.qa.submit({ serial: a.serial, ...readOf(a.code!, 'A'), ammo: FEDERAL }, 'bob');
    expect(third.read.id).toBe(4);
    expect(third).toMatchObject({ outcome: 'verified', verdict: { status: 'pass', casings: 3, grade: 'C' } });
    const after = await rig.qa.firearm(a.serial);
    expect(after.reads.slice(0, 2)).toEqual(before.reads);
    expect(after.reads.map((r) => r.id)).toEqual([1, 3, 4]);
    // Appended to, never rewritten: what was on disk is still there, byte for byte.
    const now = await logText(rig);
    expect(now.startsWith(logged)).toBe(true);
    expect(now.length).toBeGreaterThan(logged.length);
  });

  it('finds a decision logged in a later segment than its reads, before and after a restart', async () => {
    // A segment of one byte: every entry starts a new one.
    const rig = await qaRig({ kind: 'every-case', cases: 1, minGrade: 'C' }, { maxSegmentBytes: 1 });
    const [f] = await engraved(rig, 'o1', 1);
    await rig.qa.submit({ serial: f!.serial, ...readOf(f!.code!, 'B'), ammo: FEDERAL }, 'qa');
    const record = await rig.qa.firearm(f!.serial);
    expect(record.verdict).toMatchObject({ status: 'pass', grade: 'B', needed: 1 });
    expect(record.verdict!.reason).toMatch(/each of the 1 cases identifies the firearm/);
    await rig.restart();
    expect(await rig.qa.firearm(f!.serial)).toEqual(record);
  });

  it('completes a decision cut short before the line applied it', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 1, minGrade: 'C' });
    const [f] = await engraved(rig, 'o1', 1);
    // The line fails to apply the decision (its outbox is unavailable): the read stays stored.
    const sink = rig.h.records.push.bind(rig.h.records);
    rig.h.records.push = () => {
      throw new Error('outbox unavailable');
    };
    const err = await rig.qa
      .submit({ serial: f!.serial, ...readOf(f!.code!, 'A'), ammo: FEDERAL }, 'qa')
      .catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    rig.h.records.push = sink;
    expect(rig.h.records.some((r) => r.event === 'verified')).toBe(false);

    await rig.restart();
    await until(() => rig.h.records.some((r) => r.event === 'verified'), 'verified record');
    const view = (await rig.h.line.orderView('o1')).firearms[0]!;
    expect(view.qa).toMatchObject({ result: 'pass', casings: 1 });
    expect((await rig.qa.firearm(f!.serial)).reads).toHaveLength(1);
  });
});

describe('records', () => {
  it('finds firearms by serial, by code (voided too) and by order, with their reads', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 1, minGrade: 'C' });
    const firearms = await engraved(rig, 'o1', 2);
    const f = firearms[0]!;
    await rig.qa.submit({ serial: f.serial, ...readOf(f.code!, 'F'), ammo: FEDERAL }, 'qa');
    await until(async () => (await rig.h.line.orderView('o1')).order.state === 'engraved', 'reworked');
    const byOrder = await rig.qa.records({ order: 'o1' });
    expect(byOrder.map((r) => [r.firearm.serial, r.reads.length])).toEqual([
      [f.serial, 1],
      [firearms[1]!.serial, 0],
    ]);
    expect(byOrder[1]!.verdict).toMatchObject({ status: 'pending', casings: 0 });
    const byVoided = await rig.qa.records({ code: f.code!.text });
    expect(byVoided.map((r) => r.firearm.serial)).toEqual([f.serial]);
    expect(byVoided[0]!.firearm.voided[0]!.qa?.result).toBe('fail');
    expect(await rig.qa.records({ serial: f.serial.toLowerCase() })).toEqual(byVoided);
    expect(await rig.qa.records({ order: 'none' })).toEqual([]);
    await expect(rig.qa.records({ serial: f.serial, order: 'o1' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(rig.qa.records({ code: 'xyz' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('a text read that cannot identify', () => {
  it('is stored and counts as a failing case', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 2, minGrade: 'D' });
    const [f] = await engraved(rig, 'o1', 1);
    const res = await rig.qa.submit({ serial: f!.serial, ...textOnly(f!.code!), ammo: FEDERAL }, 'qa');
    expect(res.read.decode).toMatchObject({
      ok: true,
      confident: false,
      matches: false,
      text: f!.code!.text,
    });
    expect(res.outcome).toBe('rework');
  });
});
