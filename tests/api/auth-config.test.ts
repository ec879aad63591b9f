import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { maskSecrets } from '../../src/config/secrets.js';
import { ERP_TOKEN, failure, minimal, OPERATOR_TOKEN, problems } from '../config/helpers.js';

const QA_TOKEN = 'qa-station-token-0123';

function withAuth(auth: Record<string, unknown>) {
  const c = minimal();
  c.auth = { ...c.auth, ...auth };
  return c;
}

describe('auth.qaToken', () => {
  it('is optional and absent by default', () => {
    expect(parseConfig(minimal()).auth.qaToken).toBeUndefined();
  });

  it('is taken when it differs from the other tokens, and masked as a secret', () => {
    const config = parseConfig(withAuth({ operatorToken: OPERATOR_TOKEN, qaToken: QA_TOKEN }));
    expect(config.auth.qaToken).toBe(QA_TOKEN);
    expect(JSON.stringify(maskSecrets(config))).not.toContain(QA_TOKEN);
  });

  it.each([
    ['the ERP token', { qaToken: ERP_TOKEN }, 'auth.erpToken'],
    ['the operator token', { operatorToken: OPERATOR_TOKEN, qaToken: OPERATOR_TOKEN }, 'auth.operatorToken'],
  ])('is refused when it equals %s', async (_what, auth, other) => {
    const err = await failure(() => parseConfig(withAuth(auth)));
    const found = problems(err).find((p) => p.path === 'auth.qaToken');
    expect(found?.message).toContain('must differ');
    expect(found?.message).toContain(other);
  });

  it('is refused when short or with spaces, like the other tokens', async () => {
    const short = await failure(() => parseConfig(withAuth({ qaToken: 'short' })));
    expect(problems(short).find((p) => p.path === 'auth.qaToken')?.message).toContain('at least 16');
    const spaced = await failure(() => parseConfig(withAuth({ qaToken: 'abcdefgh ijklmnop' })));
    expect(problems(spaced).find((p) => p.path === 'auth.qaToken')?.message).toContain('without spaces');
  });
});
