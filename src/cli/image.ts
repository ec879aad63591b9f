/**
 * `stampline code read-image FILE` (the read of one case image) and `stampline sim case-image`
 * (what a pin leaves on a primer, degraded; docs/reading.md). Exit codes: read-image exits 0
 * when a stamp was read, 1 when none was found; bad input exits 2.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { type CaseImageModel, caseImageModel, MODEL_KEYS } from '../../simulators/case-image/model.js';
import { encodeCaseImage, type ImageFormat, renderCaseImage } from '../../simulators/case-image/render.js';
import { type ImageRead, readImageFile } from '../codes/image/read-image.js';
import { encode } from '../codes/index.js';
import type { Read } from '../codes/reads.js';
import { isStamplineError, StamplineError } from '../errors.js';

async function readFileNamed(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new StamplineError(
      'INVALID_INPUT',
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { path },
    );
  }
}

/** The reads of image files, for `code decode --image`: each image's soft read, and what was found. */
export async function imageReads(paths: readonly string[]): Promise<{ reads: Read[]; images: object[] }> {
  const reads: Read[] = [];
  const images: object[] = [];
  for (const path of paths) {
    const r = await readImageFile(await readFileNamed(path), basename(path));
    reads.push({ soft: r.soft });
    images.push({ file: path, text: r.text, gear: r.gear, geometry: r.geometry, ms: r.ms });
  }
  return { reads, images };
}

function imageJson(r: ImageRead): object {
  return { text: r.text, gear: r.gear, geometry: r.geometry, soft: r.soft, ms: r.ms };
}

export function registerImageCommands(code: Command, sim: Command): void {
  code
    .command('read-image <file>')
    .description('read the stamp off an image of a fired case (PNG, JPEG or TIFF)')
    .option(
      '--json',
      'print JSON: the hard read, the soft likelihoods, the geometry found and the time taken',
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      let r: ImageRead;
      try {
        r = await readImageFile(await readFileNamed(file), basename(file));
      } catch (err) {
        if (!isStamplineError(err, 'IMAGE_NO_STAMP')) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 1;
        return;
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(imageJson(r))}\n`);
        return;
      }
      const g = r.geometry;
      process.stdout.write(
        `text  ${r.text.slice(0, 5)}-${r.text.slice(5)}\ngear  ${r.gear}\n` +
          `stamp centre (${g.cx}, ${g.cy}), ${g.scale} px per pin unit, rotated ${g.rotation}°${g.mirrored ? ', mirrored' : ''}\n` +
          `read in ${r.ms} ms\n`,
      );
    });

  const cmd = sim
    .command('case-image')
    .description('render what a pin with that code leaves on a fired primer, degraded (docs/reading.md)')
    .requiredOption('--issuer <n>', 'issuer number, 0..4095')
    .requiredOption('--index <n>', 'index of the firearm, 0..268435455')
    .requiredOption('--key <hex>', "the issuer's key, 32 hex digits")
    .option('--seed <n>', 'seed of the degradation (same seed, same image)', '1')
    .option('--level <n>', 'degradation level, 0 (clean) to 4 (severe)', '2')
    .option(
      '-o, --output <file>',
      'write the image here (.png, .jpg or .tif); default: PNG on standard output',
    );
  for (const key of MODEL_KEYS) {
    cmd.option(
      `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} <value>`,
      `set ${key} alone (see docs/reading.md)`,
    );
  }
  cmd.action(async (opts: Record<string, string | undefined>) => {
    const overrides: Record<string, unknown> = {};
    for (const key of MODEL_KEYS) {
      const v = opts[key];
      if (v === undefined) continue;
      overrides[key] =
        key === 'mirror' ? v === 'true' : key === 'rotation' && v === 'random' ? null : Number(v);
    }
    const model = caseImageModel(Number(opts.level), overrides as Partial<CaseImageModel>);
    const code = encode(Number(opts.issuer), Number(opts.index), opts.key ?? '');
    const seed = Number(opts.seed);
    if (!Number.isInteger(seed) || seed < 0) {
      throw new StamplineError('INVALID_INPUT', `--seed must be a whole number, got ${opts.seed}`, {
        seed: opts.seed,
      });
    }
    const image = renderCaseImage(code, model, seed);
    const ext = extname(opts.output ?? '').toLowerCase();
    const format: ImageFormat =
      ext === '.jpg' || ext === '.jpeg' ? 'jpeg' : ext === '.tif' || ext === '.tiff' ? 'tiff' : 'png';
    const bytes = await encodeCaseImage(image, format);
    if (opts.output) await writeFile(opts.output, bytes);
    else process.stdout.write(bytes);
  });
}
