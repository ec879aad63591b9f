/**
 * The QA station reads a case image: a QA person drops the microscope image of a fired case,
 * sees the stamp found and drawn over the image, corrects a character the reader was unsure of
 * and records the read; the verdict follows, and the read log says the read came from an image
 * and was corrected. The whole path: engraved pin → fired case → image → read → verdict.
 *
 * Runs Debian's Chromium through playwright-core against `stampline start` with its simulators.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseImageModel } from '../../simulators/case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../../simulators/case-image/render.js';
import { until } from '../support/line-rig.js';
import { requireCommands } from '../support/tools.js';
import { BrowserLine, logIn as logInAs, PEOPLE, type Person, sel } from './support/line.js';

const canRun = requireCommands('chromium');
const line = new BrowserLine();
let dir = '';
const dashed = (t: string) => `${t.slice(0, 5)}-${t.slice(5)}`;

function logIn(person: Person): Promise<Page> {
  return logInAs(line, person, { viewport: { width: 1280, height: 900 } });
}

describe.runIf(canRun)('the QA station reads a case image', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stampline-image-'));
    await line.start({ kind: 'every-case', cases: 1, minGrade: 'C' });
  }, 180_000);

  afterAll(async () => {
    await line.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows what it found on a dropped image, takes a correction, and records the verdict', async () => {
    const order = {
      id: 'ORD-I1',
      make: 'Acme Arms',
      model: 'P9',
      caliber: '9mm',
      destination: 'FFL-1',
      firearms: [{ serial: 'I1-0001' }],
    };
    expect((await line.erp('POST', '/api/v1/orders', order)).status).toBe(201);
    const operator = await logIn(PEOPLE.operator);
    await operator.goto(`${line.url}/#/orders/${order.id}`);
    await operator.click(`${sel('order-start')}[data-order="${order.id}"]`);
    await operator.waitForSelector(`${sel('order-counts')}:has-text("1 of 1 engraved")`, { timeout: 60_000 });
    await operator.context().close();
    const code = (await line.erp('GET', '/api/v1/records/I1-0001')).body.firearm.code as {
      text: string;
      gear: string;
    };

    // the fired case, as the microscope sees it
    const image = renderCaseImage(code, caseImageModel(0, { size: 700 }), 21);
    const file = join(dir, 'case-I1-0001.png');
    await writeFile(file, await encodeCaseImage(image));

    const page = await logIn(PEOPLE.qa);
    await page.fill(sel('qa-firearm'), 'I1-0001');
    await page.press(sel('qa-firearm'), 'Enter');
    await page.waitForSelector(sel('qa-read-form'));
    await page.setInputFiles(sel('qa-image-file'), file);
    await page.waitForSelector(`${sel('qa-image-status')}:has-text("Read ")`, { timeout: 30_000 });
    await page.waitForSelector(`${sel('qa-image-overlay')}:not([hidden])`);
    const text = code.text.replace('-', '');
    expect(await page.inputValue(sel('qa-text'))).toBe(text);
    expect(await page.inputValue(sel('qa-gear'))).toBe(code.gear);
    // the overlay is drawn: the canvas holds the image at the station's size
    const size = await page.$eval(sel('qa-image-overlay'), (c) => [
      (c as unknown as { width: number }).width,
      (c as unknown as { height: number }).height,
    ]);
    expect(size[0]).toBeGreaterThan(300);

    // the QA person, looking at the case, corrects a character (here to ?, unsure) and records
    const corrected = `?${text.slice(1)}`;
    await page.fill(sel('qa-text'), corrected);
    await page.fill(sel('qa-ammo'), 'Federal 115 gr FMJ');
    await page.press(sel('qa-text'), 'Enter');
    await page.waitForSelector(`${sel('qa-verdict')}:has-text("pass")`, { timeout: 30_000 });
    // the station's list of reads says the read came from the image and was corrected (it shows
    // no text of earlier reads); the Records screen says what was changed
    const source = await page.waitForSelector(`${sel('qa-read-source')}:has-text("image, corrected")`, {
      timeout: 30_000,
    });
    expect(await source.textContent()).toBe('image, corrected');
    await page.goto(`${line.url}/#/records/I1-0001`);
    const record = await page.waitForSelector(`${sel('record-read-source')}:has-text("corrected")`);
    expect(await record.textContent()).toContain(`text ${dashed(text)} → ${dashed(corrected)}`);
    await page.context().close();

    // so does the audit trail
    const supervisor = await logIn(PEOPLE.supervisor);
    await supervisor.goto(`${line.url}/#/audit`);
    const note = await supervisor.waitForSelector(`${sel('audit-read-source')}:has-text("corrected")`);
    expect(await note.textContent()).toContain(`text ${dashed(text)} → ${dashed(corrected)}`);
    await supervisor.context().close();

    const reads = await until(
      async () => {
        const r = await line.erp('GET', '/api/v1/qa/firearms/I1-0001');
        return r.status === 200 && r.body.reads?.length === 1 ? r.body.reads : undefined;
      },
      'the read in the log',
      10_000,
    ).catch(async () => (await line.erp('GET', '/api/v1/records/I1-0001')).body.reads);
    expect(reads[0]).toMatchObject({
      text: corrected,
      source: 'image',
      corrected: { text: { from: text, to: corrected } },
    });
  }, 240_000);
});
