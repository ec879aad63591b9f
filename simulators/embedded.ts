/**
 * The embedded demo: the simulators a configuration asks for (`simulators.*`), started inside
 * the daemon's process before the line connects, and stopped after it. A real line enables none
 * of them; `config/demo.yaml` enables them all.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Daemon } from '../src/daemon.js';
import { StamplineError } from '../src/errors.js';
import type { QaService } from '../src/qa/index.js';
import { startEmbeddedBroker } from './broker/embedded.js';
import { AsciiEngraverServer } from './engraver/ascii-server.js';
import { EngraverDevice } from './engraver/device.js';
import type { SimulatedLink } from './engraver/link-faults.js';
import { ModbusRtuServer } from './engraver/modbus-rtu-server.js';
import { ModbusTcpServer } from './engraver/modbus-tcp-server.js';
import { sampleOrder } from './erp/sample.js';
import { SimulatedRegistry } from './registry/registry.js';
import { TestFireStation } from './testfire/station.js';

/** What the demo started, for tests and for the demo's own logging. */
export interface EmbeddedSimulators {
  device?: EngraverDevice;
  engraverServer?: SimulatedLink;
  registry?: SimulatedRegistry;
  /** set once the daemon has started, when `simulators.testfire` is enabled */
  testfire?: TestFireStation;
}

export async function startSimulators(daemon: Daemon): Promise<EmbeddedSimulators> {
  const c = daemon.config;
  const s = c.simulators;
  const log = daemon.logger.child({ component: 'simulators' });
  const started: EmbeddedSimulators = {};

  if (s.broker.enabled) {
    const broker = await startEmbeddedBroker({ port: s.broker.port }).catch((err: Error) => {
      throw new StamplineError(
        'LINE_NOT_READY',
        `the embedded broker cannot listen on port ${s.broker.port}: ${err.message}`,
      );
    });
    daemon.onStop(() => broker.stop());
    log.info({ url: broker.url }, 'embedded MQTT broker (aedes) listening');
  }

  if (s.registry.enabled) {
    const registry = new SimulatedRegistry({
      mqtt: { url: c.mqtt.url, protocolVersion: c.mqtt.protocolVersion },
      file: s.registry.file ?? join(c.line.dataDir, 'simulated-registry.jsonl'),
      ...(s.registry.identifyPort !== undefined ? { identifyPort: s.registry.identifyPort } : {}),
      logger: log,
    });
    await registry.start();
    daemon.onStop(() => registry.stop());
    started.registry = registry;
  }

  if (s.engraver.enabled) {
    // The journal's folder need not be the data folder (STAMPLINE_DATA_DIR moves only that one),
    // and the device appends to it while marking, where a missing folder would fault every job.
    if (s.engraver.journal) await mkdir(dirname(s.engraver.journal), { recursive: true });
    const device = new EngraverDevice({
      markingTimeMs: s.engraver.markingTimeMs,
      ...(s.engraver.journal ? { journalFile: s.engraver.journal } : {}),
    });
    let server: SimulatedLink;
    if (s.engraver.transport === 'modbus-tcp') {
      server = new ModbusTcpServer({ device, port: s.engraver.port, host: '127.0.0.1', logger: log });
    } else {
      const path = s.engraver.device;
      if (!path) {
        throw new StamplineError(
          'CONFIG_INVALID',
          `simulators.engraver.device must name the serial device the simulated engraver serves for ${s.engraver.transport}`,
        );
      }
      server =
        s.engraver.transport === 'modbus-rtu'
          ? new ModbusRtuServer({ device, path, baudRate: 19200, logger: log })
          : new AsciiEngraverServer({ device, path, baudRate: 115200, logger: log });
    }
    await server.start();
    daemon.onStop(async () => {
      await server.stop();
      device.close();
    });
    started.device = device;
    started.engraverServer = server;
  }

  if (s.testfire.enabled) {
    // Before the sample order's hook, so the station hears every firearm the order engraves.
    daemon.afterStart(async () => {
      const qa = (daemon as Daemon & { qa?: QaService }).qa;
      if (!qa || !daemon.line) {
        log.warn('simulators.testfire is enabled but the daemon runs no QA service; no test fire');
        return;
      }
      const t = s.testfire;
      const station = new TestFireStation({
        line: daemon.line,
        qa,
        delayMs: t.delayMs,
        degradation: {
          charIllegible: t.charIllegible,
          charMisread: t.charMisread,
          toothIllegible: t.toothIllegible,
          toothFlipped: t.toothFlipped,
          gearMissing: t.gearMissing,
          lacqueredFactor: t.lacqueredFactor,
        },
        lacqueredShare: t.lacqueredShare,
        brands: t.brands,
        seed: t.seed,
        ...(t.imageLevel !== null ? { imageLevel: t.imageLevel } : {}),
        logger: log,
      });
      await station.start();
      // Stopped before the services it feeds, where the daemon offers that, so that no read
      // reaches a QA service already stopped.
      const d = daemon as Daemon & { beforeStop?: (stop: () => Promise<void>) => void };
      if (typeof d.beforeStop === 'function') d.beforeStop(() => station.stop());
      else daemon.onStop(() => station.stop());
      started.testfire = station;
      log.info(
        {
          policy: qa.policy.kind,
          delayMs: t.delayMs,
          lacqueredShare: t.lacqueredShare,
          imageLevel: t.imageLevel,
        },
        'simulated test fire: engraved firearms are test-fired and their cases read into QA',
      );
    });
  }

  if (s.sampleOrder.enabled) {
    daemon.afterStart(async () => {
      const line = daemon.line!;
      if ((await line.listOrders()).length > 0) return;
      const order = sampleOrder({
        id: `DEMO-${new Date().toISOString().slice(0, 10)}`,
        firearms: s.sampleOrder.firearms,
      });
      await line.submitOrder(order, 'demo', 'erp-simulator');
      log.info({ order: order.id, firearms: order.firearms.length }, 'sample order fed, as the ERP would');
    });
  }
  return started;
}
