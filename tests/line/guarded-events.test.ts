/**
 * The line emits its events in the middle of durable steps: a listener that throws is logged,
 * and never cuts the step short (before, a failing subscriber aborted the job it was told of).
 */
import { describe, expect, it } from 'vitest';
import { GuardedEmitter } from '../../src/line/guarded-emitter.js';
import type { LineLogger } from '../../src/line/types.js';
import { order, until, useLines } from './harness.js';

const lines = useLines();

class Emitter extends GuardedEmitter<{ tick: [number] }> {
  constructor(log: LineLogger) {
    super();
    this.listenerLog = log;
  }
}

describe('the guarded emitter', () => {
  it('calls every listener in order though one throws, logs the failure, and drops a `once` listener after its call', () => {
    const logged: Array<[object, string | undefined]> = [];
    const log = { info() {}, warn() {}, debug() {}, error: (o: object, m?: string) => logged.push([o, m]) };
    const e = new Emitter(log);
    const seen: string[] = [];
    e.on('tick', (n) => seen.push(`first ${n}`));
    e.on('tick', () => {
      throw new Error('listener broke');
    });
    e.once('tick', (n) => seen.push(`once ${n}`));
    e.on('tick', (n) => seen.push(`last ${n}`));

    expect(e.emit('tick', 1)).toBe(true);
    expect(e.emit('tick', 2)).toBe(true);
    expect(seen).toEqual(['first 1', 'once 1', 'last 1', 'first 2', 'last 2']);
    expect(logged).toHaveLength(2);
    expect(logged[0]![0]).toMatchObject({
      event: 'tick',
      err: expect.objectContaining({ message: 'listener broke' }),
    });
    expect(e.listenerCount('tick')).toBe(3);
  });
});

describe('a line whose listener throws', () => {
  it('engraves and records every firearm once, and ends the order, as if nobody listened', async () => {
    const h = await lines.start();
    let calls = 0;
    const broken = () => {
      calls++;
      throw new Error('subscriber broke');
    };
    h.line.on('firearm', broken);
    h.line.on('order', broken);
    await h.line.submitOrder(order('o1', 3), 'http', 'erp');
    await h.line.startOrder('o1', 'operator');
    await until(async () => (await h.line.orderView('o1')).order.state === 'engraved', 'o1 done');

    const { firearms } = await h.line.orderView('o1');
    for (const f of firearms) {
      expect(f.history.map((e) => e.state)).toEqual(['queued', 'allocated', 'loaded', 'marking', 'engraved']);
      expect(f.voided).toEqual([]);
    }
    expect(h.device.marks).toHaveLength(3);
    expect(h.records.filter((r) => r.event === 'engraved')).toHaveLength(3);
    expect(calls).toBeGreaterThanOrEqual(3 * 4);
  });
});
