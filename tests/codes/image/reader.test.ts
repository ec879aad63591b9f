import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { caseImageModel } from '../../../simulators/case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../../../simulators/case-image/render.js';
import { readImageFile } from '../../../src/codes/image/read-image.js';
import { decodeReads, encode } from '../../../src/codes/index.js';
import { isStamplineError } from '../../../src/errors.js';

const KEY = '000102030405060708090a0b0c0d0e0f';
/** Rendering and reading 600-pixel images takes seconds on a loaded machine. */
const IMAGE_TEST_MS = 120_000;

async function caseImage(index: number, level: number, seed: number, overrides = {}) {
  const code = encode(3, index, KEY);
  const image = renderCaseImage(code, caseImageModel(level, { size: 600, ...overrides }), seed);
  return { code, image, file: await encodeCaseImage(image) };
}

async function errorOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('reading a case image', () => {
  it.each([
    { rotation: 0, mirror: false },
    { rotation: 97, mirror: false },
    { rotation: 211.5, mirror: true },
    { rotation: 300, mirror: false, offset: 0.15 },
    { rotation: 45, mirror: true, scaleMin: 0.9, scaleMax: 0.9, offset: 0 },
  ])(
    'finds the stamp and identifies the gun at %o (level 0)',
    async (overrides) => {
      const { code, image, file } = await caseImage(1000, 0, 5, overrides);
      const r = await readImageFile(file);
      const text = code.text.replace('-', '');
      // what the reader commits to is right; what it is unsure of it leaves as ?
      for (let n = 0; n < 10; n++) if (r.text[n] !== '?') expect(r.text[n]).toBe(text[n]);
      for (let t = 0; t < 88; t++) if (r.gear[t] !== '?') expect(r.gear[t]).toBe(code.gear[t]);
      expect(r.text.replace(/\?/g, '').length).toBeGreaterThanOrEqual(7);
      expect(decodeReads([{ soft: r.soft }], KEY)).toMatchObject({
        ok: true,
        confident: true,
        issuer: 3,
        index: 1000,
      });
      expect(r.geometry.mirrored).toBe(overrides.mirror);
      expect(Math.hypot(r.geometry.cx - image.placement.cx, r.geometry.cy - image.placement.cy)).toBeLessThan(
        2,
      );
      const turn = Math.abs(((r.geometry.rotation - image.placement.rotation + 540) % 360) - 180);
      expect(turn).toBeLessThan(1);
    },
    IMAGE_TEST_MS,
  );

  it(
    'never identifies the wrong gun from an image at levels 1 to 3',
    async () => {
      for (const [level, seed] of [
        [1, 11],
        [2, 21],
        [3, 31],
      ] as const) {
        const { file } = await caseImage(424242, level, seed);
        let result: ReturnType<typeof decodeReads> | undefined;
        try {
          result = decodeReads([{ soft: (await readImageFile(file)).soft }], KEY);
        } catch (err) {
          expect(isStamplineError(err, 'IMAGE_NO_STAMP')).toBe(true);
        }
        if (result?.ok && result.confident) expect(result).toMatchObject({ issuer: 3, index: 424242 });
      }
    },
    IMAGE_TEST_MS,
  );

  it(
    'fuses a soft read with a typed read of another case of the same gun',
    async () => {
      const { code, file } = await caseImage(77, 1, 12);
      const r = await readImageFile(file);
      const typed = `${code.text.slice(0, 3)}???????`;
      expect(decodeReads([{ soft: r.soft }, { text: typed }], KEY)).toMatchObject({ ok: true, index: 77 });
    },
    IMAGE_TEST_MS,
  );

  it(
    'is unsure, not confidently wrong, about teeth where nothing transferred',
    async () => {
      const { image, file } = await caseImage(5, 0, 13, { missingSectors: 1, sectorDegrees: 40 });
      const r = await readImageFile(file);
      const sector = image.missingSectors[0]!;
      const step = (2 * Math.PI) / 88;
      let inside = 0;
      for (let t = 0; t < 88; t++) {
        let d = Math.abs((t + 0.5) * step - sector) % (2 * Math.PI);
        if (d > Math.PI) d = 2 * Math.PI - d;
        if (d > (15 * Math.PI) / 180) continue; // well inside the 40° sector
        inside++;
        expect(r.gear[t]).toBe('?');
      }
      expect(inside).toBeGreaterThan(5);
    },
    IMAGE_TEST_MS,
  );

  it(
    'finds no stamp in a blank frame or in noise',
    async () => {
      const blank = await sharp({
        create: { width: 800, height: 800, channels: 3, background: { r: 150, g: 150, b: 150 } },
      })
        .png()
        .toBuffer();
      const err = await errorOf(readImageFile(blank, 'blank.png'));
      expect(isStamplineError(err, 'IMAGE_NO_STAMP')).toBe(true);
      const noise = Buffer.alloc(600 * 600);
      for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
      const noisy = await sharp(noise, { raw: { width: 600, height: 600, channels: 1 } })
        .png()
        .toBuffer();
      expect(isStamplineError(await errorOf(readImageFile(noisy, 'noise.png')), 'IMAGE_NO_STAMP')).toBe(true);
    },
    IMAGE_TEST_MS,
  );

  it(
    'refuses a corrupt file and a huge image with errors naming the problem and the limit',
    async () => {
      const { file } = await caseImage(1, 0, 1);
      const corrupt = await errorOf(readImageFile(file.subarray(0, 200), 'cut.png'));
      expect(isStamplineError(corrupt, 'IMAGE_UNREADABLE')).toBe(true);
      const text = await errorOf(readImageFile(Buffer.from('not an image at all'), 'notes.txt'));
      expect((text as Error).message).toMatch(/notes\.txt.*PNG, JPEG or TIFF/);
      const huge = await sharp({
        create: { width: 8000, height: 8000, channels: 3, background: { r: 128, g: 128, b: 128 } },
      })
        .png({ compressionLevel: 1 })
        .toBuffer();
      const err = await errorOf(readImageFile(huge, 'huge.png'));
      expect(isStamplineError(err, 'IMAGE_TOO_LARGE')).toBe(true);
      expect((err as Error).message).toMatch(
        /huge\.png is 8000 × 8000 pixels; the reader takes images up to 40000000 pixels/,
      );
    },
    IMAGE_TEST_MS,
  );
});
