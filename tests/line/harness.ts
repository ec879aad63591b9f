/**
 * Builds a line on a temporary data folder with the simulated device behind a direct engraver,
 * an in-memory record sink and audit sink, so line tests read like the operator's story.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import type { Engraver } from '../../src/engraver/types.js';
import type { CrashPoint } from '../../src/line/crash-points.js';
import type { CrashHook, Line, LineOptions, NewOrder, QaDecision, RecordSink } from '../../src/line/line.js';
import type { LineRepository } from '../../src/line/repository.js';
import { createLineServices } from '../../src/line-services.js';
import type { RegistryRecord } from '../../src/registry/record.js';
import { ServiceStack } from '../../src/service-stack.js';
import type { AuditSink } from '../../src/shared.js';
import type { DocumentStore } from '../../src/store/documents.js';
import { DeviceEngraver } from '../support/device-engraver.js';

export const KEY = '000102030405060708090a0b0c0d0e0f';

export interface Harness<E extends Engraver = DeviceEngraver> {
  dir: string;
  device: EngraverDevice;
  engraver: E;
  line: Line;
  store: DocumentStore;
  repo: LineRepository;
  records: RegistryRecord[];
  audit: Array<{ actor: string; action: string; subject: string }>;
  /**
   * Sets the hook the line calls at each crash point (`CrashPoint`), or clears it. A hook that
   * throws ends the step there, as a crash would.
   */
  onCrashPoint(hook: CrashHook | undefined): void;
  /** Stops this line's services (not the device), like a clean daemon stop. */
  stop(): Promise<void>;
}

export async function makeDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'stampline-line-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface LineStartOptions {
  block?: { start: number; size: number };
  jobTimeoutMs?: number;
  autoStart?: boolean;
  /**
   * Takes each batch of records before `Harness.records` does; when it throws, the line sees the
   * batch refused, as when the outbox cannot be written, and `records` does not get it.
   */
  sink?: RecordSink;
  /** Takes every audit entry before `Harness.audit` does: a real audit trail, for a test that queries it. */
  audit?: AuditSink;
  /** The recipe for a make and model; by default one recipe for every firearm. */
  recipeFor?: LineOptions['recipeFor'];
}

export function startLine(
  dir: string,
  device: EngraverDevice,
  options: LineStartOptions = {},
): Promise<Harness> {
  return startLineWith(new DeviceEngraver(device), dir, device, options);
}

/**
 * A line on an engraver of the test's own, e.g. a driver on a real link to `device`'s simulator.
 * The line starts it (a no-op if it runs already) and stops it with the rest.
 */
export async function startLineWith<E extends Engraver>(
  engraver: E,
  dir: string,
  device: EngraverDevice,
  options: LineStartOptions = {},
): Promise<Harness<E>> {
  const records: RegistryRecord[] = [];
  const audit: Harness['audit'] = [];
  const { sink, audit: trail } = options;
  let crashHook: CrashHook | undefined;
  const services = createLineServices(
    {
      dataDir: dir,
      issuer: { number: 1, key: KEY, indexBlock: options.block ?? { start: 1000, size: 100_000 } },
      records: {
        issuer: 1,
        line: 'line-1',
        certifiedBy: { kind: 'manufacturer', licence: 'FFL-1-23-456-07-8A-90123' },
        engraverId: 'eng-1',
      },
      recipeFor: options.recipeFor ?? (() => ({ power: 500, frequency: 30, speed: 200, passes: 2 })),
      mirror: true,
      jobTimeoutMs: options.jobTimeoutMs ?? 10_000,
      autoStart: options.autoStart ?? false,
    },
    {
      engraver,
      sink: {
        async report(r) {
          await sink?.report(r);
          records.push(...r);
        },
        // The records the test's sink still holds, for the views' registry status.
        ...(sink?.held ? { held: (serial: string) => sink.held!(serial) } : {}),
      },
      audit: {
        async record(e) {
          await trail?.record(e);
          audit.push(e);
        },
        // A QA decision applied again asks the trail which of its entries were already written.
        query: trail?.query?.bind(trail),
      },
      crashHook: (point: CrashPoint, firearm) => crashHook?.(point, firearm),
    },
  );
  // Stopped as a clean daemon stop would: the line, the engraver, the repository, the store. A
  // stop that fails does not keep the others from stopping, and fails the harness's stop after.
  const failures: unknown[] = [];
  const stack = new ServiceStack((_step, err) => failures.push(err));
  await services.start(stack);
  return {
    dir,
    device,
    engraver,
    line: services.line,
    store: services.store,
    repo: services.repo,
    records,
    audit,
    onCrashPoint(hook) {
      crashHook = hook;
    },
    async stop() {
      await stack.stopAll();
      if (failures.length > 0) throw failures.splice(0)[0];
    },
  };
}

/** What `useLines` starts: a line, or a line with more built on it, on a folder and a simulated engraver. */
export interface OnFolder {
  dir: string;
  device: EngraverDevice;
  /** Stops what was started (not the device), like a clean daemon stop. */
  stop(): Promise<void>;
}

export type Starter<T extends OnFolder, O extends object> = (
  dir: string,
  device: EngraverDevice,
  options?: O,
) => Promise<T>;

export interface Lines<T extends OnFolder, O extends object> {
  /**
   * Starts on a fresh folder with a fresh simulated engraver; its marks take `markingTimeMs`
   * (0 unless given: each job ends on the next turn of the event loop).
   */
  start(options?: O & { markingTimeMs?: number }): Promise<T>;
  /** Stops `running` and starts again on its folder and engraver, as a daemon restart does. */
  restart(running: T, options?: O): Promise<T>;
}

/**
 * Registers an afterEach that stops whatever the test started through the answer and is still
 * running, closes the engravers and removes the folders. By default it starts lines
 * (`startLine`); a test that builds more on a line passes its own starter.
 */
export function useLines(): Lines<Harness, LineStartOptions>;
export function useLines<T extends OnFolder, O extends object>(start: Starter<T, O>): Lines<T, O>;
export function useLines(start: Starter<OnFolder, object> = startLine): Lines<OnFolder, object> {
  const running: OnFolder[] = [];
  const devices: EngraverDevice[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    // A test that failed half-way may leave a line that cannot stop cleanly; the folder goes anyway.
    for (const r of running.splice(0)) await r.stop().catch(() => {});
    for (const d of devices.splice(0)) d.close();
    for (const d of dirs.splice(0)) await removeDir(d);
  });
  const kept = async (started: Promise<OnFolder>): Promise<OnFolder> => {
    const r = await started;
    running.push(r);
    return r;
  };
  return {
    async start({ markingTimeMs = 0, ...options } = {}) {
      const dir = await makeDir();
      dirs.push(dir);
      const device = new EngraverDevice({ markingTimeMs });
      devices.push(device);
      return kept(start(dir, device, options));
    },
    async restart(r, options) {
      await r.stop();
      const at = running.indexOf(r);
      if (at >= 0) running.splice(at, 1);
      return kept(start(r.dir, r.device, options));
    },
  };
}

export function order(id: string, count: number, extra: Partial<NewOrder> = {}): NewOrder {
  return {
    id,
    make: 'Acme',
    model: 'P1',
    target: 'firing-pin',
    firearms: Array.from({ length: count }, (_, i) => ({
      serial: `${id.toUpperCase()}-${String(i).padStart(4, '0')}`,
    })),
    ...extra,
  };
}

/** QA's failure of a firearm's casings, as a QA station reports it. */
export const QA_FAIL: QaDecision = {
  result: 'fail',
  policy: 'every-case',
  grade: 'F',
  casings: 3,
  reason: 'case 1 of 3 does not decode',
  at: new Date().toISOString(),
  by: 'alice',
};

/** Resolves once the clock has moved on to the next millisecond, so what comes next is newer. */
export async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() === now) await new Promise((r) => setTimeout(r, 1));
}

/**
 * A line holding finished orders (o1 and o2 done, o3 aborted) and unfinished ones (o4 with
 * `o4Firearms` firearms, o5 with one, both queued), each created in a millisecond of its own.
 */
export async function lineWithHistory(
  lines: Lines<Harness, LineStartOptions>,
  o4Firearms = 1,
): Promise<Harness> {
  const h = await lines.start();
  for (const id of ['o1', 'o2']) {
    await h.line.submitOrder(order(id, 2), 'http', 'erp');
    await h.line.startOrder(id, 'operator');
    await until(async () => (await h.line.orderView(id)).order.state === 'engraved', `${id} done`);
    await nextMillisecond();
  }
  await h.line.submitOrder(order('o3', 1), 'drop-folder', 'erp');
  await h.line.abortOrder('o3', 'operator', 'wrong model');
  await nextMillisecond();
  await h.line.submitOrder(order('o4', o4Firearms), 'ui', 'operator');
  await nextMillisecond();
  await h.line.submitOrder(order('o5', 1), 'http', 'erp');
  return h;
}

/** Resolves when `predicate` holds, polling; fails the test with `what` after timeoutMs. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
