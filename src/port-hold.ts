/**
 * The HTTP port, held from the start of start-up until the API takes it. A second daemon given
 * a port already in use must fail before it touches any link: connecting to the broker with the
 * same client id would knock the running line off it.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { StamplineError } from './errors.js';

export function listenError(host: string, port: number, err: NodeJS.ErrnoException): StamplineError {
  return new StamplineError(
    'LINE_NOT_READY',
    err.code === 'EADDRINUSE'
      ? `cannot listen on ${host}:${port}: the port is in use (set http.port or STAMPLINE_HTTP_PORT)`
      : `cannot listen on ${host}:${port}: ${err.message}`,
    { host, port },
    { cause: err },
  );
}

export interface PortHold {
  /** Lets the port go, for the API to listen on it at once. Safe to call twice. */
  release(): Promise<void>;
}

/** Binds `host:port` (nothing for port 0, which any free port satisfies), or throws as the API's listen would. */
export async function holdPort(host: string, port: number): Promise<PortHold> {
  if (port === 0) return { release: async () => {} };
  // A client that connects meanwhile (a health probe during start) is turned away at once:
  // close() waits for every open connection, and one left open would hold the start forever.
  let server: Server | undefined = createServer((socket) => socket.destroy());
  server.listen({ host, port, exclusive: true });
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => Promise.reject(err)),
    ]);
  } catch (err) {
    server.close();
    throw listenError(host, port, err as NodeJS.ErrnoException);
  }
  return {
    release: async () => {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
