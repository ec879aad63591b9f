/**
 * Test doubles for the intake tests: a temporary folder, a polling wait, a logger that keeps what
 * it is told, and a line that holds orders the way the spec asks (duplicates refused, a replayed
 * identical order accepted).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AcceptResult, IntakeContext, IntakeLogger, IntakeProblem } from '../../src/erp/drop-folder.js';
import { type Order, sameOrder } from '../../src/erp/order.js';

export async function tempDir(
  prefix = 'stampline-erp-',
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

export interface LogEntry {
  level: string;
  obj: object;
  msg?: string;
}

export function memoryLogger(): IntakeLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    entries.push({ level, obj, msg });
  };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export class FakeLine {
  readonly orders = new Map<string, Order>();
  readonly serials = new Map<string, string>();
  readonly calls: Array<{ ids: string[]; file: string; intake: IntakeContext; firearms: number }> = [];

  hold(orders: Order[]): void {
    for (const o of orders) {
      this.orders.set(o.id, o);
      for (const f of o.firearms) this.serials.set(f.serial, o.id);
    }
  }

  accept = async (orders: Order[], file: string, intake: IntakeContext): Promise<AcceptResult> => {
    this.calls.push({
      ids: orders.map((o) => o.id),
      file,
      intake,
      firearms: orders.reduce((n, o) => n + o.firearms.length, 0),
    });
    const problems: IntakeProblem[] = [];
    const fresh: Order[] = [];
    for (const o of orders) {
      const held = this.orders.get(o.id);
      if (held) {
        if (intake.replay && sameOrder(held, o)) continue;
        problems.push({ orderId: o.id, reason: `order ${o.id} already exists` });
        continue;
      }
      for (const f of o.firearms) {
        const owner = this.serials.get(f.serial);
        if (owner !== undefined) {
          // Like the line, a serial conflict names the serial only; the folder finds its row.
          problems.push({
            serial: f.serial,
            reason: `serial ${f.serial} is already held by order ${owner}`,
          });
        }
      }
      fresh.push(o);
    }
    if (problems.length > 0) return { ok: false, problems };
    this.hold(fresh);
    return { ok: true };
  };
}
