/**
 * The pin face as DXF, the format marker software imports: the same drawing as `svg.ts` (the
 * code's characters as laser strokes in the middle, the 88-tooth ring round the edge, sync first
 * at twelve o'clock running clockwise), in millimetres, for a marker that marks a per-pin
 * graphic file rather than text on an arc. Written with @tarikjabiri/dxf.
 *
 * Layers say what each entity is, so the marker's software can give each its own pen: EDGE (the
 * pin's outline, not to be marked), GEAR (each tooth a closed outline to fill; SYNC for the
 * sync teeth), TEXT (open strokes), INDEX (the small triangle where the sync starts).
 */
import { DxfWriter, LWPolylineFlags, type LWPolylineVertex, point2d, point3d, Units } from '@tarikjabiri/dxf';
import { StamplineError } from '../errors.js';
import { ALPHABET } from './alphabet.js';
import { type Codeword, GEAR_LENGTH, SYNC_LENGTH, TEXT_LENGTH } from './codeword.js';
import { GLYPHS } from './glyphs.js';

export interface PinDxfOptions {
  /** Draw the pin as engraved (mirrored) rather than as the case impression; default false. */
  mirror?: boolean;
  /** Diameter of the pin face's edge circle, mm; default 2. */
  diameterMm?: number;
}

// The geometry of svg.ts, in its units (edge radius 48.5), scaled to millimetres below.
const R_BASE = 40;
const R_TOOTH = 46;
const R_EDGE = 48.5;
const TOOTH_FILL = 0.72;
const GLYPH_SCALE = 2.3;
const ADVANCE = 5.6;
const LINE_GAP = 3;

export function renderPinDxf(code: Pick<Codeword, 'text' | 'gear'>, options: PinDxfOptions = {}): string {
  const text = typeof code?.text === 'string' ? code.text.replace(/-/g, '').toUpperCase() : '';
  if (text.length !== TEXT_LENGTH || [...text].some((ch) => !ALPHABET.includes(ch))) {
    throw new StamplineError('CODE_BAD_SYMBOLS', `text must be ${TEXT_LENGTH} characters of ${ALPHABET}`, {
      text: code?.text,
    });
  }
  const gear = typeof code?.gear === 'string' ? code.gear : '';
  if (!/^[01]{88}$/.test(gear)) {
    throw new StamplineError('CODE_BAD_SYMBOLS', `gear must be ${GEAR_LENGTH} teeth of 0 and 1`, {
      length: gear.length,
    });
  }
  const diameter = options.diameterMm ?? 2;
  if (typeof diameter !== 'number' || !Number.isFinite(diameter) || diameter <= 0 || diameter > 1000) {
    throw new StamplineError(
      'INVALID_INPUT',
      `diameter must be a number of millimetres above 0, got ${diameter}`,
      {
        diameter,
      },
    );
  }
  const unit = diameter / 2 / R_EDGE;
  const flip = options.mirror === true ? -1 : 1;
  // DXF's y runs up, the SVG's down; mirroring flips x and so the sense of every arc.
  const at = (x: number, y: number) => point2d(flip * x * unit, -y * unit);
  const polar = (r: number, a: number) => at(r * Math.sin(a), -r * Math.cos(a));

  const dxf = new DxfWriter();
  dxf.setUnits(Units.Millimeters);
  for (const [name, color] of [
    ['EDGE', 8],
    ['GEAR', 7],
    ['SYNC', 1],
    ['TEXT', 7],
    ['INDEX', 3],
  ] as const) {
    dxf.addLayer(name, color, 'CONTINUOUS');
  }
  dxf.addCircle(point3d(0, 0), R_EDGE * unit, { layerName: 'EDGE' });
  dxf.addCircle(point3d(0, 0), R_BASE * unit, { layerName: 'EDGE' });

  const step = (2 * Math.PI) / GEAR_LENGTH;
  const half = (step * TOOTH_FILL) / 2;
  const bulge = Math.tan((2 * half) / 4) * flip;
  for (let k = 0; k < GEAR_LENGTH; k++) {
    if (gear[k] !== '1') continue;
    const mid = (k + 0.5) * step;
    const vertices: LWPolylineVertex[] = [
      { point: polar(R_BASE, mid - half) },
      // Clockwise along the tooth's top (a negative bulge), back anticlockwise along the base.
      { point: polar(R_TOOTH, mid - half), bulge: -bulge },
      { point: polar(R_TOOTH, mid + half) },
      { point: polar(R_BASE, mid + half), bulge },
    ];
    dxf.addLWPolyline(vertices, {
      flags: LWPolylineFlags.Closed,
      layerName: k < SYNC_LENGTH ? 'SYNC' : 'GEAR',
    });
  }
  dxf.addLWPolyline(
    [
      { point: polar(R_BASE - 1, 0) },
      { point: polar(R_BASE - 3.5, -0.05) },
      { point: polar(R_BASE - 3.5, 0.05) },
    ],
    { flags: LWPolylineFlags.Closed, layerName: 'INDEX' },
  );

  const lineWidth = (5 - 1) * ADVANCE + 4;
  const blockHeight = 2 * 6 + LINE_GAP;
  for (let n = 0; n < TEXT_LENGTH; n++) {
    const x0 = ((n % 5) * ADVANCE - lineWidth / 2) * GLYPH_SCALE;
    const y0 = (Math.floor(n / 5) * (6 + LINE_GAP) - blockHeight / 2) * GLYPH_SCALE;
    for (const stroke of strokes(GLYPHS[text[n]!]!)) {
      const points = stroke.points.map(([x, y]) => ({
        point: at(x0 + x * GLYPH_SCALE, y0 + y * GLYPH_SCALE),
      }));
      dxf.addLWPolyline(points, {
        flags: stroke.closed ? LWPolylineFlags.Closed : LWPolylineFlags.None,
        layerName: 'TEXT',
      });
    }
  }
  return dxf.stringify();
}

/** The strokes of a glyph path (M, L and Z only, as glyphs.ts draws them). */
function strokes(path: string): { points: [number, number][]; closed: boolean }[] {
  const out: { points: [number, number][]; closed: boolean }[] = [];
  for (const m of path.matchAll(/([MLZ])\s*([-\d.]+)?\s*([-\d.]+)?/g)) {
    if (m[1] === 'M') out.push({ points: [[Number(m[2]), Number(m[3])]], closed: false });
    else if (m[1] === 'L') out.at(-1)!.points.push([Number(m[2]), Number(m[3])]);
    else out.at(-1)!.closed = true;
  }
  return out;
}
