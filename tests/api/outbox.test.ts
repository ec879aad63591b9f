import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engravedRecord } from '../../simulators/registry/sample.js';
import { buildApp } from '../../src/api/app.js';
import type { Line } from '../../src/line/line.js';
import { Outbox } from '../../src/registry/outbox.js';

const OPERATOR = 'operator-token-0123456789';
let dir: string;
let outbox: Outbox;
let app: FastifyInstance;
const audit: Array<{ actor: string; action: string; subject: string; reason?: string }> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampline-api-outbox-'));
  outbox = new Outbox({ dir });
  await outbox.start();
  audit.length = 0;
  app = buildApp({
    // The outbox routes do not touch the line.
    line: {} as Line,
    tokens: { operator: OPERATOR },
    outbox: {
      depth: () => outbox.depth(),
      pending: (n) => outbox.pending(n),
      rejected: () => outbox.rejected(),
      retry: (id, by) => outbox.retry(id, by),
      dismiss: (id, reason, by) => outbox.dismiss(id, reason, by),
    },
    audit: {
      async record(e) {
        audit.push(e);
      },
    },
    health: () => ({ ok: true, checks: {} }),
    version: 'test',
  });
});

afterEach(async () => {
  await app.close();
  await outbox.stop();
  await rm(dir, { recursive: true, force: true });
});

async function rejectedRecord(): Promise<string> {
  const record = engravedRecord();
  await outbox.enqueue([record]);
  outbox.takeToSend(10);
  outbox.acknowledge({ recordId: record.recordId, status: 'rejected', reason: 'code-conflict' });
  return record.recordId;
}

const post = (url: string, body?: object, token = OPERATOR) =>
  app.inject({ method: 'POST', url, payload: body ?? {}, headers: { authorization: `Bearer ${token}` } });

describe('rejected records in the outbox', () => {
  it('are listed with the registry’s reason', async () => {
    const id = await rejectedRecord();
    const res = await app.inject({ method: 'GET', url: '/api/v1/outbox' });
    expect(res.json().rejected).toEqual([expect.objectContaining({ recordId: id })]);
    expect(JSON.stringify(res.json().rejected)).toContain('code-conflict');
  });

  it('can be sent again by an operator, which the audit trail records', async () => {
    const id = await rejectedRecord();
    const res = await post(`/api/v1/outbox/${id}/retry`);
    expect(res.statusCode).toBe(200);
    expect(outbox.rejected()).toEqual([]);
    expect(outbox.pending().map((r) => r.recordId)).toContain(id);
    expect(audit).toEqual([{ actor: 'operator', action: 'outbox.retry', subject: `record:${id}` }]);
  });

  it('can be dismissed only with a reason', async () => {
    const id = await rejectedRecord();
    const bare = await post(`/api/v1/outbox/${id}/dismiss`, {});
    expect(bare.statusCode).toBe(400);
    expect(bare.json().problems[0].path).toBe('reason');
    expect(outbox.rejected()).toHaveLength(1);

    const res = await post(`/api/v1/outbox/${id}/dismiss`, {
      reason: 'bound by mistake at the registry; fixed there',
    });
    expect(res.statusCode).toBe(200);
    expect(outbox.depth()).toBe(0);
    expect(audit.at(-1)).toMatchObject({
      action: 'outbox.dismiss',
      reason: expect.stringContaining('fixed there'),
    });
  });

  it('answers 404 for a record it does not hold, and refuses a caller without the operator token', async () => {
    const missing = await post('/api/v1/outbox/00000000-0000-4000-8000-000000000000/retry');
    expect(missing.statusCode).toBe(404);
    const id = await rejectedRecord();
    expect((await post(`/api/v1/outbox/${id}/retry`, {}, 'not-the-token')).statusCode).toBe(403);
    expect(outbox.rejected()).toHaveLength(1);
  });
});
