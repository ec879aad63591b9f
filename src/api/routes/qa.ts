/** The QA station: reads of test-fired cases, the policy that judges them, and a firearm's verification. */

import { caseReadInputSchema } from '../../qa/index.js';
import type { SubmitResult } from '../../qa/types.js';
import { actorOf, requires } from '../auth/guard.js';
import { answers, errorResponses, GUARDED_ERRORS, SECURED, serialParams } from '../schemas/common.js';
import { firearmRecordSchema, policySchema, submitResultSchema } from '../schemas/qa.js';
import { type Api, type FirearmRecord, missing, type RouteDeps } from './context.js';

export function qaRoutes(app: Api, { qa }: RouteDeps): void {
  const service = () => qa ?? missing('QA');

  app.post(
    '/api/v1/qa/reads',
    {
      onRequest: requires('qa.read'),
      config: { invalidInput: 'QA_INVALID_READ' },
      schema: {
        tags: ['qa'],
        summary: 'Enter the read of one test-fired case',
        description:
          'Stores the read as entered, decodes it, and answers the policy verdict. A failed verification sends the firearm to rework (`outcome: "rework"`). 400 QA_INVALID_READ names the field; 404 QA_UNKNOWN_FIREARM; 409 QA_NOT_ENGRAVED, QA_ALREADY_DECIDED or QA_DUPLICATE_ROUND; with `askBeforeVoid`, 409 QA_VOID_UNCONFIRMED for a read that would fail the firearm (nothing stored; `context` has the verdict, the decode and how the read compares with the code).',
        security: SECURED,
        body: caseReadInputSchema,
        response: {
          201: answers<SubmitResult>(submitResultSchema),
          ...GUARDED_ERRORS,
          ...errorResponses(404, 409, 503),
        },
      },
    },
    async (req, reply) => reply.status(201).send(await service().submit(req.body, actorOf(req))),
  );

  app.get(
    '/api/v1/qa/policy',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['qa'],
        summary: 'The configured QA policy',
        description: 'For ca-4075, `registry`: the registry (`qa.registry`) it identifies cases against.',
        security: SECURED,
        response: { 200: policySchema, ...GUARDED_ERRORS, ...errorResponses(503) },
      },
    },
    async () => {
      const { policy, registry } = service();
      // only ca-4075 judges against the registry: the others answer as they always have
      return registry && policy.kind === 'ca-4075' ? { ...policy, registry } : policy;
    },
  );

  app.get(
    '/api/v1/qa/firearms/:serial',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['qa'],
        summary: "A firearm's verification: its order, the firearm, the verdict and every read",
        description: 'Reads of voided codes are included.',
        security: SECURED,
        params: serialParams,
        response: {
          200: answers<FirearmRecord>(firearmRecordSchema),
          ...GUARDED_ERRORS,
          ...errorResponses(404, 503),
        },
      },
    },
    async (req) => service().firearm(req.params.serial),
  );
}
