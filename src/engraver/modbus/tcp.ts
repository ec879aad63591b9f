/**
 * Modbus TCP links. We open the socket ourselves and hand it to modbus-serial (`linkTCP`), so that
 * a connect has a timeout and a closed socket is always noticed: modbus-serial's own port does not
 * report a close that follows a socket error.
 *
 * Late replies: modbus-serial matches a TCP reply to its request by the MBAP transaction id and
 * drops the reply of a request that already timed out, so on TCP a timeout needs no resync.
 */
import { Socket } from 'node:net';
import { StamplineError } from '../../errors.js';
import type { Logger } from '../options.js';
import { ModbusClient } from './client.js';
import { ClientConnection } from './connection.js';

export interface TcpLinkOptions {
  host: string;
  port: number;
  unitId: number;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  maxConsecutiveTimeouts: number;
  busyExceptions: readonly number[];
  describe: string;
  logger: Logger;
}

export async function openTcpConnection(o: TcpLinkOptions): Promise<ClientConnection> {
  const socket = new Socket();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new StamplineError(
          'ENGRAVER_LINK_DOWN',
          `${o.describe}: no TCP connection within ${o.connectTimeoutMs} ms`,
          {
            engraver: o.describe,
          },
        ),
      );
    }, o.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new StamplineError('ENGRAVER_LINK_DOWN', `${o.describe}: cannot connect: ${err.message}`, {
          engraver: o.describe,
          cause: (err as NodeJS.ErrnoException).code,
        }),
      );
    });
    socket.connect({ host: o.host, port: o.port });
  });
  socket.setNoDelay(true);

  const client = new ModbusClient();
  await client.linkTCP(socket, { port: o.port });
  client.setTimeout(o.requestTimeoutMs);
  // modbus-serial re-emits socket errors; the close that follows is what we act on.
  client.on('error', () => {});
  socket.on('error', (err) => o.logger.debug({ err: err.message }, 'engraver socket error'));

  const connection = new ClientConnection({
    client,
    unitId: o.unitId,
    requestTimeoutMs: o.requestTimeoutMs,
    maxConsecutiveTimeouts: o.maxConsecutiveTimeouts,
    busyExceptions: o.busyExceptions,
    describe: o.describe,
    logger: o.logger,
    destroy: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) {
          resolve();
          return;
        }
        socket.once('close', () => resolve());
        // Through the client, so its pending request timers are cancelled too.
        client.destroy(() => {});
      }),
  });
  socket.once('close', (hadError) =>
    connection.lost(hadError ? 'TCP connection reset' : 'TCP connection closed'),
  );
  return connection;
}
