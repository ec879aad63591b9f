/**
 * The simulated engraver's control surface for tests: end the job marking now, or script what
 * each job does, without reaching into the device.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EngraverDevice, type LoadedJob } from '../../simulators/engraver/device.js';
import { until } from '../line/harness.js';

const devices: EngraverDevice[] = [];
afterEach(() => {
  for (const d of devices.splice(0)) d.close();
});

function device(markingTimeMs: number): EngraverDevice {
  const d = new EngraverDevice({ markingTimeMs });
  devices.push(d);
  return d;
}

function job(jobId: number): LoadedJob {
  return {
    jobId,
    text: `JOB${jobId}`,
    gear: '',
    mirror: false,
    breechFace: false,
    recipe: { power: 100, frequency: 30, speed: 200, passes: 1 },
  };
}

function start(d: EngraverDevice, jobId: number): void {
  expect(d.loadJob(job(jobId))).toBeUndefined();
  expect(d.go(jobId)).toBeUndefined();
}

describe('the simulated engraver under a test', () => {
  it('finishes the job marking now, DONE and counted, and says when nothing marks', async () => {
    const d = device(600_000);
    expect(d.finishMarking()).toBe(false);
    start(d, 7);
    expect(d.isMarking).toBe(true);
    expect(d.status()).toMatchObject({ state: 'BUSY', activeJob: 7, completed: 0 });
    expect(d.finishMarking()).toBe(true);
    expect(d.isMarking).toBe(false);
    expect(d.status()).toEqual({ state: 'DONE', fault: 0, completed: 1, activeJob: 7 });
    expect(d.marks.map((m) => m.outcome)).toEqual(['done']);
    expect(d.finishMarking()).toBe(false);
  });

  it('faults the job marking now, and refuses a fault that is no fault number', () => {
    const d = device(600_000);
    start(d, 8);
    expect(() => d.faultMarking(0)).toThrow('a fault is a whole number from 1 to 65535, not 0');
    expect(d.isMarking).toBe(true);
    expect(d.faultMarking(5)).toBe(true);
    expect(d.status()).toMatchObject({ state: 'FAULT', fault: 5, activeJob: 8, completed: 0 });
    expect(d.marks[0]).toMatchObject({ outcome: 'fault', fault: 5 });
  });

  it('holds a scripted job until the test ends it, whatever the marking time', async () => {
    const d = device(0);
    const seen: number[] = [];
    const stop = d.script((j) => {
      seen.push(j.jobId);
      return j.jobId === 2 ? { end: 'hold' } : undefined;
    });
    start(d, 1);
    await until(() => d.status().state === 'DONE', 'job 1 done on its own');
    start(d, 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(d.status()).toMatchObject({ state: 'BUSY', activeJob: 2 });
    expect(d.finishMarking()).toBe(true);
    expect(d.status()).toMatchObject({ state: 'DONE', activeJob: 2, completed: 2 });
    stop();
    start(d, 3);
    await until(() => d.status().completed === 3, 'job 3 done once the script ended');
    expect(seen).toEqual([1, 2]);
  });

  it('ends a scripted job with the fault and after the time the script gives', async () => {
    const d = device(600_000);
    d.script(() => ({ end: 'fault', fault: 6, afterMs: 5 }));
    start(d, 4);
    await until(() => d.status().state === 'FAULT', 'the scripted fault');
    expect(d.status()).toMatchObject({ fault: 6, activeJob: 4 });
  });

  it('lets a fault set for the next job come before the script', async () => {
    const d = device(10);
    d.script(() => ({ end: 'hold' }));
    d.faultNextJob(7, 0);
    start(d, 5);
    await until(() => d.status().state === 'FAULT', 'the injected fault');
    expect(d.status().fault).toBe(7);
  });
});
