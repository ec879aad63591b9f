/**
 * The image commands that use every core, run as processes: `code decode --batch` with items
 * carrying images, and `sim identify --images` (a tiny run; the real table is run by hand).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseImageModel } from '../../simulators/case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../../simulators/case-image/render.js';
import { encode } from '../../src/codes/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}bin/stampline.js`;
const KEY = '00112233445566778899aabbccddeeff';
let dir = '';

function run(
  args: string[],
  input?: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
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
    child.stdin.end(input ?? '');
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampline-image-batch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('images through the command line on every core', { timeout: 240_000 }, () => {
  it('decodes batch items from their images, fused with typed reads, and says which images could not be read', async () => {
    const a = encode(7, 1001, KEY);
    const b = encode(7, 1002, KEY);
    const files: string[] = [];
    for (const [n, code] of [a, a, b].entries()) {
      const file = join(dir, `case-${n}.png`);
      await writeFile(
        file,
        await encodeCaseImage(renderCaseImage(code, caseImageModel(0, { size: 600 }), 40 + n)),
      );
      files.push(file);
    }
    const bad = join(dir, 'bad.png');
    await writeFile(bad, 'not an image');
    const items = [
      { images: [files[0], files[1]] },
      { images: [bad, files[2]], reads: [{ text: b.text }] },
      { images: [bad] },
      { images: 'case.png' },
      { reads: [{ text: a.text }] },
    ];
    const res = await run(
      ['code', 'decode', '--batch', '--key', KEY, '--workers', '2'],
      JSON.stringify(items),
    );
    expect(res.status).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out).toHaveLength(5);
    expect(out[0]).toMatchObject({ ok: true, confident: true, issuer: 7, index: 1001 });
    expect(out[0].images).toHaveLength(2);
    expect(out[0].images[0]).toMatchObject({ file: files[0], text: a.text.replace('-', '') });
    expect(out[0].images[0].geometry).toHaveProperty('scale');
    expect(out[1]).toMatchObject({ ok: true, confident: true, index: 1002 });
    expect(out[1].images[0]).toMatchObject({ file: bad, code: 'IMAGE_UNREADABLE' });
    expect(out[1].images[0].error).toContain('bad.png');
    expect(out[2]).toMatchObject({ ok: false });
    expect(out[2].error).toContain('no read');
    expect(out[3]).toEqual({ ok: false, error: 'images must be a list of image file paths' });
    // an item without images is decoded as before
    expect(out[4]).toMatchObject({ ok: true, index: 1001 });
    expect(out[4].images).toBeUndefined();
  });

  it('runs sim identify --images, the same table whatever the number of workers', async () => {
    const args = ['sim', 'identify', '--images', '--trials', '2', '--levels', '0', '--cases', '2', '--json'];
    const two = await run([...args, '--workers', '2']);
    expect(two.stderr).toBe('');
    expect(two.status).toBe(0);
    const rows = JSON.parse(two.stdout).rows;
    expect(
      rows.map((r: { level: number; cases: number; guns: number; images: number }) => [
        r.level,
        r.cases,
        r.guns,
        r.images,
      ]),
    ).toEqual([
      [0, 1, 2, 4],
      [0, 2, 2, 4],
    ]);
    for (const r of rows) {
      expect(r.wrong).toBe(0);
      expect(r.typedWrong).toBe(0);
      expect(r.identified).toBeGreaterThanOrEqual(0);
      expect(r.identified).toBeLessThanOrEqual(2);
      expect(r.charsRight).toBeGreaterThan(0.5);
    }
    // two cases identify at least what one does, from images and from typed reads
    expect(rows[1].identified).toBeGreaterThanOrEqual(rows[0].identified);
    expect(rows[1].typedIdentified).toBeGreaterThanOrEqual(rows[0].typedIdentified);
    const one = await run([...args, '--workers', '1']);
    expect(JSON.parse(one.stdout).rows).toEqual(rows);
    const text = await run([
      'sim',
      'identify',
      '--images',
      '--trials',
      '1',
      '--levels',
      '1',
      '--cases',
      '1',
      '--workers',
      '1',
    ]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('| level | cases per gun | guns | chars right |');
    expect(text.stdout).toMatch(/\| 1 \| 1 \| 1 \| /);
  });

  it('refuses bad options, naming them', async () => {
    const cases = await run(['sim', 'identify', '--images', '--cases', '4', '--trials', '1']);
    expect(cases.status).toBe(2);
    expect(cases.stderr).toContain('--cases must be 1 to 3');
    const levels = await run(['sim', 'identify', '--images', '--levels', '0,7', '--trials', '1']);
    expect(levels.status).toBe(2);
    expect(levels.stderr).toContain('--levels must be levels 0 to 4, got 7');
    const workers = await run(
      ['code', 'decode', '--batch', '--key', KEY, '--workers', '0'],
      '[{"images":["x.png"]}]',
    );
    expect(workers.status).toBe(2);
    expect(workers.stderr).toContain('--workers must be a whole number from 1');
  });
});
