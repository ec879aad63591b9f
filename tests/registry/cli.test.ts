import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engravedRecord, voidedRecord } from '../../simulators/registry/sample.js';
import { Outbox } from '../../src/registry/outbox.js';

const BIN = join(import.meta.dirname, '../../bin/stampline.js');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampline-registry-cli-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function stampline(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, STAMPLINE_DATA_DIR: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** An outbox with one pending and one rejected record, closed again. */
async function outboxWithRejection() {
  const box = new Outbox({ dir: join(dir, 'outbox') });
  await box.start();
  const [pending, rejected] = [engravedRecord({ serial: 'P-1' }), engravedRecord({ serial: 'R-1' })];
  await box.enqueue([pending, rejected]);
  box.acknowledge({ recordId: rejected.recordId, status: 'rejected', reason: 'code-conflict' });
  await box.stop();
  return { pending, rejected };
}

describe('stampline outbox', () => {
  it('lists rejected records with the reason, then pending ones', async () => {
    const { pending, rejected } = await outboxWithRejection();
    const r = stampline('outbox', 'list', '--data-dir', dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^1 rejected, 1 pending/);
    expect(r.out).toContain(rejected.recordId);
    expect(r.out).toMatch(/rejected .*: code-conflict/);
    expect(r.out).toContain(pending.recordId);
    const json = JSON.parse(stampline('outbox', 'list', '--data-dir', dir, '--json', '--rejected').out);
    expect(json.items.map((i: { recordId: string }) => i.recordId)).toEqual([rejected.recordId]);
  }, 30_000);

  it('retries and dismisses a rejected record, and refuses a pending one', async () => {
    const { pending, rejected } = await outboxWithRejection();
    expect(stampline('outbox', 'retry', pending.recordId, '--data-dir', dir)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/not rejected/),
    });
    expect(stampline('outbox', 'dismiss', rejected.recordId, '--data-dir', dir).code).toBe(2);
    expect(
      stampline('outbox', 'dismiss', rejected.recordId, '--reason', 'bound by hand', '--data-dir', dir).code,
    ).toBe(0);
    const box = new Outbox({ dir: join(dir, 'outbox') });
    await box.start();
    expect(box.rejected()).toEqual([]);
    expect(box.pending().map((i) => i.recordId)).toEqual([pending.recordId]);
    await box.stop();
  }, 30_000);

  it('says so when the folder holds no outbox, rather than listing nothing', () => {
    const r = stampline('outbox', 'list', '--data-dir', join(dir, 'typo'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/holds no registry outbox/);
  }, 30_000);
});

describe('stampline sim registry --show', () => {
  it("prints the codes bound and a firearm's records in the order they happened", async () => {
    const engraved = engravedRecord({ serial: 'S-1', occurredAt: '2025-01-01T10:00:00Z' });
    const voided = voidedRecord(engraved);
    const lines = [voided, engraved].map((record) =>
      JSON.stringify({ at: new Date().toISOString(), record }),
    );
    await writeFile(join(dir, 'registry.jsonl'), `${lines.join('\n')}\n`);
    const all = stampline('sim', 'registry', '--show', '--file', join(dir, 'registry.jsonl'));
    expect(all.code).toBe(0);
    expect(all.out).toContain(`${engraved.code}  voided  Acme Arms P-9 S-1`);
    const one = stampline(
      'sim',
      'registry',
      '--show',
      '--file',
      join(dir, 'registry.jsonl'),
      '--serial',
      'S-1',
    );
    expect(
      one.out
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[1]),
    ).toEqual(['engraved', 'voided']);
    expect(
      stampline('sim', 'registry', '--show', '--file', join(dir, 'registry.jsonl'), '--serial', 'NONE').code,
    ).toBe(1);
  }, 30_000);
});
