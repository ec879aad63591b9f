import { afterEach, describe, expect, it } from 'vitest';
import { startSimulators } from '../../simulators/embedded.js';
import {
  DEFAULT_DEGRADATION,
  type DegradationSettings,
  fireCase,
  fireModels,
  Random,
} from '../../simulators/testfire/model.js';
import { TestFireStation } from '../../simulators/testfire/station.js';
import { encode, parseKey } from '../../src/codes/index.js';
import { configSchema } from '../../src/config/schema.js';
import type { Daemon } from '../../src/daemon.js';
import { decodeCase } from '../../src/qa/index.js';
import { order } from '../line/harness.js';
import { cleanupRigs, KEY, type QaRig, qaRig, until } from './support.js';

const stations: TestFireStation[] = [];
afterEach(async () => {
  for (const s of stations.splice(0)) await s.stop();
  await cleanupRigs();
});

const key = parseKey(KEY);
const PERFECT: DegradationSettings = {
  charIllegible: 0,
  charMisread: 0,
  toothIllegible: 0,
  toothFlipped: 0,
  gearMissing: 0,
  lacqueredFactor: 1,
};

describe('the degradation model', () => {
  it('reads a perfect stamp as the code, the gear at some rotation, and it decodes with grade A', () => {
    const { plain } = fireModels(PERFECT);
    const rng = new Random(3);
    for (let i = 0; i < 20; i++) {
      const code = encode(1, 1000 + i, key);
      const c = fireCase(code, plain, rng);
      expect(c.text).toBe(code.text);
      expect(c.gear).toHaveLength(88);
      expect((code.gear + code.gear).includes(c.gear!)).toBe(true);
      expect(decodeCase(c, code.text, key)).toMatchObject({ matches: true, grade: 'A' });
    }
  });

  it('makes characters illegible or misread, teeth flipped or illegible and rings missing at about the rates set, worse on lacquered primers', () => {
    const settings = {
      ...DEFAULT_DEGRADATION,
      charIllegible: 0.1,
      charMisread: 0.05,
      toothIllegible: 0.1,
      toothFlipped: 0.05,
      gearMissing: 0.2,
      lacqueredFactor: 2,
    };
    const { plain, lacquered } = fireModels(settings);
    const code = encode(1, 77, key);
    const measure = (model: typeof plain) => {
      const rng = new Random(11);
      let chars = 0,
        illegible = 0,
        misread = 0,
        rings = 0,
        missing = 0,
        teeth = 0,
        flipped = 0,
        unread = 0;
      for (let n = 0; n < 2000; n++) {
        const c = fireCase(code, model, rng);
        for (let i = 0; i < 10; i++) {
          chars++;
          if (c.text[i] === '?') illegible++;
          else if (c.text[i] !== code.text[i]) misread++;
        }
        rings++;
        if (c.gear === undefined) {
          missing++;
          continue;
        }
        // Align the read with the code by trying every rotation; the one with fewest disagreements.
        let best = 0,
          bestBad = 99;
        for (let r = 0; r < 88; r++) {
          let bad = 0;
          for (let k = 0; k < 88; k++) {
            const t = c.gear[k];
            if (t !== '?' && t !== code.gear[(k + r) % 88]) bad++;
          }
          if (bad < bestBad) [best, bestBad] = [r, bad];
        }
        for (let k = 0; k < 88; k++) {
          teeth++;
          if (c.gear[k] === '?') unread++;
          else if (c.gear[k] !== code.gear[(k + best) % 88]) flipped++;
        }
      }
      return {
        illegible: illegible / chars,
        misread: misread / chars,
        missing: missing / rings,
        unread: unread / teeth,
        flipped: flipped / teeth,
      };
    };
    const p = measure(plain);
    expect(p.illegible).toBeCloseTo(0.1, 1);
    expect(p.misread).toBeCloseTo(0.05, 1);
    expect(p.missing).toBeCloseTo(0.2, 1);
    expect(p.unread).toBeCloseTo(0.1, 1);
    expect(p.flipped).toBeCloseTo(0.05, 1);
    const l = measure(lacquered);
    expect(l.illegible).toBeCloseTo(0.2, 1);
    expect(l.missing).toBeCloseTo(0.4, 1);
    expect(l.unread).toBeCloseTo(0.2, 1);
    expect(() => fireModels({ ...settings, lacqueredFactor: 0.5 })).toThrow(/lacqueredFactor/);
  });

  it('has the defaults of the simulators.testfire settings', () => {
    const parsed = configSchema.parse({
      line: { id: 'l' },
      issuer: { number: 1, licence: 'L', key: KEY, indexBlock: { start: 0, size: 10 } },
      auth: { erpToken: 'erp-token-0123456789' },
      engraver: { url: 'modbus-tcp://127.0.0.1:1502?unit=1' },
      mqtt: { url: 'mqtt://127.0.0.1:1883' },
    });
    const t = parsed.simulators.testfire;
    expect({
      charIllegible: t.charIllegible,
      charMisread: t.charMisread,
      toothIllegible: t.toothIllegible,
      toothFlipped: t.toothFlipped,
      gearMissing: t.gearMissing,
      lacqueredFactor: t.lacqueredFactor,
    }).toEqual(DEFAULT_DEGRADATION);
    expect(t).toMatchObject({ enabled: false, delayMs: 2000, lacqueredShare: 0.2, seed: 1 });
  });
});

function station(
  rig: QaRig,
  degradation: DegradationSettings,
  extra: Partial<ConstructorParameters<typeof TestFireStation>[0]> = {},
) {
  const s = new TestFireStation({
    line: rig.h.line,
    qa: rig.qa,
    delayMs: 0,
    degradation,
    lacqueredShare: 0.5,
    seed: 5,
    ...extra,
  });
  stations.push(s);
  return s;
}

describe('the test-fire station', () => {
  it('fires the four examined rounds of each newly engraved firearm and enters them as testfire, and they pass', async () => {
    const rig = await qaRig({ kind: 'ca-4075', rounds: 100, minGrade: 'B' });
    await station(rig, PERFECT, { brands: ['Acme Ball'] }).start();
    await rig.h.line.submitOrder(order('o1', 3), 'http', 'erp');
    await rig.h.line.startOrder('o1', 'operator');
    await until(
      async () => (await rig.h.line.orderView('o1')).firearms.every((f) => f.qa?.result === 'pass'),
      'all verified',
    );
    for (const f of (await rig.h.line.orderView('o1')).firearms) {
      const record = await rig.qa.firearm(f.serial);
      expect(record.reads.map((r) => r.round).sort((a, b) => a! - b!)).toEqual([1, 2, 99, 100]);
      expect(
        record.reads.every(
          (r) => r.by === 'testfire' && r.ammo.brand === 'Acme Ball' && r.station === 'testfire',
        ),
      ).toBe(true);
      // One box of ammunition per firearm.
      expect(new Set(record.reads.map((r) => r.ammo.lacquered)).size).toBe(1);
      expect(f.qa).toMatchObject({ by: 'testfire', casings: 4, policy: 'ca-4075' });
    }
    expect(rig.h.records.filter((r) => r.event === 'verified')).toHaveLength(3);
  });

  it('sends a firearm whose cases cannot identify it to rework, and the new pin is test-fired in its turn', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 3, minGrade: 'C' });
    // No gear ring is ever read: a text read alone cannot identify a code, so every pin fails.
    const s = station(rig, { ...PERFECT, gearMissing: 1 });
    await s.start();
    await rig.h.line.submitOrder(order('o1', 1), 'http', 'erp');
    await rig.h.line.startOrder('o1', 'operator');
    await until(() => rig.h.records.filter((r) => r.event === 'voided').length >= 2, 'two pins failed QA');
    await s.stop();
    const record = await rig.qa.firearm('O1-0000');
    const failed = record.firearm.voided.slice(0, 2);
    expect(failed.map((v) => v.qa?.result)).toEqual(['fail', 'fail']);
    // Each code failed at its first case, which is all the test fire entered for it.
    expect(record.reads.map((r) => r.code.text).slice(0, 2)).toEqual(failed.map((v) => v.text));
    expect(record.reads.every((r) => r.by === 'testfire' && r.gear === undefined)).toBe(true);
    // Every pin marked was a new code, each marked once.
    const marked = rig.device.marks.filter((m) => m.outcome === 'done').map((m) => m.text);
    expect(new Set(marked).size).toBe(marked.length);
  });

  it('on start, fires the rounds still missing for firearms engraved before it listened', async () => {
    const rig = await qaRig({ kind: 'ca-4075', rounds: 50 }, { markingTimeMs: 100 });
    await rig.h.line.submitOrder(order('o1', 3), 'http', 'erp');
    await rig.h.line.startOrder('o1', 'operator');
    await until(
      async () => (await rig.h.line.orderView('o1')).firearms[0]!.state === 'engraved',
      'first engraved',
    );
    const first = (await rig.h.line.orderView('o1')).firearms[0]!;
    const cw = first.code!;
    await rig.qa.submit(
      {
        serial: first.serial,
        text: cw.text,
        gear: cw.gear,
        ammo: { brand: 'Bench', lacquered: false },
        round: 50,
      },
      'alice',
    );
    await station(rig, PERFECT).start();
    await until(
      async () => (await rig.h.line.orderView('o1')).firearms.every((f) => f.qa?.result === 'pass'),
      'all verified',
    );
    const reads = (await rig.qa.firearm(first.serial)).reads;
    expect(reads.map((r) => [r.round, r.by])).toEqual([
      [50, 'alice'],
      [1, 'testfire'],
      [2, 'testfire'],
      [49, 'testfire'],
    ]);
  });

  it('is started by the embedded demo after the daemon is up, with the daemon’s QA service', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 2, minGrade: 'C' });
    const hooks: Array<() => Promise<void>> = [];
    const stops: Array<() => Promise<void>> = [];
    const config = configSchema.parse({
      line: { id: 'l', dataDir: rig.dir },
      issuer: { number: 1, licence: 'L', key: KEY, indexBlock: { start: 0, size: 10 } },
      auth: { erpToken: 'erp-token-0123456789' },
      engraver: { url: 'modbus-tcp://127.0.0.1:1502?unit=1' },
      mqtt: { url: 'mqtt://127.0.0.1:1883' },
      simulators: {
        testfire: {
          enabled: true,
          delayMs: 0,
          gearMissing: 0,
          toothIllegible: 0,
          charIllegible: 0,
          charMisread: 0,
          toothFlipped: 0,
        },
      },
    });
    const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet };
    const daemon = {
      config,
      logger: quiet,
      line: rig.h.line,
      qa: rig.qa,
      afterStart: (fn: () => Promise<void>) => hooks.push(fn),
      onStop: (fn: () => Promise<void>) => stops.push(fn),
      beforeStop: (fn: () => Promise<void>) => stops.push(fn),
    } as unknown as Daemon;
    const started = await startSimulators(daemon);
    expect(started.testfire).toBeUndefined();
    for (const fn of hooks) await fn();
    expect(started.testfire).toBeInstanceOf(TestFireStation);
    await rig.h.line.submitOrder(order('o1', 2), 'http', 'erp');
    await rig.h.line.startOrder('o1', 'operator');
    await until(
      async () => (await rig.h.line.orderView('o1')).firearms.every((f) => f.qa?.result === 'pass'),
      'verified by the demo',
    );
    for (const fn of stops) await fn();
  });
});
