/**
 * The small interfaces every subsystem shares, in one place, so that a service takes what it
 * needs without importing another subsystem for it: where audit entries go (`AuditSink`, the
 * audit trail in the daemon), where log lines go (`Logger`, the daemon's pino logger or one of
 * its children), the logger of a service given none (`silentLogger`), and the line as the API
 * and the alarms watch it (`LineApi`).
 */
import type { EngraverStatus } from './engraver/types.js';
import type { Order as NewOrder } from './erp/order.js';
import type { Firearm, OrderCounts, OrderHeader } from './line/model.js';
import type { StoredFirearm } from './line/repository.js';
import type { AuditRecordInput } from './store/audit.js';

/** What a service writes to the audit trail: the trail's own entry, without its time and chain. */
export type AuditEntryInput = AuditRecordInput;

export interface AuditSink {
  /** Resolves once the entry is durable. */
  record(entry: AuditEntryInput): Promise<unknown>;
  /**
   * Entries of a subject and action, newest first (the audit trail has it). Used only when a QA
   * decision is applied again, to write the entries a crash cut off and no others.
   */
  query?(q: { subject?: string; action?: string; limit?: number }): Promise<Array<{ after: unknown }>>;
}

/** Structured log lines: an object of fields, then the message. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** A logger that writes nothing: the default of a service built without one (tests, tools). */
export const silentLogger: Logger = Object.freeze({
  info() {},
  warn() {},
  error() {},
  debug() {},
});

/** The events of the line the API follows (live events, metrics). */
export interface LineApiEvents {
  firearm: [{ orderId: string; firearm: Firearm }];
  order: [{ order: OrderHeader }];
  engraver: [{ connected: boolean; status?: EngraverStatus; statusAt?: string; reason?: string }];
  /** The counts of an engraved order not yet complete changed (or it is now counted, or no more). */
  backlog: [{ orderId: string }];
}

/** An active order as the line shows it: its header and how its firearms stand. */
export type ActiveOrder = OrderHeader & { counts: OrderCounts };

/** A page of the active orders, working ones first, and their totals by state. */
export interface ActiveView {
  activeOrders: ActiveOrder[];
  activeTotal: number;
  activeByState: { running: number; faulted: number; paused: number; queued: number };
}

/** The engraver as the line last saw it. */
export interface EngraverView {
  url: string;
  connected: boolean;
  status: EngraverStatus | undefined;
}

interface LineNow {
  /** the firearm being engraved */
  current: { orderId: string; serial: string } | undefined;
  /** why the work loop waits for a person (an engraver fault, a rejected job) */
  halted: { reason: string; fault?: number } | undefined;
  /** indexes left in the issuer's block */
  indexesLeft: number;
}

/** The line with every active order (metrics). */
export interface LineStatus extends LineNow {
  /** `statusAt`: when `status` was read */
  engraver: EngraverView & { statusAt: string | undefined };
  activeOrders: ActiveOrder[];
}

/**
 * What waits after the engraver: firearms engraved whose code has not passed QA yet (in the orders
 * the line works on and the engraved ones), and the engraved orders not yet complete, oldest first.
 */
export interface LineBacklog {
  awaitingQa: number;
  engravedOrders: ActiveOrder[];
  engravedTotal: number;
}

/** The line with a page of its active orders (the API, live events). */
export interface LineSummary extends LineNow, ActiveView {
  backlog: LineBacklog;
  engraver: EngraverView;
}

/**
 * The line as the API uses it: what the routes, live events and metrics call, and nothing else
 * (`src/line/line.ts`'s `Line` in the daemon; a small fake in a test).
 */
export interface LineApi {
  on<K extends keyof LineApiEvents>(event: K, listener: (...args: LineApiEvents[K]) => void): unknown;
  off<K extends keyof LineApiEvents>(event: K, listener: (...args: LineApiEvents[K]) => void): unknown;
  status(): LineStatus;
  summary(limit: number): LineSummary;
  activeView(limit: number): ActiveView;
  /**
   * The counts of an order the line is working on, or of an engraved one not yet complete;
   * undefined for another (complete, aborted, unknown).
   */
  activeCounts(id: string): OrderCounts | undefined;
  /** Every order, newest first. */
  listOrders(): Promise<OrderHeader[]>;
  orderView(id: string): Promise<{ order: OrderHeader; counts: OrderCounts; firearms: Firearm[] }>;
  submitOrder(input: NewOrder, source: OrderHeader['source'], actor: string): Promise<OrderHeader>;
  startOrder(id: string, actor: string): Promise<OrderHeader>;
  pauseOrder(id: string, actor: string, reason?: string): Promise<OrderHeader>;
  resumeOrder(id: string, actor: string): Promise<OrderHeader>;
  abortOrder(id: string, actor: string, reason?: string): Promise<OrderHeader>;
  resetEngraver(actor: string): Promise<EngraverStatus>;
  /** The firearms that held a serial or were given a code, each with its order's header. */
  findFirearms(query: { serial: string } | { code: string }): Promise<StoredFirearm[]>;
}
