/**
 * A daemon on a line's data folder with its links down (the engraver and the broker on a port
 * nobody listens on), logging JSON into memory, for a test that reads what the daemon logged and
 * asks its API.
 */
import { Writable } from 'node:stream';
import { freePort } from '../../../simulators/broker/mosquitto.js';
import { parseConfig } from '../../../src/config/index.js';
import { Daemon } from '../../../src/daemon.js';
import { createLogger } from '../../../src/logger.js';
import { KEY } from '../harness.js';

/** One line the daemon logged, parsed. */
export interface LogEntry {
  level: number;
  msg: string;
  err?: { message: string };
  [field: string]: unknown;
}

export interface LinksDownDaemon {
  /** Not started yet: the test starts and stops it. */
  daemon: Daemon;
  /** The ERP's bearer token for the daemon's API. */
  erpToken: string;
  /** Every line logged so far. */
  logged(): LogEntry[];
}

/** A daemon for line `lineId` on `dataDir`, with the issuer the line harness uses. */
export async function linksDownDaemon(dataDir: string, lineId: string): Promise<LinksDownDaemon> {
  const dead = await freePort();
  const erpToken = `${lineId}-erp-token-0001`;
  const config = parseConfig({
    line: { id: lineId, dataDir },
    issuer: {
      number: 1,
      licence: 'FFL-1-23-456-07-8A-90123',
      key: KEY,
      indexBlock: { start: 1000, size: 100_000 },
    },
    http: { host: '127.0.0.1', port: 0 },
    auth: { erpToken },
    engraver: { url: `modbus-tcp://127.0.0.1:${dead}?unit=1`, id: 'eng-1', requestTimeoutMs: 500 },
    mqtt: { url: `mqtt://127.0.0.1:${dead}`, protocolVersion: 4, reconnectMs: 200 },
  });
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += chunk;
      done();
    },
  });
  return {
    daemon: new Daemon(config, createLogger({ level: 'info', pretty: false }, out)),
    erpToken,
    logged: () =>
      text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as LogEntry),
  };
}
