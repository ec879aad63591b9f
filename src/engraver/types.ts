/**
 * What the line sees of a laser engraver, whatever the link. Each transport (Modbus TCP, Modbus
 * RTU, ASCII serial) implements `Engraver`; the line never branches on the transport.
 *
 * Failures are `StamplineError`s: ENGRAVER_TIMEOUT, ENGRAVER_LINK_DOWN and ENGRAVER_PROTOCOL are
 * transient (the link is suspect: reconnect, re-read the state, reconcile); ENGRAVER_BUSY means
 * the engraver refused a load because it is marking; ENGRAVER_REJECTED and ENGRAVER_FAULT are
 * permanent for the job concerned.
 */

export type EngraverStateName = 'READY' | 'BUSY' | 'DONE' | 'FAULT';

/** Register values of `state`, in order (spec: 0 READY, 1 BUSY, 2 DONE, 3 FAULT). */
export const ENGRAVER_STATES: readonly EngraverStateName[] = ['READY', 'BUSY', 'DONE', 'FAULT'];

/** Fault codes of the reference engraver (spec engraver-modbus.md, register `fault`). */
export const FAULT_NAMES: Readonly<Record<number, string>> = {
  0: 'none',
  1: 'interlock open',
  2: 'no part present',
  3: 'marking error',
  4: 'job rejected',
  5: 'over-temperature',
  6: 'other marker error',
};

export const FAULT = {
  NONE: 0,
  INTERLOCK_OPEN: 1,
  NO_PART: 2,
  MARKING_ERROR: 3,
  JOB_REJECTED: 4,
  OVER_TEMPERATURE: 5,
} as const;

export function faultName(code: number): string {
  return FAULT_NAMES[code] ?? `unknown fault ${code}`;
}

/** A snapshot of the engraver's registers that the line reconciles against. */
export interface EngraverStatus {
  state: EngraverStateName;
  /** 0 when no fault. */
  fault: number;
  /** Jobs completed since power-on, wraps at 65536. */
  completed: number;
  /** Id of the job last started; 0 after a power cycle. */
  activeJob: number;
  /**
   * Set only by markers that keep no job id (command profiles) when what they show cannot prove
   * how the job last started ended: why. `activeJob` is then 0; the line voids that job's code
   * and sets its pin aside, giving this as the reason.
   */
  unprovable?: string;
}

export interface Recipe {
  /** Laser power in 0.1 % (0..1000). */
  power: number;
  /** Pulse frequency, kHz. */
  frequency: number;
  /** Mark speed, mm/s. */
  speed: number;
  /** Passes, 1..20. */
  passes: number;
}

export type MarkTarget = 'firing-pin' | 'breech-face';

export interface EngraveJob {
  /** 1..4294967295; never 0. */
  jobId: number;
  /** Characters to mark, 0..16 printable ASCII. */
  text: string;
  /** Gear bits as a string of '0' and '1', 0..96 long. */
  gear: string;
  mirror: boolean;
  target: MarkTarget;
  recipe: Recipe;
}

/** How a started job ended. */
export type JobOutcome =
  | { kind: 'done'; jobId: number; completed: number }
  | { kind: 'fault'; jobId: number; fault: number };

export type LinkEvent =
  | { kind: 'up'; status: EngraverStatus; interfaceVersion?: number }
  | { kind: 'down'; reason: string };

export interface WaitOptions {
  /** Give up after this long with ENGRAVER_TIMEOUT (the job may still be marking). */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Engraver {
  /** The engraver's URL as configured, e.g. `modbus-tcp://10.0.0.5:502?unit=1`. */
  readonly url: string;
  /**
   * Starts connecting and keeps the link up (reconnect with backoff and jitter). Resolves once
   * the first attempt has finished, whether or not it succeeded: an unreachable engraver is not
   * a reason for the line to stop.
   */
  start(): Promise<void>;
  /** Closes the link; safe to call twice. Pending requests fail with ENGRAVER_LINK_DOWN. */
  stop(): Promise<void>;
  readonly connected: boolean;
  /**
   * Subscribes to link changes. After every (re)connect, and before anything else is sent, the
   * driver reads the engraver's status and delivers it with the `up` event so the line can
   * reconcile. Returns an unsubscribe function.
   */
  onLink(listener: (event: LinkEvent) => void): () => void;
  /** Resolves when the link is up, or rejects with ENGRAVER_LINK_DOWN after timeoutMs. */
  whenConnected(timeoutMs: number): Promise<void>;
  readStatus(): Promise<EngraverStatus>;
  /** Interface version register (Modbus) or equivalent; undefined when the protocol has none. */
  readInterfaceVersion(): Promise<number | undefined>;
  /** Loads a job; ENGRAVER_BUSY if marking, ENGRAVER_REJECTED if the engraver refuses it. */
  loadJob(job: EngraveJob): Promise<void>;
  /**
   * Starts marking the loaded job with that id. A start the engraver ignores or refuses is
   * ENGRAVER_REJECTED; the transport confirms the start took (activeJob = jobId, or the ACK).
   */
  startJob(jobId: number): Promise<void>;
  /** Waits until the job ends: DONE or FAULT. Transports poll or listen to events as they can. */
  waitForEnd(jobId: number, options: WaitOptions): Promise<JobOutcome>;
  abort(): Promise<void>;
  reset(): Promise<void>;
  /**
   * Markers that keep no job id (command profiles) only: after a restart, the line names the job
   * it had started and the `completed` count it noted before the start, so that the next status
   * read can say what became of that job. Transports whose engraver holds the job id lack it.
   */
  recallJob?(jobId: number, completedBefore: number | undefined): void;
}
