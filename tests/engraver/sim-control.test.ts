import { afterEach, describe, expect, it } from 'vitest';
import { runControlCommand } from '../../simulators/engraver/control.js';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { createLinkFaults } from '../../simulators/engraver/link-faults.js';

const devices: EngraverDevice[] = [];
afterEach(() => {
  for (const d of devices.splice(0)) d.close();
});

function setup() {
  const device = new EngraverDevice({ markingTimeMs: 60_000 });
  devices.push(device);
  let drops = 0;
  const faults = createLinkFaults(() => drops++);
  const run = (line: string) => runControlCommand(line, device, faults);
  return { device, faults, run, drops: () => drops };
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
    expect(run('help').message).toMatch(/fault-next CODE/);
    expect(run('   ')).toEqual({ ok: true, message: '' });
  });
});
