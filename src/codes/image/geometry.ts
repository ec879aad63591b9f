/**
 * Where the stamp lies in an image: centre, scale (pixels per pin unit), rotation and mirror,
 * and the map from the pin face's own coordinates (`svg.ts`: units, y down, the sync at twelve
 * o'clock) to image pixels. The pin face's layout is taken from `svg.ts` itself, so the reader
 * looks where the engraver marks.
 */
import { TEXT_LENGTH } from '../codeword.js';
import { ADVANCE, GLYPH_SCALE, LINE_GAP, R_BASE } from '../svg.js';

export { R_BASE, R_EDGE, R_TOOTH, TOOTH_FILL } from '../svg.js';

/** The base circle's inner edge (its stroke is 0.5 wide). */
export const BASE_EDGE = R_BASE - 0.25;

export interface StampGeometry {
  /** centre in image pixels */
  cx: number;
  cy: number;
  /** image pixels per pin unit */
  scale: number;
  /** where the pin's twelve o'clock lies in the image, degrees clockwise from up */
  rotation: number;
  /** the impression appears mirrored (the text reads backwards) */
  mirrored: boolean;
}

/** Image point of pin-face point (x, y). */
export function toImage(g: StampGeometry, x: number, y: number): [number, number] {
  const t = (g.rotation * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const u = g.mirrored ? -x : x;
  return [g.cx + g.scale * (u * c - y * s), g.cy + g.scale * (u * s + y * c)];
}

/** The glyph box of character n: its top-left corner in pin units; a glyph is 4 × 6 glyph units. */
export function glyphOrigin(n: number): [number, number] {
  const lineWidth = (5 - 1) * ADVANCE + 4;
  const blockHeight = 2 * 6 + LINE_GAP;
  const col = n % 5;
  const line = Math.floor(n / 5);
  return [
    (col * ADVANCE - lineWidth / 2) * GLYPH_SCALE,
    (line * (6 + LINE_GAP) - blockHeight / 2) * GLYPH_SCALE,
  ];
}

export { GLYPH_SCALE, TEXT_LENGTH };
