/**
 * The line and what it stands on (the document store, the order repository, the code allocator,
 * the engraver), built one way for the daemon, the test harness and the benchmarks. What differs
 * between them comes in as parts: the engraver driver (a real link, or the simulated device
 * directly), where records go, where audit entries go, the logger.
 *
 * Constructors only assign; the services start in three steps, each pushing what it started on
 * the caller's `ServiceStack`, so the daemon can put its own services in between (its audit trail
 * before the repository, its registry link before the engraver) and everything still stops in the
 * reverse order.
 */
import { join } from 'node:path';
import { parseKey } from './codes/index.js';
import { recipeFor } from './config/recipes.js';
import type { Config } from './config/schema.js';
import type { Engraver } from './engraver/types.js';
import { CodeAllocator } from './line/allocator.js';
import { type CrashHook, Line, type LineOptions, type RecordSink } from './line/line.js';
import { LineRepository } from './line/repository.js';
import type { ServiceStack } from './service-stack.js';
import { type AuditSink, type Logger, silentLogger } from './shared.js';
import { DocumentStore } from './store/documents.js';

export interface LineServicesConfig {
  /** `line.dataDir`: the store's documents go in `docs/`, the serial index in `serials/` */
  dataDir: string;
  issuer: {
    number: number;
    /** the issuer's secret key, 32 hex digits */
    key: string;
    indexBlock: { start: number; size: number };
  };
  /** who the records say certified each mark, on which line and engraver */
  records: LineOptions['records'];
  recipeFor: LineOptions['recipeFor'];
  mirror: boolean;
  jobTimeoutMs: number;
  /** start orders as soon as they arrive (the demo) */
  autoStart?: boolean;
}

export interface LineParts {
  engraver: Engraver;
  /** where the line's records go: the registry outbox in the daemon */
  sink: RecordSink;
  audit: AuditSink;
  logger?: Logger;
  /** Where the line's crash points go (tests); by default `STAMPLINE_CRASH_AT` (crash-points.ts). */
  crashHook?: CrashHook;
}

/** What the line takes from the daemon's configuration. */
export function lineConfigOf(c: Config): LineServicesConfig {
  if (!c.issuer.key) throw new Error('issuer.key is not set');
  return {
    dataDir: c.line.dataDir,
    issuer: { number: c.issuer.number, key: c.issuer.key, indexBlock: c.issuer.indexBlock },
    records: {
      issuer: c.issuer.number,
      line: c.line.id,
      certifiedBy: { kind: c.issuer.kind, licence: c.issuer.licence },
      engraverId: c.engraver.id,
    },
    recipeFor: (make, model) => recipeFor(c.recipes, make, model),
    mirror: c.engraver.mirror,
    jobTimeoutMs: c.engraver.jobTimeoutMs,
    autoStart: c.simulators.sampleOrder.enabled && c.simulators.sampleOrder.autoStart,
  };
}

export class LineServices {
  readonly store: DocumentStore;
  readonly repo: LineRepository;
  readonly allocator: CodeAllocator;
  readonly engraver: Engraver;
  readonly line: Line;

  constructor(config: LineServicesConfig, parts: LineParts) {
    this.store = new DocumentStore({ dir: join(config.dataDir, 'docs') });
    this.repo = new LineRepository(this.store, join(config.dataDir, 'serials'));
    this.allocator = new CodeAllocator(
      this.store,
      config.issuer.number,
      parseKey(config.issuer.key),
      config.issuer.indexBlock,
    );
    this.engraver = parts.engraver;
    this.line = new Line({
      repo: this.repo,
      allocator: this.allocator,
      engraver: parts.engraver,
      sink: parts.sink,
      audit: parts.audit,
      recipeFor: config.recipeFor,
      records: config.records,
      logger: parts.logger ?? silentLogger,
      mirror: config.mirror,
      jobTimeoutMs: config.jobTimeoutMs,
      autoStart: config.autoStart ?? false,
      ...(parts.crashHook ? { crashHook: parts.crashHook } : {}),
    });
  }

  /** The document store: it takes the data folder's lock. */
  async startStore(stack: ServiceStack): Promise<void> {
    await stack.start(
      'store',
      () => this.store.start(),
      () => this.store.stop(),
    );
  }

  /** The order repository and the code allocator, on the started store. */
  async startOrders(stack: ServiceStack, repo: Parameters<LineRepository['start']>[0] = {}): Promise<void> {
    await stack.start(
      'repository',
      () => this.repo.start(repo),
      () => this.repo.stop(),
    );
    await this.allocator.start();
  }

  /** The engraver's link (a link that cannot be reached is retried, not fatal), then the line. */
  async startLine(stack: ServiceStack): Promise<void> {
    await stack.start(
      'engraver',
      () => this.engraver.start(),
      () => this.engraver.stop(),
    );
    await stack.start(
      'line',
      () => this.line.start(),
      () => this.line.stop(),
    );
  }

  /** Every step in order, for a line with nothing of its own in between. */
  async start(stack: ServiceStack, repo?: Parameters<LineRepository['start']>[0]): Promise<void> {
    await this.startStore(stack);
    await this.startOrders(stack, repo);
    await this.startLine(stack);
  }
}

/** The line's services on a folder, not yet started. */
export function createLineServices(config: LineServicesConfig, parts: LineParts): LineServices {
  return new LineServices(config, parts);
}
