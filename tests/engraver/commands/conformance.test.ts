/**
 * The conformance suite of the engraver transports, for command markers: both shipped profiles,
 * over TCP on loopback and over socat pseudo-terminal pairs, against the profile-driven marker
 * simulator. A marker keeps no job id, so what it marked is checked by the text in its blocks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAULT } from '../../../src/engraver/types.js';
import { isStamplineError, isTransient } from '../../../src/errors.js';
import { requireCommands } from '../../support/tools.js';
import { eventually, REQUEST_TIMEOUT_MS, sampleJob } from '../support/rigs.js';
import { LINKS, type MarkerRig, openMarkerRig, PROFILES, withoutCounter } from './rigs.js';

let textSeq = 0;
/** A job whose text names it, so the marker's journal tells jobs apart. */
function job(overrides: Parameters<typeof sampleJob>[0] = {}) {
  return sampleJob({ text: `T${String(++textSeq).padStart(4, '0')}-MX94`, ...overrides });
}

const CASES = PROFILES.flatMap((profile) => LINKS.map((link) => [profile, link] as const));

describe.each(CASES)('%s over %s', (profileName, link) => {
  const runnable = link === 'commands-tcp' || requireCommands('socat');
  let rig: MarkerRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });
  const open = async (markingTimeMs: number, profile: Parameters<typeof openMarkerRig>[0] = profileName) => {
    rig = await openMarkerRig(profile, link, { markingTimeMs });
    return rig;
  };

  it.runIf(runnable)('runs a job to DONE, and the marker marks it exactly once', async () => {
    const { engraver, device, profile } = await open(200);
    const j = job({ target: 'breech-face' });
    await engraver.loadJob(j);
    await engraver.startJob(j.jobId);
    expect(await engraver.waitForEnd(j.jobId, { timeoutMs: 10_000 })).toEqual({
      kind: 'done',
      jobId: j.jobId,
      completed: 1,
    });
    expect(device.marks).toHaveLength(1);
    expect(device.marks[0]).toMatchObject({
      text: j.text,
      gear: j.gear,
      program: profile.programs['breech-face'],
      outcome: 'done',
    });
    expect(await engraver.readStatus()).toEqual({
      state: 'DONE',
      fault: 0,
      completed: 1,
      activeJob: j.jobId,
    });
  });

  it.runIf(runnable)('reports a fault mid-job with its code, and a reset clears it', async () => {
    const { engraver, device } = await open(400);
    device.faultNextJob(FAULT.OVER_TEMPERATURE, 0.5);
    const j = job();
    await engraver.loadJob(j);
    await engraver.startJob(j.jobId);
    expect(await engraver.waitForEnd(j.jobId, { timeoutMs: 10_000 })).toEqual({
      kind: 'fault',
      jobId: j.jobId,
      fault: FAULT.OVER_TEMPERATURE,
    });
    expect(device.marks.at(-1)).toMatchObject({ outcome: 'fault', fault: FAULT.OVER_TEMPERATURE });
    await engraver.reset();
    expect(await engraver.readStatus()).toMatchObject({ state: 'READY', fault: 0 });
  });

  it.runIf(runnable)('reports an open interlock as fault 1 and marks nothing', async () => {
    const { engraver, device } = await open(200);
    device.interlockOpen = true;
    const j = job();
    await engraver.loadJob(j);
    await engraver.startJob(j.jobId);
    expect(await engraver.waitForEnd(j.jobId, { timeoutMs: 10_000 })).toEqual({
      kind: 'fault',
      jobId: j.jobId,
      fault: FAULT.INTERLOCK_OPEN,
    });
    expect(device.marks).toHaveLength(0);
  });

  it.runIf(runnable)('refuses a load while marking, and an abort ends the job in fault 3', async () => {
    const { engraver, device } = await open(30_000);
    const first = job();
    await engraver.loadJob(first);
    await engraver.startJob(first.jobId);
    const refused = await engraver.loadJob(job()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isStamplineError(refused, 'ENGRAVER_BUSY')).toBe(true);
    await engraver.abort();
    expect(await engraver.waitForEnd(first.jobId, { timeoutMs: 10_000 })).toEqual({
      kind: 'fault',
      jobId: first.jobId,
      fault: FAULT.MARKING_ERROR,
    });
    expect(device.marks.map((m) => m.text)).toEqual([first.text]);
  });

  it.runIf(runnable)('rejects a second start without a new load, and marks nothing', async () => {
    const { engraver, device } = await open(0);
    const j = job();
    await engraver.loadJob(j);
    await engraver.startJob(j.jobId);
    await engraver.waitForEnd(j.jobId, { timeoutMs: 10_000 });
    const again = await engraver.startJob(j.jobId).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isStamplineError(again, 'ENGRAVER_REJECTED')).toBe(true);
    expect(device.marks).toHaveLength(1);
  });

  it.runIf(runnable)(
    'a job over at once costs its load, its start and one counter read (none where the marker sends an end message)',
    async () => {
      const { engraver, server, profile, device } = await open(0);
      for (let i = 1; i <= 3; i++) {
        const before = server.stats.requests;
        const j = job();
        await engraver.loadJob(j);
        await engraver.startJob(j.jobId);
        expect(await engraver.waitForEnd(j.jobId, { timeoutMs: 10_000 })).toEqual({
          kind: 'done',
          jobId: j.jobId,
          completed: i,
        });
        const reads = profile.compiled.events ? 0 : 1;
        expect(server.stats.requests - before).toBe(profile.compiled.load.length + 1 + reads);
      }
      expect(device.marks.map((m) => m.outcome)).toEqual(['done', 'done', 'done']);
    },
  );

  it.runIf(runnable)('carries requests made at once one after the other, never overlapped', async () => {
    const { engraver, server } = await open(0);
    server.faults.delayRepliesMs = 25;
    const before = server.stats.requests;
    const reads: Promise<unknown>[] = [];
    for (let i = 0; i < 6; i++) reads.push(engraver.readStatus());
    await Promise.all([...reads, engraver.loadJob(job())]);
    expect(server.stats.requests - before).toBeGreaterThan(6);
    expect(server.stats.maxInFlight).toBe(1);
  });

  it.runIf(runnable)(
    'reconnects after the link drops mid-marking and reports the true state',
    async () => {
      const { engraver, device, server, events } = await open(2500);
      const j = job();
      await engraver.loadJob(j);
      await engraver.startJob(j.jobId);
      server.faults.dropLink();
      expect(await engraver.waitForEnd(j.jobId, { timeoutMs: 20_000 })).toEqual({
        kind: 'done',
        jobId: j.jobId,
        completed: 1,
      });
      expect(events.some((e) => e.kind === 'down')).toBe(true);
      expect(device.marks).toHaveLength(1);
    },
    60_000,
  );

  it.runIf(runnable)(
    'after a drop and a power cycle, names no job and says why, and the job is never done',
    async () => {
      const { engraver, device, server, events } = await open(30_000);
      const j = job();
      await engraver.loadJob(j);
      await engraver.startJob(j.jobId);
      server.faults.dropLink();
      device.powerCycle();
      const ended = engraver.waitForEnd(j.jobId, { timeoutMs: 30_000 }).then(
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
      expect(up?.kind === 'up' && up.status.unprovable).toMatch(/count of completed markings/);
      expect(isStamplineError(await ended, 'ENGRAVER_JOB_LOST')).toBe(true);
      expect(device.marks[0]?.outcome).toBe('power-lost');
    },
    60_000,
  );

  it.runIf(runnable)(
    'fails a request with a corrupted reply as transient, and the next one succeeds',
    async () => {
      const { engraver, server } = await open(0);
      server.faults.corruptReplies = 1;
      const failed = await engraver.readStatus().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isTransient(failed)).toBe(true);
      expect(await engraver.readStatus()).toMatchObject({ state: 'READY', activeJob: 0 });
    },
  );

  it.runIf(runnable)(
    'fails a request whose reply is withheld with a timeout, and the next one succeeds',
    async () => {
      const { engraver, server } = await open(0);
      server.faults.withholdReplies = 1;
      const failed = await engraver.readStatus().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isStamplineError(failed, 'ENGRAVER_TIMEOUT')).toBe(true);
      expect(await engraver.readStatus()).toMatchObject({ state: 'READY', activeJob: 0 });
    },
  );

  it.runIf(runnable)('never takes a late reply as the answer to a later request', async () => {
    const { engraver, device, server } = await open(0);
    server.faults.delayRepliesMs = 1.5 * REQUEST_TIMEOUT_MS;
    const failed = await engraver.readStatus().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isStamplineError(failed, 'ENGRAVER_TIMEOUT')).toBe(true);
    server.faults.delayRepliesMs = 0;
    // The marker moves on (a marking by hand), so stale and fresh answers differ.
    device.program = 'HAND';
    device.start();
    await eventually(() => device.count === 1, 5000, 'the hand marking to finish');
    const until = Date.now() + 3 * REQUEST_TIMEOUT_MS;
    let reads = 0;
    while (Date.now() < until) {
      expect(await engraver.readStatus()).toEqual({ state: 'READY', fault: 0, completed: 1, activeJob: 0 });
      reads++;
    }
    expect(reads).toBeGreaterThan(0);
  });

  describe('crash reconciliation', () => {
    it.runIf(runnable)(
      'with a counter: a job that ended while the line was down is proven done',
      async () => {
        const r = await open(300);
        const j = job();
        const before = await r.engraver.readStatus();
        await r.engraver.loadJob(j);
        await r.engraver.startJob(j.jobId);
        await r.engraver.stop(); // the daemon dies mid-marking
        await eventually(() => r.device.count === 1, 5000, 'the marking to end');
        const { engraver } = await r.reopen();
        engraver.recallJob?.(j.jobId, before.completed);
        expect(await engraver.readStatus()).toEqual({
          state: 'DONE',
          fault: 0,
          completed: 1,
          activeJob: j.jobId,
        });
      },
    );

    it.runIf(runnable)('with a counter: a job still marking after the restart is waited for', async () => {
      const r = await open(5000);
      const j = job();
      const before = await r.engraver.readStatus();
      await r.engraver.loadJob(j);
      await r.engraver.startJob(j.jobId);
      await r.engraver.stop();
      const { engraver } = await r.reopen();
      engraver.recallJob?.(j.jobId, before.completed);
      expect(await engraver.readStatus()).toMatchObject({ state: 'BUSY', activeJob: j.jobId });
      expect(await engraver.waitForEnd(j.jobId, { timeoutMs: 10_000 })).toEqual({
        kind: 'done',
        jobId: j.jobId,
        completed: 1,
      });
    });

    it.runIf(runnable)('with a counter: a job that faulted while the line was down is a fault', async () => {
      const r = await open(300);
      r.device.faultNextJob(FAULT.NO_PART, 0.5);
      const j = job();
      const before = await r.engraver.readStatus();
      await r.engraver.loadJob(j);
      await r.engraver.startJob(j.jobId);
      await r.engraver.stop();
      await eventually(() => r.device.fault !== 0, 5000, 'the marking to fault');
      const { engraver } = await r.reopen();
      engraver.recallJob?.(j.jobId, before.completed);
      expect(await engraver.readStatus()).toMatchObject({
        state: 'FAULT',
        fault: FAULT.NO_PART,
        activeJob: j.jobId,
      });
    });

    it.runIf(runnable)(
      'without a counter: a job that ended while the line was down cannot be proven',
      async () => {
        const r = await open(300, withoutCounter(profileName));
        const j = job();
        await r.engraver.loadJob(j);
        await r.engraver.startJob(j.jobId);
        await r.engraver.stop();
        await eventually(() => r.device.marks[0]?.outcome === 'done', 5000, 'the marking to end');
        const { engraver } = await r.reopen();
        engraver.recallJob?.(j.jobId, undefined);
        const status = await engraver.readStatus();
        expect(status).toMatchObject({ state: 'READY', activeJob: 0 });
        expect(status.unprovable).toMatch(/keeps no count of completed markings/);
      },
    );

    it.runIf(runnable)('without a counter: a job watched to its end on one link is done', async () => {
      const { engraver } = await open(200, withoutCounter(profileName));
      const j = job();
      await engraver.loadJob(j);
      await engraver.startJob(j.jobId);
      expect(await engraver.waitForEnd(j.jobId, { timeoutMs: 10_000 })).toMatchObject({ kind: 'done' });
    });
  });
});

/** What only the TL dialect has: an unasked end-of-marking message (`GO F`, `GO E <code>`). */
describe.each(LINKS)('tl-marker over %s: end-of-marking messages', (link) => {
  const runnable = link === 'commands-tcp' || requireCommands('socat');
  let rig: MarkerRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it.runIf(runnable)(
    'a lost end-of-marking message does not hang the job: the status poll ends it',
    async () => {
      rig = await openMarkerRig('tl-marker', link, { markingTimeMs: 200 });
      const { engraver, server } = rig;
      server.faults.dropEvents = 1;
      const j = job();
      await engraver.loadJob(j);
      await engraver.startJob(j.jobId);
      expect(await engraver.waitForEnd(j.jobId, { timeoutMs: 10_000 })).toEqual({
        kind: 'done',
        jobId: j.jobId,
        completed: 1,
      });
    },
  );

  it.runIf(runnable)(
    'an end message sent with the answer to the start ends the job, and is never taken as an answer',
    async () => {
      rig = await openMarkerRig('tl-marker', link, { markingTimeMs: 0 });
      const { engraver, device, server } = rig;
      const before = server.stats.requests;
      const j = job();
      await engraver.loadJob(j);
      await engraver.startJob(j.jobId);
      // `GO F` follows `GO M` at once: the wait ends on it, without a status poll.
      expect(await engraver.waitForEnd(j.jobId, { timeoutMs: 10_000 })).toEqual({
        kind: 'done',
        jobId: j.jobId,
        completed: 1,
      });
      expect(server.stats.requests - before).toBe(4);
      const next = job();
      await engraver.loadJob(next);
      expect(device.blocks[0]).toBe(next.text);
      expect(await engraver.readStatus()).toEqual({
        state: 'DONE',
        fault: 0,
        completed: 1,
        activeJob: j.jobId,
      });
    },
  );
});
