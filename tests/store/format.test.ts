/**
 * The upgrade from the previous release's data: `tests/fixtures/format-1/` was written by the
 * release before the data format was checked (`scripts/make-data-fixture.sh`). It opens, is
 * migrated to this release's format with an audit entry, `store check` passes, and every order,
 * firearm, record, QA read and audit entry reads as it was written. A migration cut short at any
 * step (a hook standing for a crash, and a real SIGKILL) is finished by the next start. A folder
 * from a newer release is refused by the daemon and by every command, naming both formats, and
 * nothing in it changes. A backup keeps the format it was taken in.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { isStamplineError } from '../../src/errors.js';
import type { Firearm, OrderHeader } from '../../src/line/model.js';
import { firearmsOf } from '../../src/line/repository.js';
import { DATA_FORMAT, type StoreIdentityDoc } from '../../src/store/identity.js';
import { MIGRATIONS, migrateStore } from '../../src/store/migrations.js';
import { stampline } from '../support/cli.js';
import { lineDaemon } from '../support/write-line-data.js';

const FIXTURE = resolve(import.meta.dirname, '..', 'fixtures', 'format-1');
const root = resolve(import.meta.dirname, '..', '..');
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function fixtureCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-format-'));
  dirs.push(dir);
  await cp(FIXTURE, dir, { recursive: true });
  return dir;
}

async function identityOf(dir: string): Promise<StoreIdentityDoc> {
  return JSON.parse(await readFile(join(dir, 'store.json'), 'utf8')) as StoreIdentityDoc;
}

/** Every file of the folder (locks included) with a hash of its content. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else
        out[relative(dir, p)] = createHash('sha256')
          .update(await readFile(p))
          .digest('hex');
    }
  };
  await walk(dir);
  return out;
}

/** What the previous release stored, read from its files: order headers and firearms. */
async function storedOrders(dir: string): Promise<{ headers: OrderHeader[]; firearms: Firearm[] }> {
  const headers: OrderHeader[] = [];
  const firearms: Firearm[] = [];
  for (const id of (await readdir(join(dir, 'docs/orders'))).sort()) {
    const orderDir = join(dir, 'docs/orders', id);
    headers.push(JSON.parse(await readFile(join(orderDir, 'header.json'), 'utf8')) as OrderHeader);
    for (const f of (await readdir(orderDir)).filter((n) => n.startsWith('firearms-')).sort())
      firearms.push(
        ...(JSON.parse(await readFile(join(orderDir, f), 'utf8')) as { firearms: Firearm[] }).firearms,
      );
  }
  return { headers, firearms };
}

/** What the daemon reads: every order's header and firearms. */
async function daemonOrders(d: Daemon): Promise<{ headers: OrderHeader[]; firearms: Firearm[] }> {
  await d.repo!.finishedOrdersLoaded();
  const headers: OrderHeader[] = [];
  const firearms: Firearm[] = [];
  const ids = (await d.repo!.listOrders()).map((h) => h.id).sort();
  for (const id of ids) {
    const o = await d.repo!.order(id);
    headers.push(o!.header.data);
    firearms.push(...firearmsOf(o!));
  }
  return { headers, firearms };
}

async function json(...args: string[]): Promise<unknown> {
  const r = await stampline(...args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

interface AuditRow {
  seq: number;
  action: string;
  actor: string;
  subject: string;
  before: unknown;
  after: unknown;
}

const auditOf = async (dir: string) =>
  ((await json('audit', 'show', '--data-dir', dir, '--json', '--limit', '1000')) as AuditRow[]).reverse();

describe('the previous release’s data (format 1)', () => {
  it('is what this release migrates from', async () => {
    expect((await identityOf(FIXTURE)).format).toBe(1);
    expect(DATA_FORMAT).toBe(2);
    expect(MIGRATIONS.map((m) => [m.from, m.to])).toEqual([[1, 2]]);
  });

  it('opens in the daemon, migrated to format 2 with an audit entry; store check passes and everything reads as it was written', async () => {
    const dir = await fixtureCopy();
    // Read with this release before the migration: the read-only commands take format 1 as it is.
    const before = await stampline('store', 'check', '--data-dir', dir);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain(
      "data format: 1, older than this release's 2; the next start, or --repair, migrates it",
    );
    const auditBefore = await auditOf(dir);
    const outboxBefore = await json('outbox', 'list', '--data-dir', dir, '--json');
    const stored = await storedOrders(dir);
    expect(stored.firearms.map((f) => f.serial)).toEqual([
      'A-0000',
      'A-0001',
      'A-0002',
      'B-0000',
      'B-0001',
      'C-0000',
      'C-0001',
    ]);
    const files = await snapshot(dir);
    const qaLog = await readFile(join(dir, 'qa/reads.00000001.jsonl'), 'utf8');
    // Reading changed nothing, not even the format.
    expect(await snapshot(dir)).toEqual(files);

    const daemon = await lineDaemon(dir);
    await daemon.start();
    try {
      const id = await identityOf(dir);
      expect(id.format).toBe(2);
      expect(id.migrating).toBeUndefined();
      expect(id.migrations).toEqual([
        { from: 1, to: 2, at: expect.any(String), release: expect.any(String) },
      ]);
      expect(new Set(id.expects).size).toBe(id.expects.length);
      expect(id.expects).toEqual([...new Set((await identityOf(FIXTURE)).expects)].sort());

      const read = await daemonOrders(daemon);
      // stored as `done`, read as engraved: neither has every firearm passed and accepted
      expect(read.headers.map((h) => [h.id, h.state])).toEqual([
        ['A', 'engraved'],
        ['B', 'engraved'],
        ['C', 'queued'],
      ]);
      expect(stored.headers.map((h) => (h.state as string) === 'done')).toEqual([true, true, false]);
      expect(read.headers).toEqual(
        stored.headers.map((h) => ((h.state as string) === 'done' ? { ...h, state: 'engraved' } : h)),
      );
      expect(read.firearms).toEqual(stored.firearms);
      const a2 = read.firearms.find((f) => f.serial === 'A-0002')!;
      expect(a2.voided).toHaveLength(1);

      const qa = await daemon.qa!.records({ order: 'A' });
      expect(qa.map((r) => [r.firearm.serial, r.reads.length, r.verdict?.status ?? null])).toEqual([
        ['A-0000', 1, 'pass'],
        ['A-0001', 1, 'pass'],
        // engraved again after its failed read: the new code awaits its test fire
        ['A-0002', 1, 'pending'],
      ]);
      expect(qa[0]!.reads[0]!.text).toBe(stored.firearms[0]!.code!.text);
    } finally {
      await daemon.stop();
    }

    const after = await stampline('store', 'check', '--data-dir', dir);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^OK: .*: 3 orders, 7 firearms/);
    expect(after.stdout).toContain("data format: 2, this release's");
    const verify = await stampline('audit', 'verify', '--data-dir', dir);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^OK: \d+ audit entries verified/);

    const auditAfter = await auditOf(dir);
    expect(auditAfter.slice(0, auditBefore.length)).toEqual(auditBefore);
    const migrate = auditAfter.filter((e) => e.action === 'store.migrate');
    expect(migrate).toEqual([
      expect.objectContaining({
        seq: auditBefore.length + 1,
        actor: 'stampline start',
        subject: `store:${(await identityOf(FIXTURE)).id}`,
        before: { format: 1 },
        after: expect.objectContaining({ format: 2 }),
      }),
    ]);
    expect(await json('outbox', 'list', '--data-dir', dir, '--json')).toEqual(outboxBefore);
    // The orders, the indexes and the QA log are as the previous release left them.
    const now = await snapshot(dir);
    for (const [file, hash] of Object.entries(files))
      if (/^(docs\/orders|serials|codes|outbox\/outbox\.0|qa\/reads\.0)/.test(file))
        expect([file, now[file]]).toEqual([file, hash]);
    expect(await readFile(join(dir, 'qa/reads.00000001.jsonl'), 'utf8')).toBe(qaLog);

    // A second start has nothing to migrate.
    const again = await lineDaemon(dir);
    await again.start();
    await again.stop();
    expect((await auditOf(dir)).filter((e) => e.action === 'store.migrate')).toHaveLength(1);
    expect((await identityOf(dir)).migrations).toHaveLength(1);
  }, 120_000);

  const points = MIGRATIONS[0]!.steps
    .flatMap((s) => [`1-2:${s.name}:run`, `1-2:${s.name}`])
    .concat(['1-2:audited']);

  it.each(points)(
    'cut short at %s, is finished by the next migration, with one audit entry',
    async (point) => {
      const dir = await fixtureCopy();
      const crash = new Error(`crash at ${point}`);
      const err = await migrateStore(dir, {
        actor: 'stampline start',
        hook: (p) => {
          if (p === point) throw crash;
        },
      }).catch((e: unknown) => e);
      expect(err).toBe(crash);
      const cut = await identityOf(dir);
      expect(cut.format).toBe(1);
      expect(cut.migrating?.to).toBe(2);

      // What the daemon's start runs first.
      const done = await migrateStore(dir, { actor: 'stampline start' });
      expect(done.map((m) => [m.from, m.to])).toEqual([[1, 2]]);
      const id = await identityOf(dir);
      expect(id.format).toBe(2);
      expect(id.migrating).toBeUndefined();
      expect(id.migrations).toHaveLength(1);
      expect(new Set(id.expects).size).toBe(id.expects.length);
      expect((await auditOf(dir)).filter((e) => e.action === 'store.migrate')).toHaveLength(1);
      expect((await stampline('audit', 'verify', '--data-dir', dir)).code).toBe(0);
    },
    60_000,
  );

  it('cut short, is shown part-way by store check and finished by the daemon’s next start', async () => {
    const dir = await fixtureCopy();
    const crash = new Error('crash');
    await migrateStore(dir, {
      actor: 'stampline start',
      hook: (p) => {
        if (p === '1-2:audited') throw crash;
      },
    }).catch(() => {});
    const check = await stampline('store', 'check', '--data-dir', dir);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(
      'data format: 1, part-way through its migration to 2 (done: expects-once, migrations-record)',
    );
    const daemon = await lineDaemon(dir);
    await daemon.start();
    await daemon.stop();
    expect((await identityOf(dir)).format).toBe(2);
    expect((await auditOf(dir)).filter((e) => e.action === 'store.migrate')).toHaveLength(1);
    expect((await stampline('store', 'check', '--data-dir', dir)).code).toBe(0);
  }, 60_000);

  it('killed (SIGKILL) during `store check --repair`’s migration, is finished by the next command', async () => {
    const dir = await fixtureCopy();
    const killed = await new Promise<NodeJS.Signals | null>((done, fail) => {
      const child = spawn(
        process.execPath,
        [join(root, 'bin/stampline.js'), 'store', 'check', '--repair', '--data-dir', dir],
        {
          cwd: root,
          stdio: 'ignore',
          env: { ...process.env, STAMPLINE_CRASH_AT: 'migration:1-2:expects-once' },
        },
      );
      child.on('error', fail);
      child.on('close', (_code, signal) => done(signal));
    });
    expect(killed).toBe('SIGKILL');
    expect((await identityOf(dir)).migrating?.done).toEqual(['expects-once']);

    const r = await stampline('store', 'check', '--repair', '--data-dir', dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('migrated: data format 1 to 2 (migrations-record)');
    expect(r.stdout).toContain("data format: 2, this release's");
    expect((await auditOf(dir)).filter((e) => e.action === 'store.migrate')).toHaveLength(1);
  }, 60_000);
});

describe('a new folder', () => {
  it('is written in this release’s format, each file it accounts for listed once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stampline-format-new-'));
    dirs.push(dir);
    const daemon = await lineDaemon(dir);
    await daemon.start();
    await daemon.stop();
    const id = await identityOf(dir);
    expect(id.format).toBe(DATA_FORMAT);
    expect(id.migrations).toEqual([]);
    expect(id.expects).toEqual([...new Set(id.expects)].sort());
    expect(id.expects).toEqual(expect.arrayContaining(['docs/line/allocator.json', 'serials/shards.json']));
    expect((await auditOf(dir)).filter((e) => e.action === 'store.migrate')).toEqual([]);
  }, 30_000);
});

describe('a folder from a newer release', () => {
  async function newer(): Promise<string> {
    const dir = await fixtureCopy();
    const id = await identityOf(dir);
    await writeFile(join(dir, 'store.json'), `${JSON.stringify({ ...id, format: 3 })}\n`);
    return dir;
  }

  it('is refused by the daemon, naming both formats, and nothing in it changes', async () => {
    const dir = await newer();
    const files = await snapshot(dir);
    const daemon = await lineDaemon(dir);
    const err = await daemon.start().catch((e: unknown) => e);
    expect(isStamplineError(err, 'STORE_FORMAT_NEWER')).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain(`${join(dir, 'store.json')} says the data is in format 3`);
    expect(message).toContain('this release reads data formats up to 2');
    expect(message).toContain('Upgrade stampline');
    expect(message).toContain('restore a backup');
    expect(await snapshot(dir)).toEqual(files);
  }, 30_000);

  it('is refused by every command that opens the data, and nothing in it changes', async () => {
    const dir = await newer();
    const files = await snapshot(dir);
    const out = await mkdtemp(join(tmpdir(), 'stampline-format-out-'));
    dirs.push(out);
    for (const args of [
      ['store', 'check'],
      ['store', 'check', '--repair'],
      ['audit', 'verify'],
      ['audit', 'show'],
      ['outbox', 'list'],
      ['outbox', 'retry', 'no-such-record'],
      ['user', 'list'],
      ['backup', '--to', join(out, 'b.tar.gz')],
    ]) {
      const r = await stampline(...args, '--data-dir', dir);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 3]);
      expect(r.stderr).toContain('says the data is in format 3');
      expect(r.stderr).toContain('up to 2');
    }
    expect(await readdir(out)).toEqual([]);
    expect(await snapshot(dir)).toEqual(files);
  }, 60_000);
});

describe('backup and restore', () => {
  it('keep the format: a format-1 backup restores as format 1, passes the check, and the next start migrates it', async () => {
    const dir = await fixtureCopy();
    const out = await mkdtemp(join(tmpdir(), 'stampline-format-out-'));
    dirs.push(out);
    const file = join(out, 'format-1.tar.gz');
    const b = await stampline('backup', '--to', file, '--data-dir', dir);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect((await identityOf(dir)).format).toBe(1);

    const target = join(out, 'restored');
    const r = await stampline('restore', file, '--data-dir', target);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("data format: 1, older than this release's 2");
    expect(await identityOf(target)).toEqual(await identityOf(FIXTURE));

    const daemon = await lineDaemon(target);
    await daemon.start();
    await daemon.stop();
    expect((await identityOf(target)).format).toBe(2);

    // A backup of the migrated folder is format 2, and restores as format 2.
    const file2 = join(out, 'format-2.tar.gz');
    expect((await stampline('backup', '--to', file2, '--data-dir', target)).code).toBe(0);
    const r2 = await stampline('restore', file2, '--data-dir', join(out, 'restored-2'));
    expect(r2.code).toBe(0);
    expect(r2.stdout).toContain("data format: 2, this release's");
  }, 120_000);

  it('refuse a backup from a newer release and leave the folder empty', async () => {
    const dir = await fixtureCopy();
    const id = await identityOf(dir);
    const out = await mkdtemp(join(tmpdir(), 'stampline-format-out-'));
    dirs.push(out);
    const file = join(out, 'b.tar.gz');
    expect((await stampline('backup', '--to', file, '--data-dir', dir)).code).toBe(0);
    // The same backup as a newer release would have written it.
    const unpacked = join(out, 'unpacked');
    expect((await stampline('restore', file, '--data-dir', unpacked)).code).toBe(0);
    await writeFile(join(unpacked, 'store.json'), `${JSON.stringify({ ...id, format: 3 })}\n`);
    const newer = join(out, 'newer.tar.gz');
    expect((await stampline('backup', '--to', newer, '--data-dir', unpacked)).code).toBe(3);
    // (packed by hand: this release refuses to take it)
    const tar = await import('tar');
    await writeFile(
      join(unpacked, 'stampline-backup.json'),
      JSON.stringify({ kind: 'stampline-backup', createdAt: new Date().toISOString(), files: 0, bytes: 0 }),
    );
    await tar.create({ gzip: true, cwd: unpacked, portable: true, file: newer }, ['.']);

    const target = join(out, 'target');
    const r = await stampline('restore', newer, '--data-dir', target);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('says the data is in format 3');
    expect(r.stderr).toContain('nothing restored');
    expect(await readdir(target)).toEqual([]);
  }, 60_000);
});
