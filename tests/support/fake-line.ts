/**
 * A line of the API's kind (`LineApi`) for a test that needs none of the real one: idle, with no
 * order and its engraver not connected. A test gives the parts it plays itself; what changes the
 * line (submitting, starting an order, a reset) is refused with an error naming the call, so a
 * test that reaches one unawares fails there and says why.
 */
import { EventEmitter } from 'node:events';
import type { ActiveView, LineApi, LineApiEvents, LineStatus, LineSummary } from '../../src/shared.js';

export type FakeLine = LineApi & EventEmitter<LineApiEvents>;

const notFaked = (call: string) => () => Promise.reject(new Error(`the fake line does not play ${call}`));

export function fakeLine(parts: Partial<LineApi> = {}, indexesLeft = 0): FakeLine {
  const activeView = (): ActiveView => ({
    activeOrders: [],
    activeTotal: 0,
    activeByState: { running: 0, faulted: 0, paused: 0, queued: 0 },
  });
  const status = (): LineStatus => ({
    engraver: { url: '', connected: false, status: undefined, statusAt: undefined },
    current: undefined,
    halted: undefined,
    activeOrders: [],
    indexesLeft,
  });
  const summary = (_limit: number): LineSummary => ({
    engraver: { url: '', connected: false, status: undefined },
    current: undefined,
    halted: undefined,
    ...activeView(),
    backlog: { awaitingQa: 0, engravedOrders: [], engravedTotal: 0 },
    indexesLeft,
  });
  const methods: Omit<LineApi, 'on' | 'off'> = {
    status,
    summary,
    activeView,
    activeCounts: () => undefined,
    listOrders: async () => [],
    orderView: notFaked('orderView'),
    submitOrder: notFaked('submitOrder'),
    startOrder: notFaked('startOrder'),
    pauseOrder: notFaked('pauseOrder'),
    resumeOrder: notFaked('resumeOrder'),
    abortOrder: notFaked('abortOrder'),
    resetEngraver: notFaked('resetEngraver'),
    findFirearms: notFaked('findFirearms'),
  };
  return Object.assign(new EventEmitter<LineApiEvents>(), methods, parts);
}
