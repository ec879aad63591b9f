import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engravedRecord } from '../../simulators/registry/sample.js';
import { Outbox } from '../../src/registry/outbox.js';
import { fakeLine } from '../support/fake-line.js';
import { apiFor, type Caller, type TestApi } from './support.js';

let dir: string;
let outbox: Outbox;
let app: FastifyInstance;
let api: TestApi;
const audit: Array<{ actor: string; action: string; subject: string; reason?: string }> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampline-api-outbox-'));
  outbox = new Outbox({ dir: join(dir, 'outbox') });
  await outbox.start();
  audit.length = 0;
  // The outbox routes do not touch the line; only the live events and metrics listen to it.
  const line = fakeLine();
  api = await apiFor(line, join(dir, 'auth'), {
    outbox,
    audit: {
      async record(e) {
        audit.push(e);
      },
    },
  });
  app = api.app;
});

afterEach(async () => {
  await api.close();
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

const post = (url: string, body?: object, who: Caller = 'token operator') =>
  app.inject({ method: 'POST', url, payload: body ?? {}, headers: api.as(who) });

describe('rejected records in the outbox', () => {
  it('are listed with the registry’s reason', async () => {
    const id = await rejectedRecord();
    const res = await app.inject({ method: 'GET', url: '/api/v1/outbox', headers: api.as('token erp') });
    expect(res.json().rejected).toEqual([expect.objectContaining({ recordId: id })]);
    expect(JSON.stringify(res.json().rejected)).toContain('code-conflict');
  });

  it('can be sent again by an operator, which the audit trail records', async () => {
    const id = await rejectedRecord();
    const res = await post(`/api/v1/outbox/${id}/retry`);
    expect(res.statusCode).toBe(200);
    expect(outbox.rejected()).toEqual([]);
    expect(outbox.pending().map((r) => r.recordId)).toContain(id);
    expect(audit.filter((e) => e.action.startsWith('outbox.'))).toEqual([
      { actor: 'operator', action: 'outbox.retry', subject: `record:${id}` },
    ]);
  });

  it('can be dismissed only by a supervisor or an admin, and only with a reason', async () => {
    const id = await rejectedRecord();
    const byOperator = await post(`/api/v1/outbox/${id}/dismiss`, { reason: 'gone' }, 'user operator');
    expect(byOperator.statusCode).toBe(403);
    expect(byOperator.json().error.message).toContain('user supervisor');
    const bare = await post(`/api/v1/outbox/${id}/dismiss`, {}, 'user supervisor');
    expect(bare.statusCode).toBe(400);
    expect(bare.json().problems[0].path).toBe('reason');
    expect(outbox.rejected()).toHaveLength(1);

    const res = await post(
      `/api/v1/outbox/${id}/dismiss`,
      { reason: 'bound by mistake at the registry; fixed there' },
      'user supervisor',
    );
    expect(res.statusCode).toBe(200);
    expect(outbox.depth()).toBe(0);
    expect(audit.at(-1)).toMatchObject({
      actor: 'sam',
      action: 'outbox.dismiss',
      reason: expect.stringContaining('fixed there'),
    });
  });

  it('answers 404 for a record it does not hold, and refuses a caller who may not retry', async () => {
    const missing = await post('/api/v1/outbox/00000000-0000-4000-8000-000000000000/retry');
    expect(missing.statusCode).toBe(404);
    const id = await rejectedRecord();
    expect((await post(`/api/v1/outbox/${id}/retry`, {}, 'token erp')).statusCode).toBe(403);
    expect((await post(`/api/v1/outbox/${id}/retry`, {}, 'user qa')).statusCode).toBe(403);
    expect(outbox.rejected()).toHaveLength(1);
  });
});
