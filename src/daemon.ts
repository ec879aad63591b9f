/**
 * The composition root: builds every service of one line from its configuration, starts them in
 * order and stops them in the reverse order. Constructors only assign; `start()` does the work.
 *
 * Shutdown order (safe to call twice): stop what feeds the line (simulated stations, the drop
 * folder, HTTP), let the QA read in flight be decided, stop access control, let the job in
 * flight end, close the engraver link, stop the registry link with the offline status, flush and
 * close the stores, stop the other simulators, and leave the logger to the caller, which closes
 * it last.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AlarmService } from './alarms/service.js';
import { watchAlarms } from './alarms/watch.js';
import { buildApp } from './api/app.js';
import { Auth } from './api/auth/index.js';
import { uiPlugin } from './api/ui/index.js';
import { parseKey } from './codes/index.js';
import { recipeFor } from './config/recipes.js';
import type { Config } from './config/schema.js';
import { createEngraver } from './engraver/index.js';
import type { Engraver } from './engraver/types.js';
import { DropFolder, type IntakeProblem } from './erp/drop-folder.js';
import { StamplineError } from './errors.js';
import { CodeAllocator } from './line/allocator.js';
import { identifierForLine } from './line/identify.js';
import { Line } from './line/line.js';
import { firearmsOf, LineRepository } from './line/repository.js';
import { STORE_FILES } from './line/store-check.js';
import { allocatorBehind, startWitnesses, unreservedWitnesses } from './line/witness.js';
import type { Logger } from './logger.js';
import { holdPort, listenError, type PortHold } from './port-hold.js';
import { ImageFolder } from './qa/image-folder.js';
import { QaService } from './qa/index.js';
import { RegistryReporter } from './registry/reporter.js';
import { AuditTrail } from './store/audit.js';
import { DocumentStore } from './store/documents.js';
import { StoreIdentity } from './store/identity.js';
import { onRepairNoted } from './store/repairs.js';
import { VERSION } from './version.js';

export interface DaemonHooks {
  /** Runs after the store is open and before anything connects: the demo starts simulators here. */
  beforeConnect?: (daemon: Daemon) => Promise<void>;
}

export class Daemon {
  store?: DocumentStore;
  audit?: AuditTrail;
  repo?: LineRepository;
  engraver?: Engraver;
  reporter?: RegistryReporter;
  line?: Line;
  qa?: QaService;
  auth?: Auth;
  app?: FastifyInstance;
  dropFolder?: DropFolder;
  imageFolder?: ImageFolder;
  alarms?: AlarmService;
  private unwatchAlarms: (() => void) | undefined;
  /** Where the API listens once started. */
  address?: { host: string; port: number; url: string };
  private portHold: PortHold | undefined;
  private unwatchRepairs: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private readonly cleanups: Array<() => Promise<void>> = [];
  private readonly feeders: Array<() => Promise<void>> = [];
  private readonly starters: Array<() => Promise<void>> = [];

  constructor(
    readonly config: Config,
    readonly logger: Logger,
    private readonly hooks: DaemonHooks = {},
  ) {}

  /** Registers something to stop after the line's own services (simulators, in the demo). */
  onStop(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  /**
   * Registers something to stop first, before the intake closes: a simulated station that feeds
   * the line (the demo's test fire), which would otherwise submit to services already stopped.
   */
  beforeStop(stop: () => Promise<void>): void {
    this.feeders.push(stop);
  }

  /** Registers something to run once the line is up (the demo's sample order). */
  afterStart(fn: () => Promise<void>): void {
    this.starters.push(fn);
  }

  async start(): Promise<void> {
    const c = this.config;
    const log = this.logger;
    const dataDir = c.line.dataDir;
    if (!c.issuer.key)
      throw new StamplineError('CONFIG_INVALID', 'issuer.key is not set (STAMPLINE_ISSUER_KEY)');

    // Before anything creates a file: a file the store holds that is gone is refused by name.
    const identity = new StoreIdentity(dataDir);
    if ((await identity.open()) === 'created') log.info({ dataDir, store: identity.id }, 'new data folder');
    this.store = new DocumentStore({ dir: join(dataDir, 'docs') });
    await this.store.start();
    // After the store's lock (a second daemon on this data folder is refused by it first) and
    // before any link is touched.
    this.portHold = await holdPort(c.http.host, c.http.port);
    // Opened before the other logs, so that a torn entry any of them cuts off is an alarm.
    this.alarms = new AlarmService({
      dataDir,
      thresholds: c.alarms,
      audit: { record: (entry) => this.audit!.record(entry) },
      logger: log.child({ component: 'alarms' }),
    });
    await this.alarms.start();
    const alarms = this.alarms;
    // Every repair of a store's log from here on (audit trail, QA log, outbox, order catalogue,
    // intake journal) is an alarm until acknowledged; the alarm journal reports its own.
    this.unwatchRepairs = onRepairNoted((r) => alarms.noteRepair(STORE_NAMES[r.log] ?? r.log, r));
    this.audit = new AuditTrail({
      dataDir,
      onRepair: (note) => log.warn({ note }, 'audit trail: repaired a torn last entry'),
    });
    await this.audit.start();
    this.repo = new LineRepository(this.store, join(dataDir, 'serials'));
    // The finished orders are loaded once the daemon serves (below), so that start-up does not
    // share the thread with reading them; what became of the load is told once it ends.
    const audit = this.audit;
    await this.repo.start({
      finishedOrders: 'when-asked',
      wasCreated: async (id) =>
        (await audit.query({ subject: `order:${id}`, action: 'order.create', limit: 1 })).length > 0,
    });
    for (const orderId of this.repo.unborn)
      log.warn(
        { orderId },
        'dropped an unfinished order whose creation stopped before its header was written',
      );
    const repo = this.repo;
    repo.finishedOrdersLoaded().then(
      () => {
        // A new data folder has no catalogue and nothing to rebuild it from: nothing to say then.
        const rebuilt = repo.catalogueRebuild;
        if (rebuilt && (rebuilt.orders > 0 || rebuilt.reason === 'corrupt'))
          log.warn({ catalogue: rebuilt }, 'order catalogue written afresh from the order header files');
      },
      (err: unknown) => {
        // A stop during the load ends it early, which is no fault.
        if (this.stopping) return;
        log.error(
          { err },
          'cannot load the finished orders: listing and retiring orders fail until a restart',
        );
      },
    );
    const allocator = new CodeAllocator(
      this.store,
      c.issuer.number,
      parseKey(c.issuer.key),
      c.issuer.indexBlock,
    );
    await allocator.start();

    await this.hooks.beforeConnect?.(this);

    this.engraver = createEngraver(c.engraver.url, {
      requestTimeoutMs: c.engraver.requestTimeoutMs,
      reconnect: c.engraver.reconnect,
      profile: c.engraver.profile,
      logger: log.child({ component: 'engraver' }),
    });

    this.reporter = new RegistryReporter({
      dataDir,
      // The firearm keeps what became of each record before the outbox lets it go.
      beforeSettle: (settlements) => this.line!.noteSettled(settlements),
      issuer: c.issuer.number,
      line: c.line.id,
      version: VERSION,
      mqtt: {
        url: c.mqtt.url,
        protocolVersion: c.mqtt.protocolVersion,
        clientId: c.mqtt.clientId,
        ...(c.mqtt.username ? { username: c.mqtt.username } : {}),
        ...(c.mqtt.password ? { password: c.mqtt.password } : {}),
        ...(c.mqtt.tls?.ca ? { ca: c.mqtt.tls.ca } : {}),
        ...(c.mqtt.tls?.cert ? { cert: c.mqtt.tls.cert } : {}),
        ...(c.mqtt.tls?.key ? { key: c.mqtt.tls.key } : {}),
        ...(c.mqtt.tls ? { rejectUnauthorized: c.mqtt.tls.rejectUnauthorized } : {}),
        keepaliveSec: c.mqtt.keepaliveSeconds,
        reconnectMinMs: c.mqtt.reconnectMs,
      },
      resendAfterMs: c.mqtt.resendAfterMs,
      window: c.mqtt.window,
      logger: log,
    });

    this.line = new Line({
      repo: this.repo,
      allocator,
      engraver: this.engraver,
      sink: this.reporter,
      audit: this.audit,
      recipeFor: (make, model) => recipeFor(c.recipes, make, model),
      records: {
        issuer: c.issuer.number,
        line: c.line.id,
        certifiedBy: { kind: c.issuer.kind, licence: c.issuer.licence },
        engraverId: c.engraver.id,
      },
      logger: log.child({ component: 'line' }),
      mirror: c.engraver.mirror,
      jobTimeoutMs: c.engraver.jobTimeoutMs,
      autoStart: c.simulators.sampleOrder.enabled && c.simulators.sampleOrder.autoStart,
    });

    // Links come up in the background: an engraver or broker that cannot be reached is shown
    // as down and retried, and is no reason for the line not to start.
    await this.reporter.start();
    await checkAllocator(this, allocator);
    await this.engraver.start();
    await this.line.start();

    this.qa = new QaService({
      line: this.line,
      policy: c.qa.policy,
      registry: c.qa.registry,
      key: parseKey(c.issuer.key),
      dataDir,
      engraverId: c.engraver.id,
      audit: this.audit,
      logger: log.child({ component: 'qa' }),
    });
    // After the line: decisions cut short by a stop are completed through it.
    await this.qa.start();
    this.unwatchAlarms = watchAlarms(alarms, {
      line: this.line,
      codesLeft: () => allocator.remaining(),
      reporter: this.reporter,
      qa: this.qa,
    });

    this.auth = new Auth({
      dataDir,
      tokens: { erp: c.auth.erpToken, operator: c.auth.operatorToken, qa: c.auth.qaToken },
      sessionTtlMinutes: c.auth.sessionTtlMinutes,
      audit: this.audit,
      logger: log.child({ component: 'auth' }),
    });
    await this.auth.start();

    this.app = buildApp({
      line: this.line,
      auth: this.auth,
      outbox: this.reporter.outbox,
      qa: this.qa,
      audit: this.audit,
      identify: identifierForLine(this.line, dataDir, parseKey(c.issuer.key), c.issuer.number),
      alarms,
      health: () => this.health(),
      version: VERSION,
    });
    const line = this.line;
    const qa = this.qa;
    this.app.register(uiPlugin, {
      certificates: {
        firearm: (serial) => qa.firearm(serial),
        order: async (id) => {
          const { order } = await line.orderView(id);
          return { order, firearms: await qa.records({ order: id }) };
        },
        issuer: { number: c.issuer.number, kind: c.issuer.kind, licence: c.issuer.licence },
        lineId: c.line.id,
      },
    });
    await this.portHold?.release();
    await this.app.listen({ host: c.http.host, port: c.http.port }).catch((err: NodeJS.ErrnoException) => {
      throw listenError(c.http.host, c.http.port, err);
    });
    const addr = this.app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : c.http.port;
    this.address = { host: c.http.host, port, url: `http://${c.http.host}:${port}` };
    log.info({ url: this.address.url }, 'HTTP API listening');

    if (c.erp.dropFolder) {
      const line = this.line;
      this.dropFolder = new DropFolder({
        dir: c.erp.dropFolder.path,
        pollMs: c.erp.dropFolder.pollMs,
        settleMs: c.erp.dropFolder.settleMs,
        completion: c.erp.dropFolder.completion,
        logger: log.child({ component: 'drop-folder' }),
        accept: async (orders, _file, intake) => {
          try {
            await line.submitOrders(orders, 'drop-folder', 'erp', { replay: intake.replay });
            return { ok: true };
          } catch (err) {
            const problems = refusalProblems(err);
            if (problems) return { ok: false, problems };
            throw err;
          }
        },
      });
      await this.dropFolder.start();
    }
    if (c.qa.imageFolder) {
      const f = c.qa.imageFolder;
      this.imageFolder = new ImageFolder({
        dir: f.path,
        pollMs: f.pollMs,
        settleMs: f.settleMs,
        completion: f.completion,
        nameIs: f.nameIs,
        ammo: { brand: f.brand, lacquered: f.lacquered },
        station: f.station,
        qa: this.qa,
        logger: log.child({ component: 'image-folder' }),
      });
      await this.imageFolder.start();
    }
    await identity.expect([...STORE_FILES, ...this.repo.parts()]);
    for (const fn of this.starters) await fn();
    this.repo.loadFinishedOrders();
  }

  health(): { ok: boolean; checks: Record<string, unknown> } {
    const engraver = { connected: this.engraver?.connected ?? false, url: this.config.engraver.url };
    const registry = this.reporter?.status();
    return {
      // The daemon is healthy when it serves; links down are shown, not fatal.
      ok: this.line !== undefined,
      checks: {
        engraver,
        registry: registry ? { link: registry.link, outboxDepth: this.reporter!.outbox.depth() } : undefined,
      },
    };
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const log = this.logger;
    const step = async (name: string, fn: (() => Promise<unknown>) | undefined) => {
      if (!fn) return;
      try {
        await fn();
      } catch (err) {
        log.error({ err, step: name }, 'error while stopping');
      }
    };
    for (const stop of this.feeders.reverse()) await step('simulated station', stop);
    await step('drop folder', this.dropFolder && (() => this.dropFolder!.stop()));
    await step('image folder', this.imageFolder && (() => this.imageFolder!.stop()));
    await step('http port', this.portHold && (() => this.portHold!.release()));
    await step('http', this.app && (() => this.app!.close()));
    await step('qa', this.qa && (() => this.qa!.stop()));
    await step('auth', this.auth && (() => this.auth!.stop()));
    await step('line', this.line && (() => this.line!.stop()));
    await step('engraver', this.engraver && (() => this.engraver!.stop()));
    this.unwatchAlarms?.();
    this.unwatchRepairs?.();
    await step('registry', this.reporter && (() => this.reporter!.stop()));
    await step('alarms', this.alarms && (() => this.alarms!.stop()));
    await step('repository', this.repo && (() => this.repo!.stop()));
    await step('audit', this.audit && (() => this.audit!.stop()));
    await step('store', this.store && (() => this.store!.stop()));
    for (const cleanup of this.cleanups.reverse()) await step('simulator', cleanup);
    log.info('stopped');
  }
}

/**
 * Refuses to go on when a witness of the codes given holds an index the allocator has not
 * reserved (see `line/witness.ts`).
 */
async function checkAllocator(daemon: Daemon, allocator: CodeAllocator): Promise<void> {
  const c = daemon.config;
  const repo = daemon.repo!;
  const firearms = repo.activeOrders().flatMap((o) => [...firearmsOf(o)]);
  const seen = startWitnesses({
    issuer: c.issuer.number,
    key: parseKey(c.issuer.key!),
    codeIndex: { dir: repo.codeIndexDir, codes: await repo.codeIndexTails() },
    firearms,
    outbox: { dir: join(c.line.dataDir, 'outbox'), codes: daemon.reporter!.outbox.codesAtStart() },
    audit: { dir: daemon.audit!.dir, last: daemon.audit!.lastEntry() },
  });
  const behind = unreservedWitnesses(allocator.reservedRuns(), seen);
  if (behind.length > 0) throw allocatorBehind(allocator.file, behind);
}

/** The logs of the store as an operator knows them, for their repair alarms (keyed `<folder>/<name>`). */
const STORE_NAMES: Record<string, string> = {
  'audit/audit': 'audit trail',
  'qa/reads': 'QA read log',
  'outbox/outbox': 'registry outbox',
  'line/order-catalogue': 'order catalogue',
  '.stampline-intake/markers': 'intake journal',
  'alarms/journal': 'alarm journal',
};

/**
 * The line's refusal of a drop-folder file as the problems its report lists: an order or a serial
 * the line already holds (409), or an order the line cannot take as it is configured (400, such
 * as a licensed installer's order without a destination). Anything else is no answer about the
 * file, and is left to the drop folder to retry.
 */
function refusalProblems(err: unknown): IntakeProblem[] | undefined {
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
