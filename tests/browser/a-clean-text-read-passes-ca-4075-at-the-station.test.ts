/**
 * The QA station's text-only trap is gone: under ca-4075 a person types the 10 characters seen
 * on each examined case, no gear ring, and the firearm passes, because the registry could
 * identify it from each of them. The station says so before the first read is recorded.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/line-rig.js';
import { requireCommands } from '../support/tools.js';
import { BrowserLine, PEOPLE, sel } from './support/line.js';

const canRun = requireCommands('chromium');
const line = new BrowserLine();

describe.runIf(canRun)('a clean text read passes ca-4075 at the station', () => {
  beforeAll(async () => {
    await line.start({ kind: 'ca-4075', rounds: 4 });
  }, 180_000);

  afterAll(async () => {
    await line.cleanup();
  });

  it('passes four cases read as text alone', async () => {
    const created = await line.erp('POST', '/api/v1/orders', {
      id: 'ORD-CA',
      make: 'Acme Arms',
      model: 'P9',
      destination: 'FFL-1-23-456-78-9A-12345',
      firearms: [{ serial: 'CA-0001' }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const operator = await line.browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const op = await operator.newPage();
    await logIn(op, PEOPLE.operator.name, PEOPLE.operator.password);
    await op.goto(`${line.url}/#/orders/ORD-CA`);
    await op.click(`${sel('order-start')}[data-order="ORD-CA"]`);
    const text = await until(
      async () => {
        const r = await line.erp('GET', '/api/v1/records/CA-0001');
        return r.body?.firearm?.state === 'engraved' ? (r.body.firearm.code.text as string) : undefined;
      },
      'the firearm to be engraved',
      60_000,
    );
    await operator.close();

    const context = await line.browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await logIn(page, PEOPLE.qa.name, PEOPLE.qa.password);
    await page.goto(`${line.url}/#/qa`);
    await page.fill(sel('qa-firearm'), 'CA-0001');
    await page.press(sel('qa-firearm'), 'Enter');
    await page.waitForSelector(`${sel('qa-serial')}:has-text("CA-0001")`);
    expect(await page.textContent(sel('qa-policy-needs'))).toContain(
      'pick this firearm out among its 10,000,000 codes',
    );
    await page.fill(sel('qa-ammo'), 'Federal 115 gr FMJ');
    for (const round of [1, 2, 3, 4]) {
      await page.fill(sel('qa-round'), String(round));
      await page.fill(sel('qa-text'), text);
      await page.press(sel('qa-text'), 'Enter');
      await page.waitForSelector(`${sel('qa-result')} h2:has-text("round ${round}")`, { timeout: 30_000 });
      expect(await page.locator(sel('qa-confirm')).count()).toBe(0);
      expect(await page.textContent(sel('qa-identifies'))).toContain(
        'among the 10,000,000 codes at the registry',
      );
    }
    await page.waitForSelector(`${sel('qa-verdict')}:has-text("pass")`);
    await page.waitForSelector(sel('qa-verified'));
    const after = await line.erp('GET', '/api/v1/records/CA-0001');
    expect(after.body.firearm.qa).toMatchObject({ result: 'pass', policy: 'ca-4075', casings: 4 });
    // the record says each read identified the firearm at the registry, not that it did not
    await page.goto(`${line.url}/#/records/CA-0001`);
    await page.waitForSelector(sel('record-reads'));
    const rows = await page.locator(sel('record-read')).allTextContents();
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toContain('at the registry');
    await context.close();
  }, 180_000);
});

async function logIn(page: Page, name: string, password: string): Promise<void> {
  await page.goto(`${line.url}/#/login`);
  await page.fill(sel('login-user'), name);
  await page.fill(sel('login-password'), password);
  await page.click(sel('login-submit'));
  await page.waitForSelector(`${sel('whoami')}:has-text("${name}")`);
}
