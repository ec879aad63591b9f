import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import {
  assertJob,
  commandWrites,
  decodeStatus,
  jobRegisters,
  jobWrites,
  mergeReads,
  statusReads,
} from '../../src/engraver/modbus/register-map.js';
import { loadProfile, type ModbusProfileInput, parseProfile } from '../../src/engraver/profile.js';
import type { EngraveJob } from '../../src/engraver/types.js';
import { isStamplineError } from '../../src/errors.js';

const sl1 = loadProfile();

const jobs = fc.record({
  jobId: fc.integer({ min: 1, max: 0xffffffff }),
  text: fc.stringMatching(/^[\x20-\x7e]{0,16}$/),
  gear: fc.stringMatching(/^[01]{0,96}$/),
  mirror: fc.boolean(),
  target: fc.constantFrom('firing-pin' as const, 'breech-face' as const),
  recipe: fc.record({
    power: fc.integer({ min: 0, max: 1000 }),
    frequency: fc.integer({ min: 0, max: 65535 }),
    speed: fc.integer({ min: 0, max: 65535 }),
    passes: fc.integer({ min: 1, max: 20 }),
  }),
});

function job(overrides: Partial<EngraveJob> = {}): EngraveJob {
  return {
    jobId: 0x00010002,
    text: 'AB3',
    gear: '1011',
    mirror: true,
    target: 'breech-face',
    recipe: { power: 500, frequency: 20, speed: 300, passes: 2 },
    ...overrides,
  };
}

function variant(overrides: Partial<ModbusProfileInput>): ReturnType<typeof parseProfile> {
  const { source: _source, ...base } = sl1;
  return parseProfile({ ...base, ...overrides }, 'variant');
}

describe('sl1-modbus register map', () => {
  it('loads any valid job so that the reference engraver marks exactly that job', () => {
    fc.assert(
      fc.property(jobs, (j) => {
        const device = new EngraverDevice({ markingTimeMs: 60_000 });
        for (const w of jobWrites(sl1, j)) device.writeHolding(w.address, w.values);
        for (const c of commandWrites(sl1, 'start')) {
          if (c.kind === 'coil') device.writeCoil(c.address, c.on);
        }
        expect(device.marks).toHaveLength(1);
        expect(device.marks[0]).toMatchObject({
          jobId: j.jobId,
          text: j.text,
          gear: j.gear,
          mirror: j.mirror,
          breechFace: j.target === 'breech-face',
          recipe: j.recipe,
        });
        device.close();
      }),
      { numRuns: 200 },
    );
  });

  it('reads the status the reference engraver reports', () => {
    const device = new EngraverDevice({ markingTimeMs: 60_000 });
    for (const w of jobWrites(sl1, job({ jobId: 0xabcd1234 }))) device.writeHolding(w.address, w.values);
    device.writeCoil(0, true);
    const reads = statusReads(sl1, true);
    const image = mergeReads(
      reads,
      reads.map((r) => device.readHolding(r.address, r.count)),
    );
    expect(decodeStatus(sl1, image)).toEqual({
      status: { state: 'BUSY', fault: 0, completed: 0, activeJob: 0xabcd1234 },
      interfaceVersion: 1,
    });
    device.close();
  });

  it('loads a job with one FC16 write of registers 10..33', () => {
    const writes = jobWrites(sl1, job());
    expect(writes).toHaveLength(1);
    expect(writes[0]!.address).toBe(10);
    expect(writes[0]!.values).toEqual([
      1, 2, 3, 0x4142, 0x3300, 0, 0, 0, 0, 0, 0, 0xb000, 0, 0, 0, 0, 0, 4, 3, 0, 500, 20, 300, 2,
    ]);
  });

  it('reads the status with one FC3 request (with the interface version: one of six registers)', () => {
    expect(statusReads(sl1, false)).toEqual([{ address: 1, count: 5 }]);
    expect(statusReads(sl1, true)).toEqual([{ address: 0, count: 6 }]);
  });

  it('refuses a job the engraver cannot take before anything is sent', () => {
    const bad: [Partial<EngraveJob>, RegExp][] = [
      [{ jobId: 0 }, /jobId 0/],
      [{ jobId: 2 ** 32 }, /jobId/],
      [{ text: 'X'.repeat(17) }, /17 characters/],
      [{ text: 'Ünïcode' }, /printable ASCII/],
      [{ gear: '0'.repeat(97) }, /97 bits/],
      [{ gear: '012' }, /0 and 1/],
      [{ recipe: { power: 1001, frequency: 1, speed: 1, passes: 1 } }, /recipe.power is 1001/],
      [{ recipe: { power: 1, frequency: 1, speed: 1, passes: 0 } }, /recipe.passes is 0/],
      [{ recipe: { power: 1.5, frequency: 1, speed: 1, passes: 1 } }, /recipe.power/],
    ];
    for (const [overrides, why] of bad) {
      let caught: unknown;
      try {
        assertJob(sl1, job(overrides));
      } catch (err) {
        caught = err;
      }
      expect(isStamplineError(caught, 'ENGRAVER_BAD_JOB')).toBe(true);
      expect((caught as Error).message).toMatch(why);
    }
  });
});

describe('profile options', () => {
  it('orders the words of a uint32 as the profile says', () => {
    const p = variant({ uint32WordOrder: 'low-first' });
    const image = jobRegisters(p, job({ jobId: 0x00010002 }));
    expect([image.get(10), image.get(11)]).toEqual([0x0002, 0x0001]);
    const status = decodeStatus(
      p,
      new Map([
        [1, 1],
        [2, 0],
        [3, 0],
        [4, 0x5678],
        [5, 0x1234],
      ]),
    );
    expect(status.status.activeJob).toBe(0x12345678);
  });

  it('packs text and gear in the byte and bit order the profile says', () => {
    const p = variant({
      text: { maxLength: 16, byteOrder: 'low-first' },
      gear: { maxBits: 96, bitOrder: 'lsb-first' },
    });
    const image = jobRegisters(p, job({ text: 'AB3', gear: '1011' }));
    expect([image.get(13), image.get(14)]).toEqual([0x4241, 0x0033]);
    expect(image.get(21)).toBe(0b1101);
  });

  it('sets the flag bits the profile names', () => {
    const p = variant({ flags: { mirror: 4, breechFace: 7 } });
    expect(jobRegisters(p, job({ mirror: true, target: 'breech-face' })).get(28)).toBe(0x90);
    expect(jobRegisters(p, job({ mirror: false, target: 'firing-pin' })).get(28)).toBe(0);
  });

  it('writes only the job fields, id last, when the engraver refuses undefined registers', () => {
    const writes = jobWrites(variant({ jobWrite: 'per-field' }), job());
    expect(writes.map((w) => [w.address, w.values.length])).toEqual([
      [30, 4],
      [10, 19],
    ]);
  });

  it('splits a job that does not fit one request', () => {
    const p = variant({
      registers: { ...sl1.registers, power: 200, frequency: 201, speed: 202, passes: 203 },
    });
    const writes = jobWrites(p, job());
    expect(writes.every((w) => w.values.length <= 123)).toBe(true);
    expect(writes.map((w) => w.address)).toEqual([200, 10]);
  });

  it('maps several codes to one state and the engraver fault codes to the line codes', () => {
    const p = variant({
      stateCodes: { READY: [0, 7], BUSY: [1, 8], DONE: 2, FAULT: 3 },
      faultCodes: { '31': 3 },
    });
    const read = (state: number, fault: number) =>
      decodeStatus(
        p,
        new Map([
          [1, state],
          [2, fault],
          [3, 0],
          [4, 0],
          [5, 9],
        ]),
      ).status;
    expect(read(8, 0).state).toBe('BUSY');
    expect(read(7, 0).state).toBe('READY');
    expect(read(3, 31)).toMatchObject({ state: 'FAULT', fault: 3 });
    expect(read(3, 5)).toMatchObject({ state: 'FAULT', fault: 5 });
    let caught: unknown;
    try {
      read(9, 0);
    } catch (err) {
      caught = err;
    }
    expect(isStamplineError(caught, 'ENGRAVER_PROTOCOL')).toBe(true);
  });

  it('sends commands as coils or register values, with a release write when asked', () => {
    const p = variant({
      commands: {
        start: { register: 40, value: 1, releaseValue: 0 },
        abort: { coil: 5, release: true },
        reset: { coil: 6 },
      },
    });
    expect(commandWrites(p, 'start')).toEqual([
      { kind: 'register', address: 40, value: 1 },
      { kind: 'register', address: 40, value: 0 },
    ]);
    expect(commandWrites(p, 'abort')).toEqual([
      { kind: 'coil', address: 5, on: true },
      { kind: 'coil', address: 5, on: false },
    ]);
    expect(commandWrites(p, 'reset')).toEqual([{ kind: 'coil', address: 6, on: true }]);
  });

  it('without a gear length register, takes only whole registers of gear', () => {
    const p = variant({ registers: { ...sl1.registers, gearLength: null } });
    expect(() => assertJob(p, job({ gear: '1011' }))).toThrow(/multiple of 16/);
    expect(() => assertJob(p, job({ gear: '1'.repeat(32) }))).not.toThrow();
  });
});
