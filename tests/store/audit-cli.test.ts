import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AuditEntry, AuditTrail } from '../../src/store/audit.js';

const root = resolve(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'stampline.js');

function stampline(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

let dataDir: string;
let entries: AuditEntry[];
const file = () => join(dataDir, 'audit', 'audit.00000001.jsonl');

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stampline-audit-cli-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await rm(join(dataDir, 'audit'), { recursive: true, force: true });
  const trail = new AuditTrail({ dataDir });
  await trail.start();
  entries = [];
  for (const [subject, action] of [
    ['ORD-1', 'order.create'],
    ['ORD-2', 'order.create'],
    ['ORD-1', 'order.start'],
    ['ORD-1', 'order.pause'],
  ] as const) {
    entries.push(await trail.record({ actor: 'operator:ana', action, subject, after: { ok: true } }));
  }
  await trail.stop();
});

describe('stampline audit', () => {
  it('verify prints OK with the count and the head hash', async () => {
    const r = await stampline('audit', 'verify', '--data-dir', dataDir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK: 4 audit entries');
    expect(r.stdout).toContain(entries[3]!.hash);
  });

  it('verify names the first bad entry and exits 1', async () => {
    const lines = (await readFile(file(), 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('ORD-2', 'ORD-9');
    await writeFile(file(), lines.join('\n'));
    const r = await stampline('audit', 'verify', '--data-dir', dataDir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/BAD: audit entry seq 2 \(.*audit\.00000001\.jsonl line 2\)/);
  });

  it('verify of a folder with no audit trail is a usage error, not OK', async () => {
    const r = await stampline('audit', 'verify', '--data-dir', join(dataDir, 'nope'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no audit trail');
    expect(r.stdout).not.toContain('OK');
  });

  it('show filters by subject, newest first, as JSON', async () => {
    const r = await stampline(
      'audit',
      'show',
      '--data-dir',
      dataDir,
      '--subject',
      'ORD-1',
      '--limit',
      '2',
      '--json',
    );
    expect(r.code).toBe(0);
    const shown = JSON.parse(r.stdout) as AuditEntry[];
    expect(shown.map((e) => [e.seq, e.action])).toEqual([
      [4, 'order.pause'],
      [3, 'order.start'],
    ]);
  });

  it('show prints one readable line per entry', async () => {
    const r = await stampline('audit', 'show', '--data-dir', dataDir);
    expect(r.code).toBe(0);
    const heads = r.stdout.split('\n').filter((l) => l.startsWith('#'));
    expect(heads.map((l) => l.split(/\s+/)[0])).toEqual(['#4', '#3', '#2', '#1']);
    expect(heads[0]).toContain('operator:ana  order.pause  ORD-1');
  });

  it('show rejects a bad --limit with exit 2', async () => {
    const r = await stampline('audit', 'show', '--data-dir', dataDir, '--limit', 'lots');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--limit');
  });
});
