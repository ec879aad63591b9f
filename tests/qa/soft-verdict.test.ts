/**
 * A read from a case image is judged on the reader's likelihoods, not on its hard read: the
 * characters the reader was fairly but not 97 % sure of are evidence, not `?` (issue 12). A part
 * a person corrected is weighed as typed; the likelihoods are kept with the read, so the verdict
 * after a restart is the one given before it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseKey } from '../../src/codes/index.js';
import { textSymbols } from '../../src/codes/issued.js';
import { hardRead, type SoftRead } from '../../src/codes/soft-read.js';
import { decodeCase } from '../../src/qa/index.js';
import { order } from '../line/harness.js';
import { cleanupRigs, FEDERAL, KEY, qaRig, until } from './support.js';

afterEach(cleanupRigs);

/**
 * What a reader might make of a worn stamp: the first `weak` characters at `pWeak` (under the
 * 97 % a hard read needs, so they show as `?`), the rest at 99 %, and the ring unreadable.
 */
function wornImageRead(code: { text: string }, weak: number, pWeak: number): SoftRead {
  const symbols = textSymbols(code.text)!;
  const chars = Array.from({ length: 10 }, (_, n) =>
    Array.from({ length: 32 }, (_, v) => {
      const p = n < weak ? pWeak : 0.99;
      return v === symbols[n] ? p : (1 - p) / 31;
    }),
  );
  return { chars, teeth: new Array(88).fill(0.5), rotation: 12.3456 };
}

const CA = { kind: 'ca-4075', rounds: 4 } as const;

async function engravedFirearm(rig: Awaited<ReturnType<typeof qaRig>>, id: string) {
  await rig.h.line.submitOrder(order(id, 1), 'http', 'erp');
  await rig.h.line.startOrder(id, 'operator');
  await until(async () => (await rig.h.line.orderView(id)).firearms[0]!.state === 'engraved', 'engraved');
  return (await rig.h.line.orderView(id)).firearms[0]!;
}

describe('a read from a case image', () => {
  it("passes ca-4075 on the reader's likelihoods where its hard read alone would fail", async () => {
    const rig = await qaRig(CA);
    const a = await engravedFirearm(rig, 'o1');
    const b = await engravedFirearm(rig, 'o2');
    const soft = wornImageRead(a.code!, 4, 0.9);
    const hard = hardRead(soft);
    expect(hard.text).toMatch(/^\?{4}/);
    expect(hard.gear).toBeNull();

    // the same hard read, typed: four characters illegible leave rivals at the registry
    const typed = await rig.qa.submit(
      { serial: b.serial, text: `????${b.code!.text.slice(4)}`, round: 1, ammo: FEDERAL },
      'ann',
    );
    expect(typed.verdict.status).toBe('fail');

    // the four rounds ca-4075 examines, each read off its image with four characters unsure
    let fromImage!: Awaited<ReturnType<typeof rig.qa.submit>>;
    for (const round of [1, 2, 3, 4]) {
      fromImage = await rig.qa.submit(
        { serial: a.serial, text: hard.text!, round, ammo: FEDERAL, imageRead: { text: hard.text!, soft } },
        'ann',
      );
    }
    expect(fromImage.read).toMatchObject({ source: 'image', text: hard.text });
    expect(fromImage.read.corrected).toBeUndefined();
    expect(fromImage.read.decode).toMatchObject({ ok: true, text: a.code!.text, illegibleChars: 4 });
    expect(fromImage.verdict).toMatchObject({ status: 'pass' });
    expect(fromImage.outcome).toBe('verified');

    // kept with the read, to 3 significant digits, and the same verdict once read back
    expect(fromImage.read.soft!.chars[0]![textSymbols(a.code!.text)![0]!]).toBe(0.9);
    expect(fromImage.read.soft!.chars[0]![(textSymbols(a.code!.text)![0]! + 1) % 32]).toBe(0.00323);
    expect(fromImage.read.soft!.rotation).toBe(12.35);
    await rig.restart(CA);
    const after = await rig.qa.firearm(a.serial);
    expect(after.reads[0]!.soft).toEqual(fromImage.read.soft);
    expect(after.verdict?.status).toBe('pass');
  });

  it('weighs a corrected text as typed and the uncorrected ring by its likelihoods', async () => {
    const rig = await qaRig({ kind: 'every-case', cases: 1, minGrade: 'C' });
    const a = await engravedFirearm(rig, 'o1');
    const code = a.code!;
    // the reader was unsure of every character and fairly sure (90 %) of every tooth: its hard
    // read is nothing at all; the person typed the text, one character wrong
    const soft: SoftRead = {
      chars: wornImageRead(code, 10, 0.5).chars,
      teeth: [...code.gear].map((t) => (t === '1' ? 0.9 : 0.1)),
    };
    expect(hardRead(soft)).toEqual({ text: null, gear: null });
    const typedText = `${code.text[0] === 'A' ? 'B' : 'A'}${code.text.slice(1)}`;
    // typed alone, one character wrong of ten does not single a code out of 2^40
    expect(decodeCase({ text: typedText }, code.text, parseKey(KEY)).confident).toBe(false);
    const r = await rig.qa.submit(
      { serial: a.serial, text: typedText, ammo: FEDERAL, imageRead: { text: '??????????', soft } },
      'ann',
    );
    expect(r.read.corrected).toEqual({ text: { from: '??????????', to: typedText } });
    // the ring's likelihoods outvote the wrong character and single the code out
    expect(r.read.decode).toMatchObject({ ok: true, text: code.text, matches: true, confident: true });
    expect(r.verdict.status).toBe('pass');
  });

  it('refuses likelihoods of the wrong shape, naming them, and stores nothing', async () => {
    const rig = await qaRig(CA);
    const a = await engravedFirearm(rig, 'o1');
    const soft = wornImageRead(a.code!, 0, 0.9);
    const bad = { ...soft, teeth: soft.teeth.slice(1) };
    await expect(
      rig.qa.submit(
        {
          serial: a.serial,
          text: a.code!.text,
          round: 1,
          ammo: FEDERAL,
          imageRead: { text: a.code!.text, soft: bad },
        },
        'ann',
      ),
    ).rejects.toMatchObject({
      code: 'QA_INVALID_READ',
      message: /imageRead\.soft\.teeth: must be 88 probabilities/,
    });
    expect((await rig.qa.firearm(a.serial)).reads).toEqual([]);
  });
});
