/** The drawing of a firearm's current code: the pin face as engraved, or the impression it leaves on a case. */
import { z } from 'zod';
import { renderPinSvg } from '../../codes/index.js';
import { StamplineError } from '../../errors.js';
import { requires } from '../auth/guard.js';
import { errorResponses, GUARDED_ERRORS, SECURED, serialParams } from '../schemas/common.js';
import type { Api, RouteDeps } from './context.js';

export function pinRoutes(app: Api, { line }: RouteDeps): void {
  app.get(
    '/api/v1/firearms/:serial/pin.svg',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['records'],
        summary: "SVG of a firearm's current code",
        description:
          '`view=pin` (the default): the pin face as engraved, mirrored. `view=case`: the impression on a fired case, which reads the right way round. 409 FIREARM_NO_CODE when the firearm has no code now (queued for a new one, or cancelled).',
        security: SECURED,
        params: serialParams,
        querystring: z.strictObject({
          view: z.enum(['pin', 'case']).default('pin'),
          size: z.coerce.number().int().min(16).max(4096).default(512).describe('width and height in pixels'),
        }),
        response: {
          200: { description: 'the drawing', content: { 'image/svg+xml': { schema: z.string() } } },
          ...GUARDED_ERRORS,
          ...errorResponses(404, 409, 503),
        },
      },
    },
    async (req, reply) => {
      const held = await line.findFirearms({ serial: req.params.serial });
      // A serial comes back for rework in a later order: the newest order has the current pin.
      const newest = held.sort((a, b) => a.order.createdAt.localeCompare(b.order.createdAt)).at(-1);
      if (!newest) {
        throw new StamplineError('QA_UNKNOWN_FIREARM', `no firearm ${req.params.serial} on this line`, {
          serial: req.params.serial,
        });
      }
      const { firearm } = newest;
      if (!firearm.code) {
        throw new StamplineError(
          'FIREARM_NO_CODE',
          `firearm ${firearm.serial} has no code now (it is ${firearm.state})`,
          { serial: firearm.serial, state: firearm.state },
        );
      }
      const svg = renderPinSvg(firearm.code, { mirror: req.query.view === 'pin', size: req.query.size });
      return reply.type('image/svg+xml').header('cache-control', 'no-cache').send(svg);
    },
  );
}
