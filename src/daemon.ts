/**
 * The composition root: builds every service of one line from its configuration, starts them in
 * order, pushing each on a `ServiceStack` as it starts, and stops them by popping it. Constructors
 * only assign; `start()` does the work. A start that fails stops what had started, last first.
 *
 * Start order, hence the reverse stop order: the store (its lock), the port held for the API, the
 * alarms, the audit trail, the order repository and allocator, the demo's simulators, the
 * registry link, the engraver link, the line, access control, the QA service, HTTP, the drop
 * folder, and the demo's simulated test fire. So a stop ends what feeds the line first, lets the
 * QA read and the job in flight end, closes the engraver link, publishes the registry's offline
 * status, stops the simulators, and flushes and closes the stores; the caller closes the logger.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AlarmService } from './alarms/service.js';
import { watchAlarms } from './alarms/watch.js';
import { buildApp } from './api/app.js';
import { Auth } from './api/auth/index.js';
import { uiPlugin } from './api/ui/index.js';
import { parseKey } from './codes/index.js';
import type { Config } from './config/schema.js';
import { createEngraver } from './engraver/index.js';
import type { Engraver } from './engraver/types.js';
import { DropFolder } from './erp/drop-folder.js';
import { refusalProblems } from './erp/refusal.js';
import { StamplineError } from './errors.js';
import type { CodeAllocator } from './line/allocator.js';
import { identifierForLine } from './line/identify.js';
import type { Line } from './line/line.js';
import { firearmsOf, type LineRepository } from './line/repository.js';
import { STORE_FILES } from './line/store-check.js';
import { allocatorBehind, startWitnesses, unreservedWitnesses } from './line/witness.js';
import { createLineServices, lineConfigOf } from './line-services.js';
import type { Logger } from './logger.js';
import { holdPort, listenError } from './port-hold.js';
import { ImageFolder } from './qa/image-folder.js';
import { QaService } from './qa/index.js';
import { RegistryReporter } from './registry/reporter.js';
import { ServiceStack } from './service-stack.js';
import { AuditTrail } from './store/audit.js';
import { stageBackup } from './store/backup.js';
import type { DocumentStore } from './store/documents.js';
import { StoreIdentity } from './store/identity.js';
import { migrateStore } from './store/migrations.js';
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
  /** Where the API listens once started. */
  address?: { host: string; port: number; url: string };
  private stopping: Promise<void> | undefined;
  /** What has started, to be stopped last first (`ServiceStack`). */
  private readonly stack: ServiceStack;
  private readonly starters: Array<() => Promise<void>> = [];

  constructor(
    readonly config: Config,
    readonly logger: Logger,
    private readonly hooks: DaemonHooks = {},
  ) {
    this.stack = new ServiceStack((step, err) => logger.error({ err, step }, 'error while stopping'));
  }

  /**
   * Registers something to stop with the daemon, in its place on the stack: a simulator started
   * before the daemon connects stops after the line and the links that use it, and before the
   * stores.
   */
  onStop(cleanup: () => Promise<void>): void {
    this.stack.push('simulator', cleanup);
  }

  /**
   * Registers something to stop first, before the intake closes: a simulated station that feeds
   * the line (the demo's test fire), which is started once the line is up and would otherwise
   * submit to services already stopped.
   */
  beforeStop(stop: () => Promise<void>): void {
    this.stack.push('simulated station', stop);
  }

  /** Registers something to run once the line is up (the demo's sample order). */
  afterStart(fn: () => Promise<void>): void {
    this.starters.push(fn);
  }

  /** Starts every service in order; when one fails, those already started are stopped, last first. */
  async start(): Promise<void> {
    try {
      await this.startServices();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startServices(): Promise<void> {
    const c = this.config;
    const log = this.logger;
    const stack = this.stack;
    const dataDir = c.line.dataDir;
    if (!c.issuer.key)
      throw new StamplineError('CONFIG_INVALID', 'issuer.key is not set (STAMPLINE_ISSUER_KEY)');

    // Constructors only assign: everything is built here and started below, in order.
    const audit = new AuditTrail({
      dataDir,
      onRepair: (note) => log.warn({ note }, 'audit trail: repaired a torn last entry'),
    });
    this.audit = audit;
    const alarms = new AlarmService({
      dataDir,
      thresholds: c.alarms,
      audit: { record: (entry) => audit.record(entry) },
      logger: log.child({ component: 'alarms' }),
    });
    this.alarms = alarms;
    const reporter = new RegistryReporter({
      dataDir,
      // The firearm keeps what became of each record before the outbox lets it go.
      beforeSettle: (settlements) => this.line!.noteSettled(settlements),
      issuer: c.issuer.number,
      line: c.line.id,
      version: VERSION,
      mqtt: mqttOptions(c),
      resendAfterMs: c.mqtt.resendAfterMs,
      window: c.mqtt.window,
      logger: log,
    });
    this.reporter = reporter;
    const services = createLineServices(lineConfigOf(c), {
      engraver: createEngraver(c.engraver.url, {
        requestTimeoutMs: c.engraver.requestTimeoutMs,
        reconnect: c.engraver.reconnect,
        profile: c.engraver.profile,
        logger: log.child({ component: 'engraver' }),
      }),
      sink: reporter,
      audit,
      logger: log.child({ component: 'line' }),
    });
    this.store = services.store;
    this.repo = services.repo;
    this.engraver = services.engraver;
    this.line = services.line;
    const { repo, allocator, line } = services;

    // Before anything opens the folder: a newer data format is refused, an older one migrated.
    for (const m of await migrateStore(dataDir, { actor: 'stampline start' }))
      log.info({ dataDir, from: m.from, to: m.to, steps: m.steps }, 'data folder migrated to a newer format');
    // Before anything creates a file: a file the store holds that is gone is refused by name.
    const identity = new StoreIdentity(dataDir);
    if ((await identity.open()) === 'created') log.info({ dataDir, store: identity.id }, 'new data folder');
    await services.startStore(stack);
    // After the store's lock (a second daemon on this data folder is refused by it first) and
    // before any link is touched. Let go before the API listens; stopping lets go of it too.
    const portHold = await holdPort(c.http.host, c.http.port);
    stack.push('http port', () => portHold.release());
    // Opened before the other logs, so that a torn entry any of them cuts off is an alarm.
    await stack.start(
      'alarms',
      () => alarms.start(),
      () => alarms.stop(),
    );
    // Every repair of a store's log from here on (audit trail, QA log, outbox, order catalogue,
    // intake journal) is an alarm until acknowledged; the alarm journal reports its own.
    stack.push(
      'repair alarms',
      onRepairNoted((r) => alarms.noteRepair(STORE_NAMES[r.log] ?? r.log, r)),
    );
    await stack.start(
      'audit',
      () => audit.start(),
      () => audit.stop(),
    );
    // Its acknowledgements are audited: from here on it stops before the audit trail (stopping it
    // again is nothing), while the entry above still stops it when a start fails before this.
    stack.push('alarms', () => alarms.stop());
    // The finished orders are loaded once the daemon serves (below), so that start-up does not
    // share the thread with reading them; what became of the load is told once it ends.
    await services.startOrders(stack, {
      finishedOrders: 'when-asked',
      wasCreated: async (id) =>
        (await audit.query({ subject: `order:${id}`, action: 'order.create', limit: 1 })).length > 0,
    });
    for (const orderId of repo.unborn)
      log.warn(
        { orderId },
        'dropped an unfinished order whose creation stopped before its header was written',
      );
    repo.finishedOrdersLoaded().then(
      () => {
        // A new data folder has no catalogue and nothing to rebuild it from: nothing to say then.
        const rebuilt = repo.catalogueRebuild;
        if (rebuilt?.reason === 'incomplete')
          log.warn(
            { catalogue: rebuilt },
            'order catalogue lacked finished orders: put back from their header files',
          );
        else if (rebuilt && (rebuilt.orders > 0 || rebuilt.reason === 'corrupt'))
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

    // Simulators started here (the demo) are pushed on the stack by `onStop`.
    await this.hooks.beforeConnect?.(this);

    // Links come up in the background: an engraver or broker that cannot be reached is shown
    // as down and retried, and is no reason for the line not to start.
    await stack.start(
      'registry',
      () => reporter.start(),
      () => reporter.stop(),
    );
    await checkAllocator(this, allocator);
    // Alarms follow the line, the link and QA until the line and the engraver have stopped.
    let unwatchAlarms: (() => void) | undefined;
    stack.push('alarm watch', () => unwatchAlarms?.());
    await services.startLine(stack);

    const auth = new Auth({
      dataDir,
      tokens: { erp: c.auth.erpToken, operator: c.auth.operatorToken, qa: c.auth.qaToken },
      sessionTtlMinutes: c.auth.sessionTtlMinutes,
      audit,
      logger: log.child({ component: 'auth' }),
    });
    this.auth = auth;
    await stack.start(
      'auth',
      () => auth.start(),
      () => auth.stop(),
    );

    const qa = new QaService({
      line,
      policy: c.qa.policy,
      registry: c.qa.registry,
      key: parseKey(c.issuer.key),
      dataDir,
      engraverId: c.engraver.id,
      audit,
      logger: log.child({ component: 'qa' }),
    });
    this.qa = qa;
    // After the line: decisions cut short by a stop are completed through it. Stopped before
    // access control, letting the read in flight be decided.
    await stack.start(
      'qa',
      () => qa.start(),
      () => qa.stop(),
    );
    unwatchAlarms = watchAlarms(alarms, {
      line,
      codesLeft: () => allocator.remaining(),
      reporter,
      qa,
    });

    const app = buildApp({
      line,
      auth,
      outbox: reporter.outbox,
      qa,
      audit,
      identify: identifierForLine(line, dataDir, parseKey(c.issuer.key), c.issuer.number),
      alarms,
      backup: { stage: () => stageBackup(dataDir, c.line.id) },
      health: () => this.health(),
      version: VERSION,
    });
    this.app = app;
    app.register(uiPlugin, {
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
    await portHold.release();
    // Closing stops the intake of requests and reads (open event streams are closed).
    await stack.start(
      'http',
      () =>
        app.listen({ host: c.http.host, port: c.http.port }).catch((err: NodeJS.ErrnoException) => {
          throw listenError(c.http.host, c.http.port, err);
        }),
      () => app.close(),
    );
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : c.http.port;
    this.address = { host: c.http.host, port, url: `http://${c.http.host}:${port}` };
    log.info({ url: this.address.url }, 'HTTP API listening');

    if (c.erp.dropFolder) {
      const dropFolder = new DropFolder({
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
      this.dropFolder = dropFolder;
      await stack.start(
        'drop folder',
        () => dropFolder.start(),
        () => dropFolder.stop(),
      );
    }
    if (c.qa.imageFolder) {
      const f = c.qa.imageFolder;
      const imageFolder = new ImageFolder({
        dir: f.path,
        pollMs: f.pollMs,
        settleMs: f.settleMs,
        completion: f.completion,
        nameIs: f.nameIs,
        ammo: { brand: f.brand, lacquered: f.lacquered },
        station: f.station,
        qa: this.qa!,
        logger: log.child({ component: 'image-folder' }),
      });
      this.imageFolder = imageFolder;
      await stack.start(
        'image folder',
        () => imageFolder.start(),
        () => imageFolder.stop(),
      );
    }
    await identity.expect([...STORE_FILES, ...repo.parts()]);
    for (const fn of this.starters) await fn();
    repo.loadFinishedOrders();
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

  /**
   * Stops what started, last first (see the order at the top of this file). Safe to call twice,
   * and during a start that failed.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stack.stopAll().then(() => this.logger.info('stopped'));
    return this.stopping;
  }
}

/** The registry link's MQTT settings from the configuration. */
function mqttOptions(c: Config) {
  return {
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
  };
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
