/**
 * A whole line for browser tests, run as a person would run it: `stampline user add` creates the
 * people, then `stampline start` runs the daemon with its simulated engraver, embedded broker and
 * simulated registry on free ports (or with a broker and registry the test runs itself, so it can
 * stop the broker while the daemon runs), and a headless Debian Chromium drives the web UI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { stringify } from 'yaml';
import { freePort, until } from '../../support/line-rig.js';

const BIN = resolve(import.meta.dirname, '../../../bin/stampline.js');
export const CHROMIUM = process.env.STAMPLINE_CHROMIUM ?? '/usr/bin/chromium';
export const ERP_TOKEN = 'browser-erp-token-0123456789';
/** The operator's machine token: starts, pauses and aborts orders through the API. */
export const OPERATOR_TOKEN = 'browser-operator-token-0123456789';

/** Where screenshots go: docs/screens/ when asked (`npm run screens`), else a temporary folder. */
export function screensDir(fallback: string): string {
  return process.env.STAMPLINE_SCREENS === 'docs'
    ? resolve(import.meta.dirname, '../../../docs/screens')
    : join(fallback, 'screens');
}

export interface Person {
  name: string;
  role: 'operator' | 'qa' | 'supervisor' | 'admin';
  password: string;
}

export const PEOPLE: Record<'admin' | 'operator' | 'qa' | 'supervisor', Person> = {
  admin: { name: 'ada', role: 'admin', password: 'ada-long-password-1' },
  operator: { name: 'otto', role: 'operator', password: 'otto-long-password-2' },
  qa: { name: 'quinn', role: 'qa', password: 'quinn-long-password-3' },
  supervisor: { name: 'sam', role: 'supervisor', password: 'sam-long-password-4' },
};

/** A JSON answer of the API, read loosely: the tests name the fields they check. */
// biome-ignore lint/suspicious/noExplicitAny: test code reads answers field by field
export type ApiBody = any;

export interface CliResult {
  code: number | null;
  out: string;
}

export class BrowserLine {
  dir = '';
  dataDir = '';
  configFile = '';
  url = '';
  browser?: Browser;
  private daemon?: ChildProcess;
  private daemonExit: Promise<number | null> = Promise.resolve(null);
  private log = '';

  /**
   * `engraverPort`: the line uses an engraver simulator the test runs itself on that port (to
   * fault it at will) instead of the daemon's embedded one. `issuerKind`: a licensed installer's
   * line (`engraver`, the default) or a manufacturer's. `mqttUrl`: the line uses a broker the test
   * runs itself at that URL (to stop and start it at will), and the daemon runs neither the
   * embedded broker nor the simulated registry: the test runs the registry too.
   */
  async start(
    policy: Record<string, unknown>,
    opts: {
      engraverPort?: number;
      mqttUrl?: string;
      serveTimeoutMs?: number;
      issuerKind?: 'engraver' | 'manufacturer';
    } = {},
  ): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'stampline-browser-'));
    this.dataDir = join(this.dir, 'data');
    await mkdir(this.dataDir, { recursive: true });
    const [http, freeEngraver, broker] = [await freePort(), await freePort(), await freePort()];
    const engraver = opts.engraverPort ?? freeEngraver;
    this.url = `http://127.0.0.1:${http}`;
    this.configFile = join(this.dir, 'line.yaml');
    await writeFile(
      this.configFile,
      stringify({
        line: { id: 'browser', name: 'Browser test line', dataDir: this.dataDir },
        issuer: {
          number: 42,
          kind: opts.issuerKind ?? 'engraver',
          licence: 'FFL-9-99-999-07-9X-99999',
          key: '00112233445566778899aabbccddeeff',
          indexBlock: { start: 0, size: 100_000 },
        },
        http: { host: '127.0.0.1', port: http },
        auth: { erpToken: ERP_TOKEN, operatorToken: OPERATOR_TOKEN },
        engraver: { url: `modbus-tcp://127.0.0.1:${engraver}?unit=1`, id: 'browser-laser' },
        mqtt: {
          url: opts.mqttUrl ?? `mqtt://127.0.0.1:${broker}`,
          protocolVersion: 4,
          // A broker the test restarts forgets who listened: records the line sends before the
          // registry has subscribed again are lost, and sent again after this long.
          ...(opts.mqttUrl ? { resendAfterMs: 3000 } : {}),
        },
        qa: { policy },
        simulators: {
          engraver: {
            enabled: opts.engraverPort === undefined,
            transport: 'modbus-tcp',
            port: engraver,
            markingTimeMs: 150,
          },
          broker: { enabled: opts.mqttUrl === undefined, port: broker },
          registry: { enabled: opts.mqttUrl === undefined },
        },
        log: { level: 'info' },
      }),
    );
    for (const p of Object.values(PEOPLE)) {
      const r = await this.cli(
        ['user', 'add', p.name, '--role', p.role, '--password-stdin'],
        `${p.password}\n`,
      );
      if (r.code !== 0) throw new Error(`user add ${p.name} failed (${r.code}): ${r.out}`);
    }
    const child = spawn(process.execPath, [BIN, 'start', '--config', this.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.daemon = child;
    child.stdout?.on('data', (b) => {
      this.log += b;
    });
    child.stderr?.on('data', (b) => {
      this.log += b;
    });
    this.daemonExit = new Promise((res) => child.once('exit', (code) => res(code)));
    await until(
      async () => {
        if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}): ${this.log}`);
        const res = await fetch(`${this.url}/healthz`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      'the daemon to serve /healthz',
      opts.serveTimeoutMs ?? 60_000,
    );
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
  }

  /** Runs the `stampline` command with this line's configuration (or its data folder, for `audit`). */
  cli(args: string[], stdin = ''): Promise<CliResult> {
    const where = args[0] === 'audit' ? ['--data-dir', this.dataDir] : ['--config', this.configFile];
    return new Promise((res) => {
      const child = spawn(process.execPath, [BIN, ...args, ...where], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (b) => {
        out += b;
      });
      child.stderr.on('data', (b) => {
        out += b;
      });
      child.once('exit', (code) => res({ code, out }));
      child.stdin.end(stdin);
    });
  }

  /** Calls the API as the ERP would (or, with `token`, as the machine that token is for). */
  async erp(
    method: string,
    path: string,
    body?: unknown,
    token = ERP_TOKEN,
  ): Promise<{ status: number; body: ApiBody }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  daemonLog(): string {
    return this.log;
  }

  /** Stops the daemon with SIGTERM, as a service manager does, and returns its exit code. */
  async stopDaemon(): Promise<number | null> {
    await this.browser?.close().catch(() => undefined);
    this.browser = undefined;
    if (!this.daemon) return null;
    if (this.daemon.exitCode !== null) return this.daemon.exitCode;
    this.daemon.kill('SIGTERM');
    const code = await Promise.race([
      this.daemonExit,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000)),
    ]);
    if (code === 'hung') {
      this.daemon.kill('SIGKILL');
      throw new Error(`the daemon did not stop on SIGTERM: ${this.log.slice(-2000)}`);
    }
    return code;
  }

  async cleanup(): Promise<void> {
    await this.stopDaemon().catch(() => undefined);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** The element of a `data-test` name. */
export const sel = (name: string) => `[data-test="${name}"]`;

/**
 * A new browser window logged in as `person` (1280 x 800 unless `options` say otherwise). Waits
 * are for what the line does, not how fast a loaded machine does it: two minutes at most.
 */
export async function logIn(
  line: BrowserLine,
  person: Person,
  options: BrowserContextOptions = {},
): Promise<Page> {
  const context = await line.browser!.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  context.setDefaultTimeout(120_000);
  const page = await context.newPage();
  await page.goto(`${line.url}/#/login`);
  await page.fill(sel('login-user'), person.name);
  await page.fill(sel('login-password'), person.password);
  await page.click(sel('login-submit'));
  await page.waitForSelector(`${sel('whoami')}:has-text("${person.name}")`);
  return page;
}
