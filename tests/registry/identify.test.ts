/**
 * The simulated registry identifies cases for investigators over every record it holds, of
 * every issuer: in the process, at its HTTP desk, and with `stampline sim registry identify`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RegistryBook } from '../../simulators/registry/book.js';
import { type IdentifyDesk, serveIdentify } from '../../simulators/registry/http.js';
import { RegistryIdentifier } from '../../simulators/registry/identify.js';
import { engravedRecord, voidedRecord } from '../../simulators/registry/sample.js';
import { main } from '../../src/cli.js';
import { encode, parseKey } from '../../src/codes/index.js';

// two makers, each with its own key the registry never sees
const acme = Array.from({ length: 40 }, (_, i) =>
  encode(11, 500 + i, parseKey('000102030405060708090a0b0c0d0e0f')),
);
const bolt = Array.from({ length: 40 }, (_, i) =>
  encode(12, 500 + i, parseKey('ffeeddccbbaa99887766554433221100')),
);
const records = [
  ...acme.map((c, i) => engravedRecord({ issuer: 11, code: c.text, serial: `A-${i}`, make: 'Acme' })),
  ...bolt.map((c, i) => engravedRecord({ issuer: 12, code: c.text, serial: `B-${i}`, make: 'Bolt' })),
];
// a pin scrapped at QA: its code is voided, and still names its firearm
records.push(voidedRecord(records[45]!));
// the registry checks a code's form only: a code that is no codeword is on no pin
records.push(engravedRecord({ issuer: 13, code: 'ZZZZZZZZZZ', serial: 'C-1' }));

let dir: string;
let file: string;
let desk: IdentifyDesk;
const book = new RegistryBook();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampline-registry-identify-'));
  file = join(dir, 'registry.jsonl');
  for (const r of records) book.add(r);
  await writeFile(file, records.map((r) => `${JSON.stringify({ at: r.occurredAt, record: r })}\n`).join(''));
  desk = await serveIdentify(new RegistryIdentifier(book), { port: 0 });
});

afterAll(async () => {
  await desk?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the registry identifies a case', () => {
  const identifier = new RegistryIdentifier(book);

  it('of any issuer, from a text read alone', () => {
    const a = identifier.identify({ reads: [{ text: acme[3]!.text }] });
    expect(a).toMatchObject({
      outcome: 'identified',
      binding: { code: acme[3]!.text, issuer: 11, firearm: { serial: 'A-3' } },
    });
    expect(a.issuedCodes).toBe(80);
    const b = identifier.identify({
      reads: [{ text: `${bolt[7]!.text.slice(0, 8)}??`, gear: bolt[7]!.gear }],
    });
    expect(b).toMatchObject({
      outcome: 'identified',
      binding: { issuer: 12, firearm: { serial: 'B-7', make: 'Bolt' } },
    });
  });

  it('of a voided code, saying it is voided', () => {
    const a = identifier.identify({ reads: [{ text: bolt[5]!.text, gear: bolt[5]!.gear }] });
    expect(a).toMatchObject({
      outcome: 'identified',
      binding: { firearm: { serial: 'B-5' }, state: 'voided' },
    });
  });

  it('and hears of codes bound after its first query', () => {
    const fresh = encode(11, 9999, parseKey('000102030405060708090a0b0c0d0e0f'));
    expect(identifier.identify({ reads: [{ text: fresh.text }] }).outcome).toBe('none');
    book.add(engravedRecord({ issuer: 11, code: fresh.text, serial: 'A-NEW' }));
    expect(identifier.identify({ reads: [{ text: fresh.text }] })).toMatchObject({
      outcome: 'identified',
      binding: { firearm: { serial: 'A-NEW' } },
    });
  });

  it('refuses reads that are not reads, naming them', () => {
    expect(() => identifier.identify({ reads: [{ gear: '0101' }] })).toThrow(/reads\[0\]\.gear/);
  });
});

describe('the desk for investigators', () => {
  it('answers POST /identify, and 400 for bad input', async () => {
    const res = await fetch(`${desk.url}/identify`, {
      method: 'POST',
      body: JSON.stringify({ reads: [{ text: acme[9]!.text }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      outcome: 'identified',
      binding: { firearm: { serial: 'A-9' } },
    });
    const bad = await fetch(`${desk.url}/identify`, { method: 'POST', body: '{"reads": []}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'IDENTIFY_INVALID_READS' },
      problems: [{ path: 'reads' }],
    });
    expect((await fetch(`${desk.url}/identify`, { method: 'POST', body: 'not json' })).status).toBe(400);
  });
});

async function stampline(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((b) => {
    out += String(b);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((b) => {
    err += String(b);
    return true;
  });
  try {
    return { code: await main(['node', 'stampline', ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

describe('stampline sim registry identify', () => {
  it('reads the registry file, or asks a running desk', async () => {
    const byFile = await stampline('sim', 'registry', 'identify', '--file', file, '--read', bolt[5]!.text);
    expect(byFile.err).toBe('');
    expect(byFile.code).toBe(0);
    expect(byFile.out).toMatch(/^IDENTIFIED: code .*\n {2}Bolt P-9 serial B-5, issuer 12, voided/);
    const byUrl = await stampline(
      'sim',
      'registry',
      'identify',
      '--url',
      desk.url,
      '--read',
      acme[1]!.text,
      '--json',
    );
    expect(JSON.parse(byUrl.out)).toMatchObject({
      outcome: 'identified',
      binding: { firearm: { serial: 'A-1' } },
    });
    const none = await stampline('sim', 'registry', '--file', file, 'identify', '--read', '??????????');
    expect(none.code).toBe(1);
    const neither = await stampline('sim', 'registry', 'identify', '--read', acme[1]!.text);
    expect(neither.code).toBe(2);
    expect(neither.err).toMatch(/--file, or a running one with --url/);
  });
});
