/**
 * What the drop folder's report says of a file the line refused: the line's error, turned into the
 * problems the report lists.
 */
import { StamplineError } from '../errors.js';
import type { IntakeProblem } from './drop-folder.js';

/**
 * The line's refusal of a drop-folder file as the problems its report lists: an order or a serial
 * the line already holds (409), or an order the line cannot take as it is configured (400, such
 * as a licensed installer's order without a destination). Anything else is no answer about the
 * file, and is left to the drop folder to retry.
 */
export function refusalProblems(err: unknown): IntakeProblem[] | undefined {
  if (!(err instanceof StamplineError) || (err.status !== 409 && err.status !== 400)) return undefined;
  const ctx = err.context;
  const conflicts = (ctx.conflicts as Array<{ serial: string; reason: string }> | undefined) ?? [];
  if (conflicts.length > 0) return conflicts.map((c) => ({ serial: c.serial, reason: c.reason }));
  const problems = (ctx.problems as Array<{ path?: string; reason: string }> | undefined) ?? [];
  const orderIds = (ctx.orderIds as string[] | undefined) ?? [];
  if (problems.length > 0 && orderIds.length > 0) {
    return orderIds.flatMap((orderId) =>
      problems.map((p) => ({ orderId, ...(p.path ? { path: p.path } : {}), reason: p.reason })),
    );
  }
  if (problems.length > 0)
    return problems.map((p) => ({ ...(p.path ? { path: p.path } : {}), reason: p.reason }));
  return [{ ...(typeof ctx.orderId === 'string' ? { orderId: ctx.orderId } : {}), reason: err.message }];
}
