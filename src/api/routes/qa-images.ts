/**
 * Case images at the QA station (docs/reading.md):
 *   - `POST /api/v1/qa/images/read` (JSON, the image as base64): the read and what was found,
 *     for the station's overlay; nothing is stored. JSON so that the station's browser session
 *     may send it (a change sent with a session cookie must be JSON).
 *   - `POST /api/v1/qa/images` (multipart: the file `image` and the fields of a read): reads the
 *     image and records the read as `POST /api/v1/qa/reads` does, recorded as from an image, the
 *     text corrected by the QA person where a `text` field differs from the reader's. For microscopes and integrators with a token.
 * An image the reader refuses (not an image, too large, no stamp) is answered with its error
 * and nothing is stored.
 */
import { createHash } from 'node:crypto';
import fastifyMultipart from '@fastify/multipart';
import { z } from 'zod';
import { MAX_FILE_BYTES } from '../../codes/image/load.js';
import { type ImageRead, readImageFile } from '../../codes/image/read-image.js';
import { StamplineError } from '../../errors.js';
import { caseReadInputSchema } from '../../qa/index.js';
import { actorOf, requires } from '../auth/guard.js';
import { errorBodySchema, errorResponses, GUARDED_ERRORS, SECURED } from '../schemas/common.js';
import { type Api, missing, type RouteDeps } from './context.js';

/** What the station shows: the hard read, the geometry, and the marks with their confidence. */
const IMAGE_ERRORS = { 413: errorBodySchema, 422: errorBodySchema };

export function imageReadJson(r: ImageRead): { text: string; gear: string } & Record<string, unknown> {
  return {
    text: r.text,
    gear: r.gear,
    soft: r.soft,
    geometry: r.geometry,
    chars: r.chars,
    teeth: r.teeth,
    sync: r.sync,
    orientationMargin: r.orientationMargin,
    ms: r.ms,
  };
}

const readBody = z.strictObject({
  image: z
    .string()
    .min(1, { error: 'must be the image file as base64' })
    .describe('the image file (PNG, JPEG or TIFF) as base64'),
  name: z.string().max(200).optional().describe('the file name, for messages'),
});

const FIELDS = ['serial', 'code', 'text', 'brand', 'lacquered', 'round', 'station'] as const;

export function qaImageRoutes(app: Api, { qa }: RouteDeps): void {
  const service = () => qa ?? missing('QA');

  app.post(
    '/api/v1/qa/images/read',
    {
      onRequest: requires('qa.read'),
      bodyLimit: Math.ceil((MAX_FILE_BYTES * 4) / 3) + 1024,
      schema: {
        tags: ['qa'],
        summary: 'Read the stamp off a case image, storing nothing',
        description:
          'The hard read, where the stamp was found and each character and tooth with its confidence, for the station to show and correct before recording. 400 IMAGE_UNREADABLE, 413 IMAGE_TOO_LARGE, 422 IMAGE_NO_STAMP.',
        security: SECURED,
        body: readBody,
        response: {
          200: z.looseObject({ text: z.string(), gear: z.string() }),
          ...GUARDED_ERRORS,
          ...IMAGE_ERRORS,
        },
      },
    },
    async (req) => {
      const body = req.body as z.infer<typeof readBody>;
      const bytes = Buffer.from(body.image, 'base64');
      return imageReadJson(await readImageFile(bytes, body.name ?? 'the image'));
    },
  );

  app.register(async (scoped) => {
    await scoped.register(fastifyMultipart, { limits: { fileSize: MAX_FILE_BYTES, files: 1, fields: 20 } });
    scoped.post(
      '/api/v1/qa/images',
      {
        onRequest: requires('qa.read'),
        config: { invalidInput: 'QA_INVALID_READ' },
        schema: {
          tags: ['qa'],
          summary: 'Record the read of one test-fired case from its image (multipart)',
          description:
            'Multipart: the file `image` and the fields serial or code, brand, lacquered (true/false), round, station, and text when the QA person corrected the text read. Reads the image and records the read as POST /api/v1/qa/reads does. 400 IMAGE_UNREADABLE or QA_INVALID_READ, 413 IMAGE_TOO_LARGE, 422 IMAGE_NO_STAMP; nothing is stored then.',
          security: SECURED,
          consumes: ['multipart/form-data'],
          response: {
            201: z.looseObject({ image: z.looseObject({}) }),
            ...GUARDED_ERRORS,
            ...errorResponses(404, 409, 503),
            ...IMAGE_ERRORS,
          },
        },
      },
      async (req, reply) => {
        const fields: Partial<Record<(typeof FIELDS)[number], string>> = {};
        let file: Buffer | undefined;
        let name = 'the image';
        try {
          for await (const part of req.parts()) {
            if (part.type === 'file') {
              if (part.fieldname !== 'image') {
                throw new StamplineError(
                  'QA_INVALID_READ',
                  `unexpected file field ${part.fieldname}; send the image as "image"`,
                  { field: part.fieldname },
                );
              }
              file = await part.toBuffer();
              name = part.filename || name;
            } else if ((FIELDS as readonly string[]).includes(part.fieldname)) {
              fields[part.fieldname as (typeof FIELDS)[number]] = String(part.value);
            } else {
              throw new StamplineError(
                'QA_INVALID_READ',
                `unexpected field ${part.fieldname}; the fields are ${FIELDS.join(', ')}`,
                { field: part.fieldname },
              );
            }
          }
        } catch (err) {
          if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
            throw new StamplineError(
              'IMAGE_TOO_LARGE',
              `the image is over ${MAX_FILE_BYTES} bytes (64 MiB), the most the reader takes`,
              { limit: MAX_FILE_BYTES },
            );
          }
          if ((err as { code?: string }).code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
            throw new StamplineError(
              'QA_INVALID_READ',
              'send the image as multipart/form-data with the file in the field "image"',
              {},
            );
          }
          throw err;
        }
        if (!file)
          throw new StamplineError(
            'QA_INVALID_READ',
            'no image: send the file in the multipart field "image"',
            { field: 'image' },
          );
        const image = await readImageFile(file, name);
        const candidate = {
          ...(fields.serial !== undefined ? { serial: fields.serial } : {}),
          ...(fields.code !== undefined ? { code: fields.code } : {}),
          text: fields.text ?? image.text,
          gear: image.gear,
          ammo: { brand: fields.brand ?? '', lacquered: fields.lacquered === 'true' },
          ...(fields.round !== undefined ? { round: Number(fields.round) } : {}),
          ...(fields.station !== undefined ? { station: fields.station } : {}),
          // recorded as from an image, and a text the person sent in place of the reader's as a correction
          imageRead: {
            text: image.text,
            gear: image.gear,
            sha256: createHash('sha256').update(file).digest('hex'),
            soft: image.soft,
          },
        };
        const parsed = caseReadInputSchema.safeParse(candidate);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new StamplineError('QA_INVALID_READ', `${issue.path.join('.') || 'read'}: ${issue.message}`, {
            field: issue.path.join('.'),
          });
        }
        const result = await service().submit(parsed.data, actorOf(req));
        return reply.status(201).send({
          ...result,
          image: { ...imageReadJson(image), corrected: result.read.corrected !== undefined },
        });
      },
    );
  });
}
