/**
 * Decoding an image file (PNG, JPEG, TIFF; grey or colour) to greyscale floats with sharp,
 * refusing what the reader will not take before decoding a pixel: files over MAX_FILE_BYTES,
 * images over MAX_INPUT_PIXELS, and images too small to hold a legible stamp.
 */
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { StamplineError } from '../../errors.js';
import type { Raster } from './raster.js';

/** The reader's limits, named in its errors. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
export const MAX_INPUT_PIXELS = 40_000_000;
export const MIN_SIDE = 200;

const FORMATS = new Set(['png', 'jpeg', 'tiff']);

export async function loadImage(file: Buffer | Uint8Array, name = 'the image'): Promise<Raster> {
  if (file.length > MAX_FILE_BYTES) {
    throw new StamplineError(
      'IMAGE_TOO_LARGE',
      `${name} is ${file.length} bytes; the reader takes files up to ${MAX_FILE_BYTES} bytes (64 MiB)`,
      { name, bytes: file.length, limit: MAX_FILE_BYTES },
    );
  }
  let meta: Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new StamplineError(
      'IMAGE_UNREADABLE',
      `${name} is not an image the reader can decode (PNG, JPEG or TIFF)`,
      { name },
      { cause: err },
    );
  }
  const { width, height, format } = meta;
  if (!width || !height || !format || !FORMATS.has(format)) {
    throw new StamplineError(
      'IMAGE_UNREADABLE',
      `${name} is ${format ? `a ${format} file` : 'not an image'}; the reader takes PNG, JPEG or TIFF`,
      { name, format: format ?? null },
    );
  }
  if (width * height > MAX_INPUT_PIXELS) {
    throw new StamplineError(
      'IMAGE_TOO_LARGE',
      `${name} is ${width} × ${height} pixels; the reader takes images up to ${MAX_INPUT_PIXELS} pixels (for example 6,000 × 6,000)`,
      { name, width, height, limit: MAX_INPUT_PIXELS },
    );
  }
  if (Math.min(width, height) < MIN_SIDE) {
    throw new StamplineError(
      'IMAGE_UNREADABLE',
      `${name} is ${width} × ${height} pixels; the reader needs at least ${MIN_SIDE} pixels on each side`,
      { name, width, height, limit: MIN_SIDE },
    );
  }
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(file, { limitInputPixels: MAX_INPUT_PIXELS })
      .flatten({ background: '#ffffff' })
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new StamplineError(
      'IMAGE_UNREADABLE',
      `${name} could not be decoded: ${(err as Error).message}`,
      { name },
      { cause: err },
    );
  }
  const { data, info } = raw;
  const data32 = new Float32Array(info.width * info.height);
  const ch = info.channels;
  const depth = data.length / (info.width * info.height * ch);
  if (depth === 2) {
    const u16 = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
    for (let i = 0; i < data32.length; i++) data32[i] = u16[i * ch]! / 65535;
  } else {
    for (let i = 0; i < data32.length; i++) data32[i] = data[i * ch]! / 255;
  }
  return { data: data32, width: info.width, height: info.height };
}
