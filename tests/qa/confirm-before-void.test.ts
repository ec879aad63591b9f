/**
 * A station that asks before a failing read voids a code: the read comes back unstored with
 * what it shows, and only a second, confirmed send fails the firearm.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isStamplineError, type StamplineError } from '../../src/errors.js';
import type { Firearm } from '../../src/line/model.js';
import { order } from '../line/harness.js';
import { cleanupRigs, FEDERAL, type QaRig, qaRig, readOf, textOnly, until } from './support.js';

afterEach(cleanupRigs);

async function engraved(rig: QaRig, id: string): Promise<Firearm> {
  await rig.h.line.submitOrder(order(id, 1), 'http', 'erp');
  await rig.h.line.startOrder(id, 'operator');
  await until(async () => (await rig.h.line.orderView(id)).order.state === 'engraved', `order ${id} done`);
  return (await rig.h.line.orderView(id)).firearms[0]!;
}

async function refusal(p: Promise<unknown>): Promise<StamplineError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isStamplineError(err)) throw new Error(`expected a refusal, got ${String(err)}`);
  return err;
}

describe('a read that would void a code', () => {
  it('is not stored when the station asks first, and says what it shows against the code', async () => {
    const rig = await qaRig();
    const f = await engraved(rig, 'o1');
    const code = f.code!;
    const typo = `${code.text.slice(0, 4)}${code.text[4] === 'Z' ? 'Y' : 'Z'}${code.text.slice(5)}`;
    const err = await refusal(
      rig.qa.submit({ serial: f.serial, text: typo, ammo: FEDERAL, askBeforeVoid: true }, 'alice'),
    );
    expect(err.code).toBe('QA_VOID_UNCONFIRMED');
    expect(err.status).toBe(409);
    expect(err.context).toMatchObject({
      serial: f.serial,
      verdict: { status: 'fail', policy: 'every-case' },
      anotherCase: true,
      compared: { charsSame: 9, charsDiffering: 1, teethRead: null },
    });
    expect((err.context.compared as { chars: string[] }).chars[4]).toBe('differs');
    // the code is not in what the station is told
    expect(JSON.stringify(err.context)).not.toContain(code.text);
    // nothing stored, nothing voided, nothing audited
    const record = await rig.qa.firearm(f.serial);
    expect(record.reads).toHaveLength(0);
    expect(record.firearm.voided).toHaveLength(0);
    expect(rig.h.audit.some((a) => a.action === 'qa.read')).toBe(false);

    // a good read goes through as ever
    const good = await rig.qa.submit(
      { serial: f.serial, ...readOf(code, 'A'), ammo: FEDERAL, askBeforeVoid: true },
      'alice',
    );
    expect(good.outcome).toBe('pending');
    // confirmed: sent without asking, it fails the firearm
    const failed = await rig.qa.submit({ serial: f.serial, text: typo, ammo: FEDERAL }, 'alice');
    expect(failed.outcome).toBe('rework');
    expect(failed.read.id).toBe(2);
  });

  it('offers no other case under ca-4075, whose examined rounds are given cases', async () => {
    const rig = await qaRig({ kind: 'ca-4075', rounds: 4 });
    const f = await engraved(rig, 'o2');
    const code = f.code!;
    // the old trap: a clean text read alone is recorded and identifies as the registry would
    const clean = await rig.qa.submit(
      { serial: f.serial, ...textOnly(code), round: 1, ammo: FEDERAL, askBeforeVoid: true },
      'q',
    );
    expect(clean.verdict.status).toBe('pending');
    const err = await refusal(
      rig.qa.submit(
        {
          serial: f.serial,
          text: `${code.text.slice(0, 6)}????`,
          round: 2,
          ammo: FEDERAL,
          askBeforeVoid: true,
        },
        'q',
      ),
    );
    expect(err.code).toBe('QA_VOID_UNCONFIRMED');
    expect(err.context).toMatchObject({ anotherCase: false });
    expect(err.message).toMatch(/registry/);
  });
});
