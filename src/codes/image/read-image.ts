/**
 * Reading the stamp off an image of a fired case: find the ring, unwrap it, find the rotation
 * and mirror from the sync and the text, then read each tooth and character as probabilities
 * (docs/reading.md). The result carries the soft read the decoder takes, the hard read derived
 * from it, and where everything was found, for the station's overlay.
 */
import { StamplineError } from '../../errors.js';
import { ALPHABET } from '../alphabet.js';
import { GEAR_LENGTH, TEXT_LENGTH } from '../codeword.js';
import { hardGear, hardText, type SoftRead } from '../soft-read.js';
import { type CoarseRing, findRingCandidates } from './find-ring.js';
import { GLYPH_SCALE, glyphOrigin, R_BASE, R_TOOTH, type StampGeometry, toImage } from './geometry.js';
import { loadImage } from './load.js';
import { type Orientation, orient } from './orient.js';
import { downsample, type Raster } from './raster.js';
import { type CellRead, readCell } from './read-text.js';
import { refineRing } from './refine-ring.js';
import { TEMPLATE_SETS } from './templates.js';

export interface ImageRead {
  /** where the stamp lies, in the pixels of the image as given */
  geometry: StampGeometry & { width: number; height: number };
  soft: SoftRead;
  /** the hard read: `?` where the reader is unsure */
  text: string;
  gear: string;
  /** for the overlay: each character's box (four corners) and each tooth's centre, with confidence */
  chars: { symbol: string; p: number; box: [number, number][] }[];
  teeth: { x: number; y: number; p: number }[];
  /** the sync's first tooth and its last, as image points */
  sync: [number, number][];
  /** how much better (natural log) the chosen rotation and mirror explain the image than the next best */
  orientationMargin: number;
  ms: number;
}

/** Reading resolution: pixels per pin unit after downsampling. */
const READ_SCALE = 3.5;
/** The coarse search runs on a copy about this many pixels across. */
const WORK_SIDE = 400;
/** A character with no glyph left still has this much probability spread over all 32 symbols. */
const FLOOR = 0.01;
/** Below these the image holds nothing like the stamp. */
const MIN_PROFILE = 0.35;
/** Places after the likeliest are tried down to this profile, and kept only if the stamp stands out there. */
const MIN_PROFILE_NEXT = 0.25;
const MIN_EDGE_SUPPORT = 0.15;
/**
 * The least margin (natural log) by which the chosen rotation and mirror must beat the next
 * best. On simulated images of levels 2-4, reads with the right orientation had margins of 32
 * and above, wrong ones 18 and below (docs/reading.md).
 */
const MIN_MARGIN = 25;
/** How many distinct places the reader tries before it gives up placing the stamp. */
const MAX_PLACES = 4;

const STEP = (2 * Math.PI) / GEAR_LENGTH;

function softmax(logL: Float64Array): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logL) max = Math.max(max, v);
  const e = [...logL].map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => (1 - FLOOR) * (v / sum) + FLOOR / 32);
}

/** Reads an image file. Throws IMAGE_* errors for files it will not take or where no stamp is found. */
export async function readImageFile(file: Buffer | Uint8Array, name?: string): Promise<ImageRead> {
  const t0 = performance.now();
  const img = await loadImage(file, name);
  return readRaster(img, name ?? 'the image', t0);
}

export function readRaster(img: Raster, name = 'the image', t0 = performance.now()): ImageRead {
  const workFactor = Math.max(1, Math.floor(Math.max(img.width, img.height) / WORK_SIDE));
  const work = downsample(img, workFactor);
  const all = distinct(findRingCandidates(work));
  const top = all[0]?.score ?? 0;
  if (top < MIN_PROFILE) throw noStamp(name, top);
  // the likeliest place first; when the sync and text do not stand out there, the next ones
  // (a weaker profile may still be the stamp, cut by missing sectors, beside the cup's edge)
  let chosen: { o: Orientation; mid: Raster; readFactor: number } | null = null;
  for (const coarse of all.filter((c) => c.score >= MIN_PROFILE_NEXT).slice(0, MAX_PLACES)) {
    const fullScale = coarse.scale * workFactor;
    const readFactor = Math.max(1, Math.floor(fullScale / READ_SCALE));
    const mid = readFactor === workFactor ? work : downsample(img, readFactor);
    const k = workFactor / readFactor;
    const ring = refineRing(mid, coarse.cx * k, coarse.cy * k, coarse.scale * k);
    if (ring.edgeSupport < MIN_EDGE_SUPPORT) continue;
    const o = orient(mid, ring);
    // a weak place counts only when the stamp stands out there
    if (coarse.score < MIN_PROFILE && o.margin < MIN_MARGIN) continue;
    if (!chosen || o.margin > chosen.o.margin) chosen = { o, mid, readFactor };
    if (o.margin >= MIN_MARGIN) break;
  }
  if (!chosen) throw noStamp(name, top);
  const { o, readFactor } = chosen;
  const g = o.geometry;
  const margin = o.margin;
  const p = o.signal.probability;
  // when no rotation and mirror stand out, no tooth or character can be put in its place
  const placed = margin >= MIN_MARGIN;
  const chars = placed
    ? readText(o.textImg, g)
    : Array.from({ length: TEXT_LENGTH }, () => new Array<number>(32).fill(1 / 32));
  const teeth = Array.from({ length: GEAR_LENGTH }, (_, t) => {
    const j = (((g.mirrored ? o.j0 - t : o.j0 + t) % GEAR_LENGTH) + GEAR_LENGTH) % GEAR_LENGTH;
    return placed ? p[j]! : 0.5;
  });
  const soft: SoftRead = { chars, teeth, rotation: Math.round(g.rotation * 100) / 100 };

  // back to the pixels of the image as given
  const full: StampGeometry = {
    ...g,
    cx: g.cx * readFactor,
    cy: g.cy * readFactor,
    scale: g.scale * readFactor,
  };
  const text = hardText(soft);
  return {
    geometry: { ...round(full), width: img.width, height: img.height },
    soft,
    text,
    gear: hardGear(soft),
    chars: chars.map((row, n) => {
      let v = 0;
      for (let u = 1; u < 32; u++) if (row[u]! > row[v]!) v = u;
      const [ox, oy] = glyphOrigin(n);
      const w = 4 * GLYPH_SCALE;
      const h = 6 * GLYPH_SCALE;
      const box = [
        toImage(full, ox, oy),
        toImage(full, ox + w, oy),
        toImage(full, ox + w, oy + h),
        toImage(full, ox, oy + h),
      ];
      return { symbol: ALPHABET[v]!, p: row[v]!, box: box.map(roundPoint) };
    }),
    teeth: teeth.map((q, t) => {
      const a = (t + 0.5) * STEP;
      const r = (R_BASE + R_TOOTH) / 2;
      const [x, y] = toImage(full, r * Math.sin(a), -r * Math.cos(a));
      return { x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10, p: Math.round(q * 1000) / 1000 };
    }),
    sync: [0, 8].map((t) =>
      roundPoint(toImage(full, R_TOOTH * Math.sin(t * STEP), -R_TOOTH * Math.cos(t * STEP))),
    ),
    orientationMargin: Math.round(margin * 10) / 10,
    ms: Math.round((performance.now() - t0) * 10) / 10,
  };
}

/**
 * The ten characters' likelihoods, read with the template set (blur) that fits the ten cells
 * best: each cell's offset is found with a middling blur, every set is tried at those offsets,
 * and the best set reads the cells again at every offset.
 */
function readText(textImg: Raster, g: StampGeometry): number[][] {
  const middle = Math.floor(TEMPLATE_SETS.length / 2);
  const first = Array.from({ length: TEXT_LENGTH }, (_, n) =>
    readCell(textImg, g, n, TEMPLATE_SETS[middle]!),
  );
  let chosen = middle;
  let fit = Number.POSITIVE_INFINITY;
  for (const [i, set] of TEMPLATE_SETS.entries()) {
    let f = 0;
    for (const [n, c] of first.entries()) {
      const r = readCell(textImg, g, n, set, false, [c.dx, c.dy]).residual;
      if (!Number.isNaN(r)) f += r;
    }
    if (f < fit) {
      fit = f;
      chosen = i;
    }
  }
  const cells =
    chosen === middle
      ? first
      : Array.from({ length: TEXT_LENGTH }, (_, n) => readCell(textImg, g, n, TEMPLATE_SETS[chosen]!));
  return cells.map((c: CellRead) => softmax(c.logLikelihood));
}

/** Candidates less than a pixel and 1 % of scale apart are one. */
function distinct(found: CoarseRing[]): CoarseRing[] {
  const out: CoarseRing[] = [];
  for (const c of found) {
    if (!out.some((q) => Math.hypot(q.cx - c.cx, q.cy - c.cy) < 1 && Math.abs(q.scale / c.scale - 1) < 0.01))
      out.push(c);
  }
  return out;
}

function round(g: StampGeometry): StampGeometry {
  return {
    cx: Math.round(g.cx * 10) / 10,
    cy: Math.round(g.cy * 10) / 10,
    scale: Math.round(g.scale * 1000) / 1000,
    rotation: Math.round(g.rotation * 100) / 100,
    mirrored: g.mirrored,
  };
}

function roundPoint([x, y]: [number, number]): [number, number] {
  return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
}

function noStamp(name: string, score: number): StamplineError {
  return new StamplineError('IMAGE_NO_STAMP', `no stamp impression was found in ${name}`, {
    name,
    profileScore: Math.round(score * 100) / 100,
  });
}
