import { describe, expect, it } from 'vitest';
import { caseImageModel } from '../../../simulators/case-image/model.js';
import { type CaseImage, renderCaseImage } from '../../../simulators/case-image/render.js';
import { ALPHABET } from '../../../src/codes/alphabet.js';
import { type ImageRead, readRaster } from '../../../src/codes/image/read-image.js';
import { encode } from '../../../src/codes/index.js';

const KEY = '000102030405060708090a0b0c0d0e0f';

/** The image of `bench/reading-diagnose.ts` for gun k of a level (800 pixels, that level's model). */
function benchImage(level: number, k: number, overrides = {}) {
  const index = 50_000 + level * 1000 + k;
  const code = encode(11, index, KEY);
  const image = renderCaseImage(code, caseImageModel(level, overrides), index * 7);
  return { code, image, read: read(image) };
}

function read(image: CaseImage): ImageRead {
  const data = new Float32Array(image.pixels.length);
  for (let i = 0; i < data.length; i++) data[i] = image.pixels[i]! / 255;
  return readRaster({ data, width: image.width, height: image.height });
}

/** The stamp is placed where the simulator put it: centre, scale, rotation and mirror. */
function expectPlaced(r: ImageRead, image: CaseImage) {
  const p = image.placement;
  expect(r.orientationMargin).toBeGreaterThanOrEqual(25);
  expect(Math.hypot(r.geometry.cx - p.cx, r.geometry.cy - p.cy)).toBeLessThan(0.5 * p.scale);
  expect(Math.abs(r.geometry.scale / p.scale - 1)).toBeLessThan(0.02);
  expect(Math.abs(((r.geometry.rotation - p.rotation + 540) % 360) - 180)).toBeLessThan(1.5);
  expect(r.geometry.mirrored).toBe(p.mirror);
}

describe('placing the stamp', () => {
  // each of these was missed before: a climb stopped on the teeth's side peak 10 pixels off
  // (level 2 gun 4, level 3 gun 10), the cup's edge had the better profile (level 3 gun 7), or
  // the sync lay in a missing sector and the text judged too few rotations (level 3 gun 21)
  it.each([
    [2, 4],
    [3, 7],
    [3, 10],
    [3, 21],
  ])(
    'finds the centre, scale, rotation and mirror at level %i, gun %i',
    (level, k) => {
      const { image, read: r } = benchImage(level, k);
      expectPlaced(r, image);
    },
    120_000,
  );

  it.each([
    { level: 0, k: 1, overrides: { mirror: true, scaleMin: 0.35, scaleMax: 0.35 } },
    { level: 1, k: 2, overrides: { mirror: true, offset: 0.25, scaleMin: 0.5, scaleMax: 0.5 } },
    { level: 1, k: 3, overrides: { rotation: 180, scaleMin: 0.95, scaleMax: 0.95, offset: 0 } },
    { level: 2, k: 5, overrides: { mirror: true, rotation: 33.3 } },
    { level: 2, k: 6, overrides: { size: 1200, offset: 0.2 } },
    { level: 3, k: 1, overrides: { mirror: true } },
    { level: 2, k: 7, overrides: { size: 600 } },
  ])(
    'places the stamp at level $level with $overrides, and what it commits to is right',
    ({ level, k, overrides }) => {
      const { code, image, read: r } = benchImage(level, k, overrides);
      expectPlaced(r, image);
      const text = code.text.replace('-', '');
      for (let n = 0; n < 10; n++) if (r.text[n] !== '?') expect(r.text[n]).toBe(text[n]);
      let wrongTeeth = 0;
      for (let t = 0; t < 88; t++) if (r.gear[t] !== '?' && r.gear[t] !== code.gear[t]) wrongTeeth++;
      expect(wrongTeeth).toBeLessThanOrEqual(2);
      expect(r.gear.replace(/\?/g, '').length).toBeGreaterThan(level < 3 ? 70 : 40);
    },
    120_000,
  );
});

describe('the likelihoods are honest', () => {
  it('characters given probability p are right about p of the time (levels 2 and 3)', () => {
    let expected = 0;
    let right = 0;
    let count = 0;
    let committed = 0;
    let committedRight = 0;
    for (const [level, k] of [
      [2, 0],
      [2, 1],
      [2, 2],
      [3, 0],
      [3, 3],
      [3, 4],
    ] as const) {
      const { code, read: r } = benchImage(level, k);
      const text = code.text.replace('-', '');
      for (const [n, row] of r.soft.chars.entries()) {
        let best = 0;
        for (let v = 1; v < 32; v++) if (row[v]! > row[best]!) best = v;
        const isRight = ALPHABET[best] === text[n];
        count++;
        expected += row[best]!;
        if (isRight) right++;
        if (row[best]! >= 0.97) {
          committed++;
          if (isRight) committedRight++;
        }
      }
    }
    // neither too sure (the reader's first scale) nor too flat (nearly every level-3 character `?`)
    const spread = Math.sqrt(count * 0.25);
    expect(Math.abs(right - expected)).toBeLessThan(2.5 * spread);
    expect(committed).toBeGreaterThan(count / 3);
    expect(committedRight / committed).toBeGreaterThanOrEqual(0.95);
  }, 300_000);
});
