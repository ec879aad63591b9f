/**
 * The degradation model of the case-image simulator: what happens between the pin face and a
 * microscope image of the fired case. Lengths are in pin units (the pin face is 100 units
 * across, as in `renderPinSvg`), so a level means the same at every image size; intensities
 * are on a 0 (black) .. 1 (white) scale. Levels 0 (clean) to 4 (severe) are fixed sets of
 * these parameters; every parameter can also be set alone (docs/reading.md).
 */
import { StamplineError } from '../../src/errors.js';

export interface CaseImageModel {
  /** image width and height in pixels */
  size: number;
  /** the pin face's edge radius as a share of half the image; random in [min, max] */
  scaleMin: number;
  scaleMax: number;
  /** largest offset of the stamp's centre from the image centre, as a share of half the image */
  offset: number;
  /** the stamp's rotation in degrees; null for a random rotation */
  rotation: number | null;
  /** show the impression mirrored (as a microscope with a mirror, or the pin itself) */
  mirror: boolean;
  /** how much darker a fully transferred mark is than the bare primer */
  contrast: number;
  /** number of sectors where nothing transferred, and the angle of each in degrees */
  missingSectors: number;
  sectorDegrees: number;
  /** number of round patches where nothing transferred, and their radius in pin units */
  missingPatches: number;
  patchRadius: number;
  /** spread of the depth of transfer over the face: 0 even, 0.5 from half to full depth */
  depthVariation: number;
  /** Gaussian blur of the impression, sigma in pin units */
  blur: number;
  /** Gaussian noise per pixel, sigma in intensity */
  noise: number;
  /** illumination gradient across the image: the difference between its brightest and darkest side */
  gradient: number;
  /** number of specular highlights and the peak brightness each adds */
  highlights: number;
  highlightStrength: number;
  /** darkness of the primer-cup edge round the stamp (0: no cup edge in view) */
  cupEdge: number;
  /** darkness of the firing-pin drag mark running out from the stamp (0: none) */
  drag: number;
}

const BASE: CaseImageModel = {
  size: 800,
  scaleMin: 0.55,
  scaleMax: 0.75,
  offset: 0.12,
  rotation: null,
  mirror: false,
  contrast: 0.55,
  missingSectors: 0,
  sectorDegrees: 0,
  missingPatches: 0,
  patchRadius: 0,
  depthVariation: 0,
  blur: 0.15,
  noise: 0.01,
  gradient: 0,
  highlights: 0,
  highlightStrength: 0,
  cupEdge: 0.25,
  drag: 0,
};

/** Levels 0 (clean) to 4 (severe). */
export const LEVELS: readonly CaseImageModel[] = [
  BASE,
  {
    ...BASE,
    contrast: 0.4,
    missingPatches: 1,
    patchRadius: 3,
    depthVariation: 0.2,
    blur: 0.3,
    noise: 0.03,
    gradient: 0.15,
    highlights: 1,
    highlightStrength: 0.25,
    drag: 0.08,
  },
  {
    ...BASE,
    contrast: 0.28,
    missingSectors: 1,
    sectorDegrees: 15,
    missingPatches: 2,
    patchRadius: 4,
    depthVariation: 0.35,
    blur: 0.45,
    noise: 0.06,
    gradient: 0.3,
    highlights: 2,
    highlightStrength: 0.35,
    drag: 0.12,
  },
  {
    ...BASE,
    contrast: 0.2,
    missingSectors: 2,
    sectorDegrees: 20,
    missingPatches: 3,
    patchRadius: 5,
    depthVariation: 0.45,
    blur: 0.6,
    noise: 0.08,
    gradient: 0.4,
    highlights: 3,
    highlightStrength: 0.45,
    drag: 0.16,
  },
  {
    ...BASE,
    contrast: 0.14,
    missingSectors: 3,
    sectorDegrees: 25,
    missingPatches: 4,
    patchRadius: 6,
    depthVariation: 0.5,
    blur: 0.8,
    noise: 0.1,
    gradient: 0.5,
    highlights: 4,
    highlightStrength: 0.5,
    drag: 0.2,
  },
];

const LIMITS: Record<keyof CaseImageModel, [number, number] | 'boolean' | 'rotation'> = {
  size: [64, 8000],
  scaleMin: [0.05, 1],
  scaleMax: [0.05, 1],
  offset: [0, 0.9],
  rotation: 'rotation',
  mirror: 'boolean',
  contrast: [0, 1],
  missingSectors: [0, 12],
  sectorDegrees: [0, 90],
  missingPatches: [0, 20],
  patchRadius: [0, 50],
  depthVariation: [0, 1],
  blur: [0, 5],
  noise: [0, 1],
  gradient: [0, 1],
  highlights: [0, 20],
  highlightStrength: [0, 1],
  cupEdge: [0, 1],
  drag: [0, 1],
};

export const MODEL_KEYS = Object.keys(LIMITS) as (keyof CaseImageModel)[];

/** The model of a level with some parameters overridden, checked. */
export function caseImageModel(level: number, overrides: Partial<CaseImageModel> = {}): CaseImageModel {
  if (!Number.isInteger(level) || level < 0 || level >= LEVELS.length) {
    throw new StamplineError(
      'INVALID_INPUT',
      `level must be an integer 0..${LEVELS.length - 1}, got ${level}`,
      {
        level,
      },
    );
  }
  const model = { ...LEVELS[level]!, ...overrides } as CaseImageModel;
  for (const key of MODEL_KEYS) {
    const limit = LIMITS[key];
    const value = model[key] as unknown;
    if (limit === 'boolean') {
      if (typeof value !== 'boolean') throw bad(key, value, 'true or false');
    } else if (limit === 'rotation') {
      if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
        throw bad(key, value, 'a number of degrees');
      }
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < limit[0] || value > limit[1]) {
      throw bad(key, value, `a number ${limit[0]}..${limit[1]}`);
    }
  }
  if (model.scaleMin > model.scaleMax)
    throw bad('scaleMin', model.scaleMin, `at most scaleMax (${model.scaleMax})`);
  return model;
}

function bad(key: string, value: unknown, what: string): StamplineError {
  return new StamplineError('INVALID_INPUT', `${key} must be ${what}, got ${JSON.stringify(value)}`, {
    [key]: value,
  });
}
