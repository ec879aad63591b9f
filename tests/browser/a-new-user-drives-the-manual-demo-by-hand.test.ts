/**
 * `stampline demo --manual` leaves the work to a new user's hands: the real demo process, on
 * free ports and a fresh data folder, feeds its sample order and leaves it queued; the operator
 * starts it from the order's screen in the browser, the demo's engraver marks every firearm, and
 * the QA person records a read of one firearm at the QA station. That read is the firearm's
 * only one: no simulated test fire read a case of it first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_OVERRIDES } from '../../src/config/env.js';
import type { Firearm, OrderHeader } from '../../src/line/model.js';
import type { FirearmRecord } from '../../src/qa/types.js';
import { freePorts } from '../support/ports.js';
import { requireCommands } from '../support/tools.js';
import { CHROMIUM, sel } from './support/line.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/stampline.js');
const DEMO_CONFIG = join(ROOT, 'config/demo.yaml');
/** Waits are for what the demo does, not how fast a loaded machine does it. */
const START_TIMEOUT_MS = 90_000;
const ENGRAVE_TIMEOUT_MS = 240_000;
const STEP_TIMEOUT_MS = 120_000;

const canRun = requireCommands('chromium');

let child: ChildProcess | undefined;
let browser: Browser | undefined;
let folder: string | undefined;
let output = '';

afterEach(async () => {
  await browser?.close().catch(() => undefined);
  browser = undefined;
  const running = child;
  child = undefined;
  if (running && running.exitCode === null && running.signalCode === null) {
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  }
  if (folder) await rm(folder, { recursive: true, force: true });
  folder = undefined;
  output = '';
});

/** Polls `probe` until it returns a value; fails early, with the demo's output, if the demo exits. */
async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the demo exited while waiting for ${what}\n${output.slice(-3000)}`);
    }
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function logIn(url: string, name: string, password: string): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  await page.goto(`${url}/#/login`);
  await page.fill(sel('login-user'), name);
  await page.fill(sel('login-password'), password);
  await page.click(sel('login-submit'));
  await page.waitForSelector(`${sel('whoami')}:has-text("${name}")`);
  return page;
}

describe.runIf(canRun)('stampline demo --manual, in the browser', () => {
  it(
    'an operator starts the queued sample order and the QA person records the only read of an engraved firearm',
    async () => {
      folder = await mkdtemp(join(tmpdir(), 'stampline-manual-demo-'));
      // config/demo.yaml as shipped, where the repository has it relative to its data folder.
      await mkdir(join(folder, 'config'));
      const configFile = join(folder, 'config', 'demo.yaml');
      const shipped = await readFile(DEMO_CONFIG, 'utf8');
      await writeFile(configFile, shipped);
      const demoYaml = parse(shipped);
      const token: string = demoYaml.auth.operatorToken;
      const sampleSize: number = demoYaml.simulators.sampleOrder.firearms;
      const [http, engraver, mqtt, registry] = await freePorts(4);
      const url = `http://127.0.0.1:${http}`;

      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const o of ENV_OVERRIDES) delete env[o.variable];
      for (const v of [
        'STAMPLINE_CONFIG',
        'STAMPLINE_ENGRAVER_PORT',
        'STAMPLINE_MQTT_PORT',
        'STAMPLINE_REGISTRY_PORT',
      ])
        delete env[v];
      env.STAMPLINE_DATA_DIR = join(folder, 'line-data');
      const args = ['demo', '--config', configFile, '--manual'];
      for (const [flag, port] of [
        ['--http-port', http],
        ['--engraver-port', engraver],
        ['--mqtt-port', mqtt],
        ['--registry-port', registry],
      ] as const)
        args.push(flag, String(port));
      child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.setEncoding('utf8').on('data', (s: string) => {
        output += s;
      });
      child.stderr!.setEncoding('utf8').on('data', (s: string) => {
        output += s;
      });

      const api = async <T>(path: string): Promise<T> => {
        const res = await fetch(`${url}${path}`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(15_000),
        });
        if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
        return (await res.json()) as T;
      };
      type OrderView = { order: OrderHeader; firearms: Firearm[] };

      // The same login lines the demo prints for a new user, one per role.
      const people = await until('the demo to print its logins', START_TIMEOUT_MS, async () => {
        const m = /Demo: open (\S+)\/ and log in as one of[^\n]*\n((?: {2}\S+ +\S+ +\S+\n)+)/.exec(output);
        if (!m) return undefined;
        const rows = m[2]!
          .trimEnd()
          .split('\n')
          .map((l) => l.trim().split(/ +/) as [string, string, string]);
        return new Map(rows.map(([name, role, password]) => [role, { name, password }]));
      });
      const operator = people.get('operator');
      const qa = people.get('qa');
      expect(operator, output).toBeDefined();
      expect(qa, output).toBeDefined();

      const order = await until('the sample order to arrive', START_TIMEOUT_MS, async () => {
        const list = await api<{ all: OrderHeader[] }>('/api/v1/orders');
        return list.all[0];
      });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-dev-shm-usage'],
      });

      // The operator finds it queued, with its Start button; nothing has started it.
      const op = await logIn(url, operator!.name, operator!.password);
      await op.goto(`${url}/#/orders/${encodeURIComponent(order.id)}`);
      const start = `${sel('order-start')}[data-order="${order.id}"]`;
      await op.waitForSelector(start);
      const queued = await api<OrderView>(`/api/v1/orders/${encodeURIComponent(order.id)}`);
      expect(queued.order.state).toBe('queued');
      expect(queued.firearms).toHaveLength(sampleSize);
      expect(queued.firearms.every((f) => f.state === 'queued')).toBe(true);

      await op.click(start);
      const engraved = await until(
        'every firearm of the sample order to be engraved',
        ENGRAVE_TIMEOUT_MS,
        async () => {
          const view = await api<OrderView>(`/api/v1/orders/${encodeURIComponent(order.id)}`);
          return view.firearms.every((f) => f.state === 'engraved') ? view.firearms : undefined;
        },
      );
      await op.context().close();

      // One engraved firearm, its code as the records API gives it; no read of it yet.
      const serial = engraved[0]!.serial;
      const before = await api<{ firearm: Firearm }>(`/api/v1/records/${encodeURIComponent(serial)}`);
      const code = before.firearm.code!;
      expect(code.text).toMatch(/^\S{10}$/);
      const unread = await api<FirearmRecord>(`/api/v1/qa/firearms/${encodeURIComponent(serial)}`);
      expect(unread.reads).toEqual([]);

      const page = await logIn(url, qa!.name, qa!.password);
      await page.goto(`${url}/#/qa`);
      await page.fill(sel('qa-firearm'), serial);
      await page.press(sel('qa-firearm'), 'Enter');
      await page.waitForSelector(`${sel('qa-serial')}:has-text("${serial}")`);
      await page.fill(sel('qa-ammo'), 'Federal 115 gr FMJ');
      await page.fill(sel('qa-text'), code.text);
      await page.fill(sel('qa-gear'), code.gear);
      await page.click(sel('qa-submit'));
      await page.waitForSelector(`${sel('qa-result')} h2:has-text("recorded")`);
      expect(await page.textContent(`${sel('qa-result')} h2`)).toContain(`Read 1 of ${serial} recorded`);
      expect((await page.textContent(sel('qa-decoded')))?.replace(/[\s-]/g, '')).toBe(code.text);

      // The firearm has exactly the read just typed, by the QA person: none from a test fire.
      const after = await api<FirearmRecord>(`/api/v1/qa/firearms/${encodeURIComponent(serial)}`);
      expect(after.reads).toHaveLength(1);
      expect(after.reads[0]).toMatchObject({
        by: qa!.name,
        serial,
        text: code.text,
        gear: code.gear,
        source: 'typed',
      });
      expect(after.reads[0]!.code.text).toBe(code.text);
      expect(output).not.toMatch(/simulated test fire:/);
      await page.context().close();
    },
    START_TIMEOUT_MS * 2 + ENGRAVE_TIMEOUT_MS + STEP_TIMEOUT_MS * 2,
  );
});
