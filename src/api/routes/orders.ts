/** Orders: the ERP (or a receiving operator) submits them; operators start, pause, resume and abort them. */
import { z } from 'zod';
import { orderSchema, parseOrder } from '../../erp/order.js';
import { StamplineError } from '../../errors.js';
import { type Firearm, newestFirst, type OrderCounts, type OrderHeader } from '../../line/model.js';
import { actorOf, requires } from '../auth/guard.js';
import {
  answers,
  errorResponses,
  GUARDED_ERRORS,
  orderIdParams,
  reasonBodySchema,
  SECURED,
  serializeUnchecked,
} from '../schemas/common.js';
import {
  ACTIVE_PAGE,
  orderHeaderSchema,
  orderListSchema,
  orderStateSchema,
  orderViewSchema,
} from '../schemas/line.js';
import type { Api, RouteDeps } from './context.js';

type OrderList = {
  active: Array<OrderHeader & { counts: OrderCounts }>;
  activeTotal: number;
  all: Array<OrderHeader & { counts?: OrderCounts }>;
  next: string | null;
};
type OrderView = { order: OrderHeader; counts: OrderCounts; firearms: Firearm[] };
type OrderState = OrderHeader['state'];

/** Where a page ends: the last order it holds, by the keys the list is sorted on. */
interface Position {
  createdAt: string;
  id: string;
}

/**
 * The cursor carries the last order's own keys rather than an offset, so orders submitted while
 * someone pages back (they sort first) do not shift the pages that follow.
 */
function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.createdAt, p.id])).toString('base64url');
}

function decodeCursor(cursor: string): Position | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string')
      return { createdAt: v[0], id: v[1] };
  } catch {
    // not one of ours: refused below, naming the parameter
  }
  return undefined;
}

const STATES = orderStateSchema.options;

/** States whose orders carry no counts in a list: the line no longer keeps them in memory. */
const isSettledState = (s: OrderState) => s === 'complete' || s === 'aborted';

/** `state=engraved,complete` and `state=engraved&state=complete` alike. */
const statesParam = z.union([z.string(), z.array(z.string())]).transform((given, ctx) => {
  const states = [given]
    .flat()
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = states.filter((s) => !(STATES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `not an order state: ${unknown.join(', ')} (one of ${STATES.join(', ')})`,
    });
    return z.NEVER;
  }
  return states as OrderState[];
});

const orderListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(200).describe('orders per page'),
  before: z
    .string()
    .max(512)
    .refine((c) => decodeCursor(c) !== undefined, { error: 'not a cursor this route gave (`next`)' })
    .optional()
    .describe('the `next` of the previous page: the orders after it'),
  state: statesParam
    .optional()
    .describe(
      `only orders in these states (${STATES.join(', ')}): comma-separated, or the parameter repeated`,
    ),
  q: z
    .string()
    .trim()
    .max(200)
    .optional()
    .describe('text found, in any case, in the id, make, model or destination'),
});

/**
 * One page of the headers, which are in memory and sorted newest first: a binary search to the
 * cursor, then a scan for matches until the page is full and one more match shows there is a
 * next page.
 */
function pageOf(sorted: OrderHeader[], query: z.infer<typeof orderListQuery>) {
  const from = query.before === undefined ? undefined : decodeCursor(query.before);
  let lo = 0;
  if (from) {
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (newestFirst(sorted[mid]!, from) > 0) hi = mid;
      else lo = mid + 1;
    }
  }
  const states = query.state?.length ? new Set(query.state) : undefined;
  const text = query.q ? query.q.toLowerCase() : undefined;
  const all: OrderHeader[] = [];
  let more = false;
  for (let i = lo; i < sorted.length; i++) {
    const o = sorted[i]!;
    if (states && !states.has(o.state)) continue;
    if (text && !`${o.id} ${o.make} ${o.model} ${o.destination ?? ''}`.toLowerCase().includes(text)) continue;
    if (all.length === query.limit) {
      more = true;
      break;
    }
    all.push(o);
  }
  const last = all.at(-1);
  return { all, next: more && last ? encodeCursor(last) : null };
}
/**
 * The order body is described by the intake's zod schema, but checked by `parseOrder`, which
 * lists every problem at once as ORDER_INVALID (the spec's 400 "with every problem found"),
 * where schema validation would stop at the shape.
 */
const takeAsIs = () => (data: unknown) => ({ value: data });

export function orderRoutes(app: Api, { line }: RouteDeps): void {
  app.post(
    '/api/v1/orders',
    {
      onRequest: requires('orders.submit'),
      config: { invalidInput: 'ORDER_INVALID' },
      validatorCompiler: takeAsIs,
      schema: {
        tags: ['orders'],
        summary: 'Submit an order',
        description:
          'Stores a new order (spec erp-and-qa.md). 400 ORDER_INVALID lists every problem; 409 for an order id or a serial the line already holds.',
        security: SECURED,
        body: orderSchema,
        response: { 201: answers<OrderHeader>(orderHeaderSchema), ...GUARDED_ERRORS, ...errorResponses(409) },
      },
    },
    async (req, reply) => {
      const parsed = parseOrder(req.body);
      if (!parsed.ok) {
        throw new StamplineError('ORDER_INVALID', `the order has ${parsed.total} problem(s)`, {
          problems: parsed.problems,
          total: parsed.total,
        });
      }
      const source = req.identity?.kind === 'user' ? 'ui' : 'http';
      const header = await line.submitOrder(parsed.order, source, actorOf(req));
      return reply.status(201).send(header);
    },
  );

  app.get(
    '/api/v1/orders',
    {
      onRequest: requires('view'),
      // Asked after every change by every screen: see GET /api/v1/line.
      serializerCompiler: serializeUnchecked,
      schema: {
        tags: ['orders'],
        summary: 'List orders',
        description: `\`active\`: the first ${ACTIVE_PAGE} orders the line is working on, with counts, and \`activeTotal\` how many there are; \`all\`: one page of the orders matching \`state\` and \`q\`, newest first, those being worked on with their counts; \`next\`: the \`before\` of the following page, null after the last.`,
        security: SECURED,
        querystring: orderListQuery,
        response: { 200: answers<OrderList>(orderListSchema), ...GUARDED_ERRORS },
      },
    },
    async (req) => {
      const page = pageOf(await line.listOrders(), req.query);
      const { activeOrders, activeTotal } = line.activeView(ACTIVE_PAGE);
      const all = page.all.map((o) => {
        const counts = isSettledState(o.state) ? undefined : line.activeCounts(o.id);
        return counts ? { ...o, counts } : o;
      });
      return { active: activeOrders, activeTotal, all, next: page.next };
    },
  );

  app.get(
    '/api/v1/orders/:id',
    {
      onRequest: requires('view'),
      serializerCompiler: serializeUnchecked,
      schema: {
        tags: ['orders'],
        summary: 'One order with its firearms',
        security: SECURED,
        params: orderIdParams,
        response: { 200: answers<OrderView>(orderViewSchema), ...GUARDED_ERRORS, ...errorResponses(404) },
      },
    },
    async (req) => line.orderView(req.params.id),
  );

  const actions = {
    start: (id: string, actor: string) => line.startOrder(id, actor),
    pause: (id: string, actor: string, reason?: string) => line.pauseOrder(id, actor, reason),
    resume: (id: string, actor: string) => line.resumeOrder(id, actor),
    abort: (id: string, actor: string, reason?: string) => line.abortOrder(id, actor, reason),
  } as const;
  for (const [action, run] of Object.entries(actions)) {
    app.post(
      `/api/v1/orders/:id/${action}`,
      {
        onRequest: requires('orders.control'),
        schema: {
          tags: ['orders'],
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} an order`,
          description:
            '409 ORDER_STATE when the order is in a state that does not allow it. The reason (optional) goes to the audit trail, and for pause and abort to the order.',
          security: SECURED,
          params: orderIdParams,
          body: reasonBodySchema,
          response: {
            200: answers<OrderHeader>(orderHeaderSchema),
            ...GUARDED_ERRORS,
            ...errorResponses(404, 409),
          },
        },
      },
      async (req) => run(req.params.id, actorOf(req), req.body?.reason || undefined),
    );
  }
}
