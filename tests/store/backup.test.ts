/**
 * `stampline backup` and `stampline restore`: a backup taken while the line engraves is one
 * instant of its data, which `store check` passes and a line starts on without giving an index
 * twice; a restore refuses a folder that is not empty and a file that is not a backup, and
 * leaves the folder as it was.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StamplineError } from '../../src/errors.js';
import { checkStore } from '../../src/line/store-check.js';
import { restoreBackup } from '../../src/store/backup.js';
import { order, until } from '../line/harness.js';
import { stampline } from '../support/cli.js';
import {
  allFirearms,
  copyOf,
  engrave,
  makeHistory,
  OPERATOR_TOKEN,
  removeDir,
  startDaemon,
} from './support/history.js';

let history: string;
const dirs: string[] = [];

beforeAll(async () => {
  history = await makeHistory();
}, 120_000);

afterAll(async () => {
  for (const d of [history, ...dirs]) await removeDir(d);
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-backup-'));
  dirs.push(dir);
  return dir;
}

describe('a backup of a running line', () => {
  it('taken while an order is being engraved, restores to a folder store check passes and a line engraves on, no index given twice', async () => {
    const dir = await copyOf(history);
    dirs.push(dir);
    const out = await scratch();
    const file = join(out, 'line.tar.gz');
    const { daemon } = await startDaemon(dir);
    let engravedBefore: string[];
    try {
      await daemon.line!.submitOrder(order('E', 40), 'http', 'erp');
      await daemon.line!.startOrder('E', 'operator');
      await until(
        async () => (await daemon.line!.orderView('E')).firearms.some((f) => f.state === 'engraved'),
        'order E under way',
      );
      const res = await fetch(`${daemon.address!.url}/api/v1/backup`, {
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/gzip');
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(file));
      engravedBefore = (await allFirearms(daemon)).filter((f) => f.state === 'engraved').map((f) => f.serial);
      await until(
        async () => (await daemon.line!.orderView('E')).order.state === 'engraved',
        'order E done',
        60_000,
      );
      // the staging copy is gone once sent
      expect((await readdir(dir)).filter((n) => n.startsWith('.backup-'))).toEqual([]);
    } finally {
      await daemon.stop();
    }

    const restored = join(out, 'restored');
    const manifest = await restoreBackup(file, restored);
    expect(manifest.files).toBeGreaterThan(10);
    const report = await checkStore({ dataDir: restored });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);

    const again = await startDaemon(restored);
    try {
      const firearms = await allFirearms(again.daemon);
      // every firearm engraved before the backup began is engraved in it
      const engraved = new Set(firearms.filter((f) => f.state === 'engraved').map((f) => f.serial));
      for (const serial of engravedBefore.filter((s) => !s.startsWith('E-')))
        expect(engraved).toContain(serial);
      expect(firearms.filter((f) => f.orderId === 'E')).toHaveLength(40);
      await engrave(again.daemon, 'F', 3);
      const indexes = (await allFirearms(again.daemon)).flatMap((f) => [
        ...f.voided.map((c) => c.index),
        ...(f.code ? [f.code.index] : []),
      ]);
      expect(new Set(indexes).size).toBe(indexes.length);
    } finally {
      await again.daemon.stop();
    }
  }, 180_000);
});

describe('a restore', () => {
  it('refuses a folder that is not empty, and a file that is not a backup, changing nothing', async () => {
    const out = await scratch();
    const busy = join(out, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'keep.txt'), 'mine');
    const notBackup = join(out, 'not-a-backup.tar.gz');
    await writeFile(notBackup, 'this is no archive');

    await expect(restoreBackup(notBackup, busy)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining(`${busy} is not empty`),
    });
    expect(await readdir(busy)).toEqual(['keep.txt']);

    const empty = join(out, 'empty');
    const err = await restoreBackup(notBackup, empty).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StamplineError);
    expect((err as StamplineError).message).toContain(`${notBackup} is not a readable stampline backup`);
    expect(await readdir(empty)).toEqual([]);
  });
});

describe('stampline backup and restore', () => {
  it('back up a stopped line and a running one from the command line, and restore with a check', async () => {
    const dir = await copyOf(history);
    dirs.push(dir);
    const out = await scratch();

    const stopped = await stampline('backup', '--to', join(out, 'stopped.tar.gz'), '--data-dir', dir);
    expect(stopped.stderr).toBe('');
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('the line stopped');

    const { daemon } = await startDaemon(dir);
    try {
      const running = await stampline(
        'backup',
        '--to',
        join(out, 'running.tar.gz'),
        '--data-dir',
        dir,
        '--url',
        daemon.address!.url,
        '--token',
        OPERATOR_TOKEN,
      );
      expect(running.stderr).toBe('');
      expect(running.code).toBe(0);
      expect(running.stdout).toContain(`taken by the running line at ${daemon.address!.url}`);
    } finally {
      await daemon.stop();
    }

    for (const name of ['stopped', 'running']) {
      const r = await stampline('restore', join(out, `${name}.tar.gz`), '--data-dir', join(out, name));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/\nOK: .*: 3 orders, 7 firearms/);
    }
    const nowhere = await stampline(
      'backup',
      '--to',
      join(out, 'no-such-folder', 'b.tar.gz'),
      '--data-dir',
      dir,
    );
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain(`no folder ${join(out, 'no-such-folder')} to write the backup`);

    const refused = await stampline(
      'restore',
      join(out, 'stopped.tar.gz'),
      '--data-dir',
      join(out, 'stopped'),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('is not empty');
  }, 180_000);
});
