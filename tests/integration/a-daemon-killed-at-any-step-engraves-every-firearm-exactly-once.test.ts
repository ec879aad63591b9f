/**
 * The daemon is killed with SIGKILL at each step of a job and started again. Whatever the step,
 * every firearm ends engraved exactly once according to the engraver's own record of what it
 * marked, every code is unique, and the registry holds exactly one binding per firearm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../simulators/broker/embedded.js';
import type { CrashPoint } from '../../src/line/crash-points.js';
import { ERP_TOKEN, LineRig, type RigOptions, until } from '../support/line-rig.js';
import { requireCommands } from '../support/tools.js';

const FIREARMS = 4;
const points: CrashPoint[] = [
  'after-allocation',
  'after-load',
  'during-marking',
  'after-done-before-save',
  'after-record-queued',
];

let broker: EmbeddedBroker;
beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
});
afterAll(async () => {
  await broker?.stop();
});

type Transport = NonNullable<RigOptions['transport']>;
// Every step over Modbus TCP; over the serial transports, the steps where the engraver's own
// state decides what the restarted line does.
// The crash comes on the second firearm, so one job has finished before and others follow; and
// on the last, where the order itself must still end after the restart.
const cases: Array<[CrashPoint, Transport, number]> = [
  ...points.map((p): [CrashPoint, Transport, number] => [p, 'modbus-tcp', 2]),
  ['after-done-before-save', 'modbus-tcp', FIREARMS],
  ['after-record-queued', 'modbus-tcp', FIREARMS],
  ['after-load', 'modbus-rtu', 2],
  ['during-marking', 'modbus-rtu', 2],
  ['after-done-before-save', 'modbus-rtu', 2],
  ['after-load', 'ascii-serial', 2],
  ['during-marking', 'ascii-serial', 2],
  ['after-done-before-save', 'ascii-serial', 2],
];

describe.each(cases)('killed %s, over %s, on firearm %i', (point, transport, nth) => {
  const runs = transport === 'modbus-tcp' || requireCommands('socat');
  it.runIf(runs)(
    'engraves every firearm once, with unique codes, each bound once in the registry',
    async () => {
      const rig = new LineRig({ markingTimeMs: 150, mqttUrl: broker.url, transport });
      try {
        await rig.start();
        const first = await rig.startDaemon({
          STAMPLINE_CRASH_AT: point,
          STAMPLINE_CRASH_AFTER: String(nth),
        });
        const orderId = `crash-${point}-${nth}`;
        const created = await rig.api(
          'POST',
          '/api/v1/orders',
          {
            id: orderId,
            make: 'Acme',
            model: 'P1',
            firearms: Array.from({ length: FIREARMS }, (_, i) => ({ serial: `CR-${i}` })),
          },
          ERP_TOKEN,
        );
        expect(created.status).toBe(201);
        expect((await rig.api('POST', `/api/v1/orders/${orderId}/start`)).status).toBe(200);
        const ended = await rig.exited(first);
        expect(ended.signal).toBe('SIGKILL');

        await rig.startDaemon();
        const done = await until(async () => {
          const r = await rig.api('GET', `/api/v1/orders/${orderId}`);
          return r.body?.order?.state === 'engraved' ? r.body : undefined;
        }, 'the order to finish after the restart');

        const firearms = done.firearms as Array<{ serial: string; state: string; code: { text: string } }>;
        expect(firearms.every((f) => f.state === 'engraved')).toBe(true);
        const codes = firearms.map((f) => f.code.text);
        expect(new Set(codes).size).toBe(FIREARMS);

        // The engraver's journal: each firearm's code marked once, and nothing else marked.
        const marks = rig.device.marks;
        expect(marks.map((m) => m.outcome)).toEqual(Array(FIREARMS).fill('done'));
        expect(marks.map((m) => m.text).sort()).toEqual([...codes].sort());

        // The registry: exactly one binding per firearm, to the code the line engraved.
        await until(() => rig.registry.bindings().length >= FIREARMS, 'all bindings in the registry');
        await until(async () => (await rig.api('GET', '/api/v1/outbox')).body.depth === 0, 'an empty outbox');
        const bindings = rig.registry.bindings();
        expect(bindings).toHaveLength(FIREARMS);
        expect(new Set(bindings.map((b) => b.firearm.serial)).size).toBe(FIREARMS);
        for (const f of firearms) {
          expect(bindings.find((b) => b.firearm.serial === f.serial)?.code).toBe(f.code.text);
        }
        await rig.stopDaemon();
      } finally {
        await rig.stop();
      }
    },
    60_000,
  );
});
