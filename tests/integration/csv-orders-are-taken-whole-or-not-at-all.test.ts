/**
 * The ERP drops CSV files into the line's folder. A valid file becomes orders and moves to
 * processed/; a file with any bad row, or a serial the line already holds, moves to rejected/
 * with a report naming each bad row, and nothing of it is stored.
 */
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../simulators/broker/embedded.js';
import { LineRig, until } from '../support/line-rig.js';

const HEADER = 'order_id,make,model,caliber,serial,target,destination';

let broker: EmbeddedBroker;
let rig: LineRig;
let folder: string;

beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
  rig = new LineRig({ markingTimeMs: 0, mqttUrl: broker.url, dropFolder: true });
  await rig.start();
  folder = rig.dropDir;
  await rig.startDaemon();
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  await broker?.stop();
});

/** Writes a file the way integrators are told to: a temporary name, then a rename. */
async function drop(name: string, lines: string[]): Promise<void> {
  await writeFile(join(folder, `.${name}.tmp`), `${lines.join('\r\n')}\r\n`);
  await rename(join(folder, `.${name}.tmp`), join(folder, name));
}

async function landed(sub: 'processed' | 'rejected', name: string): Promise<string[]> {
  return until(async () => {
    const files = await readdir(join(folder, sub)).catch(() => [] as string[]);
    const mine = files.filter((f) => f.startsWith(name.replace(/\.csv$/, '')));
    return mine.some((f) => f.endsWith('.csv')) ? mine : undefined;
  }, `${name} in ${sub}/`);
}

async function orderIds(): Promise<string[]> {
  return (await rig.api('GET', '/api/v1/orders')).body.all.map((o: { id: string }) => o.id).sort();
}

describe('the CSV drop folder', () => {
  it('takes a valid file whole: its orders are stored and the file moves to processed/', async () => {
    await drop('good.csv', [
      HEADER,
      'PO-1,Acme,P1,9mm,G-1,firing-pin,',
      'PO-1,Acme,P1,9mm,G-2,firing-pin,',
      'PO-2,Acme,P2,,G-3,,FFL-12345',
    ]);
    await landed('processed', 'good.csv');
    expect(await orderIds()).toEqual(['PO-1', 'PO-2']);
    const po2 = (await rig.api('GET', '/api/v1/orders/PO-2')).body;
    expect(po2.order).toMatchObject({
      model: 'P2',
      target: 'firing-pin',
      destination: 'FFL-12345',
      source: 'drop-folder',
    });
  });

  it('rejects a file with one bad row among good ones, with a report naming the row, and stores none of it', async () => {
    await drop('one-bad.csv', [HEADER, 'PO-3,Acme,P1,,B-1,,', 'PO-3,Acme,P1,,b 2!,,', 'PO-3,Acme,P1,,B-3,,']);
    const files = await landed('rejected', 'one-bad.csv');
    const report = await readFile(
      join(folder, 'rejected', files.find((f) => f.endsWith('.report.txt'))!),
      'utf8',
    );
    expect(report).toMatch(/row 3/i);
    expect(report).toMatch(/serial/i);
    expect(await orderIds()).toEqual(['PO-1', 'PO-2']);
  });

  it('rejects a malformed file (a ragged row) with a report, and stores nothing', async () => {
    await drop('ragged.csv', [HEADER, 'PO-4,Acme,P1,,R-1,,', 'PO-4,Acme,P1']);
    const files = await landed('rejected', 'ragged.csv');
    expect(files.some((f) => f.endsWith('.report.txt'))).toBe(true);
    expect(await orderIds()).toEqual(['PO-1', 'PO-2']);
  });

  it('rejects a file whose serial the line already holds, naming the serial, and leaves the stored order unchanged', async () => {
    const before = (await rig.api('GET', '/api/v1/orders/PO-1')).body;
    await drop('dup.csv', [HEADER, 'PO-5,Acme,P1,,D-1,,', 'PO-5,Acme,P1,,G-2,,']);
    const files = await landed('rejected', 'dup.csv');
    const report = await readFile(
      join(folder, 'rejected', files.find((f) => f.endsWith('.report.txt'))!),
      'utf8',
    );
    expect(report).toContain('G-2');
    expect(await orderIds()).toEqual(['PO-1', 'PO-2']);
    expect((await rig.api('GET', '/api/v1/orders/PO-1')).body).toEqual(before);
  });
});
