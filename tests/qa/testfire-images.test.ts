/**
 * The test-fire station sending images: each case is rendered by the case-image simulator, read
 * by the image reader, and its read entered; the firearms pass from their images alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulators } from '../../simulators/embedded.js';
import { DEFAULT_DEGRADATION } from '../../simulators/testfire/model.js';
import { TestFireStation } from '../../simulators/testfire/station.js';
import { configSchema } from '../../src/config/schema.js';
import type { Daemon } from '../../src/daemon.js';
import { order } from '../line/harness.js';
import { cleanupRigs, KEY, qaRig, until } from './support.js';

const stations: TestFireStation[] = [];
afterEach(async () => {
  for (const s of stations.splice(0)) await s.stop();
  await cleanupRigs();
});

describe('the test-fire station with images', () => {
  it('verifies firearms from the reads of their case images', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 1, minGrade: 'C' });
    const s = new TestFireStation({
      line: rig.h.line,
      qa: rig.qa,
      delayMs: 0,
      degradation: DEFAULT_DEGRADATION,
      lacqueredShare: 0,
      seed: 5,
      imageLevel: 1,
    });
    stations.push(s);
    await s.start();
    await rig.h.line.submitOrder(order('o1', 2), 'http', 'erp');
    await rig.h.line.startOrder('o1', 'operator');
    await until(
      async () => (await rig.h.line.orderView('o1')).firearms.every((f) => f.qa?.result === 'pass'),
      'all verified from images',
      120_000,
    );
    for (const f of (await rig.h.line.orderView('o1')).firearms) {
      const record = await rig.qa.firearm(f.serial);
      expect(record.reads).toHaveLength(1);
      expect(record.reads[0]).toMatchObject({
        station: 'testfire',
        source: 'image',
        decode: { matches: true },
      });
      expect(record.reads[0]!.corrected).toBeUndefined();
    }
  }, 180_000);

  it('is what the embedded demo runs when simulators.testfire.imageLevel is set', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 1, minGrade: 'C' });
    const hooks: Array<() => Promise<void>> = [];
    const stops: Array<() => Promise<void>> = [];
    const config = configSchema.parse({
      line: { id: 'l', dataDir: rig.dir },
      issuer: { number: 1, licence: 'L', key: KEY, indexBlock: { start: 0, size: 10 } },
      auth: { erpToken: 'erp-token-0123456789' },
      engraver: { url: 'modbus-tcp://127.0.0.1:1502?unit=1' },
      mqtt: { url: 'mqtt://127.0.0.1:1883' },
      simulators: { testfire: { enabled: true, delayMs: 0, imageLevel: 0, lacqueredShare: 0 } },
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
    await startSimulators(daemon);
    for (const fn of hooks) await fn();
    await rig.h.line.submitOrder(order('o1', 1), 'http', 'erp');
    await rig.h.line.startOrder('o1', 'operator');
    await until(
      async () => (await rig.h.line.orderView('o1')).firearms.every((f) => f.qa !== undefined),
      'decided from an image',
      120_000,
    );
    const serial = (await rig.h.line.orderView('o1')).firearms[0]!.serial;
    const reads = (await rig.qa.firearm(serial)).reads;
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ by: 'testfire', source: 'image', decode: { matches: true } });
    for (const fn of stops) await fn();
  }, 180_000);
});
