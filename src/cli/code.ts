/**
 * `stampline code encode|decode|svg` for integrators and QA, and `stampline sim identify`,
 * the Monte-Carlo of identification from test-fired cases.
 *
 * Exit codes: encode and svg exit 0; decode exits 0 for a confident identification, 1 for a
 * candidate or no decode; a batch exits 0 once every item has its result (item failures are
 * in the results); bad input exits 2.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MAX_MISCORRECTION_RISK } from '../codes/decode.js';
import { renderPinDxf } from '../codes/dxf.js';
import {
  decodeReads,
  encode,
  type IssuedCodes,
  parseIssuedFile,
  type Read,
  renderPinSvg,
} from '../codes/index.js';
import { DEFAULT_READ_MODEL } from '../codes/model.js';
import { checkFireModel, describeFireModel, type FireModel, SCENARIOS } from '../codes/sim/model.js';
import { markdownTable, rows } from '../codes/sim/report.js';
import { runIdentification } from '../codes/sim/run.js';
import { StamplineError } from '../errors.js';
import { codewordJson, codewordText, decodeJson, decodeText } from './code-text.js';
import { imageReads } from './image.js';
import { decodeImageBatch, hasImages, identifyImagesCommand, workerCount } from './image-batch.js';

const EXIT_NEGATIVE = 1;

interface EncodeOptions {
  issuer?: string;
  index?: string;
  key?: string;
  json?: boolean;
  batch?: boolean;
}

interface DecodeOptions {
  key?: string;
  read: string[];
  image: string[];
  json?: boolean;
  batch?: boolean;
  issued?: string;
  workers?: string;
}

interface SvgOptions {
  issuer: string;
  index: string;
  key: string;
  mirror?: boolean;
  size: string;
}

interface IdentifyOptions {
  scenario: string;
  trials?: string;
  seed: string;
  workers?: string;
  charCorrect?: string;
  charIllegible?: string;
  toothCorrect?: string;
  toothFlipped?: string;
  gearMissing?: string;
  assumeCharMisread?: string;
  assumeToothFlip?: string;
  issued?: string;
  wornPositions?: string;
  images?: boolean;
  levels?: string;
  cases?: string;
  json?: boolean;
}

export function registerCodeCommands(program: Command, sim: Command): void {
  const code = program
    .command('code')
    .description('microstamp codes: encode, decode reads, draw the pin face');

  code
    .command('encode')
    .description('the code of a firearm: text, gear bits and codeword')
    .option('--issuer <n>', 'issuer number, 0..4095')
    .option('--index <n>', 'index of the firearm in the issuer sequence, 0..268435455')
    .option('--key <hex>', "the issuer's key, 32 hex digits (with --batch: the key of items without one)")
    .option('--json', 'print JSON')
    .option('--batch', 'read a JSON array [{issuer, index, key}] on standard input, print a JSON array')
    .action(async (opts: EncodeOptions) => {
      if (opts.batch) {
        const items = await readBatch();
        writeJson(items.map((item) => encodeItem(item, opts.key)));
        return;
      }
      const issuer = integer('issuer', required('--issuer', opts.issuer));
      const index = integer('index', required('--index', opts.index));
      const result = encode(issuer, index, required('--key', opts.key));
      if (opts.json) writeJson(codewordJson(result));
      else process.stdout.write(codewordText(result));
    });

  code
    .command('decode')
    .description('decode the reads of one or more cases fired from one gun, together')
    .option('--key <hex>', "the issuer's key, 32 hex digits (with --batch: the key of items without one)")
    .option(
      '--read <text[/gear]>',
      'one case: its text read, then / and its gear read if any (e.g. "0AH8P-RW?NS" or "/1110...")',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option('--json', 'print JSON')
    .option(
      '--image <file>',
      'one case as an image of it (PNG, JPEG or TIFF); read and fused with the other reads',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option(
      '--batch',
      'read a JSON array [{key, reads: [{text, gear}], images: [file]}] on standard input, print a JSON array',
    )
    .option('--workers <n>', 'with --batch: threads reading images (default: one per core)')
    .option(
      '--issued <file>',
      'identify against the issued codes in FILE: one a line, its 10 characters or issuer,index (with --key)',
    )
    .action(async (opts: DecodeOptions) => {
      const issued = opts.issued === undefined ? undefined : readIssued(opts.issued, opts.key);
      if (opts.batch) {
        const items = await readBatch();
        const decode = (item: unknown) => decodeItem(item, opts.key, issued);
        if (!items.some(hasImages)) {
          writeJson(items.map(decode));
          return;
        }
        const tty = process.stderr.isTTY === true;
        writeJson(
          await decodeImageBatch(items, {
            workers: workerCount(opts.workers),
            decode,
            ...(tty ? { progress: (d, of) => process.stderr.write(`\r${d} of ${of} images read`) } : {}),
          }),
        );
        if (tty) process.stderr.write('\n');
        return;
      }
      if (opts.read.length === 0 && opts.image.length === 0) {
        throw new StamplineError('INVALID_INPUT', 'give at least one --read or --image', {});
      }
      const key = required('--key', opts.key);
      const fromImages = await imageReads(opts.image);
      const reads = [...opts.read.map(splitRead), ...fromImages.reads];
      const result = decodeReads(reads, key, { issued });
      if (opts.json)
        writeJson(
          opts.image.length > 0 ? { ...decodeJson(result), images: fromImages.images } : decodeJson(result),
        );
      else process.stdout.write(decodeText(result));
      if (!result.confident) process.exitCode = EXIT_NEGATIVE;
    });

  code
    .command('svg')
    .description('the pin face as SVG: characters in the middle, gear ring round the edge')
    .requiredOption('--issuer <n>', 'issuer number, 0..4095')
    .requiredOption('--index <n>', 'index of the firearm, 0..268435455')
    .requiredOption('--key <hex>', "the issuer's key, 32 hex digits")
    .option('--mirror', 'draw it mirrored, as engraved on the pin (the case impression is not)')
    .option('--size <px>', 'width and height in pixels', '512')
    .action((opts: SvgOptions) => {
      const result = encode(integer('issuer', opts.issuer), integer('index', opts.index), opts.key);
      process.stdout.write(
        renderPinSvg(result, { mirror: opts.mirror === true, size: number('size', opts.size) }),
      );
    });

  code
    .command('dxf')
    .description('the pin face as DXF (millimetres), for marker software that marks a graphic file per pin')
    .requiredOption('--issuer <n>', 'issuer number, 0..4095')
    .requiredOption('--index <n>', 'index of the firearm, 0..268435455')
    .requiredOption('--key <hex>', "the issuer's key, 32 hex digits")
    .option('--mirror', 'draw it mirrored, as engraved on the pin (the case impression is not)')
    .option('--diameter <mm>', 'diameter of the pin face, mm', '2')
    .action((opts: { issuer: string; index: string; key: string; mirror?: boolean; diameter: string }) => {
      const result = encode(integer('issuer', opts.issuer), integer('index', opts.index), opts.key);
      process.stdout.write(
        renderPinDxf(result, { mirror: opts.mirror === true, diameterMm: number('diameter', opts.diameter) }),
      );
    });

  sim
    .command('identify')
    .description(
      'Monte-Carlo of identifying a gun from 1 to 5 test-fired cases: correct, none and WRONG rates',
    )
    .option('--scenario <name>', `preset fire model: ${Object.keys(SCENARIOS).join(' or ')}`, 'a')
    .option(
      '--trials <n>',
      'guns to simulate (each row of the table uses every one); default 100000, with --images 100 per level',
    )
    .option('--seed <n>', 'random seed; the same seed and worker count give the same table', '1')
    .option('--workers <n>', 'worker threads (default: one per core)')
    .option('--char-correct <p>', 'probability that a character is read correctly')
    .option('--char-illegible <p>', 'probability that a character is illegible (the rest are misread)')
    .option('--tooth-correct <p>', 'probability that a gear tooth is read correctly')
    .option('--tooth-flipped <p>', 'probability that a tooth is read flipped (the rest are illegible)')
    .option('--gear-missing <p>', 'probability that the gear ring of a case is not read at all')
    .option(
      '--assume-char-misread <p>',
      `misread rate of legible characters the decoder assumes (default ${DEFAULT_READ_MODEL.charMisread})`,
    )
    .option(
      '--assume-tooth-flip <p>',
      `flip rate of legible teeth the decoder assumes (default ${DEFAULT_READ_MODEL.toothFlip})`,
    )
    .option(
      '--issued <n>',
      'decode against a random issued set of N codes (spec §6a): each other code is issued with probability N / 2^40',
    )
    .option(
      '--worn-positions <n>',
      'character positions illegible on every case of a gun (a worn pin); scenario worn has 2',
    )
    .option(
      '--images',
      'render each case with the case-image simulator, read it with the image reader, and decode the images (docs/reading.md)',
    )
    .option('--levels <list>', 'with --images: degradation levels, e.g. 0,1,2,3,4 (the default)')
    .option('--cases <n>', 'with --images: cases per gun, 1 to 3 (default 3)')
    .option('--json', 'print JSON')
    .action(async (opts: IdentifyOptions) => {
      if (opts.images) {
        await identifyImagesCommand({
          trials: opts.trials === undefined ? 100 : integer('trials', opts.trials),
          seed: integer('seed', opts.seed),
          workers: workerCount(opts.workers),
          levels: opts.levels ?? '0,1,2,3,4',
          cases: opts.cases === undefined ? 3 : integer('cases', opts.cases),
          json: opts.json === true,
        });
        return;
      }
      await identify(opts);
    });
}

function required(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new StamplineError('INVALID_INPUT', `${flag} is required (or use --batch)`, { flag });
  }
  return value;
}

/** Parses a whole number from the command line; anything else goes through as is and fails the check that follows. */
function integer(name: string, value: string): number {
  const trimmed = value.trim();
  if (!/^-?\d+$/.test(trimmed)) {
    throw new StamplineError(
      name === 'issuer' ? 'CODE_BAD_ISSUER' : name === 'index' ? 'CODE_BAD_INDEX' : 'INVALID_INPUT',
      `${name} must be a whole number, got ${JSON.stringify(value)}`,
      { [name]: value },
    );
  }
  return Number(trimmed);
}

function number(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new StamplineError('INVALID_INPUT', `${name} must be a number, got ${JSON.stringify(value)}`, {
      [name]: value,
    });
  }
  return n;
}

/** `TEXT/GEAR`, `TEXT` or `/GEAR`: the text read, then the gear read after the first slash. */
export function splitRead(arg: string): Read {
  const slash = arg.indexOf('/');
  if (slash < 0) return { text: arg };
  return { text: arg.slice(0, slash), gear: arg.slice(slash + 1) };
}

async function readBatch(): Promise<unknown[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const input = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch (err) {
    throw new StamplineError('INVALID_INPUT', `standard input is not JSON: ${(err as Error).message}`, {});
  }
  if (!Array.isArray(parsed)) {
    throw new StamplineError('INVALID_INPUT', 'standard input must be a JSON array', { type: typeof parsed });
  }
  return parsed;
}

function errorJson(err: unknown): { ok: false; error: string } {
  return { ok: false, error: err instanceof Error ? err.message : String(err) };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function encodeItem(item: unknown, defaultKey: string | undefined): object {
  try {
    if (!isObject(item))
      throw new StamplineError('INVALID_INPUT', 'each item must be an object {issuer, index, key}');
    const key = item.key ?? defaultKey;
    if (key === undefined)
      throw new StamplineError('CODE_BAD_KEY', 'the item has no key and no --key was given');
    return codewordJson(encode(item.issuer as number, item.index as number, key as string));
  } catch (err) {
    return errorJson(err);
  }
}

/** The issued-codes file of `--issued`, parsed; an unreadable or bad file is an error naming it. */
function readIssued(file: string, key: string | undefined): IssuedCodes {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StamplineError(
      'CODE_BAD_ISSUED',
      `cannot read the issued codes file ${file}: ${(err as Error).message}`,
      { file },
    );
  }
  return parseIssuedFile(content, { key, source: file });
}

function decodeItem(item: unknown, defaultKey: string | undefined, issued?: IssuedCodes): object {
  try {
    if (!isObject(item))
      throw new StamplineError('INVALID_INPUT', 'each item must be an object {key, reads}');
    const key = item.key ?? defaultKey;
    if (key === undefined)
      throw new StamplineError('CODE_BAD_KEY', 'the item has no key and no --key was given');
    return decodeJson(decodeReads(item.reads as Read[], key as string, { issued }));
  } catch (err) {
    return errorJson(err);
  }
}

function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function identify(opts: IdentifyOptions): Promise<void> {
  const preset = SCENARIOS[opts.scenario];
  if (!preset) {
    throw new StamplineError('INVALID_INPUT', `unknown scenario ${JSON.stringify(opts.scenario)}`, {
      scenario: opts.scenario,
    });
  }
  const probability = (name: string, value: string | undefined, fallback: number) =>
    value === undefined ? fallback : number(name, value);
  const fire: FireModel = checkFireModel({
    charCorrect: probability('char-correct', opts.charCorrect, preset.charCorrect),
    charIllegible: probability('char-illegible', opts.charIllegible, preset.charIllegible),
    toothCorrect: probability('tooth-correct', opts.toothCorrect, preset.toothCorrect),
    toothFlipped: probability('tooth-flipped', opts.toothFlipped, preset.toothFlipped),
    gearMissing: probability('gear-missing', opts.gearMissing, preset.gearMissing),
    wornPositions:
      opts.wornPositions === undefined ? preset.wornPositions : integer('worn-positions', opts.wornPositions),
  });
  const issued = opts.issued === undefined ? 0 : integer('issued', opts.issued);
  if (issued < 0 || issued > 2 ** 40) {
    throw new StamplineError('INVALID_INPUT', 'issued must be a number of codes, 0..2^40', { issued });
  }
  const trials = integer('trials', opts.trials ?? '100000');
  if (trials < 1) throw new StamplineError('INVALID_INPUT', 'trials must be at least 1', { trials });
  const seed = integer('seed', opts.seed);
  const workers = workerCount(opts.workers);
  const readModel = {
    charMisread: probability('assume-char-misread', opts.assumeCharMisread, DEFAULT_READ_MODEL.charMisread),
    toothFlip: probability('assume-tooth-flip', opts.assumeToothFlip, DEFAULT_READ_MODEL.toothFlip),
  };
  const started = Date.now();
  const showProgress = process.stderr.isTTY === true && !opts.json;
  const tally = await runIdentification({
    fire,
    trials,
    seed,
    workers,
    readModel,
    issued,
    progress: showProgress
      ? (t) => process.stderr.write(`\r${t.trials} of ${trials} guns simulated`)
      : undefined,
  });
  if (showProgress) process.stderr.write('\n');
  const seconds = (Date.now() - started) / 1000;
  if (opts.json) {
    writeJson({
      fire,
      readModel,
      maxMiscorrectionRisk: MAX_MISCORRECTION_RISK,
      issued: issued > 0 ? issued : null,
      seed,
      workers,
      rows: rows(tally),
    });
    return;
  }
  process.stdout.write(
    [
      `fire model:    ${describeFireModel(fire)}`,
      `decoder:       assumes ${readModel.charMisread * 100} % of legible characters misread and ${readModel.toothFlip * 100} % of legible teeth flipped; confident at an estimated miscorrection risk of at most ${MAX_MISCORRECTION_RISK}`,
      issued > 0
        ? `issued:        ${issued} codes, at random (each other code issued with probability ${issued} / 2^40); the gun's own code is issued`
        : 'issued:        all 2^40 codes equally likely (no issued set)',
      `trials:        ${tally.trials} guns, 5 cases each, the first n decoded together for row n (seed ${seed}, ${workers} worker${workers === 1 ? '' : 's'}, ${seconds.toFixed(0)} s)`,
      '',
      markdownTable(tally),
      '',
    ].join('\n'),
  );
}
