/**
 * The stack a composition root keeps of what it started: stopped last first, a failed start
 * stops what had started, and one stop that fails does not keep the others from stopping.
 */
import { describe, expect, it } from 'vitest';
import { ServiceStack } from '../src/service-stack.js';

function recorder() {
  const events: string[] = [];
  const errors: Array<{ name: string; message: string }> = [];
  const stack = new ServiceStack((name, err) => errors.push({ name, message: (err as Error).message }));
  const service = (name: string, fail?: 'start' | 'stop') => ({
    start: async () => {
      events.push(`start ${name}`);
      if (fail === 'start') throw new Error(`${name} cannot start`);
      return name;
    },
    stop: async () => {
      events.push(`stop ${name}`);
      if (fail === 'stop') throw new Error(`${name} cannot stop`);
    },
  });
  return { events, errors, stack, service };
}

describe('ServiceStack', () => {
  it('stops what started in the reverse order, once, however often it is asked', async () => {
    const { events, stack, service } = recorder();
    for (const name of ['store', 'audit', 'line']) {
      const s = service(name);
      await expect(stack.start(name, s.start, s.stop)).resolves.toBe(name);
    }
    stack.push('watch', () => events.push('unwatch'));
    expect(stack.names).toEqual(['store', 'audit', 'line', 'watch']);
    await Promise.all([stack.stopAll(), stack.stopAll()]);
    await stack.stopAll();
    expect(events).toEqual([
      'start store',
      'start audit',
      'start line',
      'unwatch',
      'stop line',
      'stop audit',
      'stop store',
    ]);
    expect(stack.names).toEqual([]);
  });

  it('stops the services already started, in reverse order, when one fails to start, and throws its error', async () => {
    const { events, errors, stack, service } = recorder();
    const store = service('store');
    const audit = service('audit');
    const line = service('line', 'start');
    const http = service('http');
    await stack.start('store', store.start, store.stop);
    await stack.start('audit', audit.start, audit.stop);
    await expect(stack.start('line', line.start, line.stop)).rejects.toThrow('line cannot start');
    expect(events).toEqual([
      'start store',
      'start audit',
      'start line',
      // the failed one first: its start may have taken a lock or a file before failing
      'stop line',
      'stop audit',
      'stop store',
    ]);
    expect(errors).toEqual([]);
    expect(stack.names).toEqual([]);
    // nothing after the failure was started
    expect(events).not.toContain('start http');
    void http;
  });

  it('goes on stopping the others when one stop fails, and tells which', async () => {
    const { events, errors, stack, service } = recorder();
    for (const [name, fail] of [
      ['store', undefined],
      ['registry', 'stop'],
      ['line', undefined],
    ] as const) {
      const s = service(name, fail);
      await stack.start(name, s.start, s.stop);
    }
    await stack.stopAll();
    expect(events.filter((e) => e.startsWith('stop'))).toEqual(['stop line', 'stop registry', 'stop store']);
    expect(errors).toEqual([{ name: 'registry', message: 'registry cannot stop' }]);
  });
});
