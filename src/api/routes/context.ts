/**
 * What the routes are given: the line and the services beside it, as the narrow views the API
 * needs, so tests can hand in small fakes and the daemon the real services.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { StamplineError } from '../../errors.js';
import type { DayRange, Per, QaDecisionEvent, QaPolicy, TrendRow } from '../../qa/index.js';
import type { CaseReadInput, FirearmRecord, StatsDimension, StatsRow, SubmitResult } from '../../qa/types.js';
import type { OutboxEvents } from '../../registry/outbox.js';
import type { AuditSink, LineApi } from '../../shared.js';
import type { AuditEntry, AuditQuery, AuditVerifyResult } from '../../store/audit.js';

/** The fastify instance with zod schemas as its type provider. */
export type Api = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export type {
  ActiveOrder,
  ActiveView,
  EngraverView,
  LineApi,
  LineApiEvents,
  LineStatus,
  LineSummary,
} from '../../shared.js';

export interface OutboxView {
  depth(): number;
  pending(limit?: number): unknown[];
  rejected(): unknown[];
  /** When the oldest pending record was queued (the registry outbox has it); null when none is. */
  oldestPendingAt?(): string | null;
  /** Sends a rejected record again (after the cause was fixed at the registry). */
  retry(recordId: string, by: string): Promise<void>;
  /** Gives up on a rejected record, with the operator's reason. */
  dismiss(recordId: string, reason: string, by: string): Promise<void>;
  /** The outbox's own events (the registry outbox has them); without them, depth is polled. */
  on?<K extends keyof OutboxEvents>(event: K, listener: (...args: OutboxEvents[K]) => void): unknown;
  off?<K extends keyof OutboxEvents>(event: K, listener: (...args: OutboxEvents[K]) => void): unknown;
}

export type { FirearmRecord };

export type QaReadEvent = SubmitResult & { serial: string };

/** The QA service as the API uses it (src/qa/index.ts). */
export interface QaApi {
  readonly policy: QaPolicy;
  /** the registry `ca-4075` judges cases against (`qa.registry`) */
  readonly registry?: { issuedCodes: number; issuers?: number | undefined };
  submit(input: CaseReadInput, actor: string): Promise<SubmitResult>;
  firearm(serial: string): Promise<FirearmRecord>;
  records(query: { serial?: string; code?: string; order?: string }): Promise<FirearmRecord[]>;
  statistics(by: StatsDimension, range?: DayRange): StatsRow[];
  trend(range: { from: string; to: string; per: Per }): Promise<TrendRow[]>;
  /** `read`: every accepted read; `decision`: one applied without a read of its own */
  on(event: 'read', listener: (event: QaReadEvent) => void): unknown;
  on(event: 'decision', listener: (event: QaDecisionEvent) => void): unknown;
  off(event: 'read', listener: (event: QaReadEvent) => void): unknown;
  off(event: 'decision', listener: (event: QaDecisionEvent) => void): unknown;
  /** decisions completed at start-up, before anyone could listen */
  decidedAtStart(): readonly QaDecisionEvent[];
}

/** The audit trail: written by the routes that change things, read by supervisors. */
export interface AuditApi extends AuditSink {
  query?(q: AuditQuery): Promise<AuditEntry[]>;
  verify?(): Promise<AuditVerifyResult>;
}

export interface RouteDeps {
  line: LineApi;
  outbox?: OutboxView;
  qa?: QaApi;
  audit?: AuditApi;
}

/** A service the daemon runs but this app was built without: 503, as for a line not ready. */
export function missing(what: string): never {
  throw new StamplineError('LINE_NOT_READY', `${what} is not running on this line`, { service: what });
}
