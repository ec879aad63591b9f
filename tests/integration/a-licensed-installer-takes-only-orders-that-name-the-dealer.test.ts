/**
 * A line that engraves as a licensed installer (issuer kind `engraver`) marks firearms for a
 * dealer, and every record it sends names the dealer's licence. An order without a destination
 * is refused at intake, by HTTP and by the drop folder alike, and nothing of it is stored.
 */
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../simulators/broker/embedded.js';
import { ERP_TOKEN, LineRig, until } from '../support/line-rig.js';

const HEADER = 'order_id,make,model,caliber,serial,target,destination';

let broker: EmbeddedBroker;
let rig: LineRig;

beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
  rig = new LineRig({ markingTimeMs: 0, mqttUrl: broker.url, dropFolder: true });
  await rig.start();
  const config = await readFile(rig.configFile, 'utf8');
  expect(config).toMatch(/kind: manufacturer/);
  await writeFile(rig.configFile, config.replace(/kind: manufacturer/, 'kind: engraver'));
  await rig.startDaemon();
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  await broker?.stop();
});

async function orderIds(): Promise<string[]> {
  return (await rig.api('GET', '/api/v1/orders')).body.all.map((o: { id: string }) => o.id).sort();
}

async function drop(name: string, lines: string[]): Promise<void> {
  const folder = rig.dropDir;
  await writeFile(join(folder, `.${name}.tmp`), `${lines.join('\r\n')}\r\n`);
  await rename(join(folder, `.${name}.tmp`), join(folder, name));
}

async function landed(sub: 'processed' | 'rejected', name: string): Promise<string[]> {
  return until(async () => {
    const files = await readdir(join(rig.dropDir, sub)).catch(() => [] as string[]);
    const mine = files.filter((f) => f.startsWith(name.replace(/\.csv$/, '')));
    return mine.some((f) => f.endsWith('.csv')) && mine.some((f) => f.includes('report')) ? mine : undefined;
  }, `${name} in ${sub}/`);
}

const order = (id: string, serial: string, destination?: string) => ({
  id,
  make: 'Acme',
  model: 'P1',
  ...(destination ? { destination } : {}),
  firearms: [{ serial }],
});

describe('a licensed installer', () => {
  it('refuses by HTTP an order without a destination, naming the field, and takes one with it', async () => {
    const refused = await rig.api('POST', '/api/v1/orders', order('H-1', 'HS-1'), ERP_TOKEN);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('ORDER_INVALID');
    expect(refused.body.problems).toEqual([
      { path: 'destination', reason: expect.stringMatching(/licensed installer.*dealer licence/) },
    ]);
    const taken = await rig.api('POST', '/api/v1/orders', order('H-2', 'HS-2', 'FFL-12345'), ERP_TOKEN);
    expect(taken.status).toBe(201);
    expect(taken.body).toMatchObject({ id: 'H-2', destination: 'FFL-12345' });
    expect(await orderIds()).toEqual(['H-2']);
  });

  it('moves a drop-folder file with an order without a destination to rejected/, the report saying why, and stores none of it', async () => {
    await drop('no-dealer.csv', [HEADER, 'F-1,Acme,P1,,FS-1,,FFL-12345', 'F-2,Acme,P1,,FS-2,,']);
    const files = await landed('rejected', 'no-dealer.csv');
    const report = await readFile(
      join(rig.dropDir, 'rejected', files.find((f) => f.endsWith('.report.txt'))!),
      'utf8',
    );
    expect(report).toMatch(/row 3/i);
    expect(report).toMatch(/destination/);
    expect(report).toMatch(/licensed installer.*dealer licence/);
    expect(report).not.toMatch(/row 2\b/i);
    expect(await orderIds()).toEqual(['H-2']);

    await drop('dealers.csv', [HEADER, 'F-3,Acme,P1,,FS-3,,FFL-12345']);
    await until(async () => ((await orderIds()).includes('F-3') ? true : undefined), 'F-3 stored');
  });
});
