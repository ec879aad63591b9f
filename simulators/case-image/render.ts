/**
 * Renders what a pin leaves on a fired primer and degrades it with the model of `model.ts`.
 * The pin face (`renderPinSvg`, as the case shows it: reading correctly) is drawn by resvg with
 * the stamp's rotation, scale, offset and blur; the rest (transfer, lighting, primer-cup edge,
 * drag, highlights, noise) is applied per pixel here, from one seeded generator, so an image
 * is repeatable from its seed.
 */
import { Resvg } from '@resvg/resvg-js';
import sharp from 'sharp';
import type { Codeword } from '../../src/codes/codeword.js';
import { Random } from '../../src/codes/sim/random.js';
import { R_EDGE, renderPinSvg } from '../../src/codes/svg.js';
import type { CaseImageModel } from './model.js';

export interface StampPlacement {
  /** the pin face's centre in pixels */
  cx: number;
  cy: number;
  /** pixels per pin unit */
  scale: number;
  /** clockwise, degrees */
  rotation: number;
  mirror: boolean;
}

export interface CaseImage {
  /** greyscale pixels, row by row, 0..255 */
  pixels: Uint8Array;
  width: number;
  height: number;
  placement: StampPlacement;
  /** centres of the sectors where nothing transferred: radians clockwise from the pin's twelve o'clock */
  missingSectors: number[];
}

export type ImageFormat = 'png' | 'jpeg' | 'tiff';

function gauss(rng: Random): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

function place(model: CaseImageModel, rng: Random): StampPlacement {
  const half = model.size / 2;
  const scale = ((model.scaleMin + (model.scaleMax - model.scaleMin) * rng.next()) * half) / R_EDGE;
  const r = model.offset * half * Math.sqrt(rng.next());
  const a = 2 * Math.PI * rng.next();
  const rotation = model.rotation ?? 360 * rng.next();
  return { cx: half + r * Math.cos(a), cy: half + r * Math.sin(a), scale, rotation, mirror: model.mirror };
}

/** The ink of the impression, 0..1 per pixel, blurred: resvg's alpha. */
function renderInk(
  code: Pick<Codeword, 'text' | 'gear'>,
  p: StampPlacement,
  model: CaseImageModel,
): Float32Array {
  const face = renderPinSvg(code);
  const inner = face
    .slice(face.indexOf('>') + 1, face.lastIndexOf('</svg>'))
    .replace(/<title>.*<\/title>/, '');
  const sigma = model.blur * p.scale;
  const filter =
    sigma > 0.05
      ? `<filter id="blur" x="-10%" y="-10%" width="120%" height="120%"><feGaussianBlur stdDeviation="${sigma.toFixed(3)}"/></filter>`
      : '';
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${model.size}" height="${model.size}" viewBox="0 0 ${model.size} ${model.size}">` +
    `<defs>${filter}</defs><g${filter ? ' filter="url(#blur)"' : ''}>` +
    `<g transform="translate(${p.cx.toFixed(3)} ${p.cy.toFixed(3)}) rotate(${p.rotation.toFixed(4)}) scale(${p.scale.toFixed(5)})${p.mirror ? ' scale(-1 1)' : ''}">` +
    `${inner}</g></g></svg>`;
  const rgba = new Resvg(svg, { fitTo: { mode: 'original' } }).render().pixels;
  const ink = new Float32Array(model.size * model.size);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3]! / 255;
  return ink;
}

/** Renders and degrades the impression of a pin with the code's text and gear. */
export function renderCaseImage(
  code: Pick<Codeword, 'text' | 'gear'>,
  model: CaseImageModel,
  seed: number,
): CaseImage {
  const rng = new Random(seed >>> 0, 0x1ca5e);
  const p = place(model, rng);
  const ink = renderInk(code, p, model);
  const size = model.size;
  const rad = (p.rotation * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const mirror = p.mirror ? -1 : 1;

  const sectors = Array.from({ length: model.missingSectors }, () => 2 * Math.PI * rng.next());
  const sectorHalf = (model.sectorDegrees * Math.PI) / 360;
  const patches = Array.from({ length: model.missingPatches }, () => {
    const r = 45 * Math.sqrt(rng.next());
    const a = 2 * Math.PI * rng.next();
    return { x: r * Math.sin(a), y: -r * Math.cos(a) };
  });
  const depthPhase = [rng.next() * 6.28, rng.next() * 6.28, 0.05 + 0.05 * rng.next()];
  const gradAngle = 2 * Math.PI * rng.next();
  const gx = Math.cos(gradAngle) / size;
  const gy = Math.sin(gradAngle) / size;
  const cupR = R_EDGE * p.scale * (1.2 + 0.2 * rng.next());
  const cupAngle = 2 * Math.PI * rng.next();
  const cupX = p.cx + 0.08 * cupR * Math.cos(cupAngle);
  const cupY = p.cy + 0.08 * cupR * Math.sin(cupAngle);
  const cupW = 0.02 * cupR;
  const dragAngle = 2 * Math.PI * rng.next();
  const dragX = Math.cos(dragAngle);
  const dragY = Math.sin(dragAngle);
  const lights = Array.from({ length: model.highlights }, () => ({
    x: size * rng.next(),
    y: size * rng.next(),
    s: size * (0.02 + 0.06 * rng.next()),
    a: model.highlightStrength * (0.6 + 0.4 * rng.next()),
  }));
  const texture = Array.from({ length: 3 }, () => ({
    kx: (rng.next() - 0.5) * 0.05,
    ky: (rng.next() - 0.5) * 0.05,
    ph: 6.28 * rng.next(),
  }));

  const pixels = new Uint8Array(size * size);
  const R = R_EDGE * p.scale;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const dx = x + 0.5 - p.cx;
      const dy = y + 0.5 - p.cy;
      // pin units on the face as the case shows it (y down, x right)
      const u = (mirror * (cos * dx + sin * dy)) / p.scale;
      const v = (-sin * dx + cos * dy) / p.scale;
      let transfer =
        1 -
        model.depthVariation *
          (0.5 +
            0.5 *
              Math.sin(depthPhase[2]! * u + depthPhase[0]!) *
              Math.cos(depthPhase[2]! * v + depthPhase[1]!));
      const a = Math.atan2(u, -v);
      for (const s of sectors) {
        let d = Math.abs(a - s) % (2 * Math.PI);
        if (d > Math.PI) d = 2 * Math.PI - d;
        if (d < sectorHalf) transfer = 0;
      }
      for (const q of patches) {
        if ((u - q.x) ** 2 + (v - q.y) ** 2 < model.patchRadius ** 2) transfer = 0;
      }
      let bg = 0.62;
      for (const t of texture) bg += 0.015 * Math.sin(t.kx * x + t.ky * y + t.ph);
      const dc = Math.hypot(x + 0.5 - cupX, y + 0.5 - cupY);
      if (dc > cupR) bg += 0.1 * Math.min(1, (dc - cupR) / (4 * cupW));
      bg -= model.cupEdge * Math.exp(-((dc - cupR) ** 2) / (2 * cupW * cupW));
      if (model.drag > 0) {
        const along = dx * dragX + dy * dragY;
        const across = -dx * dragY + dy * dragX;
        if (along > 0.2 * R && along < 1.1 * R)
          bg -= model.drag * Math.exp(-(across * across) / (2 * (0.08 * R) ** 2));
      }
      const illum = 1 + model.gradient * ((x - size / 2) * gx + (y - size / 2) * gy);
      let value = (bg - model.contrast * ink[i]! * transfer) * illum;
      for (const l of lights) value += l.a * Math.exp(-((x - l.x) ** 2 + (y - l.y) ** 2) / (2 * l.s * l.s));
      value += model.noise * gauss(rng);
      pixels[i] = Math.max(0, Math.min(255, Math.round(value * 255)));
    }
  }
  return { pixels, width: size, height: size, placement: p, missingSectors: sectors };
}

/** The image as a PNG, JPEG or TIFF file. */
export async function encodeCaseImage(image: CaseImage, format: ImageFormat = 'png'): Promise<Buffer> {
  const img = sharp(Buffer.from(image.pixels.buffer, image.pixels.byteOffset, image.pixels.byteLength), {
    raw: { width: image.width, height: image.height, channels: 1 },
  });
  if (format === 'jpeg') return img.jpeg({ quality: 92 }).toBuffer();
  if (format === 'tiff') return img.tiff().toBuffer();
  return img.png({ compressionLevel: 3 }).toBuffer();
}
