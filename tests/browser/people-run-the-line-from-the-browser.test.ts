/**
 * People run the line from the browser: an operator logs in, starts an order and watches it
 * finish; the QA station enters a read that passes and one that fails, and the failed firearm
 * goes to rework and gets a new pin; a certificate is printed; a third-party engraver receives
 * pistols by scanning serials. Afterwards the audit trail verifies and names who did what.
 *
 * Runs Debian's Chromium through playwright-core against `stampline start` with its simulators.
 * `npm run screens` runs it with STAMPLINE_SCREENS=docs to refresh docs/screens/.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/line-rig.js';
import { requireCommands } from '../support/tools.js';
import { BrowserLine, logIn as logInAs, PEOPLE, type Person, screensDir, sel } from './support/line.js';

const ORDER = {
  id: 'ORD-B1',
  make: 'Acme Arms',
  model: 'P9 Compact',
  caliber: '9mm',
  destination: 'FFL-1-23-456-78-9A-12345',
  firearms: [{ serial: 'B1-0001' }, { serial: 'B1-0002' }, { serial: 'B1-0003' }],
};

const canRun = requireCommands('chromium');
const line = new BrowserLine();
let screens = '';

function logIn(person: Person): Promise<Page> {
  return logInAs(line, person);
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screens, `${name}.png`), fullPage: false });
}

async function record(serial: string) {
  const r = await line.erp('GET', `/api/v1/records/${serial}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as {
    firearm: {
      state: string;
      code?: { text: string; gear: string; index: number };
      voided: Array<{ text: string }>;
      qa?: { result: string };
    };
  };
}

describe.runIf(canRun)('people run the line from the browser', () => {
  beforeAll(async () => {
    await line.start({ kind: 'every-case', cases: 1, minGrade: 'C' });
    screens = screensDir(line.dir);
    await mkdir(screens, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await line.cleanup();
  });

  it('refuses a wrong password, then logs the operator in with the screens of the role', async () => {
    const context = await line.browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${line.url}/`);
    await page.waitForSelector(sel('login-form'));
    await shoot(page, 'login');
    await page.fill(sel('login-user'), PEOPLE.operator.name);
    await page.fill(sel('login-password'), 'not-the-password');
    await page.click(sel('login-submit'));
    await page.waitForSelector(sel('error-message'));
    expect(await page.textContent(sel('error-code'))).toContain('AUTH_BAD_LOGIN');
    await page.fill(sel('login-password'), PEOPLE.operator.password);
    await page.click(sel('login-submit'));
    await page.waitForSelector(`${sel('whoami')}:has-text("${PEOPLE.operator.name}")`);
    expect(await page.isVisible(sel('nav-line'))).toBe(true);
    expect(await page.isVisible(sel('nav-orders'))).toBe(true);
    // an operator neither reads the audit trail nor manages users
    expect(await page.locator(sel('nav-audit')).count()).toBe(0);
    expect(await page.locator(sel('nav-users')).count()).toBe(0);
    await context.close();
  }, 60_000);

  it('lets the operator start an order and watch it finish live', async () => {
    const created = await line.erp('POST', '/api/v1/orders', ORDER);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const page = await logIn(PEOPLE.operator);
    await page.goto(`${line.url}/#/orders/${ORDER.id}`);
    await page.waitForSelector(`${sel('order-start')}[data-order="${ORDER.id}"]`);
    await page.click(`${sel('order-start')}[data-order="${ORDER.id}"]`);
    // The page follows the line's events: every firearm turns engraved without a reload.
    await page.waitForSelector(`${sel('order-counts')}:has-text("3 of 3 engraved")`, { timeout: 60_000 });
    await page.waitForSelector(`${sel('order-facts')} :text("engraved")`, { timeout: 30_000 });
    expect(await page.locator(`${sel('firearm-row')}[data-state="engraved"]`).count()).toBe(3);
    await shoot(page, 'order');
    await page.goto(`${line.url}/#/line`);
    await page.waitForSelector(sel('line-engraver'));
    await shoot(page, 'line');
    await page.context().close();
  }, 120_000);

  it('verifies a firearm whose case reads well, and sends one that fails to rework', async () => {
    const page = await logIn(PEOPLE.qa);
    await page.waitForSelector(sel('qa-pick-form'));

    // The first firearm: the case shows the whole code and ring.
    const good = (await record('B1-0001')).firearm.code!;
    await page.fill(sel('qa-firearm'), 'B1-0001');
    await page.press(sel('qa-firearm'), 'Enter');
    await page.waitForSelector(sel('qa-read-form'));
    // Before anything is recorded, the station says what the policy needs of a read.
    expect(await page.textContent(sel('qa-policy-needs'))).toContain(
      'Grade C needs the gear ring: a text-only read grades D at best',
    );
    expect(await page.textContent(sel('qa-read-form'))).not.toContain('optional (Alt+G)');
    // A letter the code never uses is kept as typed and counts as illegible (codes.md, Reads).
    await page.fill(sel('qa-text'), 'u-o');
    expect(await page.inputValue(sel('qa-text'))).toBe('UO');
    expect(await page.textContent(sel('qa-text-hint'))).toContain('counts as illegible');
    await page.fill(sel('qa-text'), good.text);
    await page.fill(sel('qa-gear'), good.gear);
    await page.fill(sel('qa-ammo'), 'Federal 115 gr FMJ');
    await page.press(sel('qa-text'), 'Enter');
    await page.waitForSelector(`${sel('qa-verdict')}:has-text("pass")`, { timeout: 30_000 });
    await page.waitForSelector(sel('qa-verified'));
    await shoot(page, 'qa');
    expect((await record('B1-0001')).firearm.qa?.result).toBe('pass');

    // The second firearm: the case carries another gun's code, so it cannot identify this one.
    const before = (await record('B1-0002')).firearm.code!;
    const other = (await record('B1-0003')).firearm.code!;
    await page.fill(sel('qa-firearm'), 'B1-0002');
    await page.press(sel('qa-firearm'), 'Enter');
    await page.waitForSelector(`${sel('qa-serial')}:has-text("B1-0002")`);
    await page.fill(sel('qa-text'), other.text);
    await page.fill(sel('qa-gear'), other.gear);
    await page.press(sel('qa-text'), 'Enter');
    // A read that would void the code is not recorded before the person confirms it.
    await page.waitForSelector(sel('qa-confirm'), { timeout: 30_000 });
    expect(await page.textContent(sel('qa-confirm'))).toMatch(/characters agree with the firearm's code/);
    expect(await page.textContent(sel('qa-confirm'))).not.toContain(before.text);
    expect((await record('B1-0002')).firearm.voided).toHaveLength(0);
    await shoot(page, 'qa-confirm');
    await page.click(sel('qa-confirm-fail'));
    await page.waitForSelector(`${sel('qa-verdict')}:has-text("fail")`, { timeout: 30_000 });
    await page.waitForSelector(sel('qa-rework'));
    await page.context().close();

    // Rework: the code is voided and the line engraves a new pin with a new code.
    const reworked = await until(
      async () => {
        const r = await record('B1-0002');
        return r.firearm.state === 'engraved' && r.firearm.code!.index !== before.index ? r : undefined;
      },
      'the reworked firearm to be engraved with a new code',
      60_000,
    );
    expect(reworked.firearm.voided.map((v) => v.text)).toContain(before.text);

    const viewer = await logIn(PEOPLE.supervisor);
    await viewer.goto(`${line.url}/#/records/B1-0002`);
    await viewer.waitForSelector(sel('record-codes'));
    expect(await viewer.locator(sel('record-code-row')).count()).toBe(2);
    await shoot(viewer, 'records');
    // A case fired with the scrapped pin still names the firearm, as a voided code.
    await viewer.goto(`${line.url}/#/records`);
    await viewer.fill(sel('identify-reads'), `${before.text.slice(0, 5)}-${before.text.slice(5, 9)}?`);
    await viewer.click(sel('identify-submit'));
    await viewer.waitForSelector(`${sel('identify-outcome')}[data-outcome="identified"]`, {
      timeout: 30_000,
    });
    expect(await viewer.textContent(sel('identify-serial'))).toBe('B1-0002');
    expect(await viewer.textContent(sel('identify-voided'))).toContain('A voided code');
    await shoot(viewer, 'identify');
    await viewer.goto(`${line.url}/#/stats/ammo`);
    await viewer.waitForSelector(sel('stats-table'));
    await shoot(viewer, 'statistics');
    await viewer.context().close();
  }, 180_000);

  it('prints the certificate of a verified firearm and of the shipment', async () => {
    const page = await logIn(PEOPLE.supervisor);
    const code = (await record('B1-0001')).firearm.code!;
    await page.goto(`${line.url}/certificates/firearms/B1-0001`);
    await page.waitForSelector(sel('cert-code'));
    expect(await page.textContent(sel('cert-serial'))).toContain('B1-0001');
    expect((await page.textContent(sel('cert-code')))!.replace(/[^0-9A-Z]/g, '')).toBe(code.text);
    expect((await page.textContent(sel('cert-verdict')))!.toLowerCase()).toContain('pass');
    expect(await page.textContent(sel('cert-licence'))).toContain('FFL-9-99-999-07-9X-99999');
    expect(await page.textContent(sel('cert-destination'))).toContain(ORDER.destination);
    expect(await page.locator(sel('cert-not-certified')).count()).toBe(0);
    await shoot(page, 'certificate');
    const pdf = join(line.dir, 'certificate.pdf');
    await page.pdf({ path: pdf, format: 'A4', printBackground: true });
    expect((await stat(pdf)).size).toBeGreaterThan(5_000);
    expect((await readFile(pdf)).subarray(0, 5).toString()).toBe('%PDF-');

    await page.goto(`${line.url}/certificates/orders/${ORDER.id}`);
    await page.waitForSelector(sel('cert-firearms'));
    expect(await page.textContent(sel('cert-firearms'))).toContain('B1-0003');
    await page.context().close();
  }, 60_000);

  it('lets a third-party engraver receive pistols by scanning their serials', async () => {
    const page = await logIn(PEOPLE.operator);
    await page.goto(`${line.url}/#/receive`);
    await page.waitForSelector(sel('receive-form'));
    await page.fill(sel('receive-make'), 'Other Maker');
    await page.fill(sel('receive-model'), 'OM-45');
    await page.fill(sel('receive-caliber'), '.45 ACP');
    await page.fill(sel('receive-destination'), 'FFL-5-55-555-55-5A-55555');
    await page.fill(sel('receive-id'), 'RCV-B2');
    for (const serial of ['OM-1001', 'OM-1002', 'OM-1001']) {
      await page.fill(sel('receive-serial'), serial);
      await page.press(sel('receive-serial'), 'Enter');
    }
    // the repeated scan is flagged, not added
    await page.waitForSelector(sel('receive-flag'));
    await until(async () => (await page.locator(sel('receive-row')).count()) === 2, 'two scanned serials');
    await shoot(page, 'receive');
    await page.click(sel('receive-create'));
    await page.waitForSelector(sel('receive-done'));
    const order = await line.erp('GET', '/api/v1/orders/RCV-B2');
    expect(order.status).toBe(200);
    expect(order.body.order?.destination ?? order.body.destination).toBe('FFL-5-55-555-55-5A-55555');
    await page.context().close();
  }, 60_000);

  it('shows a supervisor the audit trail and an admin the users', async () => {
    const page = await logIn(PEOPLE.supervisor);
    await page.goto(`${line.url}/#/audit`);
    await page.waitForSelector(sel('audit-table'));
    await page.click(sel('audit-verify'));
    await page.waitForSelector(sel('audit-verified'));
    // One line an entry, a long reason (the failed QA's) and none alike, the date whole.
    const rows = page.locator(sel('audit-row'));
    const heights: number[] = [];
    for (let i = 0; i < (await rows.count()); i++) heights.push((await rows.nth(i).boundingBox())!.height);
    expect(heights.length).toBeGreaterThan(5);
    expect(Math.max(...heights) - Math.min(...heights)).toBeLessThan(2);
    const voidRow = rows.filter({ hasText: 'code.void' }).first();
    expect(await voidRow.locator('td').nth(5).textContent()).toMatch(/^failed QA: .{30,}/);
    expect(await rows.first().locator('td').nth(1).textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    await shoot(page, 'audit');
    await page.context().close();
    const admin = await logIn(PEOPLE.admin);
    await admin.goto(`${line.url}/#/users`);
    await admin.waitForSelector(`${sel('user-row')}[data-user="${PEOPLE.qa.name}"]`);
    await shoot(admin, 'users');
    await admin.context().close();
  }, 60_000);

  it('leaves an audit trail that verifies and names the people who acted', async () => {
    expect(await line.stopDaemon()).toBe(0);
    const verify = await line.cli(['audit', 'verify']);
    expect(verify.code, verify.out).toBe(0);
    const actions = async (actor: string) => {
      const r = await line.cli(['audit', 'show', '--actor', actor, '--limit', '1000', '--json']);
      expect(r.code, r.out).toBe(0);
      return (JSON.parse(r.out) as Array<{ action: string }>).map((e) => e.action);
    };
    expect(await actions(PEOPLE.operator.name)).toEqual(expect.arrayContaining(['order.start']));
    expect((await actions(PEOPLE.qa.name)).some((a) => a.startsWith('qa.'))).toBe(true);
  }, 60_000);
});
