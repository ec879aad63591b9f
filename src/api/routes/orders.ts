/** Orders: the ERP (or a receiving operator) submits them; operators start, pause, resume and abort them. */
import { orderSchema, parseOrder } from '../../erp/order.js';
import { StamplineError } from '../../errors.js';
import type { Firearm, OrderCounts, OrderHeader } from '../../line/model.js';
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
import { orderHeaderSchema, orderListSchema, orderViewSchema } from '../schemas/line.js';
import type { Api, RouteDeps } from './context.js';

type OrderList = { active: Array<OrderHeader & { counts: OrderCounts }>; all: OrderHeader[] };
type OrderView = { order: OrderHeader; counts: OrderCounts; firearms: Firearm[] };

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
      schema: {
        tags: ['orders'],
        summary: 'List orders',
        description:
          '`active`: the orders the line is working on, with counts; `all`: every order, newest first.',
        security: SECURED,
        response: { 200: answers<OrderList>(orderListSchema), ...GUARDED_ERRORS },
      },
    },
    async () => ({ active: line.status().activeOrders, all: await line.listOrders() }),
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
