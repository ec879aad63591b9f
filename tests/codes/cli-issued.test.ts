/** `stampline code decode --issued FILE` (with and without --batch), run as a process. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encode } from '../../src/codes/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}bin/stampline.js`;
const KEY = '00112233445566778899aabbccddeeff';
const CODE = encode(42, 123456, KEY); // 0AH8PRWMNS, spec test vector
const dir = mkdtempSync(join(tmpdir(), 'stampline-issued-'));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function run(args: string[], input = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('stampline code decode --issued', { timeout: 300_000 }, () => {
  const issued = file('issued.txt', `# line 3\n${encode(42, 1, KEY).text}\n42,123456\n42, 99\n`);

  it('identifies a perfect text read against the issued codes, and says so in JSON', async () => {
    const r = await run(['code', 'decode', '--key', KEY, '--read', CODE.text, '--issued', issued, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, issuer: 42, index: 123456, text: CODE.text, confident: true });
    for (const field of [
      'errors',
      'erasures',
      'uec',
      'grade',
      'miscorrectionRisk',
      'codeword',
      'gear',
      'gearRotations',
    ])
      expect(out).toHaveProperty(field);
    expect(out.miscorrectionRisk).toBeLessThanOrEqual(1e-7);
    expect(out.candidates).toEqual([{ text: CODE.text, issuer: 42, index: 123456, weightRatio: 1 }]);
  });

  it('without --issued the same read is only a candidate', async () => {
    const r = await run(['code', 'decode', '--key', KEY, '--read', CODE.text, '--json']);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.confident).toBe(false);
    expect(out).not.toHaveProperty('candidates');
  });

  it('lists the issued candidates for people', async () => {
    const r = await run(['code', 'decode', '--key', KEY, '--read', CODE.text, '--issued', issued]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('identified: issuer 42, index 123456');
    expect(r.stdout).toContain('issued    0AH8P-RWMNS  issuer 42, index 123456  weight ratio 1.0e+0');
  });

  it('does not identify a code that is not in the file', async () => {
    const other = encode(42, 5, KEY);
    const r = await run([
      'code',
      'decode',
      '--key',
      KEY,
      '--read',
      `${other.text}/${other.gear}`,
      '--issued',
      issued,
      '--json',
    ]);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.confident).toBe(false);
    expect(out.ok === false || out.text !== other.text).toBe(true);
  });

  it('decodes a batch against the issued codes', async () => {
    const items = [{ reads: [{ text: CODE.text }] }, { reads: 'nonsense' }];
    const r = await run(
      ['code', 'decode', '--batch', '--key', KEY, '--issued', issued],
      JSON.stringify(items),
    );
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out[0]).toMatchObject({
      ok: true,
      confident: true,
      candidates: [{ text: CODE.text, weightRatio: 1 }],
    });
    expect(out[1].ok).toBe(false);
  });

  it('exits 2 naming the line of a bad issued file', async () => {
    const bad = file('bad.txt', `${CODE.text}\n0AH8PRWMNT\n`);
    const r = await run(['code', 'decode', '--key', KEY, '--read', CODE.text, '--issued', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}, line 2: "0AH8PRWMNT" is not a code`);
    expect(r.stdout).toBe('');
  });

  it('exits 2 when issuer,index lines come without a key that can permute them', async () => {
    const r = await run(['code', 'decode', '--batch', '--issued', issued], '[]');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${issued}, line 3: issuer,index lines need the issuer key (--key)`);
  });

  it('exits 2 naming a missing issued file', async () => {
    const r = await run([
      'code',
      'decode',
      '--key',
      KEY,
      '--read',
      CODE.text,
      '--issued',
      join(dir, 'none.txt'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cannot read the issued codes file');
    expect(r.stderr).toContain('none.txt');
  });
});
