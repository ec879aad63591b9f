/**
 * A greyscale image as floats (0 black .. 1 white) and the few operations the reader needs on
 * it: box downsampling, separable box blur, and bilinear sampling. Kept in plain typed arrays
 * because every step of reading is a loop over pixels or samples.
 */
export interface Raster {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** The mean of each factor × factor block (the last partial blocks are dropped). */
export function downsample(src: Raster, factor: number): Raster {
  if (factor <= 1) return src;
  const width = Math.floor(src.width / factor);
  const height = Math.floor(src.height / factor);
  const data = new Float32Array(width * height);
  const row = new Float32Array(width);
  const inv = 1 / (factor * factor);
  for (let y = 0; y < height; y++) {
    row.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      const base = (y * factor + dy) * src.width;
      for (let x = 0, sx = base; x < width; x++) {
        let s = 0;
        for (let dx = 0; dx < factor; dx++, sx++) s += src.data[sx]!;
        row[x]! += s;
      }
    }
    for (let x = 0; x < width; x++) data[y * width + x] = row[x]! * inv;
  }
  return { data, width, height };
}

function blurLine(
  src: Float32Array,
  dst: Float32Array,
  start: number,
  stride: number,
  n: number,
  r: number,
): void {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < Math.min(r, n); i++) {
    sum += src[start + i * stride]!;
    count++;
  }
  for (let i = 0; i < n; i++) {
    const add = i + r;
    if (add < n) {
      sum += src[start + add * stride]!;
      count++;
    }
    const drop = i - r - 1;
    if (drop >= 0) {
      sum -= src[start + drop * stride]!;
      count--;
    }
    dst[start + i * stride] = sum / count;
  }
}

/** Box blur of radius r (a window of 2r + 1), shrinking at the borders. */
export function boxBlur(src: Raster, r: number): Raster {
  const { width, height } = src;
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) blurLine(src.data, tmp, y * width, 1, width, r);
  for (let x = 0; x < width; x++) blurLine(tmp, out, x, width, height, r);
  return { data: out, width, height };
}

/** Bilinear sample at (x, y) in pixel coordinates (pixel centres at +0.5); NaN outside. */
export function sample(img: Raster, x: number, y: number): number {
  const fx = x - 0.5;
  const fy = y - 0.5;
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  if (x0 < 0 || y0 < 0 || x0 + 1 >= img.width || y0 + 1 >= img.height) return Number.NaN;
  const ax = fx - x0;
  const ay = fy - y0;
  const i = y0 * img.width + x0;
  const d = img.data;
  const top = d[i]! + ax * (d[i + 1]! - d[i]!);
  const bottom = d[i + img.width]! + ax * (d[i + img.width + 1]! - d[i + img.width]!);
  return top + ay * (bottom - top);
}
