import { afterEach, describe, expect, it } from 'vitest';
import { runControlCommand } from '../../simulators/engraver/control.js';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { createLinkFaults } from '../../simulators/engraver/link-faults.js';
import { createLinkStats } from '../../simulators/engraver/link-stats.js';
import { MarkingTriggers } from '../../simulators/engraver/marking-triggers.js';
import { eventually } from './support/rigs.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function setup(markingTimeMs = 60_000) {
  const device = new EngraverDevice({ markingTimeMs });
  let drops = 0;
  const faults = createLinkFaults(() => drops++);
  const struck: string[] = [];
  const triggers = new MarkingTriggers(device, faults, ({ action, jobId }) =>
    struck.push(`${action} ${jobId} ${device.status().state}`),
  );
  closers.push(
    () => triggers.close(),
    () => device.close(),
  );
  const stats = createLinkStats();
  const run = (line: string) => runControlCommand(line, device, faults, { triggers, stats });
  return { device, faults, stats, run, drops: () => drops, struck };
}

function startJob(device: EngraverDevice, jobId: number) {
  return (
    device.loadJob({
      jobId,
      text: 'T1',
      gear: '',
      mirror: false,
      breechFace: false,
      recipe: { power: 1, frequency: 1, speed: 1, passes: 1 },
    }) ?? device.go(jobId)
  );
}

describe('simulator run-time control', () => {
  it('sets link faults', () => {
    const { faults, run, drops } = setup();
    expect(run('delay 250').ok).toBe(true);
    expect(run('withhold 2').ok).toBe(true);
    expect(run('corrupt 3').ok).toBe(true);
    expect(run('drop').ok).toBe(true);
    expect(faults).toMatchObject({ delayRepliesMs: 250, withholdReplies: 2, corruptReplies: 3 });
    expect(drops()).toBe(1);
  });

  it('withholds or corrupts every reply with all, under the flag names too, and 0 stops it', () => {
    const { faults, run } = setup();
    expect(run('withhold all')).toEqual({ ok: true, message: 'every reply withheld' });
    expect(run('corrupt-replies all').ok).toBe(true);
    expect(faults.withholdReplies).toBe(Number.POSITIVE_INFINITY);
    expect(faults.corruptReplies).toBe(Number.POSITIVE_INFINITY);
    expect(run('status').message).toMatch(/withhold all, corrupt all/);
    expect(run('withhold-replies 0').ok).toBe(true);
    expect(run('corrupt 1')).toEqual({ ok: true, message: 'next reply corrupted' });
    expect(run('delay-replies 40').ok).toBe(true);
    expect(faults).toMatchObject({ delayRepliesMs: 40, withholdReplies: 0, corruptReplies: 1 });
  });

  it('drops the link and power-cycles part-way through the next marking only', async () => {
    const { device, run, drops, struck } = setup(200);
    expect(run('drop-at-next-marking 0.25').ok).toBe(true);
    expect(run('power-cycle-at-next-marking').ok).toBe(true);
    expect(run('status').message).toMatch(/at next marking: drop at 0\.25, power-cycle at 0\.5/);
    expect(drops()).toBe(0);

    expect(startJob(device, 21)).toBeUndefined();
    await eventually(() => struck.length === 2, 10_000, 'both triggers to strike');
    expect(struck).toEqual(['drop 21 BUSY', 'power-cycle 21 READY']);
    expect(drops()).toBe(1);
    expect(device.status()).toEqual({ state: 'READY', fault: 0, completed: 0, activeJob: 0 });
    expect(device.marks.map((m) => [m.jobId, m.outcome])).toEqual([[21, 'power-lost']]);
    expect(run('status').message).toMatch(/at next marking: none/);

    // Spent: the job after runs undisturbed.
    expect(startJob(device, 22)).toBeUndefined();
    await eventually(() => device.status().state === 'DONE', 10_000, 'job 22 to end');
    expect(drops()).toBe(1);
    expect(struck).toHaveLength(2);
  });

  it('disarms a trigger with off', async () => {
    const { device, run, drops } = setup(0);
    run('drop-at-next-marking 0');
    expect(run('drop-at-next-marking off').ok).toBe(true);
    expect(startJob(device, 5)).toBeUndefined();
    await eventually(() => device.status().state === 'DONE', 10_000, 'the job to end');
    expect(drops()).toBe(0);
  });

  it('shows the traffic in status', () => {
    const { stats, run } = setup();
    stats.requests = 7;
    stats.maxInFlight = 1;
    expect(run('status').message).toMatch(/requests 7, at most 1 in flight$/);
  });

  it('faults the next job with the code given', () => {
    const { device, run } = setup();
    expect(run('fault-next 5 0').ok).toBe(true);
    startJob(device, 9);
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(device.status()).toMatchObject({ state: 'FAULT', fault: 5, activeJob: 9 });
        resolve();
      }, 20),
    );
  });

  it('opens the interlock, removes the part, power-cycles and changes the marking time', () => {
    const { device, run } = setup();
    run('interlock open');
    startJob(device, 3);
    expect(device.status()).toMatchObject({ state: 'FAULT', fault: 1 });
    run('interlock closed');
    device.reset();
    run('part absent');
    startJob(device, 4);
    expect(device.status()).toMatchObject({ state: 'FAULT', fault: 2 });
    run('part present');
    run('power-cycle');
    expect(device.status()).toEqual({ state: 'READY', fault: 0, completed: 0, activeJob: 0 });
    run('marking-ms 5');
    expect(device.markingTimeMs).toBe(5);
    expect(run('status').message).toMatch(/^state READY fault 0 completed 0 activeJob 0 interface 1/);
  });

  it('says what is wrong with a command it cannot run', () => {
    const { run } = setup();
    expect(run('fly away')).toEqual({ ok: false, message: 'unknown command "fly" (try help)' });
    expect(run('fault-next').ok).toBe(false);
    expect(run('fault-next 3 1.5').ok).toBe(false);
    expect(run('delay -1').ok).toBe(false);
    expect(run('interlock ajar').ok).toBe(false);
    expect(run('withhold some')).toEqual({
      ok: false,
      message: 'count must be an integer 0..1000000, or all',
    });
    expect(run('delay all').ok).toBe(false);
    expect(run('drop-at-next-marking 2').ok).toBe(false);
    expect(
      runControlCommand(
        'power-cycle-at-next-marking',
        new EngraverDevice(),
        createLinkFaults(() => {}),
      ),
    ).toEqual({ ok: false, message: 'power-cycle-at-next-marking is not available here' });
    expect(run('help').message).toMatch(/fault-next CODE/);
    expect(run('   ')).toEqual({ ok: true, message: '' });
  });
});
