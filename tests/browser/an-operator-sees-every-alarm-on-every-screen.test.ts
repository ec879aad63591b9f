/**
 * An operator sees every alarm on every screen: the engraver faults (its interlock open) while
 * an order runs, and the banner shows the fault with what to do on each screen the operator can
 * open, to QA too (without Acknowledge, which QA may not do). The operator acknowledges it from
 * the banner, which keeps showing it, acknowledged, until the interlock is closed and the
 * engraver reset; then it goes. The Alarms screen shows the raise, who acknowledged it and when,
 * and the clear.
 *
 * The engraver simulator runs in the test, so the test can open and close its interlock.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { ModbusTcpServer } from '../../simulators/engraver/modbus-tcp-server.js';
import { freePort } from '../support/line-rig.js';
import { requireCommands } from '../support/tools.js';
import { BrowserLine, logIn as logInAs, PEOPLE, type Person, screensDir, sel } from './support/line.js';

const canRun = requireCommands('chromium');
const line = new BrowserLine();
const device = new EngraverDevice({ markingTimeMs: 150 });
let server: ModbusTcpServer | undefined;
const FAULT = `${sel('alarm-banner')} ${sel('alarm')}[data-kind="engraver-fault"]`;

/** docs/screens/ with `npm run screens`, else the test's folder. */
async function shoot(page: Page, name: string): Promise<void> {
  const dir = screensDir(line.dir);
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}

function logIn(person: Person): Promise<Page> {
  return logInAs(line, person);
}

describe.runIf(canRun)('an operator sees every alarm on every screen', () => {
  beforeAll(async () => {
    const port = await freePort();
    server = new ModbusTcpServer({ device, port, host: '127.0.0.1' });
    await server.start();
    // A loaded machine can take minutes to start a daemon and a browser.
    await line.start(
      { kind: 'every-case', cases: 1, minGrade: 'C' },
      { engraverPort: port, serveTimeoutMs: 600_000 },
    );
  }, 900_000);

  afterAll(async () => {
    await line.cleanup();
    await server?.stop();
    device.close();
  });

  it('shows the engraver fault on every screen, lets the operator acknowledge it, and clears it after the reset', async () => {
    const operator = await logIn(PEOPLE.operator);
    // nothing is wrong yet: no banner
    await operator.waitForSelector(sel('alarm-banner'), { state: 'hidden' });

    device.interlockOpen = true;
    const created = await line.erp('POST', '/api/v1/orders', {
      id: 'ORD-AL1',
      make: 'Acme Arms',
      model: 'P9 Compact',
      caliber: '9mm',
      destination: 'FFL-1-23-456-78-9A-12345',
      firearms: [{ serial: 'AL-0001' }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await operator.goto(`${line.url}/#/orders/ORD-AL1`);
    await operator.click(`${sel('order-start')}[data-order="ORD-AL1"]`);

    // The fault reaches the page by the event stream, without a reload.
    await operator.waitForSelector(FAULT);
    const message = await operator.textContent(`${FAULT} ${sel('alarm-message')}`);
    expect(message).toMatch(/FAULT \(fault 1\).*press Reset on the Line screen/);

    // On every screen of the operator's menu.
    const screens = await operator.$$eval('#nav a', (as) =>
      [...new Set(as.map((a) => a.getAttribute('href')))].filter((x): x is string => !!x),
    );
    expect(screens).toContain('#/alarms');
    for (const hash of screens) {
      await operator.goto(`${line.url}/${hash}`);
      await operator.waitForSelector('main h1');
      await operator.waitForSelector(FAULT);
      expect(await operator.isVisible(FAULT), hash).toBe(true);
    }

    // QA sees it too, and may not acknowledge it.
    const qa = await logIn(PEOPLE.qa);
    await qa.waitForSelector(FAULT);
    expect(await qa.locator(`${FAULT} ${sel('alarm-ack')}`).count()).toBe(0);
    await qa.context().close();

    // The operator acknowledges it from the banner, with the keyboard.
    await operator.goto(`${line.url}/#/line`);
    await operator.waitForSelector(`${FAULT} ${sel('alarm-ack')}`);
    await operator.focus(`${FAULT} ${sel('alarm-ack')}`);
    await operator.keyboard.press('Enter');
    await operator.waitForSelector(`${FAULT}[data-acknowledged="yes"]`);
    await shoot(operator, 'alarm-banner');
    expect(await operator.textContent(`${FAULT} ${sel('alarm-acked')}`)).toContain(PEOPLE.operator.name);
    // acknowledged is not cleared: the engraver is still in fault
    await operator.waitForTimeout(500);
    expect(await operator.isVisible(FAULT)).toBe(true);

    // The cause is dealt with and the engraver reset: the banner goes.
    device.interlockOpen = false;
    await operator.click(sel('engraver-reset'));
    await operator.waitForSelector(sel('alarm-banner'), { state: 'hidden' });

    // The journal has the raise, the acknowledgement by the operator, and the clear.
    await operator.goto(`${line.url}/#/alarms`);
    const row = `${sel('alarm-row')}[data-kind="engraver-fault"]`;
    await operator.waitForSelector(`${row}[data-state="cleared"]`);
    await shoot(operator, 'alarms');
    // one alarm in all: nothing older to show
    expect(await operator.isVisible(sel('alarm-journal-more'))).toBe(false);
    expect(await operator.textContent(`${row} ${sel('alarm-raised')}`)).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d/);
    expect(await operator.textContent(`${row} ${sel('alarm-acknowledged')}`)).toContain(PEOPLE.operator.name);
    expect(await operator.textContent(`${row} ${sel('alarm-cleared')}`)).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d/);

    // The API says the same, and the acknowledgement is in the audit trail.
    const alarms = await line.erp('GET', '/api/v1/alarms');
    expect(alarms.body.active.filter((a: { kind: string }) => a.kind === 'engraver-fault')).toEqual([]);
    const admin = await logIn(PEOPLE.admin);
    const audit = await admin.request.get(`${line.url}/api/v1/audit?action=alarm.acknowledge`);
    const entries = (await audit.json()) as { entries?: unknown[] } | unknown[];
    expect(JSON.stringify(entries)).toContain(`"actor":"${PEOPLE.operator.name}"`);
    await admin.context().close();
    await operator.context().close();
  }, 600_000);
});
