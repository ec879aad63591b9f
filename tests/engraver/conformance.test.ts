/**
 * One conformance suite for every engraver transport, over real links: Modbus TCP on loopback,
 * Modbus RTU and ASCII over socat pseudo-terminal pairs. Each test drives our driver against the
 * reference engraver simulator and checks what the engraver really did in its journal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAULT } from '../../src/engraver/types.js';
import { isStamplineError, isTransient } from '../../src/errors.js';
import { requireCommands } from '../support/tools.js';
import {
  eventually,
  openRig,
  REQUEST_TIMEOUT_MS,
  type Rig,
  type RigOptions,
  sampleJob,
  TRANSPORTS,
} from './support/rigs.js';

describe.each(TRANSPORTS)('engraver over %s', (transport) => {
  const runnable = transport === 'modbus-tcp' || requireCommands('socat');
  let rig: Rig | undefined;

  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  async function open(options: RigOptions): Promise<Rig> {
    rig = await openRig(transport, options);
    return rig;
  }

  it.runIf(runnable)('runs a job to DONE, and the engraver marks it exactly once', async () => {
    const { engraver, device, journal } = await open({ markingTimeMs: 200 });
    const job = sampleJob({ target: 'breech-face' });
    await engraver.loadJob(job);
    await engraver.startJob(job.jobId);
    const outcome = await engraver.waitForEnd(job.jobId, { timeoutMs: 10_000 });

    expect(outcome).toEqual({ kind: 'done', jobId: job.jobId, completed: 1 });
    const marks = device.marks.filter((m) => m.jobId === job.jobId);
    expect(marks).toHaveLength(1);
    expect(marks[0]).toMatchObject({
      text: job.text,
      gear: job.gear,
      mirror: true,
      breechFace: true,
      recipe: job.recipe,
      outcome: 'done',
    });
    const entries = journal().filter((m) => m.jobId === job.jobId);
    expect(entries.filter((m) => m.outcome === 'marking')).toHaveLength(1);
    expect(entries.at(-1)?.outcome).toBe('done');
    expect(await engraver.readStatus()).toEqual({
      state: 'DONE',
      fault: 0,
      completed: 1,
      activeJob: job.jobId,
    });
  });

  it.runIf(runnable)('reports a fault mid-job with its code, and a reset clears it', async () => {
    const { engraver, device, journal } = await open({ markingTimeMs: 400 });
    device.faultNextJob(FAULT.OVER_TEMPERATURE, 0.5);
    const job = sampleJob();
    await engraver.loadJob(job);
    await engraver.startJob(job.jobId);

    const outcome = await engraver.waitForEnd(job.jobId, { timeoutMs: 10_000 });
    expect(outcome).toEqual({ kind: 'fault', jobId: job.jobId, fault: FAULT.OVER_TEMPERATURE });
    expect(
      journal()
        .filter((m) => m.jobId === job.jobId)
        .at(-1),
    ).toMatchObject({ outcome: 'fault', fault: 5 });

    await engraver.reset();
    expect(await engraver.readStatus()).toMatchObject({ state: 'READY', fault: 0 });
  });

  it.runIf(runnable)('reports an open interlock as fault 1 and marks nothing', async () => {
    const { engraver, device } = await open({ markingTimeMs: 200 });
    device.interlockOpen = true;
    const job = sampleJob();
    await engraver.loadJob(job);
    await engraver.startJob(job.jobId);
    const outcome = await engraver.waitForEnd(job.jobId, { timeoutMs: 10_000 });
    expect(outcome).toEqual({ kind: 'fault', jobId: job.jobId, fault: FAULT.INTERLOCK_OPEN });
    expect(device.marks).toHaveLength(0);
  });

  it.runIf(runnable)('refuses a load while marking, and an abort ends the job in fault 3', async () => {
    const { engraver, device } = await open({ markingTimeMs: 30_000 });
    const first = sampleJob();
    await engraver.loadJob(first);
    await engraver.startJob(first.jobId);

    const second = sampleJob();
    const refused = await engraver.loadJob(second).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isStamplineError(refused, 'ENGRAVER_BUSY')).toBe(true);

    await engraver.abort();
    const outcome = await engraver.waitForEnd(first.jobId, { timeoutMs: 10_000 });
    expect(outcome).toEqual({ kind: 'fault', jobId: first.jobId, fault: FAULT.MARKING_ERROR });
    expect(device.marks.map((m) => m.jobId)).toEqual([first.jobId]);
  });

  it.runIf(runnable)('rejects a second start without a new load, and marks nothing', async () => {
    const { engraver, device } = await open({ markingTimeMs: 0 });
    const job = sampleJob();
    await engraver.loadJob(job);
    await engraver.startJob(job.jobId);
    await engraver.waitForEnd(job.jobId, { timeoutMs: 10_000 });

    const again = await engraver.startJob(job.jobId).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isStamplineError(again, 'ENGRAVER_REJECTED')).toBe(true);
    expect(device.marks).toHaveLength(1);
  });

  it.runIf(runnable)('carries requests made at once one after the other, never overlapped', async () => {
    const { engraver, link } = await open({ markingTimeMs: 0 });
    // Each reply held back a little gives a host that does not wait for it the time to send its
    // next request, which the simulator then counts as a second request in flight.
    link.faults.delayRepliesMs = 25;
    const requestsBefore = link.stats.requests;
    const reads: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) reads.push(engraver.readStatus(), engraver.readInterfaceVersion());
    const [statuses] = await Promise.all([Promise.all(reads), engraver.loadJob(sampleJob())]);

    for (let i = 0; i < statuses.length; i += 2) expect(statuses[i]).toMatchObject({ state: 'READY' });
    expect(link.stats.requests - requestsBefore).toBeGreaterThan(10);
    expect(link.stats.maxInFlight).toBe(1);
  });

  it.runIf(runnable)(
    'reconnects after the link drops mid-marking and reports the true state',
    async () => {
      const { engraver, device, link, events } = await open({ markingTimeMs: 2500 });
      const job = sampleJob();
      await engraver.loadJob(job);
      await engraver.startJob(job.jobId);
      const upsBefore = events.filter((e) => e.kind === 'up').length;

      link.faults.dropLink();
      const outcome = await engraver.waitForEnd(job.jobId, { timeoutMs: 20_000 });

      expect(outcome).toEqual({ kind: 'done', jobId: job.jobId, completed: 1 });
      const downAt = events.findIndex((e) => e.kind === 'down');
      expect(downAt).toBeGreaterThanOrEqual(0);
      const up = events.slice(downAt).find((e) => e.kind === 'up');
      expect(events.filter((e) => e.kind === 'up').length).toBeGreaterThan(upsBefore);
      expect(up?.kind === 'up' && up.status.activeJob).toBe(job.jobId);
      expect(device.marks.filter((m) => m.jobId === job.jobId)).toHaveLength(1);
    },
    60_000,
  );

  it.runIf(runnable)(
    'after a drop and a power cycle, reports READY with no active job',
    async () => {
      const { engraver, device, link, events, journal } = await open({ markingTimeMs: 30_000 });
      const job = sampleJob();
      await engraver.loadJob(job);
      await engraver.startJob(job.jobId);

      link.faults.dropLink();
      device.powerCycle();
      // The line keeps waiting for its job through the outage, as it would in production.
      const ended = engraver.waitForEnd(job.jobId, { timeoutMs: 30_000 }).then(
        (outcome) => outcome,
        (err: unknown) => err,
      );
      await eventually(
        () => events.some((e, i) => e.kind === 'up' && events.slice(0, i).some((d) => d.kind === 'down')),
        30_000,
        'the link to come back',
      );
      const up = events.filter((e) => e.kind === 'up').at(-1);
      expect(up?.kind === 'up' && up.status).toMatchObject({ state: 'READY', activeJob: 0, completed: 0 });

      // The pin was part-marked and the engraver has forgotten the job: never a "done".
      expect(isStamplineError(await ended)).toBe(true);
      expect(isTransient(await ended)).toBe(false);
      expect(
        journal()
          .filter((m) => m.jobId === job.jobId)
          .at(-1)?.outcome,
      ).toBe('power-lost');
    },
    60_000,
  );

  it.runIf(runnable)(
    'fails a request with a corrupted reply as transient, and the next one succeeds',
    async () => {
      const { engraver, link } = await open({ markingTimeMs: 0 });
      link.faults.corruptReplies = 1;
      const failed = await engraver.readStatus().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isStamplineError(failed)).toBe(true);
      expect(isTransient(failed)).toBe(true);
      expect(await engraver.readStatus()).toMatchObject({ state: 'READY', activeJob: 0 });
    },
  );

  it.runIf(runnable)(
    'fails a request whose reply is withheld with a timeout, and the next one succeeds',
    async () => {
      const { engraver, link } = await open({ markingTimeMs: 0 });
      link.faults.withholdReplies = 1;
      const failed = await engraver.readStatus().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isStamplineError(failed, 'ENGRAVER_TIMEOUT')).toBe(true);
      expect(await engraver.readStatus()).toMatchObject({ state: 'READY', activeJob: 0 });
    },
  );

  it.runIf(runnable)(
    'never takes a late reply from before a reconnect as the answer on the new link',
    async () => {
      const { device, link, events } = await open({ markingTimeMs: 0 });
      // Every reply now comes after its request has timed out: the link must go down and stay
      // down, however soon it is reopened and whatever late replies arrive on the new one.
      link.faults.delayRepliesMs = 1.5 * REQUEST_TIMEOUT_MS;
      await eventually(() => events.some((e) => e.kind === 'down'), 30_000, 'the link to go down');
      const downAt = events.findIndex((e) => e.kind === 'down');
      const watchUntil = Date.now() + 6 * REQUEST_TIMEOUT_MS;
      while (Date.now() < watchUntil) {
        expect(events.slice(downAt).filter((e) => e.kind === 'up')).toEqual([]);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      // Replies on time again, and the engraver has moved on from what the late replies said.
      const job = sampleJob();
      expect(device.loadJob({ ...job, breechFace: false }) ?? device.go(job.jobId)).toBeUndefined();
      await eventually(() => device.status().state === 'DONE', 5000, 'the direct job to finish');
      link.faults.delayRepliesMs = 0;
      await eventually(
        () => events.slice(downAt).some((e) => e.kind === 'up'),
        30_000,
        'the link to come back',
      );
      const up = events.slice(downAt).find((e) => e.kind === 'up');
      expect(up?.kind === 'up' && up.status).toEqual({
        state: 'DONE',
        fault: 0,
        completed: 1,
        activeJob: job.jobId,
      });
    },
    90_000,
  );

  it.runIf(runnable)('never takes a late reply as the answer to a later request', async () => {
    const { engraver, device, link } = await open({ markingTimeMs: 0 });
    // The reply to this read carries READY/activeJob 0, and arrives well after its timeout.
    link.faults.delayRepliesMs = 1.5 * REQUEST_TIMEOUT_MS;
    const failed = await engraver.readStatus().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isStamplineError(failed, 'ENGRAVER_TIMEOUT')).toBe(true);
    link.faults.delayRepliesMs = 0;

    // Meanwhile the engraver moves on, so the stale reply and a fresh one differ.
    const job = sampleJob();
    expect(device.loadJob({ ...job, breechFace: false }) ?? device.go(job.jobId)).toBeUndefined();
    await eventually(() => device.status().state === 'DONE', 5000, 'the direct job to finish');

    const until = Date.now() + 3 * REQUEST_TIMEOUT_MS;
    let reads = 0;
    while (Date.now() < until) {
      expect(await engraver.readStatus()).toEqual({
        state: 'DONE',
        fault: 0,
        completed: 1,
        activeJob: job.jobId,
      });
      reads++;
    }
    expect(reads).toBeGreaterThan(0);
  });
});
