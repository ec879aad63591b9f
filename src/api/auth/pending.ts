/**
 * Moves the changes waiting in the users file to the audit trail, oldest first, then takes them
 * out of the file, all under the file's lock so two movers never record one change twice. A
 * crash between the trail and the file leaves a change that is recorded again by the next
 * mover: twice rather than never, and recognisable by its `change` id.
 */
import type { AuditSink } from '../../shared.js';
import type { PendingAudit, UsersFile, UsersSnapshot } from './users-file.js';

/** The trail entry of a waiting change: its `after` also names the change and when it was made. */
export function auditRecordOf(p: PendingAudit): Parameters<AuditSink['record']>[0] {
  const tag = { change: p.id, madeAt: p.time };
  let after: unknown = tag;
  if (p.after !== undefined && p.after !== null) {
    after =
      typeof p.after === 'object' && !Array.isArray(p.after)
        ? { ...(p.after as object), ...tag }
        : { value: p.after, ...tag };
  }
  return {
    actor: p.actor,
    action: p.action,
    subject: p.subject,
    ...(p.before === undefined ? {} : { before: p.before }),
    after,
    ...(p.reason === undefined ? {} : { reason: p.reason }),
  };
}

export interface MoveResult {
  moved: number;
  left: number;
  /** Why the trail refused the first change left, when one was. */
  error?: unknown;
  snapshot: UsersSnapshot;
}

export async function movePending(file: UsersFile, audit: AuditSink): Promise<MoveResult> {
  let moved = 0;
  let error: unknown;
  const { snapshot } = await file.update(async (doc) => {
    const done = new Set<string>();
    for (const p of doc.pending) {
      try {
        await audit.record(auditRecordOf(p));
      } catch (err) {
        error = err;
        break;
      }
      done.add(p.id);
    }
    moved = done.size;
    doc.pending = doc.pending.filter((p) => !done.has(p.id));
  });
  return { moved, left: snapshot.doc.pending.length, error, snapshot };
}
