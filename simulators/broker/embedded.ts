/**
 * An MQTT broker inside the process, for the demo and for tests: aedes on a TCP port. aedes
 * speaks MQTT 3.1.1 only (not 5) and keeps sessions in memory, so stopping it loses queued
 * messages and sessions, as a broker restart without persistence would.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { StamplineError } from '../../src/errors.js';

export interface EmbeddedBrokerOptions {
  /** 0 or absent: a free port chosen by the system. */
  port?: number;
  /** Default 127.0.0.1: the broker is for this machine unless asked otherwise. */
  host?: string;
}

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly broker: Aedes;
  /** Closes every client connection and the listening socket; safe to call twice. */
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    server.listen(opts.port ?? 0, host);
    await once(server, 'listening');
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw new StamplineError(
      'REGISTRY_BROKER_FAILED',
      `cannot listen on ${host}:${opts.port ?? 0}: ${(err as Error).message}`,
      { host, port: opts.port },
      { cause: err },
    );
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let stopping: Promise<void> | undefined;
  return {
    url: `mqtt://${urlHost}:${port}`,
    port,
    host,
    broker,
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        // aedes closes its clients, but a socket still in the CONNECT handshake is not a client yet
        for (const socket of sockets) socket.destroy();
        await closed;
      })();
      return stopping;
    },
  };
}
