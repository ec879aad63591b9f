/**
 * From pin to investigator: the daemon engraves an order and reports it to the registry; a case
 * fired with one of those pins is then identified on the line PC (`stampline identify`, beside
 * the running daemon, which holds the store) and at the registry, over every code it holds.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../simulators/broker/embedded.js';
import { ERP_TOKEN, freePort, LineRig, until } from '../support/line-rig.js';

const BIN = resolve(import.meta.dirname, '../../bin/stampline.js');

describe('a case fired with an engraved pin', () => {
  it('names its firearm on the line PC while the daemon runs, and at the registry', async () => {
    const broker = await startEmbeddedBroker({ port: await freePort() });
    const rig = new LineRig({ markingTimeMs: 50, mqttUrl: broker.url });
    try {
      await rig.start();
      await rig.startDaemon();
      const firearms = ['INV-1', 'INV-2', 'INV-3'].map((serial) => ({ serial }));
      const order = {
        id: 'inv',
        make: 'Acme',
        model: 'P1',
        destination: 'FFL-1-23-456-78-9A-12345',
        firearms,
      };
      expect((await rig.api('POST', '/api/v1/orders', order, ERP_TOKEN)).status).toBe(201);
      expect((await rig.api('POST', '/api/v1/orders/inv/start')).status).toBe(200);
      await until(() => rig.registry.bindings().length === 3, 'every pin bound at the registry', 45_000);
      const record = (await rig.api('GET', '/api/v1/records/INV-2')).body;
      const code: { text: string; gear: string } = record.firearm.code;

      // a worn case: two characters gone, and the ring read with a few teeth illegible
      const text = `${code.text.slice(0, 3)}??${code.text.slice(5)}`;
      const gear = `${'?'.repeat(6)}${code.gear.slice(6)}`;
      const cli = spawnSync(
        process.execPath,
        [BIN, 'identify', '--config', rig.configFile, '--read', `${text}/${gear}`, '--json'],
        { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } },
      );
      expect(cli.status, cli.stderr).toBe(0);
      expect(JSON.parse(cli.stdout)).toMatchObject({
        outcome: 'identified',
        firearm: {
          serial: 'INV-2',
          order: 'inv',
          destination: 'FFL-1-23-456-78-9A-12345',
          code: { text: code.text, status: 'current' },
        },
        issuedCodes: 3,
      });

      const atRegistry = rig.registry.identify({ reads: [{ text, gear }] });
      expect(atRegistry).toMatchObject({
        outcome: 'identified',
        binding: { code: code.text, issuer: 7, firearm: { serial: 'INV-2', make: 'Acme' }, state: 'active' },
      });
      // the daemon was never disturbed
      expect((await rig.api('GET', '/api/v1/line')).status).toBe(200);
      await rig.stopDaemon();
    } finally {
      await rig.stop();
      await broker.stop();
    }
  }, 120_000);
});
