/**
 * The API takes its requests a few at a time and lets the event loop go round between them, so
 * that no amount of API load keeps the engraver's replies (and the line's own work) waiting.
 *
 * The daemon is one event loop. A reply from the engraver is read in the loop's poll phase, and
 * waits for whatever callbacks run before it: with 50 clients each sending a request as soon as
 * the last is answered, every turn of the loop held dozens of handlers, and the driver's replies
 * came late enough to be taken for missed. Here at most `concurrent` handlers run at once; the
 * others wait (they cost only memory) and are let in from `setImmediate`, after the poll phase,
 * so between any two batches of API work the loop reads its sockets. Event streams and /healthz
 * are not held: a stream lives as long as its client, and a health probe must answer at once
 * whatever the load.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StamplineError } from '../errors.js';

export interface FairShareOptions {
  /** Handlers that may run at once. Default 4. */
  concurrent?: number;
  /** Requests that may wait; beyond them a request is refused 503 API_BUSY. Default 2,000. */
  waiting?: number;
}

const EXEMPT = ['/healthz', '/api/v1/events'];

function exempt(req: FastifyRequest): boolean {
  const path = req.url.split('?', 1)[0]!;
  return EXEMPT.includes(path);
}

export function fairShare(app: FastifyInstance, opts: FairShareOptions = {}): void {
  const limit = opts.concurrent ?? 4;
  const maxWaiting = opts.waiting ?? 2_000;
  const running = new WeakSet<FastifyRequest>();
  const queue = new Map<FastifyRequest, () => void>();
  let active = 0;
  let scheduled = false;

  const drain = () => {
    scheduled = false;
    for (const [req, go] of queue) {
      if (active >= limit) break;
      queue.delete(req);
      active++;
      running.add(req);
      go();
    }
  };
  const release = (req: FastifyRequest) => {
    queue.delete(req);
    if (!running.delete(req)) return;
    active--;
    if (queue.size > 0 && !scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  };

  app.addHook('onRequest', (req, _reply, done) => {
    if (exempt(req)) return done();
    if (active < limit && queue.size === 0) {
      active++;
      running.add(req);
      return done();
    }
    if (queue.size >= maxWaiting) {
      return done(
        new StamplineError('API_BUSY', `the line has ${queue.size} requests waiting; try again in a second`, {
          waiting: queue.size,
        }),
      );
    }
    queue.set(req, () => done());
  });
  app.addHook('onResponse', async (req) => release(req));
  app.addHook('onRequestAbort', async (req) => release(req));
}
