/**
 * The pin face as DXF, read back as marker software reads it: group codes and values in pairs,
 * one LWPOLYLINE per tooth outline or glyph stroke, on the layers the docs name, in millimetres.
 */
import { describe, expect, it } from 'vitest';
import { renderPinDxf } from '../../src/codes/dxf.js';
import { encode } from '../../src/codes/index.js';
import { isStamplineError } from '../../src/errors.js';

const CODE = encode(42, 123456, '00112233445566778899aabbccddeeff');

interface Entity {
  type: string;
  layer: string;
  closed: boolean;
  points: [number, number][];
  bulges: number[];
}

/** The entities of the ENTITIES section. */
function entities(dxf: string): Entity[] {
  const lines = dxf.split(/\r?\n/);
  const pairs: [number, string][] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) pairs.push([Number(lines[i]!.trim()), lines[i + 1]!.trim()]);
  const start = pairs.findIndex(
    ([c, v], i) => c === 2 && v === 'ENTITIES' && pairs[i - 1]?.[1] === 'SECTION',
  );
  const out: Entity[] = [];
  for (const [code, value] of pairs.slice(start + 1)) {
    if (code === 0) {
      if (value === 'ENDSEC') break;
      out.push({ type: value, layer: '', closed: false, points: [], bulges: [] });
      continue;
    }
    const e = out.at(-1)!;
    if (code === 8) e.layer = value;
    else if (code === 70 && e.type === 'LWPOLYLINE') e.closed = (Number(value) & 1) === 1;
    else if (code === 10) e.points.push([Number(value), Number.NaN]);
    else if (code === 20 && e.points.length > 0) e.points.at(-1)![1] = Number(value);
    else if (code === 42) e.bulges.push(Number(value));
  }
  return out;
}

describe('pin face DXF', () => {
  const dxf = renderPinDxf(CODE);
  const all = entities(dxf);
  const ones = [...CODE.gear].filter((b) => b === '1').length;
  const syncOnes = [...CODE.gear.slice(0, 8)].filter((b) => b === '1').length;

  it('is in millimetres, with one closed outline per tooth, the sync apart', () => {
    expect(dxf).toMatch(/\$INSUNITS\r?\n\s*70\r?\n\s*4\r?\n/);
    const teeth = all.filter((e) => e.layer === 'GEAR' || e.layer === 'SYNC');
    expect(teeth).toHaveLength(ones);
    expect(all.filter((e) => e.layer === 'SYNC')).toHaveLength(syncOnes);
    for (const t of teeth) {
      expect(t).toMatchObject({ type: 'LWPOLYLINE', closed: true });
      expect(t.points).toHaveLength(4);
      expect(t.bulges.filter((b) => b !== 0)).toHaveLength(2);
      for (const [x, y] of t.points) expect(Math.hypot(x, y)).toBeLessThanOrEqual(1 + 1e-9);
    }
  });

  it('puts the first sync tooth just clockwise of twelve o’clock, and mirroring flips it', () => {
    const first = all.find((e) => e.layer === 'SYNC')!;
    expect(first.points[0]![0]).toBeGreaterThan(0);
    expect(first.points[0]![1]).toBeGreaterThan(0);
    const mirrored = entities(renderPinDxf(CODE, { mirror: true })).find((e) => e.layer === 'SYNC')!;
    expect(mirrored.points[0]![0]).toBeCloseTo(-first.points[0]![0], 9);
    expect(mirrored.points[0]![1]).toBeCloseTo(first.points[0]![1], 9);
  });

  it('draws the characters as strokes inside the ring, scaled with the diameter', () => {
    const text = all.filter((e) => e.layer === 'TEXT');
    expect(text.length).toBeGreaterThanOrEqual(10);
    for (const stroke of text)
      for (const [x, y] of stroke.points) expect(Math.hypot(x, y)).toBeLessThan(40 / 48.5);
    const big = entities(renderPinDxf(CODE, { diameterMm: 4 })).filter((e) => e.layer === 'TEXT');
    expect(big[0]!.points[0]![0]).toBeCloseTo(2 * text[0]!.points[0]![0], 9);
  });

  it('refuses a code it cannot draw, naming what is wrong', () => {
    for (const bad of [
      { text: 'SHORT', gear: CODE.gear },
      { text: CODE.text, gear: '101' },
    ]) {
      expect(() => renderPinDxf(bad)).toThrow(expect.objectContaining({ code: 'CODE_BAD_SYMBOLS' }));
    }
    try {
      renderPinDxf(CODE, { diameterMm: -1 });
      expect.unreachable();
    } catch (err) {
      expect(isStamplineError(err, 'INVALID_INPUT')).toBe(true);
    }
  });
});
