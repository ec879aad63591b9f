/**
 * Brings a data folder written by an older release to this release's data format (`DATA_FORMAT`
 * in `identity.ts`), one format at a time, before anything else opens it.
 *
 * A migration is a list of named steps. Each step is one durable change and must be safe to run
 * again: a crash after its change and before it is noted done runs it again at the next start.
 * The runner notes in `store.json` (`migrating.done`) each step once it is on the disk, records
 * a `store.migrate` audit entry, and only then writes the new format, so a crash anywhere leaves
 * a folder whose next start carries the migration on from where it stopped, and the format the
 * folder claims is never ahead of its data. The migration holds the store's lock throughout:
 * beside a running daemon it is refused (`STORE_LOCKED`), having changed nothing.
 *
 * Adding a format: raise `DATA_FORMAT`, add its migration at the end of `MIGRATIONS`, commit a
 * folder written by the release before it under `tests/fixtures/format-N/`
 * (`scripts/make-data-fixture.sh`), and test the upgrade from it (`tests/store/format.test.ts`).
 */
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { VERSION } from '../version.js';
import { AuditTrail } from './audit.js';
import { DocumentStore } from './documents.js';
import { DATA_FORMAT, StoreIdentity, type StoreIdentityDoc } from './identity.js';

export interface MigrationContext {
  dataDir: string;
  /**
   * The identity being migrated. A step may change it; the runner writes it with the note that
   * the step is done, in one durable write.
   */
  doc: StoreIdentityDoc;
}

export interface MigrationStep {
  name: string;
  run(ctx: MigrationContext): Promise<void>;
}

export interface Migration {
  from: number;
  to: number;
  /** what it changes, for the audit entry and the log */
  what: string;
  steps: MigrationStep[];
}

/**
 * Called at each point of a migration where a crash may come: `<from>-<to>:<step>:run` once a
 * step has run and before it is noted done, `<from>-<to>:<step>` once it is noted, then
 * `<from>-<to>:audited` and `<from>-<to>:done`. Tests throw from it to stand for a crash there.
 */
export type MigrationHook = (point: string) => void | Promise<void>;

/** Every migration, oldest first; each `from` is the `to` of the one before. */
export const MIGRATIONS: readonly Migration[] = [
  {
    from: 1,
    to: 2,
    what: 'store.json lists each file it accounts for once, and records the migrations the folder has been through',
    steps: [
      {
        // Format 1 could list a path twice (two parts naming the same file at one start).
        name: 'expects-once',
        async run(ctx) {
          ctx.doc.expects = [...new Set(ctx.doc.expects)].sort();
        },
      },
      {
        name: 'migrations-record',
        async run(ctx) {
          ctx.doc.migrations ??= [];
        },
      },
    ],
  },
];

export interface MigrationResult {
  from: number;
  to: number;
  /** the steps run by this call (a resumed migration skips those done before the crash) */
  steps: string[];
}

export interface MigrateOptions {
  /** who the audit entry names, e.g. `stampline start` */
  actor: string;
  hook?: MigrationHook;
  /** for tests: the migrations and the format to reach */
  migrations?: readonly Migration[];
  target?: number;
  now?: () => Date;
}

/** A point where STAMPLINE_CRASH_AT=migration:<point> kills the process (crash tests). */
function envCrash(point: string): void {
  if (process.env.STAMPLINE_CRASH_AT === `migration:${point}`) process.kill(process.pid, 'SIGKILL');
}

/**
 * The data format of the folder: its `store.json`, or undefined when it has none (a new folder,
 * or one written before `store.json` existed). Refuses a format newer than this release's.
 */
export async function storeFormat(dataDir: string): Promise<StoreIdentityDoc | undefined> {
  return new StoreIdentity(dataDir).read();
}

/**
 * Migrates the folder to this release's format if it is older (or a migration was cut short), and
 * says what it did; undefined when there was nothing to do. Refuses a newer format
 * (`STORE_FORMAT_NEWER`) and a folder a running process holds (`STORE_LOCKED`), changing nothing.
 */
export async function migrateStore(dataDir: string, opts: MigrateOptions): Promise<MigrationResult[]> {
  const migrations = opts.migrations ?? MIGRATIONS;
  const target = opts.target ?? DATA_FORMAT;
  const now = opts.now ?? (() => new Date());
  const identity = new StoreIdentity(dataDir);
  const first = await identity.read();
  if (!first || (first.format >= target && !first.migrating)) return [];

  const store = new DocumentStore({ dir: join(dataDir, 'docs') });
  try {
    await store.start();
  } catch (err) {
    if (err instanceof StamplineError && err.code === 'STORE_LOCKED') {
      throw new StamplineError(
        'STORE_LOCKED',
        `${dataDir} holds data format ${first.format} and a running process (pid ${String(err.context.pid)}) holds its store: stop it, then start this release, which migrates the folder to format ${target}`,
        err.context,
        { cause: err },
      );
    }
    throw err;
  }
  const hook = async (point: string): Promise<void> => {
    envCrash(point);
    await opts.hook?.(point);
  };
  const done: MigrationResult[] = [];
  try {
    // Read again under the lock: another process may have migrated it meanwhile.
    let doc = (await identity.read())!;
    while (doc.format < target || doc.migrating) {
      const m = migrations.find((x) => x.from === doc.format);
      if (!m) {
        throw new StamplineError(
          'STORE_UNAVAILABLE',
          `${identity.file} holds data format ${doc.format}, which this release cannot migrate to ${target}: migrate it with the release after it first`,
          { file: identity.file, format: doc.format },
        );
      }
      const at = `${m.from}-${m.to}`;
      const result: MigrationResult = { from: m.from, to: m.to, steps: [] };
      if (doc.migrating?.to !== m.to) {
        doc = { ...doc, migrating: { to: m.to, done: [], startedAt: now().toISOString() } };
        await identity.write(doc);
      }
      for (const step of m.steps) {
        if (doc.migrating!.done.includes(step.name)) continue;
        const ctx: MigrationContext = { dataDir, doc: structuredClone(doc) };
        await step.run(ctx);
        await hook(`${at}:${step.name}:run`);
        doc = { ...ctx.doc, migrating: { ...doc.migrating!, done: [...doc.migrating!.done, step.name] } };
        await identity.write(doc);
        result.steps.push(step.name);
        await hook(`${at}:${step.name}`);
      }
      await auditOnce(dataDir, doc, m, opts.actor, now);
      await hook(`${at}:audited`);
      const { migrating: _done, ...rest } = doc;
      doc = {
        ...rest,
        format: m.to,
        migrations: [
          ...(rest.migrations ?? []),
          { from: m.from, to: m.to, at: now().toISOString(), release: VERSION },
        ],
      };
      await identity.write(doc);
      await hook(`${at}:done`);
      done.push(result);
    }
  } finally {
    await store.stop();
  }
  return done;
}

/**
 * Records the migration in the audit trail, unless its entry is already the trail's last (a
 * crash after the entry and before the new format was written): nothing else writes to the
 * trail while the migration holds the store.
 */
async function auditOnce(
  dataDir: string,
  doc: StoreIdentityDoc,
  m: Migration,
  actor: string,
  now: () => Date,
): Promise<void> {
  const trail = new AuditTrail({ dataDir, now });
  await trail.start();
  try {
    const subject = `store:${doc.id}`;
    const last = trail.lastEntry();
    const after = last?.after as { format?: unknown } | null | undefined;
    if (last?.action === 'store.migrate' && last.subject === subject && after?.format === m.to) return;
    await trail.record({
      actor,
      action: 'store.migrate',
      subject,
      before: { format: m.from },
      after: { format: m.to, release: VERSION },
      reason: m.what,
    });
  } finally {
    await trail.stop();
  }
}
