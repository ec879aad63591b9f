/**
 * A read records where it came from: typed, or from an image with what the person corrected of
 * the reader's read. Reads logged before these fields existed stay readable after a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ReadLog } from '../../src/qa/read-log.js';
import type { StoredRead } from '../../src/qa/types.js';
import { order } from '../line/harness.js';
import { cleanupRigs, FEDERAL, qaRig, readOf, until } from './support.js';

afterEach(cleanupRigs);

const FIVE = { kind: 'every-case', cases: 5, minGrade: 'C' } as const;

describe('the source of a read', () => {
  it('records typed reads, image reads and corrections, and keeps older reads without them readable', async () => {
    const rig = await qaRig(FIVE);
    await rig.h.line.submitOrder(order('o1', 1), 'http', 'erp');
    await rig.h.line.startOrder('o1', 'operator');
    await until(async () => (await rig.h.line.orderView('o1')).firearms[0]!.state === 'engraved', 'engraved');
    const firearm = (await rig.h.line.orderView('o1')).firearms[0]!;
    const code = firearm.code!;
    const clean = readOf(code, 'A');

    const typed = await rig.qa.submit({ serial: firearm.serial, ...clean, ammo: FEDERAL }, 'ann');
    expect(typed.read.source).toBe('typed');
    expect(typed.read.corrected).toBeUndefined();

    // an image whose read the person recorded as it was, the gear read through dashes ignored
    const machine = { text: code.text, gear: clean.gear! };
    const asRead = await rig.qa.submit(
      {
        serial: firearm.serial,
        text: `${code.text.slice(0, 5)}-${code.text.slice(5)}`,
        gear: clean.gear,
        ammo: FEDERAL,
        imageRead: machine,
      },
      'ann',
    );
    expect(asRead.read.source).toBe('image');
    expect(asRead.read.corrected).toBeUndefined();

    // one a person corrected: a character of the text to ?, and a tooth of the gear
    const changed = `${code.text.slice(0, 3)}?${code.text.slice(4)}`;
    const gearQ = `?${clean.gear!.slice(1)}`;
    const fixed = await rig.qa.submit(
      { serial: firearm.serial, text: changed, gear: gearQ, ammo: FEDERAL, imageRead: machine },
      'ann',
    );
    expect(fixed.read).toMatchObject({
      source: 'image',
      corrected: { text: { from: code.text, to: changed }, gear: { from: clean.gear, to: gearQ } },
    });
    expect(
      rig.h.audit
        .filter((e) => e.action === 'qa.read')
        .map((e) => (e as { after?: { source?: string } }).after?.source),
    ).toEqual(['typed', 'image', 'image']);

    // a read logged before the fields existed, then a restart: it is read back as it was
    await rig.stop();
    const log = new ReadLog({ dataDir: rig.dir });
    await log.start();
    const { source: _s, corrected: _c, ...old } = fixed.read;
    const older: StoredRead = { ...old, id: fixed.read.id + 1, station: 'bench 2 (image, corrected)' };
    await log.append({ type: 'read', seq: firearm.seq, read: older });
    await log.stop();
    await rig.restart(FIVE);
    const reads = (await rig.qa.firearm(firearm.serial)).reads;
    expect(reads.map((r) => r.source)).toEqual(['typed', 'image', 'image', undefined]);
    expect(reads[3]).toMatchObject({ id: older.id, station: 'bench 2 (image, corrected)' });
    expect(reads[3]).not.toHaveProperty('source');
  });
});
