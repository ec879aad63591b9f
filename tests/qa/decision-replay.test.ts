/**
 * A decision the line could not finish applying (here: the outbox refused its records, as a
 * crash would cut it short) is completed later, at the next read of the firearm or at start-up:
 * the audit entries it lacks are written then, once, and the decision is announced.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { parseKey } from '../../src/codes/index.js';
import { isStamplineError, StamplineError } from '../../src/errors.js';
import { CodeAllocator } from '../../src/line/allocator.js';
import { Line } from '../../src/line/line.js';
import type { Firearm } from '../../src/line/model.js';
import { LineRepository } from '../../src/line/repository.js';
import { type QaDecisionEvent, QaService } from '../../src/qa/index.js';
import type { RegistryRecord } from '../../src/registry/record.js';
import { AuditTrail } from '../../src/store/audit.js';
import { DocumentStore } from '../../src/store/documents.js';
import { makeDir, order, removeDir } from '../line/harness.js';
import { DeviceEngraver } from '../support/device-engraver.js';
import { EVERY_CASE, FEDERAL, KEY, readOf, until } from './support.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

interface Rig {
  line: Line;
  qa: QaService;
  audit: AuditTrail;
  records: RegistryRecord[];
  /** the outbox refuses the next batch holding a `verified` record */
  refuseNextVerified(): void;
  stop(): Promise<void>;
}

const dirs: string[] = [];
const devices: EngraverDevice[] = [];
const running: Rig[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop().catch(() => {});
  for (const d of devices.splice(0)) d.close();
  for (const d of dirs.splice(0)) await removeDir(d);
});

/** The line and its QA service with a real audit trail, all on `dir`. */
async function startRig(dir: string, device: EngraverDevice): Promise<Rig> {
  const store = new DocumentStore({ dir: join(dir, 'docs') });
  await store.start();
  const audit = new AuditTrail({ dataDir: dir });
  await audit.start();
  const repo = new LineRepository(store, join(dir, 'serials'));
  await repo.start();
  const allocator = new CodeAllocator(store, 1, parseKey(KEY), { start: 1000, size: 100_000 });
  await allocator.start();
  const engraver = new DeviceEngraver(device);
  const records: RegistryRecord[] = [];
  let refuse = false;
  const line = new Line({
    repo,
    allocator,
    engraver,
    sink: {
      async report(r) {
        if (refuse && r.some((x) => x.event === 'verified')) {
          refuse = false;
          throw new StamplineError('STORE_UNAVAILABLE', 'the outbox cannot be written');
        }
        records.push(...r);
      },
    },
    audit,
    recipeFor: () => ({ power: 500, frequency: 30, speed: 200, passes: 2 }),
    records: {
      issuer: 1,
      line: 'line-1',
      certifiedBy: { kind: 'manufacturer', licence: 'FFL-1' },
      engraverId: 'eng-1',
    },
    logger: quiet,
    mirror: true,
    jobTimeoutMs: 10_000,
  });
  await engraver.start();
  await line.start();
  const qa = new QaService({
    line,
    policy: EVERY_CASE,
    key: parseKey(KEY),
    dataDir: dir,
    engraverId: 'eng-1',
    audit,
  });
  await qa.start();
  const rig: Rig = {
    line,
    qa,
    audit,
    records,
    refuseNextVerified() {
      refuse = true;
    },
    async stop() {
      await qa.stop();
      await line.stop();
      await engraver.stop();
      await repo.stop();
      await audit.stop();
      await store.stop();
    },
  };
  running.push(rig);
  return rig;
}

async function fresh(): Promise<{ dir: string; device: EngraverDevice; rig: Rig }> {
  const dir = await makeDir();
  dirs.push(dir);
  const device = new EngraverDevice({ markingTimeMs: 0 });
  devices.push(device);
  return { dir, device, rig: await startRig(dir, device) };
}

async function engraved(rig: Rig, id: string): Promise<Firearm> {
  await rig.line.submitOrder(order(id, 1), 'http', 'erp');
  await rig.line.startOrder(id, 'operator');
  await until(async () => (await rig.line.orderView(id)).order.state === 'done', `order ${id} done`);
  return (await rig.line.orderView(id)).firearms[0]!;
}

/** The audit entries of QA decisions, oldest first, as `action subject reads`. */
async function decisionEntries(audit: AuditTrail): Promise<string[]> {
  const entries = await audit.query({ limit: 1000 });
  return entries
    .filter((e) => ['qa.pass', 'qa.fail', 'code.void', 'order.reopen'].includes(e.action))
    .reverse()
    .map((e) => `${e.action} ${e.subject} ${JSON.stringify((e.after as { reads?: number[] }).reads)}`);
}

async function stopRig(rig: Rig): Promise<void> {
  running.splice(running.indexOf(rig), 1);
  await rig.stop();
}

describe('a QA decision completed after it was cut short', () => {
  it('at start-up: writes the audit entries it lacks, tagged with its reads, once, and is told as decided at start', async () => {
    const { dir, device, rig } = await fresh();
    const f = await engraved(rig, 'o1');
    rig.refuseNextVerified();
    const cut = await rig.qa
      .submit({ serial: f.serial, ...readOf(f.code!, 'F'), ammo: FEDERAL }, 'alice')
      .catch((e) => e);
    expect(isStamplineError(cut, 'STORE_UNAVAILABLE')).toBe(true);
    // The firearm is already voided; none of the decision's entries are written.
    expect(await decisionEntries(rig.audit)).toEqual([]);
    await stopRig(rig);

    const again = await startRig(dir, device);
    expect(again.qa.decidedAtStart()).toEqual([
      expect.objectContaining({ serial: f.serial, orderId: 'o1', outcome: 'rework', when: 'start' }),
    ]);
    expect(again.qa.decidedAtStart()[0]!.verdict.status).toBe('fail');
    const expected = [
      'order.reopen order:o1 [1]',
      `qa.fail firearm:${f.serial} [1]`,
      `code.void firearm:${f.serial} [1]`,
    ];
    expect(await decisionEntries(again.audit)).toEqual(expected);
    const qaFail = (await again.audit.query({ action: 'qa.fail' }))[0]!;
    expect(qaFail).toMatchObject({
      actor: 'alice',
      after: { code: f.code!.text, result: 'fail', reads: [1] },
    });
    await until(async () => (await again.line.orderView('o1')).order.state === 'done', 'the new pin');

    // Applied once more as a replay (a crash before the decision was logged): nothing new.
    const decision = {
      result: 'fail' as const,
      policy: 'every-case' as const,
      grade: 'F' as const,
      casings: 1,
      reason: qaFail.reason!,
      at: new Date().toISOString(),
      by: 'alice',
      reads: [1],
    };
    await again.line.applyVerdict({ orderId: 'o1', seq: 0 }, f.code!, decision, { replay: true });
    expect(await decisionEntries(again.audit)).toEqual(expected);
    await stopRig(again);

    const third = await startRig(dir, device);
    expect(third.qa.decidedAtStart()).toEqual([]);
    expect(await decisionEntries(third.audit)).toEqual(expected);
  });

  it('at the next read: writes the missing entries, refuses the read, and announces the decision', async () => {
    const { rig } = await fresh();
    const f = await engraved(rig, 'o1');
    const code = f.code!;
    const decided: QaDecisionEvent[] = [];
    rig.qa.on('decision', (e) => decided.push(e));
    await rig.qa.submit({ serial: f.serial, ...readOf(code, 'A'), ammo: FEDERAL }, 'alice');
    await rig.qa.submit({ serial: f.serial, ...readOf(code, 'B'), ammo: FEDERAL }, 'alice');
    rig.refuseNextVerified();
    const cut = await rig.qa
      .submit({ serial: f.serial, ...readOf(code, 'A'), ammo: FEDERAL }, 'bob')
      .catch((e) => e);
    expect(isStamplineError(cut, 'STORE_UNAVAILABLE')).toBe(true);
    expect(await decisionEntries(rig.audit)).toEqual([]);
    expect(decided).toEqual([]);

    const late = await rig.qa
      .submit({ serial: f.serial, ...readOf(code, 'A'), ammo: FEDERAL }, 'carol')
      .catch((e) => e);
    expect(isStamplineError(late, 'QA_ALREADY_DECIDED')).toBe(true);
    expect(await decisionEntries(rig.audit)).toEqual([`qa.pass firearm:${f.serial} [1,2,3]`]);
    expect((await rig.audit.query({ action: 'qa.pass' }))[0]).toMatchObject({ actor: 'bob' });
    expect(decided).toEqual([
      expect.objectContaining({
        serial: f.serial,
        outcome: 'verified',
        when: 'retry',
        code: { index: code.index, text: code.text },
      }),
    ]);
    expect(rig.records.filter((r) => r.event === 'verified')).toHaveLength(1);
  });
});
