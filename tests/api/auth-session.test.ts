import { afterEach, describe, expect, it, vi } from 'vitest';
import { Auth } from '../../src/api/auth/index.js';
import { DEFAULT_SCRYPT } from '../../src/api/auth/passwords.js';
import { LONGEST_WAIT_MS, waitAfter } from '../../src/api/auth/throttle.js';
import { UsersFile } from '../../src/api/auth/users-file.js';
import {
  buildTestApp,
  errorBody,
  login,
  PASSWORD,
  type Rig,
  rig,
  seedUsers,
  TOKENS,
  tempDataDir,
} from './auth-support.js';

let r: Rig;
afterEach(async () => {
  await r?.close();
});

const users = () => [
  { name: 'ana', role: 'operator' as const, password: PASSWORD },
  { name: 'quinn', role: 'qa' as const, password: PASSWORD },
  { name: 'root.admin', role: 'admin' as const, password: PASSWORD },
  { name: 'gone', role: 'operator' as const, password: PASSWORD, disabled: true },
];

function attempt(password: string, username = 'ana', remoteAddress = '10.0.0.1') {
  return r.app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { username, password },
    remoteAddress,
  });
}

function whoAmI(cookie: string) {
  return r.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
}

describe('logging in', () => {
  it('starts a session: the cookie is HttpOnly, SameSite=Strict, Path=/, and names the user', async () => {
    r = await rig(users());
    const res = await attempt(PASSWORD);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.user).toEqual({ name: 'ana', role: 'operator' });
    expect(Date.parse(body.expiresAt)).toBe(r.clock.t + 30 * 60_000);
    const cookie = res.cookies.find((c) => c.name === 'stampline_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const me = await whoAmI(`stampline_session=${cookie?.value}`);
    expect(me.statusCode).toBe(200);
    expect(me.json().identity).toEqual({ kind: 'user', name: 'ana', role: 'operator' });
    expect(r.audit.entries.at(-1)).toMatchObject({
      actor: 'ana',
      action: 'session.login',
      subject: 'user:ana',
    });
  });

  it('gives one answer for a wrong password and an unknown user, and records both', async () => {
    r = await rig(users());
    const wrong = await attempt('not the password at all');
    const unknown = await attempt(PASSWORD, 'nobody');
    for (const res of [wrong, unknown]) {
      expect(res.statusCode).toBe(401);
      expect(res.cookies).toEqual([]);
    }
    expect(errorBody(wrong).error).toEqual(errorBody(unknown).error);
    expect(errorBody(wrong).error.code).toBe('AUTH_BAD_LOGIN');
    const failed = r.audit.entries.filter((e) => e.action === 'session.login-failed');
    expect(failed.map((e) => [e.subject, e.reason, e.actor])).toEqual([
      ['user:ana', 'wrong password', 'client:10.0.0.1'],
      ['user:nobody', 'unknown user', 'client:10.0.0.1'],
    ]);
  });

  it('takes the user name in any case and with spaces around it', async () => {
    r = await rig(users());
    const res = await attempt(PASSWORD, '  ANA ');
    expect(res.statusCode).toBe(200);
    expect(res.json().user.name).toBe('ana');
  });

  it('refuses a disabled user, saying so only to someone who knows the password', async () => {
    r = await rig(users());
    const right = await attempt(PASSWORD, 'gone');
    expect(right.statusCode).toBe(403);
    expect(errorBody(right).error.message).toContain('disabled');
    const wrong = await attempt('a wrong password here', 'gone');
    expect(wrong.statusCode).toBe(401);
    expect(errorBody(wrong).error.code).toBe('AUTH_BAD_LOGIN');
  });

  it('refuses a body without the fields, naming each', async () => {
    r = await rig(users());
    const res = await r.app.inject({ method: 'POST', url: '/api/v1/session', payload: { user: 'ana' } });
    expect(res.statusCode).toBe(400);
    const paths = errorBody(res).problems?.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['username', 'password']));
  });

  it('checks passwords against hashes made with the default scrypt parameters', async () => {
    const data = await tempDataDir();
    const auth = new Auth({ dataDir: data.dir, tokens: {}, sessionTtlMinutes: 5 });
    try {
      await auth.start();
      const app = await buildTestApp(auth);
      const admin = await login(app, 'x', 'y').catch((e: Error) => e.message);
      expect(admin).toContain('401');
      // a user made with the defaults, as the command line makes them
      const { hashPassword } = await import('../../src/api/auth/passwords.js');
      const hash = await hashPassword(PASSWORD);
      expect(hash).toMatchObject({ algorithm: 'scrypt', ...DEFAULT_SCRYPT });
      const { UsersFile } = await import('../../src/api/auth/users-file.js');
      const { addUser } = await import('../../src/api/auth/users.js');
      await new UsersFile(data.dir).update((doc) => {
        addUser(doc, { name: 'dee', role: 'qa', password: hash }, 'cli:test', new Date());
      });
      await expect(login(app, 'dee', PASSWORD)).resolves.toMatch(/^stampline_session=/);
      await app.close();
    } finally {
      await auth.stop();
      await data.remove();
    }
  }, 60_000);
});

describe('stronger hashing parameters', () => {
  it('apply to a stored password at its next login, without ending that session', async () => {
    // the users were hashed with FAST_HASH (N = 1024)
    r = await rig(users(), { hashParams: { N: 2048, r: 8, p: 1 } });
    const cookie = await login(r.app, 'ana', PASSWORD);
    const file = new UsersFile(r.dataDir);
    await vi.waitFor(
      async () => {
        const ana = (await file.read()).doc.users.find((u) => u.name === 'ana');
        expect(ana?.password.N).toBe(2048);
      },
      { timeout: 10_000 },
    );
    expect((await whoAmI(cookie)).statusCode).toBe(200);
    await expect(login(r.app, 'ana', PASSWORD)).resolves.toBeTruthy();
    const quinn = (await file.read()).doc.users.find((u) => u.name === 'quinn');
    expect(quinn?.password.N).toBe(1024);
  });
});

describe('failed logins are slowed down', () => {
  it('after five failures in a row the next attempt waits 1 s, even with the right password', async () => {
    r = await rig(users());
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong password ${i}`)).statusCode).toBe(401);
    const refused = await attempt(PASSWORD);
    expect(refused.statusCode).toBe(429);
    expect(errorBody(refused).error.code).toBe('AUTH_THROTTLED');
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.cookies).toEqual([]);

    r.clock.advance(1000);
    expect((await attempt(PASSWORD)).statusCode).toBe(200);
  });

  it('doubles the wait with each further failure, and a success starts the count again', async () => {
    r = await rig(users());
    for (let i = 0; i < 5; i++) await attempt('wrong password!!');
    const waits: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await attempt('wrong password!!');
      waits.push(String(res.headers['retry-after']));
      r.clock.advance(Number(res.headers['retry-after']) * 1000);
      expect((await attempt('wrong password!!')).statusCode).toBe(401);
    }
    expect(waits).toEqual(['1', '2', '4', '8']);
    r.clock.advance(16_000);
    expect((await attempt(PASSWORD)).statusCode).toBe(200);
    // a fresh row: four failures and a fifth are let through again
    for (let i = 0; i < 5; i++) expect((await attempt('wrong password!!')).statusCode).toBe(401);
  });

  it('waits at most 15 minutes', () => {
    expect([4, 5, 6, 7].map(waitAfter)).toEqual([0, 1000, 2000, 4000]);
    expect(waitAfter(15)).toBe(LONGEST_WAIT_MS);
    expect(waitAfter(500)).toBe(15 * 60_000);
  });

  it('counts per user name whatever the address, and per address whatever the name', async () => {
    r = await rig(users());
    for (let i = 0; i < 5; i++) await attempt('wrong password!!', 'ana', `10.0.1.${i}`);
    expect((await attempt(PASSWORD, 'ana', '10.0.2.1')).statusCode).toBe(429);
    // quinn from a fresh address is not held back by ana's row
    expect((await attempt(PASSWORD, 'quinn', '10.0.2.2')).statusCode).toBe(200);

    for (let i = 0; i < 5; i++) await attempt('wrong password!!', `guess${i}`, '10.9.9.9');
    const res = await attempt(PASSWORD, 'quinn', '10.9.9.9');
    expect(res.statusCode).toBe(429);
    expect(errorBody(res).error.message).toContain('this address');
  });
});

describe('sessions', () => {
  it('expire after the configured time without a request, and each request moves the expiry', async () => {
    r = await rig(users());
    const cookie = await login(r.app, 'ana', PASSWORD);
    for (let i = 0; i < 3; i++) {
      r.clock.advance(29 * 60_000);
      const res = await whoAmI(cookie);
      expect(res.statusCode).toBe(200);
      expect(Date.parse(res.json().expiresAt)).toBe(r.clock.t + 30 * 60_000);
    }
    r.clock.advance(30 * 60_000);
    const late = await whoAmI(cookie);
    expect(late.statusCode).toBe(401);
    expect(errorBody(late).error.code).toBe('AUTH_REQUIRED');
    expect(errorBody(late).error.message).toContain('expired');
  });

  it('end with logout: the cookie is cleared and no longer works', async () => {
    r = await rig(users());
    const cookie = await login(r.app, 'ana', PASSWORD);
    const out = await r.app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie, 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(out.statusCode).toBe(204);
    const cleared = out.cookies.find((c) => c.name === 'stampline_session');
    expect(cleared?.value).toBe('');
    expect(cleared?.expires?.getTime() ?? 0).toBeLessThanOrEqual(Date.now());
    expect((await whoAmI(cookie)).statusCode).toBe(401);
    expect(r.audit.entries.at(-1)).toMatchObject({ actor: 'ana', action: 'session.logout' });
  });

  it('logout without a session is harmless', async () => {
    r = await rig(users());
    const res = await r.app.inject({ method: 'DELETE', url: '/api/v1/session' });
    expect(res.statusCode).toBe(204);
  });

  it('refuses a made-up or malformed cookie', async () => {
    r = await rig(users());
    for (const value of ['x'.repeat(43), 'short', '']) {
      const res = await whoAmI(`stampline_session=${value}`);
      expect(res.statusCode).toBe(401);
    }
  });

  it('of a user disabled by an admin end at once', async () => {
    r = await rig(users());
    const ana = await login(r.app, 'ana', PASSWORD);
    const admin = await login(r.app, 'root.admin', PASSWORD);
    const res = await r.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/ana',
      headers: { cookie: admin },
      payload: { disabled: true },
    });
    expect(res.statusCode).toBe(200);
    const after = await whoAmI(ana);
    expect(after.statusCode).toBe(401);
  });

  it('of a user disabled in the users file (by the command line) end at once', async () => {
    r = await rig(users());
    const ana = await login(r.app, 'ana', PASSWORD);
    const { UsersFile } = await import('../../src/api/auth/users-file.js');
    const { changeUser } = await import('../../src/api/auth/users.js');
    await new UsersFile(r.dataDir).update((doc) => {
      changeUser(doc, 'ana', { disabled: true }, 'cli:test', new Date());
    });
    expect((await whoAmI(ana)).statusCode).toBe(401);
  });

  it('a new password ends the user’s other sessions but not the one it was changed in', async () => {
    r = await rig(users());
    const first = await login(r.app, 'root.admin', PASSWORD);
    const second = await login(r.app, 'root.admin', PASSWORD);
    const ana = await login(r.app, 'ana', PASSWORD);
    r.clock.advance(1000);
    const own = await r.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/root.admin',
      headers: { cookie: first },
      payload: { password: 'a brand new passphrase' },
    });
    expect(own.statusCode).toBe(200);
    expect((await whoAmI(first)).statusCode).toBe(200);
    expect((await whoAmI(second)).statusCode).toBe(401);
    expect((await whoAmI(ana)).statusCode).toBe(200);

    r.clock.advance(1000);
    const other = await r.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/ana',
      headers: { cookie: first },
      payload: { password: 'another new passphrase' },
    });
    expect(other.statusCode).toBe(200);
    expect((await whoAmI(ana)).statusCode).toBe(401);
    await expect(login(r.app, 'ana', 'another new passphrase')).resolves.toBeTruthy();
  });

  it('are forgotten when the daemon stops: a restart logs everyone out', async () => {
    r = await rig(users());
    const cookie = await login(r.app, 'ana', PASSWORD);
    const again = new Auth({ dataDir: r.dataDir, tokens: TOKENS, sessionTtlMinutes: 30 });
    await again.start();
    const app = await buildTestApp(again);
    try {
      const res = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
      expect(res.statusCode).toBe(401);
      expect(errorBody(res).error.message).toContain('log in again');
    } finally {
      await app.close();
      await again.stop();
    }
  });
});

describe('bearer tokens', () => {
  it.each([
    ['erp', TOKENS.erp],
    ['operator', TOKENS.operator],
    ['qa', TOKENS.qa],
  ])('the %s token is the machine identity of that role', async (role, token) => {
    r = await rig();
    const res = await r.app.inject({
      method: 'GET',
      url: '/api/v1/session',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ identity: { kind: 'token', name: role, role } });
  });

  it('an unknown token or another scheme is refused with the reason', async () => {
    r = await rig();
    const cases = [
      [`Bearer ${TOKENS.erp}x`, 'not one this line knows'],
      [`Bearer ${TOKENS.erp.slice(0, -1)}`, 'not one this line knows'],
      ['Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'Bearer <token>'],
    ];
    for (const [authorization, why] of cases) {
      const res = await r.app.inject({ method: 'GET', url: '/api/v1/session', headers: { authorization } });
      expect(res.statusCode).toBe(401);
      expect(errorBody(res).error.message).toContain(why);
    }
  });

  it('a token absent from the configuration is no token', async () => {
    r = await rig([], { tokens: { erp: TOKENS.erp } });
    const res = await r.app.inject({
      method: 'GET',
      url: '/api/v1/session',
      headers: { authorization: `Bearer ${TOKENS.qa}` },
    });
    expect(res.statusCode).toBe(401);
  });
});

describe('a change carried by a session cookie must be JSON', () => {
  it('is refused with 415 as a form or text, and goes through as JSON', async () => {
    r = await rig(users());
    const cookie = await login(r.app, 'ana', PASSWORD);
    for (const [type, payload] of [
      ['application/x-www-form-urlencoded', 'a=1'],
      ['text/plain', '{}'],
      ['multipart/form-data; boundary=x', '--x--'],
    ]) {
      const res = await r.app.inject({
        method: 'POST',
        url: '/test/orders.control',
        headers: { cookie, 'content-type': type as string },
        payload: payload as string,
      });
      expect(res.statusCode).toBe(415);
      expect(errorBody(res).error.code).toBe('AUTH_JSON_REQUIRED');
      expect(errorBody(res).error.message).toContain('application/json');
    }
    const none = await r.app.inject({ method: 'POST', url: '/test/orders.control', headers: { cookie } });
    expect(none.statusCode).toBe(415);
    const json = await r.app.inject({
      method: 'POST',
      url: '/test/orders.control',
      headers: { cookie, 'content-type': 'application/json; charset=utf-8' },
      payload: '{}',
    });
    expect(json.statusCode).toBe(200);
    expect(json.json().actor).toBe('ana');
  });

  it('does not apply to a machine with a bearer token, nor to reading', async () => {
    r = await rig(users());
    const token = await r.app.inject({
      method: 'POST',
      url: '/test/orders.control',
      headers: { authorization: `Bearer ${TOKENS.operator}` },
    });
    expect(token.statusCode).toBe(200);
    const cookie = await login(r.app, 'ana', PASSWORD);
    expect((await whoAmI(cookie)).statusCode).toBe(200);
  });
});

describe('with no users yet', () => {
  it('serves tokens, refuses every login, and tells at start how to create the first admin', async () => {
    const warnings: string[] = [];
    const logger = {
      info() {},
      debug() {},
      error() {},
      warn: (_o: object, m?: string) => warnings.push(m ?? ''),
    };
    r = await rig([], { logger });
    expect(warnings.join('\n')).toContain('stampline user add NAME --role admin');
    expect((await attempt('admin', 'admin')).statusCode).toBe(401);
    const token = await r.app.inject({
      method: 'GET',
      url: '/api/v1/session',
      headers: { authorization: `Bearer ${TOKENS.erp}` },
    });
    expect(token.statusCode).toBe(200);
  });

  it('sees a user added to the file later without a restart', async () => {
    r = await rig();
    expect((await attempt(PASSWORD, 'late')).statusCode).toBe(401);
    await seedUsers(r.dataDir, [{ name: 'late', role: 'admin', password: PASSWORD }]);
    r.clock.advance(10_000);
    expect((await attempt(PASSWORD, 'late', '10.0.0.77')).statusCode).toBe(200);
  });
});
