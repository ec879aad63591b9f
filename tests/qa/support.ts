/**
 * A line with its QA service on a temporary folder: the line harness of tests/line (simulated
 * device, in-memory records and audit) plus a QaService on the same data folder. And reads of a
 * code made to decode to a chosen grade.
 */
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { parseKey } from '../../src/codes/index.js';
import type { CodeRef } from '../../src/line/model.js';
import { type QaPolicy, QaService } from '../../src/qa/index.js';
import { type Harness, KEY, makeDir, removeDir, startLine, until } from '../line/harness.js';

export { KEY, until };

export interface QaRig {
  dir: string;
  device: EngraverDevice;
  h: Harness;
  qa: QaService;
  /** Stops QA and the line (not the device), like a clean daemon stop. */
  stop(): Promise<void>;
  /** Starts the line and QA again on the same folder and device. */
  restart(policy?: QaPolicy): Promise<void>;
}

export const EVERY_CASE: QaPolicy = { kind: 'every-case', cases: 3, minGrade: 'C' };

const rigs: QaRig[] = [];

export async function startQa(
  dir: string,
  h: Harness,
  policy: QaPolicy,
  maxSegmentBytes?: number,
): Promise<QaService> {
  const qa = new QaService({
    line: h.line,
    policy,
    key: parseKey(KEY),
    dataDir: dir,
    engraverId: 'eng-1',
    audit: {
      async record(e) {
        h.audit.push(e);
      },
    },
    ...(maxSegmentBytes !== undefined ? { maxSegmentBytes } : {}),
  });
  await qa.start();
  return qa;
}

export async function qaRig(
  policy: QaPolicy = EVERY_CASE,
  options: { markingTimeMs?: number; maxSegmentBytes?: number } = {},
): Promise<QaRig> {
  const dir = await makeDir();
  const device = new EngraverDevice({ markingTimeMs: options.markingTimeMs ?? 0 });
  const h = await startLine(dir, device);
  const qa = await startQa(dir, h, policy, options.maxSegmentBytes);
  const rig: QaRig = {
    dir,
    device,
    h,
    qa,
    async stop() {
      await rig.qa.stop();
      await rig.h.stop();
    },
    async restart(next = policy) {
      await rig.stop();
      rig.h = await startLine(dir, device);
      rig.qa = await startQa(dir, rig.h, next, options.maxSegmentBytes);
    },
  };
  rigs.push(rig);
  return rig;
}

/** Stops every rig made since the last call and removes its folder (for afterEach). */
export async function cleanupRigs(): Promise<void> {
  for (const rig of rigs.splice(0)) {
    await rig.stop().catch(() => {});
    rig.device.close();
    await removeDir(rig.dir);
  }
}

/** Gear parity symbols c15, c14, ... left illegible to reach each grade with a clean text read. */
const ERASED_FOR: Record<'A' | 'B' | 'C' | 'D', number> = { A: 0, B: 4, C: 5, D: 6 };

/**
 * A read of `code` that decodes on its own, confidently, to grade `grade` (A..D), or a case on
 * which nothing could be read (F). The gear read starts at tooth `rotation`.
 */
export function readOf(
  code: Pick<CodeRef, 'text' | 'gear'>,
  grade: 'A' | 'B' | 'C' | 'D' | 'F',
  rotation = 17,
): { text: string; gear?: string } {
  if (grade === 'F') return { text: '??????????' };
  const teeth = [...code.gear];
  for (let i = 0; i < ERASED_FOR[grade]; i++) for (let b = 0; b < 5; b++) teeth[8 + 5 * (15 - i) + b] = '?';
  const gear = teeth.join('');
  return { text: code.text, gear: gear.slice(rotation) + gear.slice(0, rotation) };
}

/** A clean text read with no gear: it decodes to the code but cannot identify it (grade D, not confident). */
export function textOnly(code: Pick<CodeRef, 'text'>): { text: string } {
  return { text: code.text };
}

export const FEDERAL = { brand: 'Federal HST', lacquered: false };
export const LACQUERED = { brand: 'Wolf Steel', lacquered: true };
