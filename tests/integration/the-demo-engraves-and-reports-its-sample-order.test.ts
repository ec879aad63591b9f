/**
 * The README's first command, `npm start` (`node bin/stampline.js demo`), keeps its promise: a
 * new user sees firearms engraved, verified and reported within a minute. The real process
 * runs the shipped config/demo.yaml on free ports given by flag (a CI machine may hold 8080, 1502
 * or 11883), on a fresh data folder given by STAMPLINE_DATA_DIR, and is watched through its HTTP
 * API only: the sample order of 10 ends done, every firearm carries its own code and a passed
 * QA, the outbox is empty, and the simulated registry's file binds each firearm to the code the
 * API shows. It prints one login per role, and SIGTERM stops it cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEMO_PEOPLE } from '../../simulators/demo-users.js';
import { ENV_OVERRIDES } from '../../src/config/env.js';
import type { Firearm, OrderCounts, OrderHeader } from '../../src/line/model.js';
import type { FirearmRecord } from '../../src/qa/types.js';
import type { RegistryRecord } from '../../src/registry/record.js';
import { freePorts } from '../support/ports.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/stampline.js');
const DEMO_CONFIG = join(ROOT, 'config/demo.yaml');

/** Starting through tsx on a loaded machine can take a while; the order itself takes ~20 s alone. */
const START_TIMEOUT_MS = 60_000;
const SETTLE_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

interface Demo {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout: () => string;
  stderr: () => string;
}

let demo: Demo | undefined;
let folder: string | undefined;

afterEach(async () => {
  const running = demo;
  demo = undefined;
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill('SIGKILL');
    await running.exit;
  }
  if (folder) await rm(folder, { recursive: true, force: true });
  folder = undefined;
});

interface DemoPorts {
  http: number;
  engraver: number;
  mqtt: number;
  registry: number;
}

/**
 * config/demo.yaml exactly as shipped, at `<dir>/config/demo.yaml` as in the repository, so
 * that its relative paths land under `dir`; and four free ports for it (a CI machine may hold
 * 8080, 1502, 11883 or 11884), which the demo is given as a user gives them: by flag or variable.
 */
async function demoConfigIn(dir: string): Promise<{ file: string; ports: DemoPorts }> {
  const [http, engraver, mqtt, registry] = await freePorts(4);
  await mkdir(join(dir, 'config'));
  const file = join(dir, 'config', 'demo.yaml');
  await writeFile(file, await readFile(DEMO_CONFIG, 'utf8'));
  return { file, ports: { http: http!, engraver: engraver!, mqtt: mqtt!, registry: registry! } };
}

function startDemo(
  configFile: string,
  dataDir: string,
  args: string[] = [],
  extraEnv: NodeJS.ProcessEnv = {},
): Demo {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Only what the test gives comes from the environment, whatever the machine running it has set.
  for (const o of ENV_OVERRIDES) delete env[o.variable];
  for (const v of [
    'STAMPLINE_CONFIG',
    'STAMPLINE_ENGRAVER_PORT',
    'STAMPLINE_MQTT_PORT',
    'STAMPLINE_REGISTRY_PORT',
  ])
    delete env[v];
  Object.assign(env, extraEnv, { STAMPLINE_DATA_DIR: dataDir });
  const child = spawn(process.execPath, [BIN, 'demo', '--config', configFile, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  return { child, exit, stdout: () => out, stderr: () => err };
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** Polls `probe` until it returns a value; fails early, with the demo's output, if the demo exits. */
async function until<T>(
  d: Demo,
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  progress: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (d.child.exitCode !== null || d.child.signalCode !== null) {
      throw new Error(
        `the demo exited (${d.child.exitCode ?? d.child.signalCode}) while waiting for ${what}\n${tail(d.stdout())}\n${d.stderr()}`,
      );
    }
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; ${progress()}\n${tail(d.stdout())}\n${d.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('npm start (stampline demo)', () => {
  it(
    'engraves, verifies and reports its sample order of 10, prints a login per role, and stops cleanly on SIGTERM',
    async () => {
      folder = await mkdtemp(join(tmpdir(), 'stampline-demo-'));
      const { file, ports } = await demoConfigIn(folder);
      // A data folder of its own, as a user gives one with STAMPLINE_DATA_DIR; nothing of the
      // demo's shipped data folder (here `<folder>/data/demo`) exists beforehand.
      const dataDir = join(folder, 'line-data');
      const demoYaml = parse(await readFile(DEMO_CONFIG, 'utf8'));
      const token: string = demoYaml.auth.operatorToken;
      const sampleSize: number = demoYaml.simulators.sampleOrder.firearms;
      const base = `http://127.0.0.1:${ports.http}`;
      const d = startDemo(file, dataDir, [
        '--http-port',
        String(ports.http),
        '--engraver-port',
        String(ports.engraver),
        '--mqtt-port',
        String(ports.mqtt),
        '--registry-port',
        String(ports.registry),
      ]);
      demo = d;

      async function get<T>(path: string): Promise<T> {
        const res = await fetch(`${base}${path}`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(15_000),
        });
        if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
        return (await res.json()) as T;
      }

      // The logins are printed once the line runs, which is also when the sample order is fed.
      const logins = await until(d, 'the demo to print its logins', START_TIMEOUT_MS, async () => {
        const m = /Demo: open (\S+)\/ and log in as one of[^\n]*\n((?: {2}\S+ +\S+ +\S+\n)+)/.exec(
          d.stdout(),
        );
        if (!m) return undefined;
        const people = m[2]!
          .trimEnd()
          .split('\n')
          .map((l) => l.trim().split(/ +/) as [string, string, string]);
        return { url: m[1], people };
      });
      expect(logins.url).toBe(base);
      expect(logins.people.map(([name, role]) => ({ name, role }))).toEqual(DEMO_PEOPLE);
      for (const [name, role, password] of logins.people) {
        const res = await fetch(`${base}/api/v1/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: name, password }),
          signal: AbortSignal.timeout(15_000),
        });
        expect(res.status, `log in as ${name}`).toBe(200);
        expect(((await res.json()) as { user: { role: string } }).user.role).toBe(role);
      }

      type OrderView = { order: OrderHeader; counts: OrderCounts; firearms: Firearm[] };
      type Outbox = { depth: number; pending: unknown[]; rejected: unknown[] };
      type Stored = { at: string; record: RegistryRecord };
      const registryFile = join(dataDir, 'simulated-registry.jsonl');
      const readRegistry = async (): Promise<Stored[]> => {
        const text = await readFile(registryFile, 'utf8').catch(() => '');
        return text
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Stored);
      };

      let seen = 'nothing yet';
      const settled = await until(
        d,
        'the sample order to be engraved, verified and reported',
        SETTLE_TIMEOUT_MS,
        async () => {
          const list = await get<{ all: OrderHeader[] }>('/api/v1/orders');
          if (list.all.length === 0) return undefined;
          const view = await get<OrderView>(`/api/v1/orders/${encodeURIComponent(list.all[0]!.id)}`);
          const outbox = await get<Outbox>('/api/v1/outbox');
          const registry = await readRegistry();
          const verified = new Set(
            registry.filter((s) => s.record.event === 'verified').map((s) => s.record.code),
          );
          seen = `order ${view.order.state}, firearms ${JSON.stringify(view.counts)}, passed QA ${
            view.firearms.filter((f) => f.qa?.result === 'pass').length
          }, outbox depth ${outbox.depth}, registry records ${registry.length}`;
          const done =
            view.order.state === 'complete' &&
            view.firearms.every(
              (f) => f.state === 'engraved' && f.qa?.result === 'pass' && verified.has(f.code!.text),
            ) &&
            outbox.depth === 0;
          return done ? { orders: list.all, view, outbox, registry } : undefined;
        },
        () => `last seen: ${seen}`,
      );

      // The sample order, and nothing else.
      expect(settled.orders).toHaveLength(1);
      const { order, firearms } = settled.view;
      expect(order.source).toBe('demo');
      expect(order.size).toBe(sampleSize);
      expect(firearms).toHaveLength(sampleSize);
      expect(new Set(firearms.map((f) => f.serial)).size).toBe(sampleSize);

      // A code is never on two pins: the current codes and those voided by a failed QA all differ.
      const current = firearms.map((f) => f.code!.text);
      const voided = firearms.flatMap((f) => f.voided.map((v) => v.text));
      expect(new Set([...current, ...voided]).size).toBe(current.length + voided.length);

      // Every record reached the registry and was accepted.
      expect(settled.outbox).toEqual({ depth: 0, pending: [], rejected: [], oldestPendingAt: null });
      // ...so the order is complete, not only engraved: every firearm verified and accepted.
      expect(settled.view.order.completedAt).toEqual(expect.any(String));
      expect(settled.view.counts).toMatchObject({
        engraved: firearms.length,
        verified: firearms.length,
        accepted: firearms.length,
      });

      // The registry's file binds each firearm to the code and gear ring the API shows.
      const records = settled.registry.map((s) => s.record);
      const serials = new Set(firearms.map((f) => f.serial));
      expect(records.filter((r) => !serials.has(r.firearm.serial))).toEqual([]);
      expect(new Set(records.map((r) => r.recordId)).size).toBe(records.length);
      const engraved = records.filter((r) => r.event === 'engraved');
      const voidRecords = records.filter((r) => r.event === 'voided');
      const voidedInRegistry = new Set(voidRecords.map((r) => r.code));
      expect(engraved).toHaveLength(current.length + voided.length);
      for (const f of firearms) {
        const mine = engraved.filter((r) => r.firearm.serial === f.serial);
        const active = mine.filter((r) => !voidedInRegistry.has(r.code));
        expect(active, `active bindings of ${f.serial}`).toHaveLength(1);
        const binding = active[0]!;
        expect(binding.code).toBe(f.code!.text);
        expect(binding.event === 'engraved' && binding.gear).toBe(f.code!.gear);
        expect(binding.firearm).toMatchObject({ make: order.make, model: order.model, serial: f.serial });
        expect(binding.order.id).toBe(order.id);
        expect(mine.map((r) => r.code).sort()).toEqual([f.code!.text, ...f.voided.map((v) => v.text)].sort());
        const passes = records.filter(
          (r) => r.event === 'verified' && r.code === f.code!.text && r.qa.result === 'pass',
        );
        expect(passes, `verified record of ${f.serial}`).toHaveLength(1);
      }
      expect([...voidedInRegistry].sort()).toEqual([...voided].sort());

      // An investigator's query at the registry's desk names the firearm of a worn case.
      const shot = firearms[3]!;
      const worn = `${shot.code!.text.slice(0, 2)}??${shot.code!.text.slice(4)}`;
      const desk = await fetch(`http://127.0.0.1:${ports.registry}/identify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reads: [{ text: worn, gear: shot.code!.gear }] }),
        signal: AbortSignal.timeout(15_000),
      });
      expect(desk.status).toBe(200);
      expect(await desk.json()).toMatchObject({
        outcome: 'identified',
        binding: { code: shot.code!.text, firearm: { serial: shot.serial }, state: 'active' },
      });

      // SIGTERM stops it in order.
      d.child.kill('SIGTERM');
      const stopped = await Promise.race([
        d.exit,
        new Promise<'still running'>((r) => setTimeout(() => r('still running'), STOP_TIMEOUT_MS)),
      ]);
      expect(stopped, tail(d.stdout())).toEqual({ code: 0, signal: null });
      const out = d.stdout();
      expect(out).toMatch(/ INFO {2}stopping \{"signal":"SIGTERM"\}/);
      expect(out.trimEnd().split('\n').at(-1)).toMatch(/ INFO {2}stopped$/);
      expect(out).not.toMatch(/^\S+ (ERROR|FATAL) /m);
      expect(d.stderr()).not.toMatch(/Error/);
    },
    START_TIMEOUT_MS + SETTLE_TIMEOUT_MS + STOP_TIMEOUT_MS + 30_000,
  );
  it(
    '--manual, with its ports from STAMPLINE_ variables, leaves the sample order for an operator to start and fires no test cases',
    async () => {
      folder = await mkdtemp(join(tmpdir(), 'stampline-demo-'));
      const { file, ports } = await demoConfigIn(folder);
      const demoYaml = parse(await readFile(DEMO_CONFIG, 'utf8'));
      const token: string = demoYaml.auth.operatorToken;
      const base = `http://127.0.0.1:${ports.http}`;
      const d = startDemo(file, join(folder, 'line-data'), ['--manual'], {
        STAMPLINE_HTTP_PORT: String(ports.http),
        STAMPLINE_ENGRAVER_PORT: String(ports.engraver),
        STAMPLINE_MQTT_PORT: String(ports.mqtt),
        STAMPLINE_REGISTRY_PORT: String(ports.registry),
      });
      demo = d;
      const call = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
        const res = await fetch(`${base}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          signal: AbortSignal.timeout(15_000),
        });
        if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return (await res.json()) as T;
      };
      type OrderView = { order: OrderHeader; firearms: Firearm[] };

      const fed = await until(d, 'the sample order to arrive', START_TIMEOUT_MS, async () => {
        const list = await call<{ all: OrderHeader[] }>('/api/v1/orders');
        return list.all[0];
      });
      // Nothing starts it: a moment later it is still queued, with nothing engraved.
      await new Promise((r) => setTimeout(r, 2_000));
      const waiting = await call<OrderView>(`/api/v1/orders/${encodeURIComponent(fed.id)}`);
      expect(waiting.order.state).toBe('queued');
      expect(waiting.firearms.every((f) => f.state === 'queued')).toBe(true);

      // The operator starts it; the simulated engraver on the given port marks the first pin.
      await call(`/api/v1/orders/${encodeURIComponent(fed.id)}/start`, { method: 'POST', body: '{}' });
      const first = await until(d, 'the first pin to be engraved', SETTLE_TIMEOUT_MS, async () => {
        const view = await call<OrderView>(`/api/v1/orders/${encodeURIComponent(fed.id)}`);
        return view.firearms.find((f) => f.state === 'engraved');
      });
      // Longer than the simulated test fire's delay: no case of it was read into QA.
      await new Promise((r) => setTimeout(r, 2 * demoYaml.simulators.testfire.delayMs));
      const qa = await call<FirearmRecord>(`/api/v1/qa/firearms/${encodeURIComponent(first.serial)}`);
      expect(qa.reads).toEqual([]);
      expect(d.stdout()).not.toMatch(/simulated test fire:/);
    },
    START_TIMEOUT_MS + SETTLE_TIMEOUT_MS + 30_000,
  );
});
