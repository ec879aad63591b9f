/**
 * Every command that reads or changes a line's data finds it as the daemon does: `--data-dir`,
 * else the configuration's `line.dataDir` (`--config`, else STAMPLINE_CONFIG, else
 * config/default.yaml), so an integrator types the same `--config` for each of them.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engravedRecord } from '../../simulators/registry/sample.js';
import { Outbox } from '../../src/registry/outbox.js';
import { AuditTrail } from '../../src/store/audit.js';

const root = resolve(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'stampline.js');

let folder: string;
let config: string;
let dataDir: string;

function stampline(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STAMPLINE_')));
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...clean, ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'stampline-where-'));
  dataDir = join(folder, 'var', 'line');
  await mkdir(join(folder, 'etc'), { recursive: true });
  // Only the data folder: these commands need nothing else of the configuration.
  config = join(folder, 'etc', 'line.yaml');
  await writeFile(config, 'line:\n  id: line-9\n  dataDir: ../var/line\n');
  const trail = new AuditTrail({ dataDir });
  await trail.start();
  await trail.record({
    actor: 'operator:ana',
    action: 'order.create',
    subject: 'ORD-9',
    after: { ok: true },
  });
  await trail.stop();
  const box = new Outbox({ dir: join(dataDir, 'outbox') });
  await box.start();
  await box.enqueue([engravedRecord({ serial: 'W-1' })]);
  await box.stop();
}, 60_000);

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('commands on a line’s data', { timeout: 120_000 }, () => {
  it.each([
    [['audit', 'verify'], /^OK: 1 audit entries verified/],
    [['audit', 'show'], /order\.create/],
    [['outbox', 'list'], /^0 rejected, 1 pending/],
  ])('%j takes --config and finds the data folder the file names', (args, expected) => {
    const r = stampline([...args, '--config', config]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(expected);
    // The same through STAMPLINE_CONFIG, as the daemon's unit file sets it.
    expect(stampline(args, { STAMPLINE_CONFIG: config }).out).toMatch(expected);
  });

  it('without a data folder, says which setting to give instead of reading another folder', () => {
    const r = stampline(['audit', 'verify']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/line\.dataDir: still SET/);
  });
});
