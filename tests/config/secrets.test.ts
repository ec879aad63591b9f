import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { MASK, maskSecrets } from '../../src/config/secrets.js';
import { ERP_TOKEN, KEY, minimal, OPERATOR_TOKEN } from './helpers.js';

describe('maskSecrets', () => {
  const doc = minimal();
  doc.auth = { erpToken: ERP_TOKEN, operatorToken: OPERATOR_TOKEN };
  doc.mqtt = { url: 'mqtts://registry.example.org', username: 'line-7', password: 'broker-password' };
  const config = parseConfig(doc);

  it('masks every secret that is set, and nothing else', () => {
    const masked = maskSecrets(config);
    expect(masked.issuer.key).toBe(MASK);
    expect(masked.auth.erpToken).toBe(MASK);
    expect(masked.auth.operatorToken).toBe(MASK);
    expect(masked.mqtt.password).toBe(MASK);
    const text = JSON.stringify(masked);
    for (const secret of [KEY, ERP_TOKEN, OPERATOR_TOKEN, 'broker-password'])
      expect(text).not.toContain(secret);
    expect({ ...masked, issuer: config.issuer, auth: config.auth, mqtt: config.mqtt }).toEqual(config);
    expect(masked.mqtt.username).toBe('line-7');
  });

  it('leaves an unset secret absent, and the configuration untouched', () => {
    const plain = parseConfig(minimal());
    const masked = maskSecrets(plain);
    expect('operatorToken' in masked.auth).toBe(false);
    expect('password' in masked.mqtt).toBe(false);
    expect(plain.issuer.key).toBe(KEY);
  });
});
