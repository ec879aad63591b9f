/**
 * `GET /api/v1/events`: server-sent events. A client gets the line's status at once, then every
 * change; a comment every 15 s keeps proxies from closing a quiet stream. Streams end when the
 * client goes, when the app closes (so they never hold the daemon up), when a client reads
 * so slowly that more than a megabyte waits for it (it reconnects and starts from a snapshot),
 * and when the caller's identity no longer holds (looked at before each send, heartbeats
 * included): the client's reconnection then gets 401.
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { requires } from '../auth/guard.js';
import type { LiveEvent, LiveEvents } from '../events.js';
import { GUARDED_ERRORS, SECURED } from '../schemas/common.js';
import type { Api } from './context.js';

export interface EventRouteOptions {
  hub: LiveEvents;
  /** Default 15,000. */
  heartbeatMs?: number;
}

const MAX_BACKLOG_BYTES = 1024 * 1024;

function frame(e: LiveEvent): string {
  return `event: ${e.name}\nid: ${e.id}\ndata: ${e.data}\n\n`;
}

export function eventRoutes(app: Api, { hub, heartbeatMs = 15_000 }: EventRouteOptions): void {
  const open = new Set<ServerResponse>();

  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
    hub.close();
  });

  app.get(
    '/api/v1/events',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['events'],
        summary: 'Live changes, as server-sent events',
        description:
          'Events `line` (status snapshot, first on connect and after each burst of change), `order`, `firearm`, `engraver`, `outbox` (`{ depth, rejected }`) and `qa` (a read and its verdict); `data` is JSON. A comment line every 15 s keeps the stream open. See docs/api.md.',
        security: SECURED,
        response: {
          200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
          ...GUARDED_ERRORS,
        },
      },
    },
    (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // A stream is its connection's whole life: when it ends, the socket goes too, rather
        // than waiting idle in a client's pool and holding up the server's close.
        connection: 'close',
        // nginx and its kind would otherwise hold events back
        'x-accel-buffering': 'no',
      });
      open.add(res);
      let unsubscribe: (() => void) | undefined;
      // The identity was checked when the stream opened; a logout, a disabled user, an expired
      // session or a new password must also end a stream that is already open.
      const live = req.identityLive;
      const heartbeat = setInterval(() => send(': heartbeat\n\n'), heartbeatMs);
      heartbeat.unref();
      const close = () => {
        clearInterval(heartbeat);
        unsubscribe?.();
        unsubscribe = undefined;
        open.delete(res);
        if (!res.writableEnded) res.end();
      };
      const send = (text: string) => {
        if (res.writableEnded || res.destroyed) return close();
        if (live && !live()) {
          res.write(': session ended; log in again\n\n');
          return close();
        }
        if (res.writableLength > MAX_BACKLOG_BYTES) {
          req.log.warn('event stream client too slow; closing its stream');
          return close();
        }
        res.write(text);
      };
      res.on('close', close);
      send('retry: 3000\n\n');
      send(frame(hub.lineSnapshot()));
      const outbox = hub.outboxSnapshot();
      if (outbox) send(frame(outbox));
      unsubscribe = hub.subscribe((e) => send(frame(e)));
    },
  );
}
