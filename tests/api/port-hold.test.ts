/** The HTTP port held during start: a client that connects meanwhile cannot hold the start up. */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../simulators/broker/mosquitto.js';
import { holdPort } from '../../src/port-hold.js';

describe('the port hold', () => {
  it('lets the port go though a client connected while it was held and never closed', async () => {
    const port = await freePort();
    const hold = await holdPort('127.0.0.1', port);
    const probe = connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((resolve) => probe.once('close', () => resolve()));
    probe.on('error', () => {});
    await closed;
    // resolves: the probe's connection was ended by the hold, not left for close() to wait on
    await hold.release();
    expect(probe.destroyed).toBe(true);
  });
});
