import { afterEach, describe, expect, it } from 'vitest';
import type { StatsRow } from '../../src/qa/index.js';
import { order } from '../line/harness.js';
import { cleanupRigs, qaRig, readOf, until } from './support.js';

afterEach(cleanupRigs);

const byKey = (rows: StatsRow[]) => Object.fromEntries(rows.map((r) => [r.key, r]));

describe('statistics of reads', () => {
  it('group reads and verdicts by ammunition, lacquer, engraver, recipe and model, and are the same after a restart', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 2, minGrade: 'C' });
    await rig.h.line.submitOrder(order('o1', 2), 'http', 'erp');
    await rig.h.line.submitOrder({ ...order('o2', 1), make: 'Other', model: 'X9' }, 'http', 'erp');
    await rig.h.line.startOrder('o1', 'operator');
    await rig.h.line.startOrder('o2', 'operator');
    await until(
      async () =>
        (await rig.h.line.orderView('o1')).order.state === 'engraved' &&
        (await rig.h.line.orderView('o2')).order.state === 'engraved',
      'orders done',
    );
    const [a, b] = (await rig.h.line.orderView('o1')).firearms;
    const [c] = (await rig.h.line.orderView('o2')).firearms;
    const fed = { brand: 'Federal', lacquered: false };
    const wolf = { brand: 'Wolf', lacquered: true };
    // a: two good cases, Federal then Wolf: a pass for both brands.
    await rig.qa.submit({ serial: a!.serial, ...readOf(a!.code!, 'A'), ammo: fed }, 'qa');
    await rig.qa.submit({ serial: a!.serial, ...readOf(a!.code!, 'B'), ammo: wolf }, 'qa');
    // b: a Wolf case with two illegible characters and no gear: it fails at once.
    const t = b!.code!.text;
    await rig.qa.submit({ serial: b!.serial, text: `??${t.slice(2)}`, ammo: wolf }, 'qa');
    // c (another model): one Federal case, pending.
    await rig.qa.submit({ serial: c!.serial, ...readOf(c!.code!, 'C'), ammo: fed }, 'qa');

    const ammo = byKey(rig.qa.statistics('ammo'));
    expect(Object.keys(ammo)).toEqual(['Federal', 'Wolf']);
    expect(ammo.Federal).toEqual({
      key: 'Federal',
      reads: 2,
      charLegibility: 1,
      gearPresent: 1,
      decodeRate: 1,
      grades: { A: 1, B: 0, C: 1, D: 0, F: 0 },
      verdicts: { pass: 1, fail: 0 },
    });
    expect(ammo.Wolf).toMatchObject({
      reads: 2,
      charLegibility: 18 / 20,
      gearPresent: 0.5,
      decodeRate: 0.5,
      verdicts: { pass: 1, fail: 1 },
    });
    expect(ammo.Wolf!.grades.B).toBe(1);
    expect(ammo.Wolf!.grades.A + ammo.Wolf!.grades.C + ammo.Wolf!.grades.D + ammo.Wolf!.grades.F).toBe(1);

    const lacquer = byKey(rig.qa.statistics('lacquer'));
    expect(lacquer.lacquered).toMatchObject({ reads: 2, verdicts: { pass: 1, fail: 1 } });
    expect(lacquer.plain).toMatchObject({ reads: 2, verdicts: { pass: 1, fail: 0 } });
    const model = byKey(rig.qa.statistics('model'));
    expect(model['Acme P1']).toMatchObject({ reads: 3, verdicts: { pass: 1, fail: 1 } });
    expect(model['Other X9']).toMatchObject({ reads: 1, verdicts: { pass: 0, fail: 0 } });
    expect(rig.qa.statistics('engraver')).toMatchObject([{ key: 'eng-1', reads: 4 }]);
    expect(rig.qa.statistics('recipe')).toMatchObject([{ key: '500/30/200/2', reads: 4 }]);

    const before = Object.fromEntries(
      (['ammo', 'lacquer', 'engraver', 'recipe', 'model'] as const).map((d) => [d, rig.qa.statistics(d)]),
    );
    await rig.restart();
    for (const [d, rows] of Object.entries(before)) expect(rig.qa.statistics(d as 'ammo')).toEqual(rows);
    expect(() => rig.qa.statistics('colour' as 'ammo')).toThrow(
      /group by ammo, lacquer, engraver, recipe, model/,
    );
  });
});
