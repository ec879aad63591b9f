/**
 * The Modbus driver's own decisions (start confirmation, job outcome, link supervision) and a
 * non-default profile end to end: an engraver with another register map, reached by a profile.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { ModbusTcpServer } from '../../simulators/engraver/modbus-tcp-server.js';
import { createEngraver } from '../../src/engraver/index.js';
import { startRefusal } from '../../src/engraver/modbus/driver.js';
import { jobOutcome } from '../../src/engraver/outcome.js';
import type { EngraveJob, EngraverStatus, LinkEvent } from '../../src/engraver/types.js';
import { isStamplineError } from '../../src/errors.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const task of cleanups.splice(0).reverse()) await task();
});

const status = (s: Partial<EngraverStatus>): EngraverStatus => ({
  state: 'READY',
  fault: 0,
  completed: 0,
  activeJob: 0,
  ...s,
});

function job(jobId: number): EngraveJob {
  return {
    jobId,
    text: 'QX7-31',
    gear: '110010111',
    mirror: false,
    target: 'firing-pin',
    recipe: { power: 800, frequency: 30, speed: 200, passes: 1 },
  };
}

describe('judging a start from the status read after it', () => {
  it('accepts a start that made the job active, marking or already ended', () => {
    expect(startRefusal(7, undefined, status({ state: 'BUSY', activeJob: 7 }))).toBeUndefined();
    expect(startRefusal(7, undefined, status({ state: 'DONE', activeJob: 7, completed: 3 }))).toBeUndefined();
    expect(
      startRefusal(7, status({ state: 'READY' }), status({ state: 'FAULT', fault: 2, activeJob: 7 })),
    ).toBeUndefined();
  });

  it('calls fault 4 right after the start a rejected job', () => {
    const err = startRefusal(7, undefined, status({ state: 'FAULT', fault: 4, activeJob: 7 }));
    expect(err?.code).toBe('ENGRAVER_REJECTED');
  });

  it('tells an ignored start from one that took', () => {
    expect(startRefusal(7, undefined, status({ state: 'BUSY', activeJob: 6 }))?.code).toBe(
      'ENGRAVER_REJECTED',
    );
    expect(startRefusal(7, undefined, status({ state: 'FAULT', fault: 3, activeJob: 6 }))?.code).toBe(
      'ENGRAVER_FAULT',
    );
    expect(startRefusal(7, undefined, status({ state: 'DONE', activeJob: 6 }))?.code).toBe(
      'ENGRAVER_REJECTED',
    );
    // Same job id faulted before and nothing was reset: the fault on show is the old one.
    const old = status({ state: 'FAULT', fault: 3, activeJob: 7 });
    expect(startRefusal(7, old, { ...old })?.code).toBe('ENGRAVER_FAULT');
  });
});

describe('judging how a job ended from one status read', () => {
  it('reads DONE and FAULT of the job, and nothing while it marks', () => {
    expect(jobOutcome(7, status({ state: 'BUSY', activeJob: 7 }))).toBeUndefined();
    expect(jobOutcome(7, status({ state: 'DONE', activeJob: 7, completed: 9 }))).toEqual({
      kind: 'done',
      jobId: 7,
      completed: 9,
    });
    expect(jobOutcome(7, status({ state: 'FAULT', activeJob: 7, fault: 5 }))).toEqual({
      kind: 'fault',
      jobId: 7,
      fault: 5,
    });
  });

  it('reports a job the engraver no longer holds as lost, never as done', () => {
    for (const s of [
      status({ activeJob: 0 }),
      status({ state: 'BUSY', activeJob: 8 }),
      status({ activeJob: 7 }),
    ]) {
      let caught: unknown;
      try {
        jobOutcome(7, s);
      } catch (err) {
        caught = err;
      }
      expect(isStamplineError(caught, 'ENGRAVER_JOB_LOST')).toBe(true);
    }
  });
});

async function simulator(markingTimeMs = 100): Promise<{ device: EngraverDevice; server: ModbusTcpServer }> {
  const device = new EngraverDevice({ markingTimeMs });
  const server = new ModbusTcpServer({ device, port: 0 });
  await server.start();
  cleanups.push(
    () => device.close(),
    () => server.stop(),
  );
  return { device, server };
}

describe('the Modbus TCP driver', () => {
  it('reads the status and interface version on connect, before anything else, and reports them with up', async () => {
    const { server } = await simulator();
    const engraver = createEngraver(`modbus-tcp://127.0.0.1:${server.port}`, { requestTimeoutMs: 1000 });
    cleanups.push(() => engraver.stop());
    const events: LinkEvent[] = [];
    engraver.onLink((e) => events.push(e));
    await engraver.start();
    expect(engraver.connected).toBe(true);
    expect(events).toEqual([
      { kind: 'up', status: { state: 'READY', fault: 0, completed: 0, activeJob: 0 }, interfaceVersion: 1 },
    ]);
    expect(server.stats.requests).toBe(1);
  });

  it('sends nothing for a job it knows the engraver cannot take', async () => {
    const { server } = await simulator();
    const engraver = createEngraver(`modbus-tcp://127.0.0.1:${server.port}`);
    cleanups.push(() => engraver.stop());
    await engraver.start();
    const before = server.stats.requests;
    const refused = await engraver
      .loadJob({ ...job(1), text: 'far too long for the engraver' })
      .catch((e: unknown) => e);
    expect(isStamplineError(refused, 'ENGRAVER_BAD_JOB')).toBe(true);
    expect(server.stats.requests).toBe(before);
  });

  it('starts without an engraver, fails requests at once while down, and connects when it appears', async () => {
    const port = await freePort();
    const engraver = createEngraver(`modbus-tcp://127.0.0.1:${port}`, {
      requestTimeoutMs: 500,
      reconnect: { initialMs: 50, maxMs: 200 },
    });
    cleanups.push(() => engraver.stop());
    await engraver.start();
    expect(engraver.connected).toBe(false);
    const down = await engraver.readStatus().catch((e: unknown) => e);
    expect(isStamplineError(down, 'ENGRAVER_LINK_DOWN')).toBe(true);
    expect(
      isStamplineError(await engraver.whenConnected(100).catch((e: unknown) => e), 'ENGRAVER_LINK_DOWN'),
    ).toBe(true);

    const device = new EngraverDevice();
    const server = new ModbusTcpServer({ device, port });
    await server.start();
    cleanups.push(
      () => device.close(),
      () => server.stop(),
    );
    await engraver.whenConnected(10_000);
    expect(await engraver.readStatus()).toMatchObject({ state: 'READY' });
  });

  it('stops safely twice and fails requests after stop', async () => {
    const { server } = await simulator();
    const engraver = createEngraver(`modbus-tcp://127.0.0.1:${server.port}`);
    await engraver.start();
    await engraver.stop();
    await engraver.stop();
    expect(engraver.connected).toBe(false);
    expect(isStamplineError(await engraver.readStatus().catch((e: unknown) => e), 'ENGRAVER_LINK_DOWN')).toBe(
      true,
    );
  });

  it('keeps waiting for a job through a lost link, until its own deadline', async () => {
    const { device, server } = await simulator(60_000);
    const engraver = createEngraver(`modbus-tcp://127.0.0.1:${server.port}`, {
      requestTimeoutMs: 300,
      reconnect: { initialMs: 50, maxMs: 100 },
    });
    cleanups.push(() => engraver.stop());
    await engraver.start();
    await engraver.loadJob(job(11));
    await engraver.startJob(11);
    await server.stop();
    const late = await engraver.waitForEnd(11, { timeoutMs: 1200 }).catch((e: unknown) => e);
    expect(isStamplineError(late, 'ENGRAVER_TIMEOUT')).toBe(true);
    expect(device.status().state).toBe('BUSY');
  });

  it('stops waiting when the caller aborts', async () => {
    const { server } = await simulator(60_000);
    const engraver = createEngraver(`modbus-tcp://127.0.0.1:${server.port}`);
    cleanups.push(() => engraver.stop());
    await engraver.start();
    await engraver.loadJob(job(12));
    await engraver.startJob(12);
    const controller = new AbortController();
    const waiting = engraver
      .waitForEnd(12, { timeoutMs: 60_000, signal: controller.signal })
      .catch((e: unknown) => e);
    controller.abort(new Error('operator stopped the batch'));
    expect(((await waiting) as Error).message).toBe('operator stopped the batch');
  });
});

describe('a non-default profile', () => {
  it('drives an engraver with another register map, with no code change', async () => {
    const device = new RemappedEngraver({ markingTimeMs: 100 });
    const server = new ModbusTcpServer({ device, port: 0 });
    await server.start();
    cleanups.push(
      () => device.close(),
      () => server.stop(),
    );
    const dir = mkdtempSync(join(tmpdir(), 'stampline-acme-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const profile = join(dir, 'acme-lx.yaml');
    writeFileSync(profile, ACME_PROFILE);

    const engraver = createEngraver(
      `modbus-tcp://127.0.0.1:${server.port}?profile=${encodeURIComponent(profile)}`,
    );
    cleanups.push(() => engraver.stop());
    await engraver.start();
    expect(await engraver.readInterfaceVersion()).toBeUndefined();
    await engraver.loadJob(job(0x00070009));
    await engraver.startJob(0x00070009);
    expect(await engraver.waitForEnd(0x00070009, { timeoutMs: 10_000 })).toEqual({
      kind: 'done',
      jobId: 0x00070009,
      completed: 1,
    });
    expect(device.marks).toMatchObject([{ jobId: 0x00070009, text: 'QX7-31', gear: '110010111' }]);

    device.faultNextJob(3, 0.1);
    await engraver.loadJob(job(21));
    await engraver.startJob(21);
    expect(await engraver.waitForEnd(21, { timeoutMs: 10_000 })).toEqual({
      kind: 'fault',
      jobId: 21,
      fault: 3,
    });
    await engraver.reset();
    expect(await engraver.readStatus()).toMatchObject({ state: 'READY', activeJob: 21 });
  });
});

/** Everything at +100, uint32 low word first, commands in register 140, its own fault numbers. */
const ACME_PROFILE = `
name: acme-lx
registers:
  interface: null
  state: 101
  fault: 102
  completed: 103
  activeJob: 104
  jobId: 110
  textLength: 112
  text: 113
  gear: 121
  gearLength: 127
  flags: 128
  power: 130
  frequency: 131
  speed: 132
  passes: 133
uint32WordOrder: low-first
commands:
  start: { register: 140, value: 1 }
  abort: { register: 140, value: 2 }
  reset: { register: 140, value: 3 }
stateCodes: { READY: 10, BUSY: 11, DONE: 12, FAULT: 13 }
faultCodes: { "33": 3 }
jobWrite: per-field
`;

/** The reference engraver behind another register map, standing in for another maker's engraver. */
class RemappedEngraver extends EngraverDevice {
  override readHolding(address: number, count: number): number[] {
    const image = super.readHolding(0, 34);
    return Array.from({ length: count }, (_, i) => {
      const at = address + i - 100;
      if (at === 1) return image[1]! + 10;
      if (at === 2) return image[2] === 3 ? 33 : image[2]!;
      if (at === 4 || at === 5) return image[at === 4 ? 5 : 4]!;
      if (at >= 1 && at <= 5) return image[at]!;
      return 0;
    });
  }

  override writeHolding(address: number, values: readonly number[]): void {
    if (address === 140) {
      super.writeCoil(values[0]! - 1, true);
      return;
    }
    const mapped = [...values];
    const idAt = 110 - address;
    if (idAt >= 0 && idAt + 1 < mapped.length)
      [mapped[idAt], mapped[idAt + 1]] = [mapped[idAt + 1]!, mapped[idAt]!];
    super.writeHolding(address - 100, mapped);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
