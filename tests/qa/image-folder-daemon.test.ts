/**
 * The daemon watches `qa.imageFolder` when it is configured: an image saved there under a
 * firearm's serial is read, recorded as a read from an image, and decides the firearm.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../simulators/broker/mosquitto.js';
import { caseImageModel } from '../../simulators/case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../../simulators/case-image/render.js';
import { startSimulators } from '../../simulators/embedded.js';
import { parseConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import { makeDir, order, removeDir, until } from '../line/harness.js';

let dir = '';
let daemon: Daemon | undefined;

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  if (dir) await removeDir(dir);
});

describe('the daemon with an image folder', () => {
  it('records the read of an image saved under a serial, and the verdict follows', async () => {
    dir = await makeDir();
    const images = join(dir, 'images');
    const [enginePort, brokerPort] = [await freePort(), await freePort()];
    const config = parseConfig({
      line: { id: 'image-folder-test', dataDir: join(dir, 'data') },
      issuer: {
        number: 7,
        licence: 'FFL-TEST-0001',
        key: '00112233445566778899aabbccddeeff',
        indexBlock: { start: 0, size: 1000 },
      },
      http: { host: '127.0.0.1', port: 0 },
      auth: { erpToken: 'image-folder-test-erp-token' },
      engraver: { url: `modbus-tcp://127.0.0.1:${enginePort}?unit=1`, requestTimeoutMs: 1000 },
      mqtt: { url: `mqtt://127.0.0.1:${brokerPort}`, protocolVersion: 4, reconnectMs: 200 },
      qa: {
        policy: { kind: 'every-case', cases: 1, minGrade: 'C' },
        imageFolder: { path: images, pollMs: 100, settleMs: 200, brand: 'Bench FMJ', station: 'bench 4' },
      },
      simulators: {
        engraver: { enabled: true, transport: 'modbus-tcp', port: enginePort, markingTimeMs: 10 },
        broker: { enabled: true, port: brokerPort },
        registry: { enabled: true },
      },
    });
    const quiet = new Writable({ write: (_chunk, _enc, done) => done() });
    daemon = new Daemon(config, createLogger({ level: 'warn', pretty: false }, quiet), {
      beforeConnect: async (d) => {
        await startSimulators(d);
      },
    });
    await daemon.start();
    const line = daemon.line!;
    await line.submitOrder(order('o1', 1), 'http', 'erp');
    await line.startOrder('o1', 'operator');
    await until(
      async () => (await line.orderView('o1')).firearms[0]!.state === 'engraved',
      'engraved',
      60_000,
    );
    const firearm = (await line.orderView('o1')).firearms[0]!;
    await mkdir(images, { recursive: true });
    const image = renderCaseImage(firearm.code!, caseImageModel(0, { size: 600 }), 5);
    await writeFile(join(images, `${firearm.serial}_0001.png`), await encodeCaseImage(image));
    await until(
      async () => (await readdir(join(images, 'processed')).catch(() => [])).length === 1,
      'the image taken',
      60_000,
    );
    const record = await daemon.qa!.firearm(firearm.serial);
    expect(record.reads).toHaveLength(1);
    expect(record.reads[0]).toMatchObject({
      by: 'image-folder',
      source: 'image',
      station: 'bench 4',
      ammo: { brand: 'Bench FMJ', lacquered: false },
    });
    await until(
      async () => (await line.orderView('o1')).firearms[0]!.qa?.result === 'pass',
      'passed',
      30_000,
    );
  }, 120_000);
});
