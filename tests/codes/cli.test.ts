/** `stampline code encode|decode|svg` and `stampline sim identify`, run as processes. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encode } from '../../src/codes/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}bin/stampline.js`;
const KEY = '00112233445566778899aabbccddeeff';
const CODE = encode(42, 123456, KEY); // 0AH8PRWMNS, spec test vector

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], input = ''): Promise<Run> {
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

function rotate(gear: string, r: number): string {
  return gear.slice(r) + gear.slice(0, r);
}

describe('stampline code', { timeout: 120_000 }, () => {
  it('encodes a firearm for people: grouped text, gear bits and codeword', async () => {
    const r = await run(['code', 'encode', '--issuer', '42', '--index', '123456', '--key', KEY]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('text      0AH8P-RWMNS');
    expect(r.stdout).toContain('gear      11100100 00000 01010 10001');
    expect(r.stdout).toContain('codeword  0 10 17 8 22 24 28 20 | 21 25 29 7 28 3 15 2');
  });

  it('encodes as JSON', async () => {
    const r = await run(['code', 'encode', '--issuer', '42', '--index', '123456', '--key', KEY, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      issuer: 42,
      index: 123456,
      text: CODE.text,
      gear: CODE.gear,
      codeword: CODE.symbols,
    });
  });

  it('exits 2 naming the bad argument', async () => {
    const issuer = await run(['code', 'encode', '--issuer', '4096', '--index', '1', '--key', KEY]);
    expect(issuer.status).toBe(2);
    expect(issuer.stderr).toBe('stampline: issuer must be an integer 0..4095, got 4096\n');
    const key = await run(['code', 'encode', '--issuer', '1', '--index', '1', '--key', 'abc']);
    expect(key.status).toBe(2);
    expect(key.stderr).toContain('key has 3 hex digits, not 32');
    const gear = await run(['code', 'decode', '--key', KEY, '--read', 'ABC/0101']);
    expect(gear.status).toBe(2);
    expect(gear.stderr).toContain('read 1: the gear read has 4 teeth');
  });

  it('decodes a damaged text+gear read at any rotation to a confident identification (exit 0)', async () => {
    // symbol 7 (teeth 43..47 of the ring) is illegible in the gear and in the text
    const gear = rotate(`${CODE.gear.slice(0, 43)}?????${CODE.gear.slice(48)}`, 17);
    const r = await run(['code', 'decode', '--key', KEY, '--read', `0AH8P-RW?NS/${gear}`, '--json']);
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      ok: true,
      issuer: 42,
      index: 123456,
      text: CODE.text,
      errors: 0,
      erasures: 1,
      uec: 0.875,
      grade: 'A',
      confident: true,
      gearRotations: [71],
    });
  });

  it('reports a candidate it cannot vouch for with a warning and exit 1', async () => {
    const r = await run(['code', 'decode', '--key', KEY, '--read', '0AH8P-RWMNX']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^candidate \(not an identification\): issuer 42, index 123456/);
    expect(r.stdout).toContain('UEC       0.000, grade F');
    expect(r.stdout).toContain('warning:  all of the code');
  });

  it('decodes several reads together', async () => {
    const r = await run([
      'code',
      'decode',
      '--key',
      KEY,
      '--read',
      '0AH8P-?????',
      '--read',
      '?????-RWMNS',
      '--read',
      `/${rotate(CODE.gear, 40)}`,
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^identified: issuer 42, index 123456/);
    expect(r.stdout).toContain('read 3    gear sync starts at tooth 49 of the read');
  });

  it('says why when nothing decodes (exit 1, JSON ok: false)', async () => {
    const r = await run(['code', 'decode', '--key', KEY, '--read', '0AH??-?????', '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, grade: 'F', confident: false });
    expect(JSON.parse(r.stdout).error).toMatch(/cannot decode/);
  });

  it('encodes a batch in order, a bad item failing in its place', async () => {
    const input = JSON.stringify([
      { issuer: 42, index: 123456, key: KEY },
      { issuer: 42, index: -5, key: KEY },
      'nonsense',
      { issuer: 1, index: 0 },
    ]);
    const r = await run(['code', 'encode', '--batch', '--key', '000102030405060708090a0b0c0d0e0f'], input);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toHaveLength(4);
    expect(out[0]).toMatchObject({ ok: true, text: CODE.text });
    expect(out[1]).toEqual({ ok: false, error: 'index must be an integer 0..268435455, got -5' });
    expect(out[2]).toMatchObject({ ok: false });
    expect(out[3]).toMatchObject({ ok: true, text: '00E96PY4NY' });
  });

  it('decodes a batch in order, a bad item failing in its place', async () => {
    const input = JSON.stringify([
      { key: KEY, reads: [{ text: CODE.text, gear: rotate(CODE.gear, 3) }] },
      { key: KEY, reads: [{ text: '0AH8P-RWMNS-0' }] },
      { reads: [{ text: CODE.text }] },
      { key: KEY, reads: [{ text: '??????????' }] },
    ]);
    const r = await run(['code', 'decode', '--batch', '--json'], input);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toHaveLength(4);
    expect(out[0]).toMatchObject({ ok: true, issuer: 42, index: 123456, confident: true });
    expect(out[1].ok).toBe(false);
    expect(out[1].error).toMatch(/read 1: .*11 symbols/);
    expect(out[2]).toEqual({ ok: false, error: 'the item has no key and no --key was given' });
    expect(out[3]).toMatchObject({ ok: false, confident: false });
  });

  it('rejects a batch that is not a JSON array with exit 2', async () => {
    const r = await run(['code', 'decode', '--batch'], '{"key": "x"}');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('standard input must be a JSON array');
  });

  it('draws the pin face, mirrored on request', async () => {
    const plain = await run(['code', 'svg', '--issuer', '42', '--index', '123456', '--key', KEY]);
    const mirrored = await run([
      'code',
      'svg',
      '--issuer',
      '42',
      '--index',
      '123456',
      '--key',
      KEY,
      '--mirror',
    ]);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(plain.stdout).toContain('<title>0AH8P-RWMNS</title>');
    expect(plain.stdout).not.toContain('scale(-1 1)');
    expect(mirrored.stdout).toContain('scale(-1 1)');
  });
});

describe('stampline sim identify', { timeout: 240_000 }, () => {
  it('prints rates of correct, none and wrong identification for 1 to 5 cases', async () => {
    const r = await run(['sim', 'identify', '--trials', '300', '--workers', '2', '--seed', '7', '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rows).toHaveLength(5);
    for (const row of out.rows) {
      expect(row.trials).toBe(300);
      expect(row.correct + row.none + row.wrong).toBe(300);
    }
    // more cases never make identification rarer on average; with five it is all but certain
    expect(out.rows[4].correct).toBeGreaterThan(out.rows[0].correct);
    expect(out.rows[4].correct).toBeGreaterThan(270);
  });

  it('gives the same table for the same seed and workers, as markdown', async () => {
    const args = ['sim', 'identify', '--trials', '200', '--workers', '1', '--seed', '3', '--scenario', 'b'];
    const [a, b] = await Promise.all([run(args), run(args)]);
    expect(a.status).toBe(0);
    const table = (s: string) => s.split('\n').filter((l) => l.startsWith('|'));
    expect(table(a.stdout)).toHaveLength(7);
    expect(table(a.stdout)).toEqual(table(b.stdout));
    expect(a.stdout).toContain('characters 80 % read, 12 % illegible, 8 % misread');
  });

  it('rejects probabilities that do not add up', async () => {
    const r = await run(['sim', 'identify', '--char-correct', '0.9', '--char-illegible', '0.2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('correct and illegible characters add up to more than 1');
  });
});
