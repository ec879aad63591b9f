import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../simulators/broker/embedded.js';
import { freePort } from '../../simulators/broker/mosquitto.js';
import { SimulatedRegistry } from '../../simulators/registry/registry.js';
import { engravedRecord } from '../../simulators/registry/sample.js';
import { redactUrl } from '../../src/registry/link.js';
import type { RegistryRecord } from '../../src/registry/record.js';
import { RegistryReporter, type RegistryReporterOptions } from '../../src/registry/reporter.js';
import { requireCommands } from '../support/tools.js';
import { makeCertificates, mosquittoTarget, waitFor } from './brokers.js';

let dir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampline-reporter-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

function options(
  mqtt: Partial<RegistryReporterOptions['mqtt']>,
  extra: Partial<RegistryReporterOptions> = {},
) {
  return {
    dataDir: join(dir, 'data'),
    issuer: 1234,
    line: 'line-1',
    version: '1.0.0',
    mqtt: {
      url: 'mqtt://127.0.0.1:1',
      clientId: 'line-1',
      reconnectMinMs: 100,
      reconnectMaxMs: 500,
      ...mqtt,
    },
    ...extra,
  };
}

async function started(opts: RegistryReporterOptions): Promise<RegistryReporter> {
  const reporter = new RegistryReporter(opts);
  await reporter.start();
  cleanups.push(() => reporter.stop());
  return reporter;
}

describe('registry reporter', () => {
  it.each([
    [{ url: 'not a url' }, /not a URL/],
    [{ url: 'http://broker:80' }, /must start with mqtt/],
    [{ url: 'mqtt://broker', ca: '/ca.pem' }, /need an mqtts/],
    [{ url: 'mqtts://broker', cert: '/c.pem' }, /cert and key/],
    [
      { url: 'mqtts://broker', ca: '/nonexistent/ca.pem' },
      /cannot read the mqtt CA file \/nonexistent\/ca\.pem/,
    ],
    [{ clientId: '' }, /clientId/],
  ])('refuses to start with settings that cannot work (%o)', async (mqtt, message) => {
    const reporter = new RegistryReporter(options(mqtt));
    await expect(reporter.start()).rejects.toMatchObject({
      code: 'REGISTRY_BAD_CONFIG',
      message: expect.stringMatching(message),
    });
    await reporter.stop();
  });

  it('refuses a window or resend period that cannot work', async () => {
    await expect(new RegistryReporter(options({}, { window: 0 })).start()).rejects.toMatchObject({
      code: 'REGISTRY_BAD_CONFIG',
    });
    await expect(new RegistryReporter(options({}, { resendAfterMs: 5 })).start()).rejects.toMatchObject({
      code: 'REGISTRY_BAD_CONFIG',
    });
    await expect(new RegistryReporter(options({}, { line: 'a/b' })).start()).rejects.toMatchObject({
      code: 'REGISTRY_BAD_CONFIG',
      message: expect.stringMatching(/line id/),
    });
  });

  it('keeps credentials out of the URL it shows', () => {
    expect(redactUrl('mqtts://user:secret@broker.example:8883')).toBe('mqtts://broker.example:8883');
  });

  it('starts without a broker, keeps records, and delivers them when the broker appears', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const reporter = await started(options({ url }, { resendAfterMs: 500 }));
    expect(reporter.status().link.state).not.toBe('up');
    const records = [engravedRecord(), engravedRecord()];
    await reporter.report(records);
    expect(reporter.status().outbox.pending).toBe(2);
    await waitFor('the link to be down', () => reporter.status().link.state === 'down');

    const broker = await startEmbeddedBroker({ port });
    cleanups.push(() => broker.stop());
    const registry = new SimulatedRegistry({ mqtt: { url }, file: join(dir, 'registry.jsonl') });
    await registry.start();
    cleanups.push(() => registry.stop());
    await waitFor('the records to be acknowledged', () => reporter.outbox.depth() === 0, 30_000);
    expect(registry.bindings()).toHaveLength(2);
    expect(reporter.status().link).toMatchObject({ state: 'up', url, lastError: null });
  }, 60_000);

  it('refuses a record for another line, and a record that is not valid, before it is stored', async () => {
    const reporter = await started(options({}));
    await expect(reporter.report([engravedRecord({ line: 'line-2' })])).rejects.toMatchObject({
      code: 'REGISTRY_BAD_RECORD',
      message: expect.stringMatching(/line line-2/),
    });
    await expect(
      reporter.report([{ ...engravedRecord(), gear: '1' } as RegistryRecord]),
    ).rejects.toMatchObject({
      code: 'REGISTRY_BAD_RECORD',
      message: expect.stringMatching(/gear/),
    });
    expect(reporter.outbox.depth()).toBe(0);
  });

  it('refuses records once stopped', async () => {
    const reporter = await started(options({}));
    await reporter.stop();
    await reporter.stop();
    await expect(reporter.report([engravedRecord()])).rejects.toMatchObject({
      code: 'REGISTRY_OUTBOX_STOPPED',
    });
  });
});

describe.runIf(requireCommands('mosquitto', 'mosquitto_passwd', 'openssl'))(
  'a broker that refuses the line',
  () => {
    it('over TLS without a client certificate: the link stays down and says why', async () => {
      const certs = await makeCertificates(join(dir, 'certs'));
      const target = await mosquittoTarget({ dir: join(dir, 'broker'), protocolVersion: 5, tls: certs });
      cleanups.push(() => target.stop());
      const reporter = await started(options({ url: target.url, protocolVersion: 5, ca: certs.ca }));
      await waitFor('a connection error', () => reporter.status().link.lastError !== null);
      expect(reporter.status().link.state).toBe('down');
      await reporter.report([engravedRecord()]);
      expect(reporter.outbox.depth()).toBe(1);
    }, 60_000);

    it('with a CA that did not sign the broker certificate: the link stays down', async () => {
      const certs = await makeCertificates(join(dir, 'certs'));
      const other = await makeCertificates(join(dir, 'other'));
      const target = await mosquittoTarget({ dir: join(dir, 'broker'), protocolVersion: 4, tls: certs });
      cleanups.push(() => target.stop());
      const reporter = await started(
        options({ url: target.url, ca: other.ca, cert: certs.clientCert, key: certs.clientKey }),
      );
      await waitFor('a connection error', () => reporter.status().link.lastError !== null);
      expect(reporter.status().link.lastError).toMatch(/certificate/i);
      expect(reporter.status().link.state).toBe('down');
    }, 60_000);

    it('with a wrong password: the link stays down and says why', async () => {
      const target = await mosquittoTarget({
        dir: join(dir, 'broker'),
        protocolVersion: 4,
        users: { line: ['line', 'right'], registry: ['registry', 'registry'] },
      });
      cleanups.push(() => target.stop());
      const reporter = await started(options({ url: target.url, username: 'line', password: 'wrong' }));
      await waitFor('a connection error', () => reporter.status().link.lastError !== null);
      expect(reporter.status().link.lastError).toMatch(/not authorized|bad user name or password/i);
      expect(reporter.status().link.state).toBe('down');
    }, 60_000);
  },
);
