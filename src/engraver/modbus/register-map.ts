/**
 * Pure translation between the line's jobs and status and a profile's registers: which registers
 * to write for a job, which to read for the status, and what the values mean. No I/O here, so
 * every profile option is testable without a link.
 */
import { StamplineError } from '../../errors.js';
import { faultFromCode, type ModbusProfile, stateFromCode } from '../profile.js';
import type { EngraveJob, EngraverStatus } from '../types.js';

/** One FC16 request. */
export interface RegisterWrite {
  address: number;
  values: number[];
}

/** One FC3 request. */
export interface RegisterRead {
  address: number;
  count: number;
}

/** Modbus allows 123 registers in one FC16 and 125 in one FC3. */
const MAX_WRITE = 123;
const MAX_READ = 125;
/** Reading a few unused registers costs less than a second request. */
const READ_GAP_BRIDGE = 16;

/** Why the job cannot be sent under this profile, or undefined. */
export function jobProblem(profile: ModbusProfile, job: EngraveJob): string | undefined {
  if (!Number.isInteger(job.jobId) || job.jobId < 1 || job.jobId > 0xffffffff) {
    return `jobId ${job.jobId} is not an integer 1..4294967295`;
  }
  if (typeof job.text !== 'string' || !/^[\x20-\x7e]*$/.test(job.text)) {
    return 'text has characters outside printable ASCII';
  }
  if (job.text.length > profile.text.maxLength) {
    return `text is ${job.text.length} characters, the engraver takes at most ${profile.text.maxLength}`;
  }
  if (typeof job.gear !== 'string' || !/^[01]*$/.test(job.gear)) return 'gear must be a string of 0 and 1';
  if (job.gear.length > profile.gear.maxBits) {
    return `gear is ${job.gear.length} bits, the engraver takes at most ${profile.gear.maxBits}`;
  }
  if (profile.registers.gearLength === null && profile.gear.maxBits > 0 && job.gear.length % 16 !== 0) {
    // Without a length register the engraver cannot tell trailing 0 bits from padding.
    return 'this profile has no gearLength register, so gear must be a multiple of 16 bits';
  }
  if (job.target !== 'firing-pin' && job.target !== 'breech-face') return `target "${job.target}" is unknown`;
  for (const name of ['power', 'frequency', 'speed', 'passes'] as const) {
    const value = job.recipe?.[name];
    const [min, max] = profile.recipe[name];
    if (!Number.isInteger(value) || value < min || value > max) {
      return `recipe.${name} is ${value}, expected an integer ${min}..${max}`;
    }
  }
  return undefined;
}

export function assertJob(profile: ModbusProfile, job: EngraveJob): void {
  const problem = jobProblem(profile, job);
  if (problem !== undefined) {
    throw new StamplineError('ENGRAVER_BAD_JOB', `job ${job.jobId}: ${problem}`, {
      jobId: job.jobId,
      problem,
    });
  }
}

function uint32Words(profile: ModbusProfile, value: number): [number, number] {
  const hi = (value >>> 16) & 0xffff;
  const lo = value & 0xffff;
  return profile.uint32WordOrder === 'high-first' ? [hi, lo] : [lo, hi];
}

function uint32FromWords(profile: ModbusProfile, first: number, second: number): number {
  const [hi, lo] = profile.uint32WordOrder === 'high-first' ? [first, second] : [second, first];
  return ((hi << 16) | lo) >>> 0;
}

/** The register image of a job: address → value, every job register included (padding as 0). */
export function jobRegisters(profile: ModbusProfile, job: EngraveJob): Map<number, number> {
  const r = profile.registers;
  const image = new Map<number, number>();
  const [id0, id1] = uint32Words(profile, job.jobId);
  image.set(r.jobId, id0);
  image.set(r.jobId + 1, id1);
  if (r.textLength !== null) image.set(r.textLength, job.text.length);
  const textRegisters = Math.ceil(profile.text.maxLength / 2);
  for (let i = 0; i < textRegisters; i++) {
    const first = job.text.charCodeAt(2 * i) || 0;
    const second = job.text.charCodeAt(2 * i + 1) || 0;
    image.set(
      r.text + i,
      profile.text.byteOrder === 'high-first' ? (first << 8) | second : (second << 8) | first,
    );
  }
  const gearRegisters = Math.ceil(profile.gear.maxBits / 16);
  for (let i = 0; i < gearRegisters; i++) {
    let word = 0;
    for (let b = 0; b < 16; b++) {
      if (job.gear[16 * i + b] === '1')
        word |= profile.gear.bitOrder === 'msb-first' ? 1 << (15 - b) : 1 << b;
    }
    image.set(r.gear + i, word);
  }
  if (r.gearLength !== null) image.set(r.gearLength, job.gear.length);
  image.set(
    r.flags,
    (job.mirror ? 1 << profile.flags.mirror : 0) |
      (job.target === 'breech-face' ? 1 << profile.flags.breechFace : 0),
  );
  image.set(r.power, job.recipe.power);
  image.set(r.frequency, job.recipe.frequency);
  image.set(r.speed, job.recipe.speed);
  image.set(r.passes, job.recipe.passes);
  return image;
}

interface JobLayout {
  /** The FC16 requests' address ranges, in the order they are sent. */
  runs: { address: number; length: number }[];
}

const layouts = new WeakMap<ModbusProfile, JobLayout>();

/** Where a profile's job registers go is the same for every job: work it out once. */
function jobLayout(profile: ModbusProfile): JobLayout {
  let layout = layouts.get(profile);
  if (layout) return layout;
  const sample: EngraveJob = {
    jobId: 1,
    text: '',
    gear: '',
    mirror: false,
    target: 'firing-pin',
    recipe: { power: 0, frequency: 0, speed: 0, passes: 1 },
  };
  const addresses = [...jobRegisters(profile, sample).keys()].sort((a, b) => a - b);
  const runs: JobLayout['runs'] = [];
  for (const address of addresses) {
    const current = runs.at(-1);
    const gap = current ? address - (current.address + current.length) : Number.POSITIVE_INFINITY;
    const bridge =
      profile.jobWrite === 'one-block' ? (current?.length ?? 0) + gap + 1 <= MAX_WRITE : gap === 0;
    if (current && bridge) current.length += gap + 1;
    else runs.push({ address, length: 1 });
  }
  // The run holding the job id goes last, so an engraver that latches a job when its id is
  // written sees the rest of the job already in place.
  const id = profile.registers.jobId;
  const holdsId = (r: { address: number; length: number }) => r.address <= id && id < r.address + r.length;
  layout = { runs: [...runs.filter((r) => !holdsId(r)), ...runs.filter(holdsId)] };
  layouts.set(profile, layout);
  return layout;
}

/** The FC16 requests that load a job (registers between job fields, in one-block mode, as 0). */
export function jobWrites(profile: ModbusProfile, job: EngraveJob): RegisterWrite[] {
  const image = jobRegisters(profile, job);
  return jobLayout(profile).runs.map(({ address, length }) => {
    const values = new Array<number>(length);
    for (let i = 0; i < length; i++) values[i] = image.get(address + i) ?? 0;
    return { address, values };
  });
}

/** The registers a status read needs, grouped into as few FC3 requests as is sensible. */
export function statusReads(profile: ModbusProfile, withInterface: boolean): RegisterRead[] {
  const r = profile.registers;
  const wanted = [r.state, r.fault, r.activeJob, r.activeJob + 1];
  if (r.completed !== null) wanted.push(r.completed);
  if (withInterface && r.interface !== null) wanted.push(r.interface);
  return groupReads(wanted);
}

export function groupReads(addresses: number[]): RegisterRead[] {
  const sorted = [...new Set(addresses)].sort((a, b) => a - b);
  const reads: RegisterRead[] = [];
  for (const address of sorted) {
    const last = reads.at(-1);
    if (
      last &&
      address - (last.address + last.count) <= READ_GAP_BRIDGE &&
      address - last.address < MAX_READ
    ) {
      last.count = address - last.address + 1;
    } else {
      reads.push({ address, count: 1 });
    }
  }
  return reads;
}

/** Reads' results merged into one image. */
export function mergeReads(reads: RegisterRead[], results: number[][]): Map<number, number> {
  const image = new Map<number, number>();
  reads.forEach((read, i) => {
    const values = results[i]!;
    for (let k = 0; k < read.count; k++) image.set(read.address + k, values[k]!);
  });
  return image;
}

export interface DecodedStatus {
  status: EngraverStatus;
  interfaceVersion?: number;
}

export function decodeStatus(profile: ModbusProfile, image: Map<number, number>): DecodedStatus {
  const r = profile.registers;
  const get = (address: number): number => {
    const value = image.get(address);
    if (value === undefined) throw new Error(`register ${address} was not read`);
    return value;
  };
  const stateCode = get(r.state);
  const state = stateFromCode(profile, stateCode);
  if (state === undefined) {
    throw new StamplineError(
      'ENGRAVER_PROTOCOL',
      `engraver reports state code ${stateCode}, which profile ${profile.name} does not list`,
      { stateCode, profile: profile.source },
    );
  }
  const status: EngraverStatus = {
    state,
    fault: faultFromCode(profile, get(r.fault)),
    completed: r.completed === null ? 0 : get(r.completed),
    activeJob: uint32FromWords(profile, get(r.activeJob), get(r.activeJob + 1)),
  };
  const decoded: DecodedStatus = { status };
  if (r.interface !== null && image.has(r.interface)) decoded.interfaceVersion = image.get(r.interface)!;
  return decoded;
}

/** The requests of one command: its write, and the release write when the profile asks for one. */
export type CommandWrite =
  | { kind: 'coil'; address: number; on: boolean }
  | { kind: 'register'; address: number; value: number };

export function commandWrites(profile: ModbusProfile, name: 'start' | 'abort' | 'reset'): CommandWrite[] {
  const c = profile.commands[name];
  if ('coil' in c) {
    const writes: CommandWrite[] = [{ kind: 'coil', address: c.coil, on: true }];
    if (c.release) writes.push({ kind: 'coil', address: c.coil, on: false });
    return writes;
  }
  const writes: CommandWrite[] = [{ kind: 'register', address: c.register, value: c.value }];
  if (c.releaseValue !== undefined)
    writes.push({ kind: 'register', address: c.register, value: c.releaseValue });
  return writes;
}
