/**
 * Builds a line on a temporary data folder with the simulated device behind a direct engraver,
 * an in-memory record sink and audit sink, so line tests read like the operator's story.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngraverDevice } from '../../simulators/engraver/device.js';
import { parseKey } from '../../src/codes/index.js';
import { CodeAllocator } from '../../src/line/allocator.js';
import { Line, type NewOrder } from '../../src/line/line.js';
import { LineRepository } from '../../src/line/repository.js';
import type { RegistryRecord } from '../../src/registry/record.js';
import { DocumentStore } from '../../src/store/documents.js';
import { DeviceEngraver } from '../support/device-engraver.js';

export const KEY = '000102030405060708090a0b0c0d0e0f';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

export interface Harness {
  dir: string;
  device: EngraverDevice;
  engraver: DeviceEngraver;
  line: Line;
  store: DocumentStore;
  repo: LineRepository;
  records: RegistryRecord[];
  audit: Array<{ actor: string; action: string; subject: string }>;
  /** Stops this line's services (not the device), like a clean daemon stop. */
  stop(): Promise<void>;
}

export async function makeDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'stampline-line-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function startLine(
  dir: string,
  device: EngraverDevice,
  options: { block?: { start: number; size: number }; jobTimeoutMs?: number; autoStart?: boolean } = {},
): Promise<Harness> {
  const store = new DocumentStore({ dir: join(dir, 'docs') });
  await store.start();
  const repo = new LineRepository(store, join(dir, 'serials'));
  await repo.start();
  const allocator = new CodeAllocator(
    store,
    1,
    parseKey(KEY),
    options.block ?? { start: 1000, size: 100_000 },
  );
  await allocator.start();
  const engraver = new DeviceEngraver(device);
  const records: RegistryRecord[] = [];
  const audit: Harness['audit'] = [];
  const line = new Line({
    repo,
    allocator,
    engraver,
    sink: {
      async report(r) {
        records.push(...r);
      },
    },
    audit: {
      async record(e) {
        audit.push(e);
      },
    },
    recipeFor: () => ({ power: 500, frequency: 30, speed: 200, passes: 2 }),
    records: {
      issuer: 1,
      line: 'line-1',
      certifiedBy: { kind: 'manufacturer', licence: 'FFL-1-23-456-07-8A-90123' },
      engraverId: 'eng-1',
    },
    logger: quiet,
    mirror: true,
    jobTimeoutMs: options.jobTimeoutMs ?? 10_000,
    autoStart: options.autoStart ?? false,
  });
  await engraver.start();
  await line.start();
  return {
    dir,
    device,
    engraver,
    line,
    store,
    repo,
    records,
    audit,
    async stop() {
      await line.stop();
      await engraver.stop();
      await repo.stop();
      await store.stop();
    },
  };
}

export function order(id: string, count: number, extra: Partial<NewOrder> = {}): NewOrder {
  return {
    id,
    make: 'Acme',
    model: 'P1',
    target: 'firing-pin',
    firearms: Array.from({ length: count }, (_, i) => ({
      serial: `${id.toUpperCase()}-${String(i).padStart(4, '0')}`,
    })),
    ...extra,
  };
}

/** Resolves when `predicate` holds, polling; fails the test with `what` after timeoutMs. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
