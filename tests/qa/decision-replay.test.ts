/**
 * A decision the line could not finish applying (here: the outbox refused its records, as a
 * crash would cut it short) is completed later, at the next read of the firearm or at start-up:
 * the audit entries it lacks are written then, once, and the decision is announced.
 */
import { describe, expect, it } from 'vitest';
import type { EngraverDevice } from '../../simulators/engraver/device.js';
import { parseKey } from '../../src/codes/index.js';
import { isStamplineError, StamplineError } from '../../src/errors.js';
import type { Line } from '../../src/line/line.js';
import type { Firearm } from '../../src/line/model.js';
import { type QaDecisionEvent, QaService } from '../../src/qa/index.js';
import type { RegistryRecord } from '../../src/registry/record.js';
import { AuditTrail } from '../../src/store/audit.js';
import { order, startLine, useLines } from '../line/harness.js';
import { EVERY_CASE, FEDERAL, KEY, readOf, until } from './support.js';

interface Rig {
  dir: string;
  device: EngraverDevice;
  line: Line;
  qa: QaService;
  audit: AuditTrail;
  records: RegistryRecord[];
  /** the outbox refuses the next batch holding a `verified` record */
  refuseNextVerified(): void;
  stop(): Promise<void>;
}

/** The line and its QA service with a real audit trail, all on `dir`. */
async function startRig(dir: string, device: EngraverDevice): Promise<Rig> {
  const audit = new AuditTrail({ dataDir: dir });
  await audit.start();
  let refuse = false;
  const h = await startLine(dir, device, {
    sink: {
      async report(r) {
        if (refuse && r.some((x) => x.event === 'verified')) {
          refuse = false;
          throw new StamplineError('STORE_UNAVAILABLE', 'the outbox cannot be written');
        }
      },
    },
    audit,
  });
  const qa = new QaService({
    line: h.line,
    policy: EVERY_CASE,
    key: parseKey(KEY),
    dataDir: dir,
    engraverId: 'eng-1',
    audit,
  });
  await qa.start();
  return {
    dir,
    device,
    line: h.line,
    qa,
    audit,
    records: h.records,
    refuseNextVerified() {
      refuse = true;
    },
    async stop() {
      await qa.stop();
      await h.stop();
      await audit.stop();
    },
  };
}

const rigs = useLines(startRig);

async function engraved(rig: Rig, id: string): Promise<Firearm> {
  await rig.line.submitOrder(order(id, 1), 'http', 'erp');
  await rig.line.startOrder(id, 'operator');
  await until(async () => (await rig.line.orderView(id)).order.state === 'engraved', `order ${id} done`);
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

describe('a QA decision completed after it was cut short', () => {
  it('at start-up: writes the audit entries it lacks, tagged with its reads, once, and is told as decided at start', async () => {
    const rig = await rigs.start();
    const f = await engraved(rig, 'o1');
    rig.refuseNextVerified();
    const cut = await rig.qa
      .submit({ serial: f.serial, ...readOf(f.code!, 'F'), ammo: FEDERAL }, 'alice')
      .catch((e) => e);
    expect(isStamplineError(cut, 'STORE_UNAVAILABLE')).toBe(true);
    // The firearm is already voided; none of the decision's entries are written.
    expect(await decisionEntries(rig.audit)).toEqual([]);

    const again = await rigs.restart(rig);
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
    await until(async () => (await again.line.orderView('o1')).order.state === 'engraved', 'the new pin');

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

    const third = await rigs.restart(again);
    expect(third.qa.decidedAtStart()).toEqual([]);
    expect(await decisionEntries(third.audit)).toEqual(expected);
  });

  it('at the next read: writes the missing entries, refuses the read, and announces the decision', async () => {
    const rig = await rigs.start();
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
