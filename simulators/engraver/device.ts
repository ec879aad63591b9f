/**
 * The reference engraver (spec engraver-modbus.md, profile sl1-modbus) as a device model, with
 * no transport. The Modbus servers drive it through registers and coils; the ASCII server drives
 * it through `loadJob`/`go`. Both see one state machine, one register image and one journal of
 * marked jobs, so a test can prove that a code was marked exactly once whatever the link.
 */
import { appendFileSync } from 'node:fs';
import {
  ENGRAVER_STATES,
  type EngraverStateName,
  type EngraverStatus,
  FAULT,
  type Recipe,
} from '../../src/engraver/types.js';

/** Holding register addresses of sl1-modbus. */
export const REG = {
  interface: 0,
  state: 1,
  fault: 2,
  completed: 3,
  activeJobHi: 4,
  activeJobLo: 5,
  jobIdHi: 10,
  jobIdLo: 11,
  textLength: 12,
  text: 13,
  gear: 21,
  gearLength: 27,
  flags: 28,
  power: 30,
  frequency: 31,
  speed: 32,
  passes: 33,
} as const;
export const COIL = { start: 0, abort: 1, reset: 2 } as const;
export const REGISTER_COUNT = 34;
const JOB_REGISTERS_FIRST = REG.jobIdHi;
const STATE_CODE: Record<EngraverStateName, number> = { READY: 0, BUSY: 1, DONE: 2, FAULT: 3 };

export interface LoadedJob {
  jobId: number;
  text: string;
  gear: string;
  mirror: boolean;
  breechFace: boolean;
  recipe: Recipe;
}

/** One job the engraver began to mark. A pin is marked (at least partly) as soon as marking starts. */
export interface MarkRecord extends LoadedJob {
  startedAt: string;
  endedAt?: string;
  outcome: 'marking' | 'done' | 'fault' | 'power-lost';
  fault?: number;
}

export type DeviceEvent =
  | { kind: 'done'; jobId: number; completed: number }
  | { kind: 'fault'; jobId: number; fault: number }
  | { kind: 'marking'; record: MarkRecord }
  | { kind: 'power-cycle' };

export type DeviceRefusal = 'BUSY' | 'BADJOB' | 'NOJOB' | 'FAULT';

/**
 * What a job does once it starts, as a test scripts it (`EngraverDevice.script`): it ends DONE or
 * with a fault after `afterMs` (the marking time when not given), or it marks until the test ends
 * it with `finishMarking` or `faultMarking` (or an abort, or a power cut).
 */
export type JobScript =
  | { end: 'done'; afterMs?: number }
  | { end: 'fault'; fault: number; afterMs?: number }
  | { end: 'hold' };

export interface DeviceOptions {
  /** How long marking takes. 0 ends the job on the next turn of the event loop. */
  markingTimeMs?: number;
  /** Appends every mark record (start and end) as JSON lines, for tests across processes. */
  journalFile?: string;
}

export class ModbusDeviceBusy extends Error {
  /** Modbus exception code 6, slave device busy. */
  readonly modbusCode = 6;
}

export class ModbusIllegalAddress extends Error {
  readonly modbusCode = 2;
}

export class EngraverDevice {
  markingTimeMs: number;
  readonly journalFile: string | undefined;
  /** Every job marking began on, in order. */
  readonly marks: MarkRecord[] = [];

  private readonly regs = new Uint16Array(REGISTER_COUNT);
  private state: EngraverStateName = 'READY';
  private fault: number = FAULT.NONE;
  private completed = 0;
  private activeJob = 0;
  /** Set when jobId is written, consumed by a start: the same load is never marked twice. */
  private loaded = false;
  /** The job marking now; a held job (`JobScript` 'hold') has no timer. */
  private marking: { record: MarkRecord; timer: NodeJS.Timeout | NodeJS.Immediate | undefined } | undefined;
  private readonly listeners = new Set<(event: DeviceEvent) => void>();

  // Fault injection
  private nextJobFault: { fault: number; atFraction: number } | undefined;
  private scripted: ((job: LoadedJob) => JobScript | undefined) | undefined;
  interlockOpen = false;
  noPart = false;

  constructor(options: DeviceOptions = {}) {
    this.markingTimeMs = options.markingTimeMs ?? 1500;
    this.journalFile = options.journalFile;
    this.regs[REG.interface] = 1;
  }

  on(listener: (event: DeviceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): EngraverStatus {
    return { state: this.state, fault: this.fault, completed: this.completed, activeJob: this.activeJob };
  }

  // ---- Modbus view -------------------------------------------------------------------------

  readHolding(address: number, count: number): number[] {
    if (address < 0 || count < 1 || address + count > REGISTER_COUNT) {
      throw new ModbusIllegalAddress(`registers ${address}..${address + count - 1} do not exist`);
    }
    this.syncStatusRegisters();
    return Array.from(this.regs.subarray(address, address + count));
  }

  writeHolding(address: number, values: readonly number[]): void {
    if (address < JOB_REGISTERS_FIRST || address + values.length > REGISTER_COUNT) {
      throw new ModbusIllegalAddress(`registers ${address}..${address + values.length - 1} are not writable`);
    }
    if (this.state === 'BUSY') throw new ModbusDeviceBusy('marking: job registers are locked');
    values.forEach((v, i) => {
      this.regs[address + i] = v & 0xffff;
    });
    if (address <= REG.jobIdLo && address + values.length > REG.jobIdHi)
      this.loaded = this.registerJobId() !== 0;
  }

  writeCoil(address: number, on: boolean): void {
    if (!on) return;
    if (address === COIL.start) this.startFromRegisters();
    else if (address === COIL.abort) this.abort();
    else if (address === COIL.reset) this.reset();
    else throw new ModbusIllegalAddress(`coil ${address} does not exist`);
  }

  // ---- ASCII view --------------------------------------------------------------------------

  loadJob(job: LoadedJob): DeviceRefusal | undefined {
    if (this.state === 'BUSY') return 'BUSY';
    if (validateJob(job) !== undefined) return 'BADJOB';
    this.writeJobRegisters(job);
    this.loaded = true;
    return undefined;
  }

  go(jobId: number): DeviceRefusal | undefined {
    if (this.state === 'BUSY') return 'BUSY';
    if (this.state === 'FAULT') return 'FAULT';
    if (!this.loaded || this.registerJobId() !== jobId) return 'NOJOB';
    this.startFromRegisters();
    return undefined;
  }

  abort(): void {
    if (this.state !== 'BUSY' || !this.marking) return;
    this.endMarking('fault', FAULT.MARKING_ERROR);
  }

  reset(): void {
    if (this.state !== 'FAULT') return;
    this.state = 'READY';
    this.fault = FAULT.NONE;
  }

  // ---- Fault injection ---------------------------------------------------------------------

  /** The next job faults with `fault` after `atFraction` of its marking time. */
  faultNextJob(fault: number, atFraction = 0.5): void {
    this.nextJobFault = { fault, atFraction };
  }

  // ---- Control, for tests --------------------------------------------------------------------

  /**
   * Ends the job marking now, DONE, as if its marking time had run out. False when no job is
   * marking.
   */
  finishMarking(): boolean {
    if (!this.marking) return false;
    this.endMarking('done', FAULT.NONE);
    return true;
  }

  /** Ends the job marking now with `fault` (the device goes to FAULT). False when no job is marking. */
  faultMarking(fault: number): boolean {
    if (!this.marking) return false;
    if (!Number.isInteger(fault) || fault <= FAULT.NONE || fault > 0xffff) {
      throw new RangeError(`a fault is a whole number from 1 to 65535, not ${fault}`);
    }
    this.endMarking('fault', fault);
    return true;
  }

  /** Whether a job is marking now. */
  get isMarking(): boolean {
    return this.marking !== undefined;
  }

  /**
   * Scripts what each job started from now on does: `behave` is asked at every start and answers
   * how that job ends, or undefined for the usual marking (a fault set by `faultNextJob` still
   * comes first). Returns a function that ends the script.
   */
  script(behave: (job: LoadedJob) => JobScript | undefined): () => void {
    this.scripted = behave;
    return () => {
      if (this.scripted === behave) this.scripted = undefined;
    };
  }

  /** Power cut and back: READY, activeJob 0, counters cleared, a job in progress is left part-marked. */
  powerCycle(): void {
    if (this.marking) {
      clearMarkingTimer(this.marking.timer);
      const record = this.marking.record;
      record.outcome = 'power-lost';
      record.endedAt = new Date().toISOString();
      this.journal(record);
      this.marking = undefined;
    }
    this.regs.fill(0);
    this.regs[REG.interface] = 1;
    this.state = 'READY';
    this.fault = FAULT.NONE;
    this.completed = 0;
    this.activeJob = 0;
    this.loaded = false;
    this.emit({ kind: 'power-cycle' });
  }

  /** Stops timers so a test or process can exit. */
  close(): void {
    if (this.marking) clearMarkingTimer(this.marking.timer);
    this.marking = undefined;
    this.listeners.clear();
  }

  // ---- Internals ---------------------------------------------------------------------------

  private startFromRegisters(): void {
    if (this.state !== 'READY' && this.state !== 'DONE') return;
    const jobId = this.registerJobId();
    this.activeJob = jobId;
    const wasLoaded = this.loaded;
    this.loaded = false;
    const job = this.jobFromRegisters();
    if (!wasLoaded || job === undefined) {
      this.enterFault(FAULT.JOB_REJECTED);
      return;
    }
    if (this.interlockOpen || this.noPart) {
      this.enterFault(this.interlockOpen ? FAULT.INTERLOCK_OPEN : FAULT.NO_PART);
      return;
    }

    const record: MarkRecord = { ...job, startedAt: new Date().toISOString(), outcome: 'marking' };
    this.marks.push(record);
    this.journal(record);
    this.state = 'BUSY';
    this.fault = FAULT.NONE;
    const injected = this.nextJobFault;
    this.nextJobFault = undefined;
    const scripted: JobScript | undefined = injected
      ? { end: 'fault', fault: injected.fault, afterMs: this.markingTimeMs * injected.atFraction }
      : this.scripted?.(job);
    const end =
      scripted?.end === 'fault'
        ? () => this.endMarking('fault', scripted.fault)
        : () => this.endMarking('done', FAULT.NONE);
    const delay =
      scripted && scripted.end !== 'hold' ? (scripted.afterMs ?? this.markingTimeMs) : this.markingTimeMs;
    this.marking = {
      record,
      timer: scripted?.end === 'hold' ? undefined : delay > 0 ? setTimeout(end, delay) : setImmediate(end),
    };
    this.emit({ kind: 'marking', record });
  }

  private endMarking(outcome: 'done' | 'fault', fault: number): void {
    const current = this.marking;
    if (!current) return;
    clearMarkingTimer(current.timer);
    this.marking = undefined;
    current.record.outcome = outcome;
    current.record.endedAt = new Date().toISOString();
    if (outcome === 'done') {
      this.completed = (this.completed + 1) & 0xffff;
      this.state = 'DONE';
      this.journal(current.record);
      this.emit({ kind: 'done', jobId: current.record.jobId, completed: this.completed });
    } else {
      current.record.fault = fault;
      this.journal(current.record);
      this.enterFault(fault);
    }
  }

  private enterFault(fault: number): void {
    this.state = 'FAULT';
    this.fault = fault;
    this.emit({ kind: 'fault', jobId: this.activeJob, fault });
  }

  private registerJobId(): number {
    return ((this.regs[REG.jobIdHi]! << 16) | this.regs[REG.jobIdLo]!) >>> 0;
  }

  private jobFromRegisters(): LoadedJob | undefined {
    const textLength = this.regs[REG.textLength]!;
    const gearLength = this.regs[REG.gearLength]!;
    if (textLength > 16 || gearLength > 96) return undefined;
    let text = '';
    for (let i = 0; i < textLength; i++) {
      const word = this.regs[REG.text + (i >> 1)]!;
      text += String.fromCharCode(i % 2 === 0 ? word >> 8 : word & 0xff);
    }
    let gear = '';
    for (let i = 0; i < gearLength; i++) {
      const word = this.regs[REG.gear + (i >> 4)]!;
      gear += (word >> (15 - (i & 15))) & 1 ? '1' : '0';
    }
    const flags = this.regs[REG.flags]!;
    const job: LoadedJob = {
      jobId: this.registerJobId(),
      text,
      gear,
      mirror: (flags & 1) !== 0,
      breechFace: (flags & 2) !== 0,
      recipe: {
        power: this.regs[REG.power]!,
        frequency: this.regs[REG.frequency]!,
        speed: this.regs[REG.speed]!,
        passes: this.regs[REG.passes]!,
      },
    };
    return validateJob(job) === undefined ? job : undefined;
  }

  private writeJobRegisters(job: LoadedJob): void {
    this.regs.fill(0, JOB_REGISTERS_FIRST, REGISTER_COUNT);
    this.regs[REG.jobIdHi] = job.jobId >>> 16;
    this.regs[REG.jobIdLo] = job.jobId & 0xffff;
    this.regs[REG.textLength] = job.text.length;
    for (let i = 0; i < job.text.length; i++) {
      const at = REG.text + (i >> 1);
      this.regs[at] = this.regs[at]! | (job.text.charCodeAt(i) << (i % 2 === 0 ? 8 : 0));
    }
    for (let i = 0; i < job.gear.length; i++) {
      if (job.gear[i] === '1') {
        const at = REG.gear + (i >> 4);
        this.regs[at] = this.regs[at]! | (1 << (15 - (i & 15)));
      }
    }
    this.regs[REG.gearLength] = job.gear.length;
    this.regs[REG.flags] = (job.mirror ? 1 : 0) | (job.breechFace ? 2 : 0);
    this.regs[REG.power] = job.recipe.power;
    this.regs[REG.frequency] = job.recipe.frequency;
    this.regs[REG.speed] = job.recipe.speed;
    this.regs[REG.passes] = job.recipe.passes;
  }

  private syncStatusRegisters(): void {
    this.regs[REG.state] = STATE_CODE[this.state];
    this.regs[REG.fault] = this.fault;
    this.regs[REG.completed] = this.completed;
    this.regs[REG.activeJobHi] = this.activeJob >>> 16;
    this.regs[REG.activeJobLo] = this.activeJob & 0xffff;
  }

  private journal(record: MarkRecord): void {
    if (this.journalFile) appendFileSync(this.journalFile, `${JSON.stringify(record)}\n`);
  }

  private emit(event: DeviceEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** Why a job cannot be marked, or undefined when it can. */
export function validateJob(job: LoadedJob): string | undefined {
  if (!Number.isInteger(job.jobId) || job.jobId < 1 || job.jobId > 0xffffffff)
    return 'jobId must be 1..4294967295';
  if (job.text.length > 16) return 'text is longer than 16 characters';
  if (!/^[\x20-\x7e]*$/.test(job.text)) return 'text has characters outside printable ASCII';
  if (job.gear.length > 96 || !/^[01]*$/.test(job.gear)) return 'gear must be 0..96 bits of 0 and 1';
  const r = job.recipe;
  if (!(r.power >= 0 && r.power <= 1000)) return 'power must be 0..1000';
  if (!(r.passes >= 1 && r.passes <= 20)) return 'passes must be 1..20';
  if (!(r.frequency >= 0 && r.frequency <= 0xffff) || !(r.speed >= 0 && r.speed <= 0xffff)) {
    return 'frequency and speed must fit a register';
  }
  return undefined;
}

function clearMarkingTimer(timer: NodeJS.Timeout | NodeJS.Immediate | undefined): void {
  if (timer === undefined) return;
  clearTimeout(timer as NodeJS.Timeout);
  clearImmediate(timer as NodeJS.Immediate);
}

export { ENGRAVER_STATES };
