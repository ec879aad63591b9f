/**
 * The QA station's watched folder of case images: an image is read only once complete (settled,
 * or with its done-file), recorded as a read from an image of the firearm its name or sidecar
 * names, and moved to processed/; an image that cannot be taken moves to failed/ with its reason
 * beside it and in the log, and nothing is stored for it.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { caseImageModel } from '../../simulators/case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../../simulators/case-image/render.js';
import { MAX_FILE_BYTES } from '../../src/codes/image/load.js';
import { ImageFolder, type ImageFolderOptions, namingOf } from '../../src/qa/image-folder.js';
import { memoryLogger, sleep, waitFor } from '../erp/support.js';
import { order } from '../line/harness.js';
import { cleanupRigs, type QaRig, qaRig, until } from './support.js';

const folders: ImageFolder[] = [];
afterEach(async () => {
  for (const f of folders.splice(0)) await f.stop();
  await cleanupRigs();
});

const ONE_CASE = { kind: 'every-case', cases: 1, minGrade: 'C' } as const;

/** A rig with two firearms engraved, and their codes by serial. */
async function engraved(policy: Parameters<typeof qaRig>[0] = ONE_CASE) {
  const rig = await qaRig(policy);
  await rig.h.line.submitOrder(order('o1', 2), 'http', 'erp');
  await rig.h.line.startOrder('o1', 'operator');
  await until(
    async () => (await rig.h.line.orderView('o1')).firearms.every((f) => f.state === 'engraved'),
    'both engraved',
    60_000,
  );
  const firearms = (await rig.h.line.orderView('o1')).firearms;
  const codes = new Map(firearms.map((f) => [f.serial, f.code!]));
  return { rig, codes };
}

async function watch(rig: QaRig, opts: Partial<ImageFolderOptions> = {}) {
  const dir = join(rig.dir, 'images');
  await mkdir(dir, { recursive: true });
  const logger = memoryLogger();
  const folder = new ImageFolder({
    dir,
    pollMs: 20,
    settleMs: 300,
    ammo: { brand: 'Bench 9mm FMJ', lacquered: false },
    qa: rig.qa,
    logger,
    ...opts,
  });
  folders.push(folder);
  await folder.start();
  return { dir, logger, folder };
}

const imageOf = (code: { text: string; gear: string }, seed = 7) =>
  encodeCaseImage(renderCaseImage(code, caseImageModel(0, { size: 600 }), seed));

const readsOf = async (rig: QaRig, serial: string) => (await rig.qa.firearm(serial)).reads;

describe('the image folder', () => {
  it('names the firearm and round by the start of the file name', () => {
    expect(namingOf('SN-12_r3_0001.png', 'serial')).toEqual({ serial: 'SN-12', round: 3 });
    expect(namingOf('0AH8P-RW2NS.tif', 'code')).toEqual({ code: '0AH8P-RW2NS' });
    expect(namingOf('SN-12_round2.jpg', 'serial')).toEqual({ serial: 'SN-12', round: 2 });
  });

  it('does not read a half-written image early, and records the whole one as a read from an image', async () => {
    const { rig, codes } = await engraved();
    const { dir, folder } = await watch(rig);
    const bytes = await imageOf(codes.get('O1-0000')!);
    const half = Math.floor(bytes.length / 2);
    const path = join(dir, 'O1-0000_r1_0001.png');
    // the microscope writes the first half, and the rest a moment later (within settleMs)
    await writeFile(path, bytes.subarray(0, half));
    await sleep(150);
    await folder.scanNow();
    expect(await readsOf(rig, 'O1-0000')).toHaveLength(0);
    await appendFile(path, bytes.subarray(half));
    await waitFor(
      async () => (await readdir(join(dir, 'processed'))).includes('O1-0000_r1_0001.png'),
      'the image taken',
    );
    const reads = await readsOf(rig, 'O1-0000');
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      by: 'image-folder',
      source: 'image',
      station: 'image folder',
      round: 1,
      ammo: { brand: 'Bench 9mm FMJ', lacquered: false },
      text: codes.get('O1-0000')!.text.replace('-', ''),
      decode: { matches: true },
    });
    expect(reads[0]!.corrected).toBeUndefined();
    expect((await rig.h.line.orderView('o1')).firearms[0]!.qa?.result).toBe('pass');
    expect(await readdir(dir)).toEqual(expect.not.arrayContaining(['O1-0000_r1_0001.png']));
  }, 120_000);

  it('with done-file, waits for the marker however long the image stands, and takes a sidecar naming the firearm by code', async () => {
    const { rig, codes } = await engraved();
    const { dir } = await watch(rig, { completion: 'done-file', settleMs: 50 });
    const code = codes.get('O1-0001')!;
    await writeFile(join(dir, 'capture-17.png'), await imageOf(code));
    await writeFile(
      join(dir, 'capture-17.png.json'),
      JSON.stringify({ code: code.text, brand: 'Wolf Steel', lacquered: true, station: 'scope 3' }),
    );
    await sleep(600);
    expect(await readsOf(rig, 'O1-0001')).toHaveLength(0);
    await writeFile(join(dir, 'capture-17.png.done'), '');
    await waitFor(
      async () => (await readdir(join(dir, 'processed'))).includes('capture-17.png'),
      'the image taken',
    );
    expect(await readdir(join(dir, 'processed'))).toContain('capture-17.png.json');
    // the marker goes with its image
    await waitFor(async () => (await readdir(dir)).length === 2, 'the marker removed');
    expect((await readdir(dir)).sort()).toEqual(['failed', 'processed']);
    expect((await readsOf(rig, 'O1-0001'))[0]).toMatchObject({
      serial: 'O1-0001',
      source: 'image',
      station: 'scope 3',
      ammo: { brand: 'Wolf Steel', lacquered: true },
    });
  }, 120_000);

  it("refuses an image over the reader's limit unread, naming the limit, storing nothing", async () => {
    const { rig } = await engraved();
    const { dir, logger } = await watch(rig, { settleMs: 50 });
    // a sparse file: its size is over the limit without writing 64 MiB; made beside the folder
    // and moved in whole, so that the watcher never sees it empty on a slow machine
    const made = join(rig.dir, 'O1-0000_r1.tif');
    await writeFile(made, '');
    await truncate(made, MAX_FILE_BYTES + 1);
    await rename(made, join(dir, 'O1-0000_r1.tif'));
    await waitFor(async () => (await readdir(join(dir, 'failed'))).length === 2, 'the image failed');
    const why = await readFile(join(dir, 'failed', 'O1-0000_r1.tif.error.txt'), 'utf8');
    expect(why).toContain(`IMAGE_TOO_LARGE: O1-0000_r1.tif is ${MAX_FILE_BYTES + 1} bytes`);
    expect(why).toContain(`at most ${MAX_FILE_BYTES} bytes (64 MiB)`);
    expect(logger.entries.find((e) => e.msg === 'image folder: image refused')?.obj).toMatchObject({
      code: 'IMAGE_TOO_LARGE',
    });
    expect(await readsOf(rig, 'O1-0000')).toHaveLength(0);
  }, 120_000);

  it('does not record twice an image whose read was stored before a stop cut its move short', async () => {
    const { rig, codes } = await engraved({ kind: 'every-case', cases: 3, minGrade: 'C' });
    const code = codes.get('O1-0000')!;
    const bytes = await imageOf(code);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // what the folder had stored for this image when the line stopped
    const text = code.text.replace('-', '');
    const stored = await rig.qa.submit(
      {
        serial: 'O1-0000',
        text,
        ammo: { brand: 'Bench 9mm FMJ', lacquered: false },
        imageRead: { text, sha256 },
      },
      'image-folder',
    );
    expect(stored.read.imageSha256).toBe(sha256);
    const dir = join(rig.dir, 'images');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'O1-0000_0001.png'), bytes);
    // another image of another case of the same firearm is a new read
    await writeFile(join(dir, 'O1-0000_0002.png'), await imageOf(code, 8));
    await watch(rig, { settleMs: 50 });
    await waitFor(async () => (await readdir(join(dir, 'processed'))).length === 2, 'both images taken');
    const reads = await readsOf(rig, 'O1-0000');
    expect(reads).toHaveLength(2);
    expect(reads[0]!.id).toBe(stored.read.id);
    expect(reads[1]!.imageSha256).not.toBe(sha256);
  }, 120_000);

  it('moves a bad image aside with a clear error in the log and beside it, storing nothing', async () => {
    const { rig, codes } = await engraved();
    const { dir, logger } = await watch(rig, { settleMs: 50 });
    const blank = await sharp({
      create: { width: 600, height: 600, channels: 3, background: { r: 150, g: 150, b: 150 } },
    })
      .png()
      .toBuffer();
    await writeFile(join(dir, 'O1-0000_r1.png'), Buffer.from('not a png at all'));
    await writeFile(join(dir, 'O1-0001_r1.png'), blank);
    await writeFile(join(dir, 'NO-SUCH_r1.png'), await imageOf(codes.get('O1-0000')!));
    await writeFile(join(dir, 'O1-0000_r2.png'), await imageOf(codes.get('O1-0000')!));
    await writeFile(join(dir, 'O1-0000_r2.png.json'), '{"serial": "O1-0000", "colour": "red"}');
    await waitFor(async () => (await readdir(join(dir, 'failed'))).length === 9, 'four images failed');
    const failed = await readdir(join(dir, 'failed'));
    const why = async (name: string) => readFile(join(dir, 'failed', `${name}.error.txt`), 'utf8');
    expect(await why('O1-0000_r1.png')).toContain('IMAGE_UNREADABLE');
    expect(await why('O1-0001_r1.png')).toContain('IMAGE_NO_STAMP');
    expect(await why('NO-SUCH_r1.png')).toMatch(
      /QA_UNKNOWN_FIREARM: no firearm on this line has serial NO-SUCH/,
    );
    expect(await why('O1-0000_r2.png')).toMatch(/sidecar O1-0000_r2.png.json has unknown fields colour/);
    expect(failed).toContain('O1-0000_r2.png.json');
    const refused = logger.entries.filter((e) => e.msg === 'image folder: image refused');
    expect(refused.map((e) => e.level)).toEqual(['error', 'error', 'error', 'error']);
    expect(refused.map((e) => (e.obj as { code: string }).code).sort()).toEqual([
      'IMAGE_NO_STAMP',
      'IMAGE_UNREADABLE',
      'QA_INVALID_READ',
      'QA_UNKNOWN_FIREARM',
    ]);
    expect(await readsOf(rig, 'O1-0000')).toHaveLength(0);
    expect(await readsOf(rig, 'O1-0001')).toHaveLength(0);
    expect(await readdir(join(dir, 'processed'))).toEqual([]);
  }, 120_000);
});
