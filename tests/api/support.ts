/**
 * What the API tests share: a line with the real QA service and audit trail, and an API with a
 * caller of every role (users logged in with a session cookie, machines with their tokens).
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { type ApiOptions, buildApp } from '../../src/api/app.js';
import { Auth } from '../../src/api/auth/index.js';
import type { Identity } from '../../src/api/auth/types.js';
import { parseKey } from '../../src/codes/index.js';
import { type QaPolicy, QaService } from '../../src/qa/index.js';
import { Outbox } from '../../src/registry/outbox.js';
import type { LineApi } from '../../src/shared.js';
import { AuditTrail } from '../../src/store/audit.js';
import { type Harness, KEY, makeDir, removeDir, startLine, until } from '../line/harness.js';

export const CALLERS = {
  'user operator': { kind: 'user', name: 'olga', role: 'operator' },
  'user qa': { kind: 'user', name: 'quentin', role: 'qa' },
  'user supervisor': { kind: 'user', name: 'sam', role: 'supervisor' },
  'user admin': { kind: 'user', name: 'ada', role: 'admin' },
  'token erp': { kind: 'token', name: 'erp', role: 'erp' },
  'token operator': { kind: 'token', name: 'operator', role: 'operator' },
  'token qa': { kind: 'token', name: 'qa', role: 'qa' },
} as const satisfies Record<string, Identity>;

export type Caller = keyof typeof CALLERS;

/** Lowest scrypt cost the access layer takes: logging in stays quick in tests. */
const FAST_HASH = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';
const TOKENS = {
  erp: 'test-token-erp-0123456789',
  operator: 'test-token-operator-0123456789',
  qa: 'test-token-qa-0123456789',
};

export interface TestApi {
  app: FastifyInstance;
  auth: Auth;
  /** The headers of a request sent by `who`: a bearer token for a machine, the session cookie for a user. */
  as(who: Caller): Record<string, string>;
  close(): Promise<void>;
}

/**
 * The API over a line with the real access layer: a user of each role, logged in, and the three
 * machine tokens. Process metrics are left out.
 */
export async function apiFor(
  line: LineApi,
  dataDir: string,
  extra: Partial<ApiOptions> = {},
): Promise<TestApi> {
  const auth = new Auth({
    dataDir,
    tokens: TOKENS,
    sessionTtlMinutes: 60,
    hashParams: FAST_HASH,
    pollMs: 60_000,
    ...(extra.audit ? { audit: extra.audit } : {}),
  });
  await auth.start();
  for (const id of Object.values(CALLERS)) {
    if (id.kind === 'user')
      await auth.addUser({ name: id.name, role: id.role, password: PASSWORD }, 'cli:test');
  }
  const app = buildApp({
    line,
    auth,
    health: () => ({ ok: true, checks: {} }),
    version: 'test',
    processMetrics: false,
    ...extra,
  });
  const cookies = new Map<string, string>();
  for (const id of Object.values(CALLERS)) {
    if (id.kind !== 'user') continue;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { username: id.name, password: PASSWORD },
    });
    if (res.statusCode !== 200) throw new Error(`cannot log ${id.name} in: ${res.body}`);
    const cookie = res.cookies.find((c) => c.name === 'stampline_session');
    cookies.set(id.name, `stampline_session=${cookie!.value}`);
  }
  return {
    app,
    auth,
    as(who): Record<string, string> {
      const id = CALLERS[who];
      return id.kind === 'user'
        ? { cookie: cookies.get(id.name)! }
        : { authorization: `Bearer ${TOKENS[id.role as keyof typeof TOKENS]}` };
    },
    async close() {
      await app.close();
      await auth.stop();
    },
  };
}

export interface Station {
  h: Harness;
  qa: QaService;
  audit: AuditTrail;
  api: TestApi;
  stop(): Promise<void>;
}

/** A line with the simulated engraver, its QA service and audit trail, and the API over them. */
export async function startStation(
  dir: string,
  device: EngraverDevice,
  options: { policy?: QaPolicy; api?: Partial<ApiOptions> } = {},
): Promise<Station> {
  const h = await startLine(dir, device);
  const audit = new AuditTrail({ dataDir: join(dir, 'trail') });
  await audit.start();
  const qa = new QaService({
    line: h.line,
    policy: options.policy ?? { kind: 'every-case', cases: 2, minGrade: 'C' },
    key: parseKey(KEY),
    dataDir: join(dir, 'qa'),
    engraverId: 'eng-1',
    audit,
  });
  await qa.start();
  const station: Station = {
    h,
    qa,
    audit,
    api: await apiFor(h.line, join(dir, 'auth'), { qa, audit, ...options.api }),
    async stop() {
      // The API a test put in place of the first one, if it did.
      await station.api.close();
      await qa.stop();
      await h.stop();
      await audit.stop();
    },
  };
  return station;
}

/** The station a file's tests share, as the current test sees it. */
export interface StationInUse extends Omit<Station, 'stop'> {
  readonly dir: string;
  readonly device: EngraverDevice;
  /** the registry outbox given to the API, when asked for */
  readonly outbox: Outbox;
}

/**
 * Registers the hooks that start a station over a fresh folder and simulated engraver, once for
 * the file or afresh for each test, and stop it and remove the folder after. The fields answer
 * the station of the test that reads them.
 */
export function useStation(options: {
  per: 'file' | 'test';
  markingTimeMs: number;
  /** give the API a real outbox under the station's folder */
  outbox?: boolean;
  api?: Partial<ApiOptions>;
}): StationInUse {
  let dir: string | undefined;
  let device: EngraverDevice | undefined;
  let outbox: Outbox | undefined;
  let station: Station | undefined;
  const [before, after] = options.per === 'file' ? [beforeAll, afterAll] : [beforeEach, afterEach];
  before(async () => {
    dir = await makeDir();
    device = new EngraverDevice({ markingTimeMs: options.markingTimeMs });
    if (options.outbox) {
      outbox = new Outbox({ dir: join(dir, 'outbox') });
      await outbox.start();
    }
    station = await startStation(dir, device, {
      api: { ...(outbox ? { outbox } : {}), ...options.api },
    });
  });
  after(async () => {
    await station?.stop();
    await outbox?.stop();
    device?.close();
    if (dir) await removeDir(dir);
    station = undefined;
    outbox = undefined;
    device = undefined;
    dir = undefined;
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the station is read outside its tests');
    return value;
  };
  return {
    get dir() {
      return started(dir);
    },
    get device() {
      return started(device);
    },
    get outbox() {
      return started(outbox);
    },
    get h() {
      return started(station).h;
    },
    get qa() {
      return started(station).qa;
    },
    get audit() {
      return started(station).audit;
    },
    get api() {
      return started(station).api;
    },
    /** a test may put another API in place of the first; the station closes it */
    set api(api: TestApi) {
      started(station).api = api;
    },
  };
}

export interface Engraved {
  text: string;
  gear: string;
}

/** Submits an order of `serials` as the ERP does, and leaves it queued. */
export async function submitOrder(
  s: Pick<Station, 'api'>,
  orderId: string,
  serials: string[],
): Promise<void> {
  const created = await s.api.app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: s.api.as('token erp'),
    payload: { id: orderId, make: 'Acme', model: 'P1', firearms: serials.map((serial) => ({ serial })) },
  });
  if (created.statusCode !== 201) throw new Error(`order refused: ${created.body}`);
}

/** Submits an order of `serials` and runs it to done; answers the codes by serial. */
export async function engrave(
  s: Pick<Station, 'api'>,
  orderId: string,
  serials: string[],
): Promise<Map<string, Engraved>> {
  const { app, as } = s.api;
  await submitOrder(s, orderId, serials);
  await app.inject({
    method: 'POST',
    url: `/api/v1/orders/${orderId}/start`,
    headers: as('token operator'),
    payload: {},
  });
  const view = () =>
    app.inject({ method: 'GET', url: `/api/v1/orders/${orderId}`, headers: as('token erp') });
  await until(async () => (await view()).json().order.state === 'engraved', `order ${orderId} done`);
  const firearms = (await view()).json().firearms as Array<{ serial: string; code: Engraved }>;
  return new Map(firearms.map((f) => [f.serial, { text: f.code.text, gear: f.code.gear }]));
}
