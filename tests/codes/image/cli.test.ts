/** `stampline sim case-image`, `code read-image` and `code decode --image`, run as processes. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../../src/codes/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = `${root}bin/stampline.js`;
const KEY = '00112233445566778899aabbccddeeff';
const CODE = encode(42, 123456, KEY);
let dir = '';

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
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
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampline-cli-image-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stampline case images on the command line', { timeout: 120_000 }, () => {
  it('renders a case image, reads it back, and decodes the gun from it', async () => {
    const file = join(dir, 'case.png');
    const sim = await run([
      'sim',
      'case-image',
      '--issuer',
      '42',
      '--index',
      '123456',
      '--key',
      KEY,
      '--level',
      '0',
      '--seed',
      '4',
      '--size',
      '600',
      '-o',
      file,
    ]);
    expect(sim.status, sim.stderr).toBe(0);
    const read = await run(['code', 'read-image', file, '--json']);
    expect(read.status, read.stderr).toBe(0);
    const json = JSON.parse(read.stdout);
    expect(json.text).toBe(CODE.text.replace('-', ''));
    expect(json.soft.chars).toHaveLength(10);
    expect(json.soft.teeth).toHaveLength(88);
    const decoded = await run(['code', 'decode', '--key', KEY, '--image', file, '--json']);
    expect(decoded.status, decoded.stderr).toBe(0);
    expect(JSON.parse(decoded.stdout)).toMatchObject({
      ok: true,
      issuer: 42,
      index: 123456,
      confident: true,
      images: [{ file }],
    });
  });

  it('exits 2 with the reason for a file that is not an image, and refuses a bad level', async () => {
    const notes = join(dir, 'notes.png');
    await writeFile(notes, 'not an image');
    const bad = await run(['code', 'read-image', notes]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/notes\.png is not an image/);
    const level = await run([
      'sim',
      'case-image',
      '--issuer',
      '1',
      '--index',
      '1',
      '--key',
      KEY,
      '--level',
      '9',
      '-o',
      join(dir, 'x.png'),
    ]);
    expect(level.status).toBe(2);
    expect(level.stderr).toMatch(/level must be an integer 0\.\.4, got 9/);
  });
});
