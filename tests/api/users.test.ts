import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allows, type Identity, type Permission } from '../../src/api/auth/types.js';
import { UsersFile } from '../../src/api/auth/users-file.js';
import { errorBody, login, PASSWORD, PERMISSIONS, type Rig, rig, TOKENS } from './auth-support.js';

const people = () => [
  { name: 'ana', role: 'operator' as const, password: PASSWORD },
  { name: 'quinn', role: 'qa' as const, password: PASSWORD },
  { name: 'sam', role: 'supervisor' as const, password: PASSWORD },
  { name: 'ada', role: 'admin' as const, password: PASSWORD },
];

type Who = 'operator' | 'qa' | 'supervisor' | 'admin' | 'erp token' | 'operator token' | 'qa token';
const WHO: Who[] = ['operator', 'qa', 'supervisor', 'admin', 'erp token', 'operator token', 'qa token'];

/** Who may do what, as issue 5 and docs/access.md state it. */
const MAY: Record<Permission, Who[]> = {
  view: WHO,
  'orders.submit': ['operator', 'supervisor', 'admin', 'erp token', 'operator token'],
  'orders.control': ['operator', 'supervisor', 'admin', 'operator token'],
  'engraver.reset': ['operator', 'supervisor', 'admin', 'operator token'],
  'qa.read': ['qa', 'supervisor', 'admin', 'qa token'],
  identify: ['qa', 'supervisor', 'admin'],
  'outbox.retry': ['operator', 'supervisor', 'admin', 'operator token'],
  'outbox.dismiss': ['supervisor', 'admin'],
  'alarms.ack': ['operator', 'supervisor', 'admin', 'operator token'],
  'audit.read': ['supervisor', 'admin'],
  backup: ['supervisor', 'admin', 'operator token'],
  'users.manage': ['admin'],
};

describe('docs/access.md', () => {
  it('has the table of GRANTS', () => {
    const text = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'access.md'), 'utf8');
    const identities: Identity[] = WHO.map((w) =>
      w.endsWith(' token')
        ? { kind: 'token', name: w.split(' ')[0]!, role: w.split(' ')[0] as Identity['role'] }
        : { kind: 'user', name: 'x', role: w as Identity['role'] },
    );
    for (const permission of PERMISSIONS) {
      const row = text.split('\n').find((l) => l.startsWith(`| \`${permission}\``));
      expect(row, permission).toBeDefined();
      const ticks = row!
        .split('|')
        .slice(3, 3 + WHO.length)
        .map((c) => c.trim() === '✓');
      expect(ticks, permission).toEqual(identities.map((id) => allows(id, permission)));
    }
  });
});

describe('the permission of each role', () => {
  let r: Rig;
  const credentials = new Map<Who, Record<string, string>>();

  beforeAll(async () => {
    r = await rig(people());
    const byRole = { operator: 'ana', qa: 'quinn', supervisor: 'sam', admin: 'ada' };
    for (const [role, name] of Object.entries(byRole)) {
      credentials.set(role as Who, { cookie: await login(r.app, name, PASSWORD) });
    }
    credentials.set('erp token', { authorization: `Bearer ${TOKENS.erp}` });
    credentials.set('operator token', { authorization: `Bearer ${TOKENS.operator}` });
    credentials.set('qa token', { authorization: `Bearer ${TOKENS.qa}` });
  });
  afterAll(async () => {
    await r.close();
  });

  it('covers every permission', () => {
    expect(Object.keys(MAY).sort()).toEqual([...PERMISSIONS].sort());
  });

  for (const permission of PERMISSIONS) {
    it(`${permission}: granted to ${MAY[permission].join(', ')}; refused, naming who may, to the others`, async () => {
      for (const who of WHO) {
        const res = await r.app.inject({
          method: 'POST',
          url: `/test/${permission}`,
          headers: { ...credentials.get(who), 'content-type': 'application/json' },
          payload: '{}',
        });
        if (MAY[permission].includes(who)) {
          expect(res.statusCode, `${who} ${permission}`).toBe(200);
        } else {
          expect(res.statusCode, `${who} ${permission}`).toBe(403);
          const err = errorBody(res).error;
          expect(err.code).toBe('AUTH_FORBIDDEN');
          expect(err.message).toContain(permission);
          expect(err.message).toContain('user admin');
        }
      }
      const anonymous = await r.app.inject({ method: 'POST', url: `/test/${permission}` });
      expect(anonymous.statusCode).toBe(401);
      expect(errorBody(anonymous).error.code).toBe('AUTH_REQUIRED');
    });
  }

  const routes = [
    ['GET', '/api/v1/users', undefined],
    ['POST', '/api/v1/users', { name: 'newbie', role: 'qa', password: 'long enough password' }],
    ['PATCH', '/api/v1/users/ana', { role: 'qa' }],
  ] as const;

  for (const [method, url, payload] of routes) {
    it(`${method} ${url} is refused to everyone but an admin, before its input is looked at`, async () => {
      for (const who of WHO.filter((w) => w !== 'admin')) {
        for (const body of [payload, { nonsense: true }]) {
          const res = await r.app.inject({
            method,
            url,
            headers: { ...credentials.get(who), 'content-type': 'application/json' },
            ...(method === 'GET' ? {} : { payload: body }),
          });
          expect(res.statusCode, `${who}`).toBe(403);
          expect(errorBody(res).error.message).toContain('users.manage');
        }
      }
      const none = await r.app.inject({ method, url, ...(method === 'GET' ? {} : { payload }) });
      expect(none.statusCode).toBe(401);
    });
  }

  it('GET /api/v1/session needs some identity, any', async () => {
    const none = await r.app.inject({ method: 'GET', url: '/api/v1/session' });
    expect(none.statusCode).toBe(401);
    for (const who of WHO) {
      const res = await r.app.inject({
        method: 'GET',
        url: '/api/v1/session',
        headers: credentials.get(who),
      });
      expect(res.statusCode, who).toBe(200);
    }
  });
});

describe('managing users', () => {
  let r: Rig;
  let admin: string;
  afterEach(async () => {
    await r.close();
  });

  async function start() {
    r = await rig(people());
    admin = await login(r.app, 'ada', PASSWORD);
  }

  const send = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
    r.app.inject({
      method,
      url,
      headers: { cookie: admin },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  it('lists the users without their password hashes', async () => {
    await start();
    const res = await send('GET', '/api/v1/users');
    expect(res.statusCode).toBe(200);
    const list = res.json().users;
    expect(list.map((u: { name: string; role: string }) => [u.name, u.role])).toEqual([
      ['ana', 'operator'],
      ['quinn', 'qa'],
      ['sam', 'supervisor'],
      ['ada', 'admin'],
    ]);
    expect(Object.keys(list[0]).sort()).toEqual(
      ['createdAt', 'createdBy', 'disabled', 'name', 'passwordChangedAt', 'role'].sort(),
    );
    expect(res.body).not.toContain('scrypt');
  });

  it('adds a user who can then log in; the trail names the admin', async () => {
    await start();
    r.clock.advance(60_000);
    const res = await send('POST', '/api/v1/users', {
      name: 'newbie',
      role: 'qa',
      password: 'long enough password',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      name: 'newbie',
      role: 'qa',
      disabled: false,
      createdAt: new Date(r.clock.t).toISOString(),
      createdBy: 'ada',
      passwordChangedAt: new Date(r.clock.t).toISOString(),
    });
    await expect(login(r.app, 'newbie', 'long enough password')).resolves.toBeTruthy();
    const entry = r.audit.entries.find((e) => e.action === 'user.create' && e.subject === 'user:newbie');
    expect(entry).toMatchObject({ actor: 'ada', subject: 'user:newbie', after: { role: 'qa' } });
    // recorded, so nothing waits in the file
    expect((await new UsersFile(r.dataDir).read()).doc.pending).toEqual([]);
  });

  it('refuses a second user of the same name', async () => {
    await start();
    const res = await send('POST', '/api/v1/users', {
      name: 'ana',
      role: 'qa',
      password: 'long enough password',
    });
    expect(res.statusCode).toBe(409);
    expect(errorBody(res).error.code).toBe('USER_EXISTS');
  });

  it.each([
    ['a name with capitals', { name: 'Bob', role: 'qa', password: 'long enough password' }, 'name'],
    ['a name starting with a digit', { name: '1bob', role: 'qa', password: 'long enough password' }, 'name'],
    ['a name too long', { name: `b${'o'.repeat(32)}`, role: 'qa', password: 'long enough password' }, 'name'],
    ['a reserved name', { name: 'erp', role: 'qa', password: 'long enough password' }, 'name'],
    ['no name', { role: 'qa', password: 'long enough password' }, 'name'],
    ['an unknown role', { name: 'bob', role: 'boss', password: 'long enough password' }, 'role'],
    ['a short password', { name: 'bob', role: 'qa', password: 'short pw' }, 'password'],
    ['a password too long', { name: 'bob', role: 'qa', password: 'p'.repeat(257) }, 'password'],
    ['a password that is not text', { name: 'bob', role: 'qa', password: 123456789012345 }, 'password'],
    ['an unknown field', { name: 'bob', role: 'qa', password: 'long enough password', admin: true }, ''],
  ])('POST refuses %s, naming the field', async (_what, body, field) => {
    await start();
    const res = await send('POST', '/api/v1/users', body);
    expect(res.statusCode).toBe(400);
    const problems = errorBody(res).problems ?? [];
    expect(problems.length).toBeGreaterThan(0);
    if (field) expect(problems.map((p) => p.path)).toContain(field);
    else expect(problems.map((p) => p.reason).join(' ')).toContain('admin');
    expect((await send('GET', '/api/v1/users')).json().users).toHaveLength(4);
  });

  it('changes a role, disables and enables, each recorded with before and after', async () => {
    await start();
    const role = await send('PATCH', '/api/v1/users/ana', { role: 'supervisor' });
    expect(role.statusCode).toBe(200);
    expect(role.json()).toMatchObject({ name: 'ana', role: 'supervisor', disabled: false });
    const off = await send('PATCH', '/api/v1/users/ana', { disabled: true });
    expect(off.json().disabled).toBe(true);
    expect(
      (
        await r.app.inject({
          method: 'POST',
          url: '/api/v1/session',
          payload: { username: 'ana', password: PASSWORD },
        })
      ).statusCode,
    ).toBe(403);
    const on = await send('PATCH', '/api/v1/users/ana', { disabled: false });
    expect(on.json().disabled).toBe(false);
    await expect(login(r.app, 'ana', PASSWORD)).resolves.toBeTruthy();
    const changes = r.audit.entries.filter((e) => e.subject === 'user:ana' && e.actor === 'ada');
    expect(changes.map((e) => [e.actor, e.action, e.before, e.after])).toEqual([
      ['ada', 'user.role', { role: 'operator' }, expect.objectContaining({ role: 'supervisor' })],
      ['ada', 'user.disable', { disabled: false }, expect.objectContaining({ disabled: true })],
      ['ada', 'user.enable', { disabled: true }, expect.objectContaining({ disabled: false })],
    ]);
  });

  it('sets a password: the old one stops working, the trail says so without any hash', async () => {
    await start();
    r.clock.advance(60_000);
    const res = await send('PATCH', '/api/v1/users/quinn', { password: 'the new long passphrase' });
    expect(res.statusCode).toBe(200);
    expect(res.json().passwordChangedAt).toBe(new Date(r.clock.t).toISOString());
    await expect(login(r.app, 'quinn', PASSWORD)).rejects.toThrow('401');
    await expect(login(r.app, 'quinn', 'the new long passphrase')).resolves.toBeTruthy();
    const entry = r.audit.entries.find((e) => e.action === 'user.password');
    expect(entry).toMatchObject({ actor: 'ada', subject: 'user:quinn' });
    expect(JSON.stringify(entry)).not.toMatch(/scrypt|salt|hash/);
  });

  it('will not disable or demote the last enabled admin, and will once there is another', async () => {
    await start();
    for (const change of [{ disabled: true }, { role: 'supervisor' }]) {
      const res = await send('PATCH', '/api/v1/users/ada', change);
      expect(res.statusCode).toBe(409);
      expect(errorBody(res).error.code).toBe('USER_LAST_ADMIN');
    }
    expect((await send('PATCH', '/api/v1/users/sam', { role: 'admin' })).statusCode).toBe(200);
    const demoted = await send('PATCH', '/api/v1/users/ada', { role: 'supervisor' });
    expect(demoted.statusCode).toBe(200);
    // ada is no admin any more: her session now carries the supervisor role
    const after = await send('GET', '/api/v1/users');
    expect(after.statusCode).toBe(403);
  });

  it('answers 404 for a user that does not exist', async () => {
    await start();
    const res = await send('PATCH', '/api/v1/users/nobody', { disabled: true });
    expect(res.statusCode).toBe(404);
    expect(errorBody(res).error.code).toBe('USER_NOT_FOUND');
  });

  it.each([
    ['nothing to change', 'ana', {}, ''],
    ['an unknown role', 'ana', { role: 'root' }, 'role'],
    ['disabled as text', 'ana', { disabled: 'yes' }, 'disabled'],
    ['a short password', 'ana', { password: 'tiny' }, 'password'],
    ['a malformed name in the path', 'Not%20A%20Name', { disabled: true }, 'name'],
  ])('PATCH refuses %s, naming the field', async (_what, name, body, field) => {
    await start();
    const res = await send('PATCH', `/api/v1/users/${name}`, body);
    expect(res.statusCode).toBe(400);
    const problems = errorBody(res).problems ?? [];
    expect(problems.length).toBeGreaterThan(0);
    if (field) expect(problems.map((p) => p.path)).toContain(field);
    else expect(problems[0]?.reason).toContain('nothing to change');
  });
});
