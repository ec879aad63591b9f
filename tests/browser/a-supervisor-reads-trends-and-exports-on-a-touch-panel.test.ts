/**
 * A supervisor reads the line's trend and the case statistics over a range of days, exports
 * them and the Audit and Records screens to CSV, on a 1024 × 768 touch panel where no screen
 * scrolls sideways, and switches on the high-contrast theme, which the browser keeps.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireCommands } from '../support/tools.js';
import { BrowserLine, logIn as logInAs, PEOPLE, type Person, screensDir, sel } from './support/line.js';

const canRun = requireCommands('chromium');
const line = new BrowserLine();
const PANEL = { width: 1024, height: 768 };
const ORDER = 'ORD-ST1';
const SERIALS = ['ST-0001', 'ST-0002', 'ST-0003'];

const pad = (n: number) => String(n).padStart(2, '0');
const localDay = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

function logIn(person: Person, options: BrowserContextOptions = {}): Promise<Page> {
  return logInAs(line, person, { viewport: PANEL, acceptDownloads: true, ...options });
}

/** Calls the API from the page, with its session, as the page's own scripts do. */
async function call(page: Page, method: string, path: string, body?: unknown) {
  return page.evaluate(
    async ([m, p, b]) => {
      const res = await fetch(p as string, {
        method: m as string,
        headers: { 'content-type': 'application/json' },
        ...(b === undefined ? {} : { body: JSON.stringify(b) }),
      });
      return { status: res.status, body: await res.json() };
    },
    [method, path, body] as const,
  );
}

/** Clicks an export link and answers the file's name and text. */
async function download(page: Page, name: string): Promise<{ file: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(sel(name))]);
  const path = await file.path();
  return { file: file.suggestedFilename(), text: await readFile(path, 'utf8') };
}

function csvRows(text: string): string[][] {
  expect(text.charCodeAt(0), 'a UTF-8 byte-order mark').toBe(0xfeff);
  return text
    .slice(1)
    .split('\r\n')
    .filter((l) => l !== '')
    .map((l) => l.split(','));
}

// The page's own code runs in the browser; it is written as text here, where the tests have no DOM types.
const OVERFLOW = `(() => {
  const root = document.documentElement;
  const wide = [...document.querySelectorAll('main *')]
    .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1)
    .slice(0, 5)
    .map((el) => el.tagName.toLowerCase() + '.' + el.className + '[' + (el.getAttribute('data-test') ?? '') + ']');
  // A table that scrolls sideways in its own box is sideways scrolling too.
  const scrollers = [...document.querySelectorAll('main *')]
    .filter((el) => el.checkVisibility() && el.scrollWidth > el.clientWidth + 1 && /auto|scroll/.test(getComputedStyle(el).overflowX))
    .map((el) => el.tagName.toLowerCase() + '.' + el.className + ' ' + el.scrollWidth + '>' + el.clientWidth);
  return { scroll: root.scrollWidth, client: root.clientWidth, wide: wide.concat(scrollers), scrollers: scrollers.length };
})()`;

const SMALL_TARGETS = `(() => {
  const shown = [...document.querySelectorAll(
    'button, a.button, select, input:not([type="checkbox"]):not([type="radio"]):not([type="file"]), .nav a',
  )].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  });
  const small = shown
    .filter((el) => {
      const r = el.getBoundingClientRect();
      return r.height < 40 || r.width < 40;
    })
    .map((el) => {
      const r = el.getBoundingClientRect();
      return el.tagName.toLowerCase() + '[' + (el.getAttribute('data-test') ?? el.textContent.trim()) + '] ' +
        Math.round(r.width) + 'x' + Math.round(r.height);
    });
  return { checked: shown.length, small };
})()`;

const SCALED_BARS = `(async () => {
  const { shareChart } = await import('/ui/js/charts.js');
  const svg = shareChart('test', [{ label: 'a', value: 0.971 }, { label: 'b', value: 0.967 }], 'chart-test');
  document.querySelector('main').append(svg);
  const bars = [...svg.querySelectorAll('[data-test="chart-bar"]')].map((b) => b.getBoundingClientRect().width);
  const labels = [...svg.querySelectorAll('[data-test="chart-tick"]')].map((t) => t.textContent);
  svg.remove();
  return { bars, labels, from: svg.getAttribute('data-axis-from'), to: svg.getAttribute('data-axis-to') };
})()`;

const THEME = 'document.documentElement.dataset.contrast';
const BACKGROUND = 'getComputedStyle(document.body).backgroundColor';

describe.runIf(canRun)('a supervisor reads trends and exports on a touch panel', () => {
  let supervisor: Page;

  beforeAll(async () => {
    await line.start({ kind: 'every-case', cases: 1, minGrade: 'C' });
    const created = await line.erp('POST', '/api/v1/orders', {
      id: ORDER,
      make: 'Acme Arms',
      model: 'P9 Compact',
      caliber: '9mm',
      destination: 'FFL-1-23-456-78-9A-12345',
      firearms: SERIALS.map((serial) => ({ serial })),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    supervisor = await logIn(PEOPLE.supervisor);
    const started = await call(supervisor, 'POST', `/api/v1/orders/${ORDER}/start`, {});
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    for (;;) {
      const r = await line.erp('GET', `/api/v1/records?order=${ORDER}`);
      if (r.body.results.every((x: { firearm: { state: string } }) => x.firearm.state === 'engraved')) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    // Two firearms pass on a clean case; the third fails on an unreadable one.
    const records = (await line.erp('GET', `/api/v1/records?order=${ORDER}`)).body.results;
    for (const [i, r] of records.entries()) {
      const code = r.firearm.code;
      const read =
        i < 2
          ? {
              serial: r.firearm.serial,
              text: code.text,
              gear: code.gear,
              ammo: { brand: 'Federal', lacquered: false },
            }
          : { serial: r.firearm.serial, text: '??????????', ammo: { brand: '=Wolf', lacquered: true } };
      const res = await call(supervisor, 'POST', '/api/v1/qa/reads', read);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    // The failed firearm gets a new pin: the line engraves it again.
    for (;;) {
      const r = await line.erp('GET', `/api/v1/records/${SERIALS[2]}`);
      if (r.body.firearm.state === 'engraved' && r.body.firearm.voided.length === 1) break;
      await new Promise((res) => setTimeout(res, 200));
    }
  }, 600_000);

  afterAll(async () => {
    await line.cleanup();
  });

  it('shows the trend and the reads of the days asked for, on axes scaled to the data', async () => {
    const today = localDay(new Date());
    await supervisor.goto(`${line.url}/#/stats/ammo`);
    await supervisor.waitForSelector(`${sel('stats-trend-row')}[data-key="${today}"]`);
    const todayRow = supervisor.locator(`${sel('stats-trend-row')}[data-key="${today}"] td`);
    // pins engraved (three, and a new one for the failed firearm), read, passed, failed, pass rate, scrapped
    expect(await todayRow.allTextContents()).toEqual(['4', '3', '2', '1', '66.7%', '1']);
    expect(await supervisor.locator(sel('stats-trend-row')).count()).toBe(7);
    expect(await supervisor.locator(`${sel('stats-row')}`).count()).toBe(2);

    // A range of days without work: nothing read, and a trend of empty days.
    await supervisor.fill(sel('stats-from'), '2020-01-01');
    await supervisor.fill(sel('stats-to'), '2020-01-03');
    await supervisor.click(sel('stats-apply'));
    await supervisor.waitForSelector(`${sel('stats-body')} .empty`);
    expect(supervisor.url()).toContain('from=2020-01-01');
    await supervisor.waitForSelector(`${sel('stats-trend-row')}[data-key="2020-01-03"]`);
    expect(await supervisor.locator(sel('stats-trend-row')).count()).toBe(3);

    // Per shift, today only: three shifts of today.
    await supervisor.goto(`${line.url}/#/stats/ammo?from=${today}&to=${today}&per=shift`);
    await supervisor.waitForSelector(`${sel('stats-trend-row')}[data-key="${today} night"]`);
    expect(await supervisor.locator(sel('stats-trend-row')).count()).toBe(3);
    expect(await supervisor.locator(sel('stats-row')).count()).toBe(2);
    await supervisor
      .screenshot({ path: join(screensDir(line.dir), 'statistics-trend.png') })
      .catch(() => undefined);

    // The decode-rate axis is the data's, with labelled ticks.
    const ticks = await supervisor.locator(`${sel('chart-decode')} ${sel('chart-tick')}`).allTextContents();
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(ticks.every((t) => /^\d+(\.\d)?%$/.test(t))).toBe(true);

    // 97.1 % and 96.7 % drawn by the page's own chart code: bars that differ plainly.
    const widths = await supervisor.evaluate<{ bars: number[]; labels: string[]; from: string }>(SCALED_BARS);
    expect(widths.bars[0]! / widths.bars[1]!).toBeGreaterThan(2);
    expect(Number(widths.from)).toBeGreaterThan(0.9);
    expect(widths.labels).toContain('96.8%');
  }, 300_000);

  it('exports the statistics, the trend, the audit trail and the records as CSV files', async () => {
    const today = localDay(new Date());
    await supervisor.goto(`${line.url}/#/stats/ammo?from=${today}&to=${today}`);
    await supervisor.waitForSelector(sel('stats-table'));
    const stats = await download(supervisor, 'stats-export');
    expect(stats.file).toBe(`statistics-ammo-${today}-${today}.csv`);
    const statRows = csvRows(stats.text);
    expect(statRows[0]!.slice(0, 3)).toEqual(['Ammunition', 'Reads', 'Characters legible']);
    // What the screen shows, formula-looking brand names defused.
    expect(statRows.slice(1).map((r) => [r[0], r[1]])).toEqual([
      ["'=Wolf", '1'],
      ['Federal', '2'],
    ]);
    const trend = await download(supervisor, 'stats-trend-export');
    expect(trend.file).toBe(`trend-day-${today}-${today}.csv`);
    expect(csvRows(trend.text)[1]!.slice(4, 10)).toEqual(['4', '3', '2', '1', '0.6666666666666666', '1']);

    await supervisor.goto(`${line.url}/#/audit`);
    await supervisor.waitForSelector(sel('audit-table'));
    await supervisor.fill(sel('audit-action'), 'order.start');
    await supervisor.click(sel('audit-search'));
    await supervisor.waitForSelector(`${sel('audit-entries')} :text("1 entry")`);
    const audit = await download(supervisor, 'audit-export');
    expect(audit.file).toBe('audit.csv');
    const auditRows = csvRows(audit.text);
    expect(auditRows).toHaveLength(2);
    expect(auditRows[1]!.slice(2, 5)).toEqual(['sam', 'order.start', `order:${ORDER}`]);

    await supervisor.goto(`${line.url}/#/records`);
    await supervisor.selectOption(sel('records-kind'), 'order');
    await supervisor.fill(sel('records-query'), ORDER);
    await supervisor.click(sel('records-search'));
    await supervisor.waitForSelector(sel('records-table'));
    const records = await download(supervisor, 'records-export');
    expect(records.file).toBe(`records-order-${ORDER}.csv`);
    const recordRows = csvRows(records.text);
    expect(recordRows.slice(1).map((r) => r[0])).toEqual(SERIALS);
  }, 300_000);

  it('fits every screen on a 1024 x 768 panel without sideways scrolling, with large touch targets, in both themes', async () => {
    const admin = await logIn(PEOPLE.admin);
    const screens = [
      ['line', sel('line-engraver')],
      ['orders', sel('orders-table')],
      [`orders/${ORDER}`, sel('firearms-table')],
      ['receive', sel('receive-form')],
      ['qa', sel('qa-pick-form')],
      [`qa/${SERIALS[0]}`, sel('qa-firearm-panel')],
      ['records', sel('records-query')],
      [`records/${SERIALS[2]}`, sel('record-facts')],
      ['stats/ammo', sel('stats-table')],
      ['alarms', sel('alarm-journal')],
      ['audit', sel('audit-table')],
      ['users', sel('users-table')],
    ] as const;
    const problems: string[] = [];
    // Both themes: the high-contrast one draws thicker borders.
    for (const contrast of ['normal', 'high']) {
      await admin.evaluate(`localStorage.setItem('stampline.contrast', '${contrast}')`);
      for (const [screen, ready] of screens) {
        // A whole page load per screen, as a panel opening a bookmark does.
        await admin.goto(`${line.url}/?screen=${encodeURIComponent(screen)}#/${screen}`);
        await admin.waitForSelector(ready);
        expect(await admin.evaluate<string>(THEME)).toBe(contrast);
        const o = await admin.evaluate<{ scroll: number; client: number; wide: string[]; scrollers: number }>(
          OVERFLOW,
        );
        if (o.scroll > o.client || o.scrollers > 0)
          problems.push(
            `#/${screen} (${contrast}) is ${o.scroll} px wide in ${o.client}: ${o.wide.join(', ')}`,
          );
        const targets = await admin.evaluate<{ checked: number; small: string[] }>(SMALL_TARGETS);
        // the menu alone has more than five
        expect(targets.checked, `targets on #/${screen}`).toBeGreaterThan(5);
        if (targets.small.length > 0)
          problems.push(`#/${screen} (${contrast}) has small targets: ${targets.small.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
    await admin.context().close();
  }, 300_000);

  it('switches to high contrast, keeps it in the browser, and follows a system that asks for more contrast', async () => {
    const page = await logIn(PEOPLE.operator);
    const theme = () => page.evaluate<string>(THEME);
    const toggle = page.locator(sel('contrast-toggle'));
    expect(await theme()).toBe('normal');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    const before = await page.evaluate<string>(BACKGROUND);
    await toggle.click();
    expect(await theme()).toBe('high');
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    expect(await page.evaluate<string>(BACKGROUND)).toBe('rgb(255, 255, 255)');
    expect(before).not.toBe('rgb(255, 255, 255)');
    await page.reload();
    await page.waitForSelector(sel('whoami'));
    expect(await theme()).toBe('high');
    await page
      .screenshot({ path: join(screensDir(line.dir), 'line-high-contrast.png') })
      .catch(() => undefined);
    await toggle.click();
    expect(await theme()).toBe('normal');
    await page.context().close();

    // A system that asks for more contrast gets it until the person chooses otherwise.
    const more = await logIn(PEOPLE.operator, { contrast: 'more' });
    expect(await more.evaluate<string>(THEME)).toBe('high');
    await more.click(sel('contrast-toggle'));
    await more.reload();
    await more.waitForSelector(sel('whoami'));
    expect(await more.evaluate<string>(THEME)).toBe('normal');
    await more.context().close();
  }, 300_000);
});
