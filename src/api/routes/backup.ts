/** A backup of the running line's data, taken without stopping it (src/store/backup.ts). */
import { z } from 'zod';
import type { BackupManifest, Staged } from '../../store/backup.js';
import { packBackup } from '../../store/backup.js';
import { actorOf, requires } from '../auth/guard.js';
import { errorResponses, GUARDED_ERRORS, SECURED } from '../schemas/common.js';
import { type Api, type AuditApi, missing } from './context.js';

/** What the route needs of the daemon: a staged copy of its data folder. */
export interface BackupApi {
  stage(): Promise<Staged>;
}

export function backupRoutes(app: Api, deps: { backup?: BackupApi; audit?: AuditApi }): void {
  app.get(
    '/api/v1/backup',
    {
      onRequest: requires('backup'),
      schema: {
        tags: ['line'],
        summary: 'A backup of the line’s data, taken while it runs',
        description:
          'A gzipped tar of the data folder as one instant left it (every durable write held while its files are linked, a moment whatever the history). `stampline backup --to FILE` asks for it; `stampline restore FILE --data-dir DIR` puts it back. Holds the users file (password hashes): keep it as safe as the line PC. Audited.',
        security: SECURED,
        produces: ['application/gzip'],
        response: {
          200: z.any().describe('the archive (application/gzip)'),
          ...GUARDED_ERRORS,
          ...errorResponses(503),
        },
      },
    },
    async (req, reply) => {
      const backup = deps.backup ?? missing('the backup');
      const staged = await backup.stage();
      const m: BackupManifest = staged.manifest;
      await deps.audit?.record({
        actor: actorOf(req),
        action: 'store.backup',
        subject: 'store',
        after: { files: m.files, bytes: m.bytes, createdAt: m.createdAt },
      });
      const stream = packBackup(staged);
      const done = () => void staged.remove();
      stream.once('end', done);
      stream.once('error', done);
      reply.raw.once('close', done);
      const stamp = m.createdAt.replace(/[:.]/g, '-');
      return reply
        .header('content-type', 'application/gzip')
        .header('content-disposition', `attachment; filename="stampline-backup-${stamp}.tar.gz"`)
        .send(stream);
    },
  );
}
