/**
 * The test-fire station sending images: each case is rendered by the case-image simulator, read
 * by the image reader, and its read entered; the firearms pass from their images alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_DEGRADATION } from '../../simulators/testfire/model.js';
import { TestFireStation } from '../../simulators/testfire/station.js';
import { order } from '../line/harness.js';
import { cleanupRigs, qaRig, until } from './support.js';

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
});
