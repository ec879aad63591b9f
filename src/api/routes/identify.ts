/** Identification of a cartridge case against the codes this line issued (docs/identification.md). */
import { z } from 'zod';
import type { Identification } from '../../line/identify.js';
import { identifyInputSchema } from '../../line/identify.js';
import { actorOf, requires } from '../auth/guard.js';
import { answers, errorResponses, GUARDED_ERRORS, SECURED } from '../schemas/common.js';
import { type Api, type AuditApi, missing } from './context.js';

/** The line's identifier as the route uses it (`LineIdentifier`). */
export interface IdentifyApi {
  identify(input: unknown): Promise<Identification>;
}

const firearmSchema = z.looseObject({
  serial: z.string(),
  make: z.string(),
  model: z.string(),
  caliber: z.string().optional(),
  order: z.string(),
  destination: z.string().optional(),
  state: z.string(),
  engravedAt: z.string().optional(),
  code: z.object({ text: z.string(), index: z.number(), status: z.enum(['current', 'voided']) }),
  voided: z.object({ at: z.string(), reason: z.string(), pinScrapped: z.boolean() }).optional(),
  qa: z.looseObject({ result: z.enum(['pass', 'fail']) }).optional(),
});

const identificationSchema = z.object({
  outcome: z.enum(['identified', 'candidates', 'none']),
  firearm: firearmSchema.optional(),
  candidates: z.array(
    z.object({
      text: z.string(),
      issuer: z.number(),
      index: z.number().optional(),
      weightRatio: z.number(),
      firearms: z.array(firearmSchema),
    }),
  ),
  decode: z.object({
    ok: z.boolean(),
    text: z.string().optional(),
    errors: z.number(),
    erasures: z.number(),
    uec: z.number(),
    grade: z.enum(['A', 'B', 'C', 'D', 'F']),
    confident: z.boolean(),
    miscorrectionRisk: z.number().optional(),
    warning: z.string().optional(),
  }),
  issuedCodes: z.number(),
});

export function identifyRoutes(
  app: Api,
  deps: { identify?: IdentifyApi | undefined; audit?: AuditApi | undefined },
) {
  app.post(
    '/api/v1/identify',
    {
      onRequest: requires('identify'),
      config: { invalidInput: 'IDENTIFY_INVALID_READS' },
      schema: {
        tags: ['records'],
        summary: 'Identify a case: which firearm of this line carried the code its reads show',
        description:
          'Weighs the reads of one or more cases fired from the same gun against every code this line issued, voided ones included (codes.md §6a). `identified` names the firearm; `candidates` lists the issued codes that explain the reads when none stands out; `none` when no issued code does. Audited. 400 IDENTIFY_INVALID_READS names the read and field.',
        security: SECURED,
        body: identifyInputSchema,
        response: {
          200: answers<Identification>(identificationSchema),
          ...GUARDED_ERRORS,
          ...errorResponses(503),
        },
      },
    },
    async (req) => {
      const service = deps.identify ?? missing('identification');
      const answer = await service.identify(req.body);
      // what was asked and what was answered: an identification is evidence, and so is a query
      await deps.audit?.record({
        actor: actorOf(req),
        action: 'identify',
        subject: answer.firearm ? `firearm:${answer.firearm.serial}` : 'identify',
        after: {
          reads: req.body.reads,
          outcome: answer.outcome,
          ...(answer.firearm ? { code: answer.firearm.code.text, status: answer.firearm.code.status } : {}),
          candidates: answer.candidates.map((c) => c.text),
          ...(answer.decode.miscorrectionRisk !== undefined ? { risk: answer.decode.miscorrectionRisk } : {}),
        },
      });
      return answer;
    },
  );
}
