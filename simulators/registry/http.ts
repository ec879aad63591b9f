/**
 * The simulated registry's desk for investigators: `POST /identify` with
 * `{ "reads": [{ "text", "gear" }, ...] }` answers what `RegistryIdentifier` finds, as JSON.
 * Bad input is 400 with `{ error: { code, message, context }, problems }`, as the line's API
 * answers. A simulator for trying the path from pin to investigator, not a hardened service.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StamplineError } from '../../src/errors.js';
import type { RegistryIdentifier } from './identify.js';

/** Larger bodies are refused: twenty reads of 88 teeth are under 4 kB. */
const MAX_BODY = 64 * 1024;

export interface IdentifyDesk {
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(`${JSON.stringify(body)}\n`);
}

function fail(res: ServerResponse, err: StamplineError): void {
  const body: Record<string, unknown> = { error: err.toJSON() };
  if (Array.isArray(err.context.problems)) body.problems = err.context.problems;
  send(res, err.status, body);
}

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw new StamplineError('IDENTIFY_INVALID_READS', `the request body is over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new StamplineError(
      'IDENTIFY_INVALID_READS',
      `the request body is not JSON: ${(err as Error).message}`,
    );
  }
}

export async function serveIdentify(
  identifier: RegistryIdentifier,
  options: { port: number; host?: string },
): Promise<IdentifyDesk> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/identify') {
      send(res, 404, {
        error: { code: 'NOT_FOUND', message: `no route ${req.method} ${path}`, context: {} },
      });
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, { error: { code: 'NOT_FOUND', message: 'POST the reads to /identify', context: {} } });
      return;
    }
    bodyOf(req)
      .then((body) => send(res, 200, identifier.identify(body)))
      .catch((err: unknown) => {
        if (err instanceof StamplineError) fail(res, err);
        else send(res, 500, { error: { code: 'INTERNAL', message: (err as Error).message, context: {} } });
      });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
