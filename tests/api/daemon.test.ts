/**
 * The daemon serves the API with access control, QA and the web UI wired in, and stops in order
 * with an event stream open, twice if asked.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../simulators/broker/mosquitto.js';
import { startSimulators } from '../../simulators/embedded.js';
import { parseConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import { makeDir, removeDir, until } from '../line/harness.js';

const ERP = 'daemon-test-erp-token-0001';
const PASSWORD = 'correct horse battery staple';

// biome-ignore lint/suspicious/noExplicitAny: the test reads the API's JSON answers
const json = async (res: Response): Promise<any> => res.json();

let dir: string;
let daemon: Daemon;

beforeEach(async () => {
  dir = await makeDir();
  const [enginePort, brokerPort] = [await freePort(), await freePort()];
  const config = parseConfig({
    line: { id: 'daemon-test', dataDir: dir },
    issuer: {
      number: 7,
      licence: 'FFL-TEST-0001',
      key: '00112233445566778899aabbccddeeff',
      indexBlock: { start: 0, size: 1000 },
    },
    http: { host: '127.0.0.1', port: 0 },
    auth: { erpToken: ERP },
    engraver: {
      url: `modbus-tcp://127.0.0.1:${enginePort}?unit=1`,
      id: 'test-laser',
      requestTimeoutMs: 1000,
    },
    mqtt: { url: `mqtt://127.0.0.1:${brokerPort}`, protocolVersion: 4, reconnectMs: 200 },
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
});

afterEach(async () => {
  await daemon.stop();
  await removeDir(dir);
});

describe('the daemon', () => {
  it('serves orders, QA, certificates and the page to a logged-in user, and stops with a stream open', async () => {
    expect(daemon.qa).toBeDefined();
    expect(daemon.auth).toBeDefined();
    await daemon.auth!.addUser({ name: 'ada', role: 'admin', password: PASSWORD }, 'cli:test');
    const url = daemon.address!.url;

    const login = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ada', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const asAda = { cookie, 'content-type': 'application/json' };

    const events = await fetch(`${url}/api/v1/events`, { headers: { cookie } });
    expect(events.status).toBe(200);
    const stream = events.body!.getReader();

    const order = await fetch(`${url}/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ERP}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'D-1',
        make: 'Acme',
        model: 'P1',
        firearms: [{ serial: 'D1' }, { serial: 'D2' }],
      }),
    });
    expect(order.status).toBe(201);
    const start = await fetch(`${url}/api/v1/orders/D-1/start`, {
      method: 'POST',
      headers: asAda,
      body: '{}',
    });
    expect(start.status).toBe(200);
    await until(
      async () =>
        (await json(await fetch(`${url}/api/v1/orders/D-1`, { headers: asAda }))).order.state === 'engraved',
      'the order done',
    );

    const record = await json(await fetch(`${url}/api/v1/records/D1`, { headers: asAda }));
    expect(record.firearm).toMatchObject({ serial: 'D1', state: 'engraved' });

    const certificate = await fetch(`${url}/certificates/firearms/D1`, { headers: { cookie } });
    expect(certificate.status).toBe(200);
    expect(certificate.headers.get('content-type')).toContain('text/html');
    expect(await certificate.text()).toContain(record.firearm.code.text.slice(0, 5));

    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^stampline_engraver_jobs_total\{result="done"\} 2$/m);
    expect(metrics).toContain('process_resident_memory_bytes');

    await daemon.stop();
    for (;;) if ((await stream.read()).done) break;
    await daemon.stop();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
