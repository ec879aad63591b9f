/**
 * A firearm shows its record queued while the broker is down: the line runs against a broker and
 * a registry of its own, the broker stops while the daemon runs, an order is received and
 * engraved, and each firearm's Records page and the order detail say its record is queued for
 * the registry, and since when. Once the broker is back on the same port, the outbox empties and
 * the same screens say accepted by the registry.
 *
 * Runs Debian's Chromium through playwright-core against `stampline start` with its simulated
 * engraver; the broker (aedes) and the simulated registry run in the test.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../simulators/broker/embedded.js';
import { SimulatedRegistry } from '../../simulators/registry/registry.js';
import { freePort, until } from '../support/line-rig.js';
import { requireCommands } from '../support/tools.js';
import { type ApiBody, BrowserLine, logIn, OPERATOR_TOKEN, PEOPLE, screensDir, sel } from './support/line.js';

/** A code as the screens write it, in two groups of five. */
const dashed = (code: string) => `${code.slice(0, 5)}-${code.slice(5)}`;
const ORDER = {
  id: 'ORD-Q1',
  make: 'Acme Arms',
  model: 'P9 Compact',
  caliber: '9mm',
  destination: 'FFL-1-23-456-78-9A-12345',
  firearms: [{ serial: 'Q1-0001' }, { serial: 'Q1-0002' }],
};

const canRun = requireCommands('chromium');
const line = new BrowserLine();
let brokerPort = 0;
let broker: EmbeddedBroker | undefined;
let registry: SimulatedRegistry | undefined;
let registryDir = '';

/** An instant as the screens write it in the browser's time zone, here UTC: `2026-12-07 23:41`. */
const minuteOf = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;

/** What the API says of a firearm's registry status. */
async function registryOf(serial: string) {
  const r = await line.erp('GET', `/api/v1/records/${serial}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.firearm.registry as {
    state: string;
    records: Array<{ state: string; event: string; code: string; since?: string; at?: string }>;
  };
}

const status = (state: string) => `${sel('registry-status')}[data-state="${state}"]`;

/** The order detail's view of one firearm, opened below its row. */
const detailOf = (serial: string) =>
  `tbody.firearm:has(${sel('firearm-row')}[data-serial="${serial}"]) ${sel('firearm-detail')}`;

describe.runIf(canRun)('a firearm whose record waits for the broker', () => {
  beforeAll(async () => {
    registryDir = await mkdtemp(join(tmpdir(), 'stampline-registry-'));
    brokerPort = await freePort();
    broker = await startEmbeddedBroker({ port: brokerPort });
    registry = new SimulatedRegistry({
      mqtt: { url: broker.url, protocolVersion: 4, clientId: `registry-${process.pid}-${Date.now()}` },
      file: join(registryDir, 'registry.jsonl'),
    });
    await registry.start();
    await line.start({ kind: 'every-case', cases: 1, minGrade: 'C' }, { mqttUrl: broker.url });
    await mkdir(screensDir(line.dir), { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await line.cleanup();
    await registry?.stop().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
    if (registryDir) await rm(registryDir, { recursive: true, force: true });
  });

  it('says queued, and since when, while the broker is down, and accepted once it is back', async () => {
    // The line reaches the broker first: its registry link is up.
    await until(async () => {
      const health: ApiBody = await (await fetch(`${line.url}/healthz`)).json();
      return health.checks?.registry?.link?.state === 'up' ? true : undefined;
    }, 'the line to connect to the broker');
    await broker!.stop();

    // The daemon goes on without the broker: the order is received, engraved, and its records wait.
    expect((await line.erp('POST', '/api/v1/orders', ORDER)).status).toBe(201);
    const started = await line.erp('POST', `/api/v1/orders/${ORDER.id}/start`, undefined, OPERATOR_TOKEN);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    await until(
      async () =>
        (await line.erp('GET', `/api/v1/orders/${ORDER.id}`)).body.order.state === 'engraved'
          ? true
          : undefined,
      'the order to be engraved while the broker is down',
      60_000,
    );
    const outbox = (await line.erp('GET', '/api/v1/outbox')).body;
    expect(outbox.depth).toBe(ORDER.firearms.length);
    expect(registry!.bindings()).toHaveLength(0);

    const serial = ORDER.firearms[0]!.serial;
    const queued = await registryOf(serial);
    expect(queued.state).toBe('queued');
    expect(queued.records).toHaveLength(1);
    const record = queued.records[0]!;
    expect(record).toMatchObject({ state: 'queued', event: 'engraved' });
    expect(record.since).toMatch(/Z$/);

    const page = await logIn(line, PEOPLE.operator, { timezoneId: 'UTC' });
    // The firearm's Records page: queued for the registry, since the minute the record was queued.
    await page.goto(`${line.url}/#/records/${serial}`);
    await page.waitForSelector(`${sel('record-facts')} ${status('queued')}`);
    expect(await page.textContent(`${status('queued')} .chip`)).toBe('queued for the registry');
    const queuedLine = page.locator(`${sel('registry-record')}[data-state="queued"]`);
    expect(await queuedLine.count()).toBe(1);
    expect(await queuedLine.textContent()).toBe(
      `Engraved record of ${dashed(record.code)}: queued since ${minuteOf(record.since!)}: waits for the registry's answer`,
    );
    await page.screenshot({ path: join(screensDir(line.dir), 'record-queued.png'), fullPage: true });

    // The order detail says the same of each firearm, opened below its row.
    await page.goto(`${line.url}/#/orders/${ORDER.id}`);
    for (const f of ORDER.firearms) {
      await page.click(`${sel('firearm-toggle')}[data-serial="${f.serial}"]`);
      await page.waitForSelector(`${detailOf(f.serial)} ${status('queued')}`);
      const since = (await registryOf(f.serial)).records[0]!.since!;
      expect(await page.textContent(`${detailOf(f.serial)} ${sel('registry-record')}`)).toContain(
        `queued since ${minuteOf(since)}`,
      );
    }

    // The broker is back on the same port: the outbox empties, the registry binds both codes,
    // and the open order detail turns to accepted without a reload.
    broker = await startEmbeddedBroker({ port: brokerPort });
    await until(
      async () => ((await line.erp('GET', '/api/v1/outbox')).body.depth === 0 ? true : undefined),
      'the outbox to empty',
      120_000,
    );
    await until(
      () => (registry!.bindings().length === ORDER.firearms.length ? true : undefined),
      'both codes bound in the registry',
      60_000,
    );
    for (const f of ORDER.firearms) {
      await page.waitForSelector(`${detailOf(f.serial)} ${status('accepted')}`, { timeout: 60_000 });
      const accepted = await registryOf(f.serial);
      expect(accepted.state).toBe('accepted');
      expect(await page.textContent(`${detailOf(f.serial)} ${sel('registry-record')}`)).toContain(
        `accepted ${minuteOf(accepted.records[0]!.at!)}`,
      );
    }
    expect(await page.locator(status('queued')).count()).toBe(0);

    // And the first firearm's Records page, opened again, says accepted, and when.
    const accepted = await registryOf(serial);
    expect(accepted.state).toBe('accepted');
    expect(accepted.records).toEqual([
      expect.objectContaining({ state: 'accepted', event: 'engraved', code: record.code }),
    ]);
    await page.goto(`${line.url}/#/records/${serial}`);
    await page.waitForSelector(`${sel('record-facts')} ${status('accepted')}`);
    expect(await page.textContent(`${status('accepted')} .chip`)).toBe('accepted by the registry');
    expect(await page.textContent(`${sel('registry-record')}[data-state="accepted"]`)).toBe(
      `Engraved record of ${dashed(record.code)}: accepted ${minuteOf(accepted.records[0]!.at!)}`,
    );
    await page.context().close();
  }, 300_000);
});
