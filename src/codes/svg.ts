/**
 * The pin face as SVG: the 10 characters in the middle, as two lines of five (the grouping
 * people read, without the dash, which is not part of the code), and the 88-tooth ring round
 * the edge, sync first at twelve o'clock, running clockwise as the case impression reads. A
 * tooth (1) is a raised block; a gap (0) is the bare base circle. A small triangle inside the
 * ring marks where the sync starts.
 *
 * The drawing is self-contained (paths only, no fonts, no external references) and
 * monochrome, so it serves the operator UI and marking artwork alike; elements carry classes
 * (`tooth`, `sync`, `text`, `index`) for a UI that wants to style them. `mirror` flips it left
 * to right: the pin is engraved mirrored so that the impression reads correctly.
 */
import { StamplineError } from '../errors.js';
import { ALPHABET } from './alphabet.js';
import { type Codeword, GEAR_LENGTH, SYNC_LENGTH, TEXT_LENGTH } from './codeword.js';
import { GLYPHS } from './glyphs.js';

export interface PinSvgOptions {
  /** draw the pin as engraved (mirrored) rather than as the case impression; default false */
  mirror?: boolean;
  /** width and height in pixels; default 512 */
  size?: number;
}

export const R_BASE = 40;
export const R_TOOTH = 46;
export const R_EDGE = 48.5;
export const TOOTH_FILL = 0.72; // share of each tooth's angular slot that the tooth covers
export const GLYPH_SCALE = 2.3;
export const ADVANCE = 5.6; // per character, in glyph units
export const LINE_GAP = 3; // between the two lines, in glyph units

function fmt(x: number): string {
  return (Math.round(x * 1000) / 1000).toString();
}

/** Point at radius r and angle a (radians clockwise from twelve o'clock). */
function polar(r: number, a: number): string {
  return `${fmt(r * Math.sin(a))} ${fmt(-r * Math.cos(a))}`;
}

export function renderPinSvg(code: Pick<Codeword, 'text' | 'gear'>, options: PinSvgOptions = {}): string {
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
  const size = options.size ?? 512;
  if (typeof size !== 'number' || !Number.isFinite(size) || size <= 0 || size > 100_000) {
    throw new StamplineError('INVALID_INPUT', `size must be a number of pixels above 0, got ${size}`, {
      size,
    });
  }

  const step = (2 * Math.PI) / GEAR_LENGTH;
  const half = (step * TOOTH_FILL) / 2;
  const teeth: string[] = [];
  const sync: string[] = [];
  for (let k = 0; k < GEAR_LENGTH; k++) {
    if (gear[k] !== '1') continue;
    const mid = (k + 0.5) * step;
    const a0 = mid - half;
    const a1 = mid + half;
    const d =
      `M${polar(R_BASE, a0)}L${polar(R_TOOTH, a0)}A${R_TOOTH} ${R_TOOTH} 0 0 1 ${polar(R_TOOTH, a1)}` +
      `L${polar(R_BASE, a1)}A${R_BASE} ${R_BASE} 0 0 0 ${polar(R_BASE, a0)}Z`;
    (k < SYNC_LENGTH ? sync : teeth).push(d);
  }

  // Two lines of five characters, centred.
  const lineWidth = (5 - 1) * ADVANCE + 4;
  const blockHeight = 2 * 6 + LINE_GAP;
  const glyphs: string[] = [];
  for (let n = 0; n < TEXT_LENGTH; n++) {
    const col = n % 5;
    const line = Math.floor(n / 5);
    const x = (col * ADVANCE - lineWidth / 2) * GLYPH_SCALE;
    const y = (line * (6 + LINE_GAP) - blockHeight / 2) * GLYPH_SCALE;
    glyphs.push(
      `<path transform="translate(${fmt(x)} ${fmt(y)}) scale(${GLYPH_SCALE})" d="${GLYPHS[text[n]!]}"/>`,
    );
  }

  const mirror = options.mirror === true;
  const title = `${text.slice(0, 5)}-${text.slice(5)}${mirror ? ' (pin, mirrored)' : ''}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-50 -50 100 100" width="${fmt(size)}" height="${fmt(size)}" role="img">`,
    `<title>${title}</title>`,
    `<g${mirror ? ' transform="scale(-1 1)"' : ''} fill="none" stroke="#000">`,
    `<circle r="${R_EDGE}" stroke-width="0.4"/>`,
    `<circle r="${R_BASE}" stroke-width="0.5"/>`,
    `<path class="index" d="M${polar(R_BASE - 1, 0)}L${polar(R_BASE - 3.5, -0.05)}L${polar(R_BASE - 3.5, 0.05)}Z" fill="#000" stroke="none"/>`,
    `<path class="tooth sync" d="${sync.join('')}" fill="#000" stroke="none"/>`,
    `<path class="tooth" d="${teeth.join('')}" fill="#000" stroke="none"/>`,
    `<g class="text" stroke-width="${fmt(0.8 / GLYPH_SCALE)}" stroke-linecap="round" stroke-linejoin="round">`,
    ...glyphs,
    '</g>',
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}
