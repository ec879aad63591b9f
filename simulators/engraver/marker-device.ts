/**
 * A laser marker as command markers are (spec engraver-commands.md), with no transport: a
 * selected program, its variable blocks, ready / marking / error, a count of completed markings
 * since power-on, and no job id. The profile-driven server (command-server.ts) drives it; a
 * journal of what it began to mark lets a test prove a pin was marked exactly once.
 */
import { appendFileSync } from 'node:fs';
import { FAULT } from '../../src/engraver/types.js';

/** One marking the marker began. A pin is marked (at least partly) as soon as marking starts. */
export interface MarkerMark {
  seq: number;
  program: string;
  text: string;
  /** The gear block as received, in the profile's tooth and gap characters. */
  gear: string;
  startedAt: string;
  endedAt?: string;
  outcome: 'marking' | 'done' | 'fault' | 'power-lost';
  /** The line's fault code when it ended in error. */
  fault?: number;
}

export type MarkerDeviceEvent = { kind: 'done' } | { kind: 'fault'; fault: number };

export interface MarkerDeviceOptions {
  markingTimeMs?: number;
  journalFile?: string;
}

export class MarkerDevice {
  markingTimeMs: number;
  readonly journalFile: string | undefined;
  readonly marks: MarkerMark[] = [];
  interlockOpen = false;
  noPart = false;

  program: string | undefined;
  readonly blocks: string[] = [];
  /** The line's fault code, 0 none. */
  fault: number = FAULT.NONE;
  count = 0;
  private marking: { mark: MarkerMark; timer: NodeJS.Timeout | NodeJS.Immediate } | undefined;
  private nextJobFault: { fault: number; atFraction: number } | undefined;
  private readonly listeners = new Set<(event: MarkerDeviceEvent) => void>();

  constructor(options: MarkerDeviceOptions = {}) {
    this.markingTimeMs = options.markingTimeMs ?? 1500;
    this.journalFile = options.journalFile;
  }

  get isMarking(): boolean {
    return this.marking !== undefined;
  }

  get ready(): boolean {
    return !this.marking && this.fault === FAULT.NONE;
  }

  on(listener: (event: MarkerDeviceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts marking what the blocks hold; the caller has checked it is ready. */
  start(): void {
    if (this.interlockOpen || this.noPart) {
      this.enterFault(this.interlockOpen ? FAULT.INTERLOCK_OPEN : FAULT.NO_PART);
      return;
    }
    const mark: MarkerMark = {
      seq: this.marks.length + 1,
      program: this.program ?? '',
      text: this.blocks[0] ?? '',
      gear: this.blocks[1] ?? '',
      startedAt: new Date().toISOString(),
      outcome: 'marking',
    };
    this.marks.push(mark);
    this.journal(mark);
    const injected = this.nextJobFault;
    this.nextJobFault = undefined;
    const delay = injected ? this.markingTimeMs * injected.atFraction : this.markingTimeMs;
    const end = () => this.endMarking(injected ? injected.fault : FAULT.NONE);
    // Zero marking time ends the marking right after the start is answered, as EngraverDevice does:
    // a 0 ms timer would last a millisecond or more, and a poll loop would measure that timer.
    this.marking = { mark, timer: delay > 0 ? setTimeout(end, delay) : setImmediate(end) };
  }

  abort(): void {
    if (this.marking) this.endMarking(FAULT.MARKING_ERROR);
  }

  clearError(): void {
    if (!this.marking) this.fault = FAULT.NONE;
  }

  faultNextJob(fault: number, atFraction = 0.5): void {
    this.nextJobFault = { fault, atFraction };
  }

  /** Power cut and back: ready, count 0, program and blocks forgotten, a marking left part-done. */
  powerCycle(): void {
    if (this.marking) {
      clearMarkingTimer(this.marking.timer);
      this.marking.mark.outcome = 'power-lost';
      this.marking.mark.endedAt = new Date().toISOString();
      this.journal(this.marking.mark);
      this.marking = undefined;
    }
    this.program = undefined;
    this.blocks.length = 0;
    this.fault = FAULT.NONE;
    this.count = 0;
  }

  close(): void {
    if (this.marking) clearMarkingTimer(this.marking.timer);
    this.marking = undefined;
    this.listeners.clear();
  }

  private endMarking(fault: number): void {
    const current = this.marking;
    if (!current) return;
    clearMarkingTimer(current.timer);
    this.marking = undefined;
    current.mark.endedAt = new Date().toISOString();
    if (fault === FAULT.NONE) {
      current.mark.outcome = 'done';
      this.count++;
      this.journal(current.mark);
      this.emit({ kind: 'done' });
    } else {
      current.mark.outcome = 'fault';
      current.mark.fault = fault;
      this.journal(current.mark);
      this.enterFault(fault);
    }
  }

  private enterFault(fault: number): void {
    this.fault = fault;
    this.emit({ kind: 'fault', fault });
  }

  private journal(mark: MarkerMark): void {
    if (this.journalFile) appendFileSync(this.journalFile, `${JSON.stringify(mark)}\n`);
  }

  private emit(event: MarkerDeviceEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

function clearMarkingTimer(timer: NodeJS.Timeout | NodeJS.Immediate): void {
  clearTimeout(timer as NodeJS.Timeout);
  clearImmediate(timer as NodeJS.Immediate);
}
