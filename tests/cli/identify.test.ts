/**
 * `stampline identify` on the line PC, beside the running line: it names the firearm of a case
 * from the line's files, a voided code's too, without taking the store's lock.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../src/cli.js';
import type { Firearm } from '../../src/line/model.js';
import { KEY, order } from '../line/harness.js';
import { cleanupRigs, FEDERAL, type QaRig, qaRig, until } from '../qa/support.js';

let rig: QaRig;
let config: string;
let reworked: Firearm;
let voided: string;

async function stampline(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((b) => {
    out += String(b);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((b) => {
    err += String(b);
    return true;
  });
  try {
    const code = await main(['node', 'stampline', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

beforeAll(async () => {
  rig = await qaRig({ kind: 'every-case', cases: 1, minGrade: 'C' });
  await rig.h.line.submitOrder(order('o1', 2, { destination: 'Dealer 9' }), 'http', 'erp');
  await rig.h.line.startOrder('o1', 'operator');
  await until(async () => (await rig.h.line.orderView('o1')).order.state === 'engraved', 'o1 done');
  const f = (await rig.h.line.orderView('o1')).firearms[0]!;
  voided = f.code!.text;
  await rig.qa.submit({ serial: f.serial, text: '??????????', ammo: FEDERAL }, 'q');
  await until(async () => (await rig.h.line.orderView('o1')).order.state === 'engraved', 'new pin');
  reworked = (await rig.h.line.orderView('o1')).firearms[0]!;
  config = join(rig.dir, 'line.yaml');
  await writeFile(
    config,
    stringify({
      line: { id: 'cli', dataDir: rig.dir },
      issuer: {
        number: 1,
        kind: 'manufacturer',
        licence: 'FFL-TEST-0001',
        key: KEY,
        indexBlock: { start: 1000, size: 100000 },
      },
      auth: { erpToken: 'erp-token-for-the-cli-test' },
      engraver: { url: 'modbus-tcp://127.0.0.1:1502?unit=1', id: 'eng-1' },
      mqtt: { url: 'mqtt://127.0.0.1:1883' },
    }),
  );
}, 60_000);

afterAll(cleanupRigs);

describe('stampline identify', () => {
  it('names the firearm of a voided code while the line runs, and says the code is void', async () => {
    const r = await stampline('identify', '--config', config, '--read', voided);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^IDENTIFIED: code /);
    expect(r.out).toContain(`serial ${reworked.serial}`);
    expect(r.out).toContain('to Dealer 9');
    expect(r.out).toMatch(/was VOIDED .*failed QA.*\(pin scrapped\)/);
  });

  it('weighs several cases together, a ring without text included, and prints JSON', async () => {
    const code = reworked.code!;
    const half = `${code.text.slice(0, 5)}?????`;
    const r = await stampline(
      'identify',
      '--data-dir',
      rig.dir,
      '--config',
      config,
      '--read',
      half,
      '--read',
      `/${code.gear}`,
      '--json',
    );
    expect(r.code).toBe(0);
    const a = JSON.parse(r.out);
    expect(a).toMatchObject({
      outcome: 'identified',
      firearm: { serial: reworked.serial, code: { status: 'current' } },
    });
    expect(a.issuedCodes).toBe(3);
  });

  it('exits 1 when nothing is identified, and 2 for a read that is not one or a folder that is not a line', async () => {
    const none = await stampline('identify', '--config', config, '--read', '??????????');
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/^NOT IDENTIFIED/);
    const bad = await stampline('identify', '--config', config, '--read', 'ABC/0101');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/reads\[0\]\.gear: must be 88 characters/);
    const elsewhere = await stampline(
      'identify',
      '--config',
      config,
      '--data-dir',
      join(rig.dir, 'nope'),
      '--read',
      voided,
    );
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.err).toMatch(/holds no code index/);
  });
});
