/**
 * An engraved order stays on the Line screen until QA and the registry complete it: the operator
 * watches the order's bar fill with engraved pins, then verified ones; the QA backlog beside the
 * engraver counts down as the QA station passes each firearm; once every record is accepted the
 * order leaves the Line screen and reads complete in Orders. The QA station says an unknown
 * serial beside the firearm field, and numbers each firearm's reads from 1. On a manufacturer's
 * line the Receive screen has no third-party lead, and writes nothing in its place.
 *
 * Runs Debian's Chromium through playwright-core against `stampline start` with its simulators.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/line-rig.js';
import { requireCommands } from '../support/tools.js';
import { BrowserLine, logIn as logInAs, PEOPLE, type Person, screensDir, sel } from './support/line.js';

const ORDER = {
  id: 'ORD-E1',
  make: 'Acme Arms',
  model: 'P9 Compact',
  caliber: '9mm',
  destination: 'FFL-1-23-456-78-9A-12345',
  firearms: [{ serial: 'E1-0001' }, { serial: 'E1-0002' }],
};

const canRun = requireCommands('chromium');
const line = new BrowserLine();
const onLine = (name: string) => `${sel(name)}[data-order="${ORDER.id}"]`;

function logIn(person: Person): Promise<Page> {
  return logInAs(line, person);
}

async function codeOf(serial: string): Promise<{ text: string; gear: string }> {
  const r = await line.erp('GET', `/api/v1/records/${serial}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.firearm.code;
}

/** The Line screen's bar of the order, as its data says: engraved, verified, accepted. */
async function bar(page: Page): Promise<[number, number, number]> {
  const el = page.locator(`${onLine('engraved-order')} ${sel('order-progress')}`);
  return [
    Number(await el.getAttribute('data-engraved')),
    Number(await el.getAttribute('data-verified')),
    Number(await el.getAttribute('data-accepted')),
  ];
}

/**
 * One case read at the QA station, the whole code and ring as a clean case shows them; resolves
 * once the answer says it recorded read `n` of this firearm.
 */
async function readCase(qa: Page, serial: string, n: number): Promise<void> {
  const code = await codeOf(serial);
  await qa.fill(sel('qa-text'), code.text);
  await qa.fill(sel('qa-gear'), code.gear);
  await qa.fill(sel('qa-ammo'), 'Federal 115 gr FMJ');
  await qa.press(sel('qa-text'), 'Enter');
  await qa
    .locator(sel('qa-result'))
    .locator('h2', { hasText: `of ${serial} recorded` })
    .locator(sel('qa-read-number'))
    .filter({ hasText: new RegExp(`^${n}$`) })
    .waitFor({ timeout: 30_000 });
}

describe.runIf(canRun)('an engraved order on the Line screen', () => {
  beforeAll(async () => {
    await line.start({ kind: 'every-case', cases: 2, minGrade: 'C' });
    await mkdir(screensDir(line.dir), { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await line.cleanup();
  });

  it('stays there, with the QA backlog beside the engraver, until QA and the registry complete it', async () => {
    expect((await line.erp('POST', '/api/v1/orders', ORDER)).status).toBe(201);
    const operator = await logIn(PEOPLE.operator);
    await operator.goto(`${line.url}/#/line`);
    await operator.waitForSelector(sel('line-backlog'));
    await operator.click(`${onLine('order-start')}`);

    // Engraved: the order leaves the engraver's list for the engraved ones, its bar all engraved
    // and nothing verified, and both firearms wait for QA.
    await operator.waitForSelector(onLine('engraved-order'), { timeout: 60_000 });
    expect(await operator.locator(onLine('active-order')).count()).toBe(0);
    expect(await operator.textContent(`${onLine('engraved-order')} .chip`)).toBe('engraved');
    expect(await bar(operator)).toEqual([2, 0, 0]);
    await operator.waitForSelector(`${sel('qa-backlog')}:has-text("2 firearms")`);
    expect(await operator.textContent(sel('engraved-total'))).toBe('1');
    // the registry took the engraved records: nothing queued for it
    await operator.waitForSelector(`${sel('outbox-queued')}:has-text("0 records")`, { timeout: 30_000 });
    expect(await operator.textContent(sel('outbox-oldest'))).toBe('none waiting');
    await operator.screenshot({ path: join(screensDir(line.dir), 'line-engraved.png'), fullPage: true });

    const qa = await logIn(PEOPLE.qa);
    await qa.waitForSelector(sel('qa-pick-form'));
    // A serial the line does not know is said beside the firearm field, not under the read.
    await qa.fill(sel('qa-firearm'), 'NOPE-0001');
    await qa.press(sel('qa-firearm'), 'Enter');
    await qa.waitForSelector(`${sel('qa-pick-form')} ${sel('qa-pick-error')} ${sel('error-message')}`);
    expect(await qa.textContent(sel('qa-pick-error'))).toContain('QA_UNKNOWN_FIREARM');
    expect(await qa.textContent(sel('qa-pick-error'))).toContain('NOPE-0001');
    expect(await qa.getAttribute(sel('qa-firearm'), 'aria-invalid')).toBe('true');
    await qa.screenshot({ path: join(screensDir(line.dir), 'qa-unknown-firearm.png') });

    // The first firearm: two clean cases, numbered 1 and 2; it passes.
    await qa.fill(sel('qa-firearm'), 'E1-0001');
    await qa.press(sel('qa-firearm'), 'Enter');
    await qa.waitForSelector(`${sel('qa-serial')}:has-text("E1-0001")`);
    expect(await qa.locator(`${sel('qa-pick-error')} *`).count()).toBe(0);
    await readCase(qa, 'E1-0001', 1);
    await readCase(qa, 'E1-0001', 2);
    await qa.waitForSelector(`${sel('qa-verdict')}:has-text("pass")`, { timeout: 30_000 });

    // The operator's screen follows without a reload: one verified, one still awaiting QA, and
    // the order still engraved, not complete.
    await operator.waitForSelector(`${sel('qa-backlog')}:has-text("1 firearm")`, { timeout: 30_000 });
    await until(async () => ((await bar(operator))[1] === 1 ? true : undefined), 'one verified on the bar');
    expect((await line.erp('GET', `/api/v1/orders/${ORDER.id}`)).body.order.state).toBe('engraved');

    // The second firearm's reads are its own: numbered from 1 again.
    await qa.fill(sel('qa-firearm'), 'E1-0002');
    await qa.press(sel('qa-firearm'), 'Enter');
    await qa.waitForSelector(`${sel('qa-serial')}:has-text("E1-0002")`);
    await readCase(qa, 'E1-0002', 1);
    await readCase(qa, 'E1-0002', 2);
    await qa.waitForSelector(`${sel('qa-verdict')}:has-text("pass")`, { timeout: 30_000 });
    await qa.context().close();

    // Every firearm passed and the registry accepted every record: complete, off the Line screen.
    await operator.waitForSelector(onLine('engraved-order'), { state: 'detached', timeout: 30_000 });
    await operator.waitForSelector(`${sel('qa-backlog')}:has-text("0 firearms")`);
    const done = (await line.erp('GET', `/api/v1/orders/${ORDER.id}`)).body;
    expect(done.order.state).toBe('complete');
    expect(done.counts).toMatchObject({ engraved: 2, verified: 2, accepted: 2 });

    await operator.goto(`${line.url}/#/orders/${ORDER.id}`);
    await operator.waitForSelector(`${sel('order-facts')} .chip:has-text("complete")`);
    const progress = operator.locator(sel('order-progress'));
    expect(await progress.getAttribute('data-accepted')).toBe('2');
    expect(await operator.textContent(sel('order-counts'))).toContain(
      '2 of 2 engraved · 2 verified · 2 accepted',
    );
    await operator.goto(`${line.url}/#/orders`);
    await operator.waitForSelector(
      `${sel('order-row')}[data-order="${ORDER.id}"] .chip:has-text("complete")`,
    );
    await operator.context().close();
  }, 240_000);
});

describe.runIf(canRun)("a manufacturer's line", () => {
  const maker = new BrowserLine();

  beforeAll(async () => {
    await maker.start({ kind: 'every-case', cases: 1, minGrade: 'C' }, { issuerKind: 'manufacturer' });
  }, 180_000);

  afterAll(async () => {
    await maker.cleanup();
  });

  it('shows the Receive screen without the third-party lead, and no stray text in its place', async () => {
    const context = await maker.browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${maker.url}/#/login`);
    await page.fill(sel('login-user'), PEOPLE.operator.name);
    await page.fill(sel('login-password'), PEOPLE.operator.password);
    await page.click(sel('login-submit'));
    await page.waitForSelector(`${sel('whoami')}:has-text("${PEOPLE.operator.name}")`);
    await page.goto(`${maker.url}/#/receive`);
    await page.waitForSelector(sel('receive-form'));
    const main = page.locator('main');
    expect(await main.locator('.lead').count()).toBe(0);
    // text nodes run together in textContent: "Receive firearmsnullWhat arrived…" was the bug
    expect(await main.textContent()).not.toContain('null');
    await context.close();
  }, 60_000);
});
