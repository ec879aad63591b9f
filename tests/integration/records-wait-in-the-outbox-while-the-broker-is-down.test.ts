/**
 * The broker goes away mid-order. Engraving goes on, records wait in the durable outbox, and
 * once the broker is back every record reaches the registry: none lost, none bound twice.
 * Run against the embedded aedes broker always, and against Mosquitto (MQTT 3.1.1 and 5) where
 * it is installed (CI installs it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../simulators/broker/embedded.js';
import { createMosquitto } from '../../simulators/broker/mosquitto.js';
import { ERP_TOKEN, freePort, LineRig, until } from '../support/line-rig.js';
import { requireCommands } from '../support/tools.js';

const FIREARMS = 8;

interface BrokerUnderTest {
  url: string;
  protocolVersion: 4 | 5;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function aedes(): Promise<BrokerUnderTest> {
  const port = await freePort();
  let broker = await startEmbeddedBroker({ port });
  return {
    url: broker.url,
    protocolVersion: 4,
    stop: () => broker.stop(),
    restart: async () => {
      broker = await startEmbeddedBroker({ port });
    },
    close: () => broker.stop(),
  };
}

async function mosquitto(protocolVersion: 4 | 5): Promise<BrokerUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-mosq-'));
  const m = await createMosquitto({ dir, persistence: true });
  await m.start();
  return {
    url: m.url,
    protocolVersion,
    stop: () => m.stop(),
    restart: () => m.start(),
    close: async () => {
      await m.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const brokers: Array<[string, () => Promise<BrokerUnderTest>, () => boolean]> = [
  ['aedes, MQTT 3.1.1', aedes, () => true],
  ['Mosquitto, MQTT 3.1.1', () => mosquitto(4), () => requireCommands('mosquitto')],
  ['Mosquitto, MQTT 5', () => mosquitto(5), () => requireCommands('mosquitto')],
];

describe.each(brokers)('with %s', (_name, make, available) => {
  it.runIf(available())(
    'keeps engraving while the broker is down and delivers every record once it is back',
    async () => {
      const broker = await make();
      const rig = new LineRig({
        markingTimeMs: 150,
        mqttUrl: broker.url,
        protocolVersion: broker.protocolVersion,
      });
      try {
        await rig.start();
        await rig.startDaemon();
        const orderId = 'outage';
        const firearms = Array.from({ length: FIREARMS }, (_, i) => ({ serial: `OUT-${i}` }));
        expect(
          (
            await rig.api(
              'POST',
              '/api/v1/orders',
              { id: orderId, make: 'Acme', model: 'P1', firearms },
              ERP_TOKEN,
            )
          ).status,
        ).toBe(201);
        expect((await rig.api('POST', `/api/v1/orders/${orderId}/start`)).status).toBe(200);

        await until(() => rig.registry.bindings().length >= 2, 'the first records to reach the registry');
        await broker.stop();
        const boundBefore = rig.registry.bindings().length;

        // Engraving goes on without the broker; the records wait in the outbox.
        const whileDown = await until(async () => {
          const r = await rig.api('GET', `/api/v1/orders/${orderId}`);
          return r.body.order.state === 'engraved' ? r.body : undefined;
        }, 'the order to finish while the broker is down');
        expect(whileDown.counts.engraved).toBe(FIREARMS);
        const outbox = await rig.api('GET', '/api/v1/outbox');
        expect(outbox.body.depth).toBeGreaterThanOrEqual(FIREARMS - boundBefore - 1);
        expect(rig.registry.bindings().length).toBeLessThan(FIREARMS);

        await broker.restart();
        await until(
          async () => (await rig.api('GET', '/api/v1/outbox')).body.depth === 0,
          'the outbox to drain',
          45_000,
        );
        await until(() => rig.registry.bindings().length === FIREARMS, 'every binding in the registry');
        const bindings = rig.registry.bindings();
        expect(new Set(bindings.map((b) => b.firearm.serial)).size).toBe(FIREARMS);
        expect(new Set(bindings.map((b) => b.code)).size).toBe(FIREARMS);
        expect(rig.registry.bindings().every((b) => b.recordIds.length === 1)).toBe(true);
        await rig.stopDaemon();
      } finally {
        await rig.stop();
        await broker.close();
      }
    },
    90_000,
  );
});
