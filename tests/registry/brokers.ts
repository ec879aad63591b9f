/**
 * The brokers the registry conformance suite runs against: the embedded aedes (MQTT 3.1.1) always,
 * and a private Mosquitto on 3.1.1 and 5, over TLS with client certificates, and with user names
 * and passwords, when Mosquitto is installed. Each can be stopped for a while and started again
 * on the same port.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../simulators/broker/embedded.js';
import { createMosquitto, type Mosquitto } from '../../simulators/broker/mosquitto.js';
import type { SimulatedRegistryOptions } from '../../simulators/registry/registry.js';
import type { MqttSettings } from '../../src/registry/link.js';

export interface BrokerTarget {
  readonly url: string;
  readonly protocolVersion: 4 | 5;
  /** Settings the line needs beyond url, protocol and client id (credentials, TLS files). */
  readonly line: Partial<MqttSettings>;
  /** The same for the simulated registry (PEM contents rather than paths). */
  readonly registry: Partial<SimulatedRegistryOptions['mqtt']>;
  start(): Promise<void>;
  /** Stops the broker; `start()` brings it back on the same port. */
  stop(): Promise<void>;
}

export async function aedesTarget(): Promise<BrokerTarget> {
  let broker: EmbeddedBroker | undefined = await startEmbeddedBroker();
  const port = broker.port;
  return {
    url: broker.url,
    protocolVersion: 4,
    line: {},
    registry: {},
    async start() {
      broker ??= await startEmbeddedBroker({ port });
    },
    async stop() {
      await broker?.stop();
      broker = undefined;
    },
  };
}

export interface Certificates {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, made with openssl. */
export async function makeCertificates(dir: string): Promise<Certificates> {
  await mkdir(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=stampline test CA',
  );
  await writeFile(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  openssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    '2',
    '-days',
    '2',
    '-extfile',
    f('server.ext'),
    '-out',
    f('server.pem'),
  );
  openssl('req', ...ec, '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=stampline line');
  openssl(
    'x509',
    '-req',
    '-in',
    f('client.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    '3',
    '-days',
    '2',
    '-out',
    f('client.pem'),
  );
  return {
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
  };
}

export interface MosquittoTargetOptions {
  dir: string;
  protocolVersion: 4 | 5;
  tls?: Certificates;
  users?: { line: [string, string]; registry: [string, string] };
}

export async function mosquittoTarget(
  opts: MosquittoTargetOptions,
): Promise<BrokerTarget & { broker: Mosquitto }> {
  const broker = await createMosquitto({
    dir: opts.dir,
    ...(opts.tls ? { tls: { ca: opts.tls.ca, cert: opts.tls.serverCert, key: opts.tls.serverKey } } : {}),
    ...(opts.users ? { users: Object.fromEntries(Object.values(opts.users)) } : {}),
  });
  await broker.start();
  const line: Partial<MqttSettings> = {};
  const registry: Partial<SimulatedRegistryOptions['mqtt']> = {};
  if (opts.tls) {
    Object.assign(line, { ca: opts.tls.ca, cert: opts.tls.clientCert, key: opts.tls.clientKey });
    Object.assign(registry, {
      ca: await readFile(opts.tls.ca),
      cert: await readFile(opts.tls.clientCert),
      key: await readFile(opts.tls.clientKey),
    });
  }
  if (opts.users) {
    Object.assign(line, { username: opts.users.line[0], password: opts.users.line[1] });
    Object.assign(registry, { username: opts.users.registry[0], password: opts.users.registry[1] });
  }
  return {
    broker,
    url: broker.url,
    protocolVersion: opts.protocolVersion,
    line,
    registry,
    start: () => broker.start(),
    stop: () => broker.stop(),
  };
}

/** Polls until `cond` holds; fails naming what it waited for. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
