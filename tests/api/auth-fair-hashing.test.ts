/**
 * A burst of bad logins at one name, from many addresses, does not make a correct login of
 * another name wait: the throttle lets only a few of the burst reach the hasher, and the names
 * take turns at it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FREE_FAILURES } from '../../src/api/auth/throttle.js';
import { PASSWORD, type Rig, rig } from './auth-support.js';

let r: Rig;
afterEach(async () => {
  await r?.close();
});

function attempt(username: string, password: string, remoteAddress: string) {
  return r.app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { username, password },
    remoteAddress,
  });
}

describe('logins under a burst of bad ones', () => {
  it("a correct password does not wait behind another name's failures", async () => {
    r = await rig([
      { name: 'ana', role: 'operator', password: PASSWORD },
      { name: 'quinn', role: 'qa', password: PASSWORD },
    ]);
    const finished: string[] = [];
    const bad = Array.from({ length: 34 }, (_, i) =>
      attempt('ana', `wrong password ${i}`, `127.0.0.${i + 2}`).then((res) => {
        finished.push(`ana ${res.statusCode}`);
        return res.statusCode;
      }),
    );
    const good = attempt('quinn', PASSWORD, '127.0.0.200').then((res) => {
      finished.push('quinn');
      return res.statusCode;
    });
    const [statuses, quinn] = await Promise.all([Promise.all(bad), good]);
    expect(quinn).toBe(200);
    // Only the free failures were judged; the rest were turned away at once, unhashed.
    expect(statuses.filter((s) => s === 401)).toHaveLength(FREE_FAILURES);
    expect(statuses.filter((s) => s === 429)).toHaveLength(34 - FREE_FAILURES);
    // The hash in hand when quinn arrived may finish first; no more of ana's.
    const judgedBefore = finished.slice(0, finished.indexOf('quinn')).filter((f) => f === 'ana 401');
    expect(judgedBefore.length).toBeLessThanOrEqual(1);
  });

  it('names take turns at the hasher: a second name is judged between the tries of the first', async () => {
    r = await rig([
      { name: 'ana', role: 'operator', password: PASSWORD },
      { name: 'quinn', role: 'qa', password: PASSWORD },
    ]);
    const finished: string[] = [];
    const tries = [
      ...Array.from({ length: 3 }, (_, i) => ['ana', `wrong ${i}`, `10.0.0.${i + 1}`] as const),
      ['quinn', 'wrong once', '10.0.1.1'] as const,
    ];
    await Promise.all(
      tries.map(([name, password, address]) =>
        attempt(name, password, address).then(() => finished.push(name)),
      ),
    );
    expect(finished.indexOf('quinn')).toBeLessThanOrEqual(1);
  });
});
