/**
 * Case images at the QA station over HTTP: a read for the overlay (nothing stored), a read
 * recorded from an image with and without a correction, and the refusals that store nothing.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { caseImageModel } from '../../simulators/case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../../simulators/case-image/render.js';
import { type Caller, engrave, useStation } from './support.js';

const s = useStation({ per: 'test', markingTimeMs: 0 });

async function imageOf(code: { text: string; gear: string }, seed = 3): Promise<Buffer> {
  return encodeCaseImage(renderCaseImage(code, caseImageModel(0, { size: 600 }), seed));
}

function multipart(fields: Record<string, string>, file?: { name: string; bytes: Buffer }) {
  const boundary = '----stamplineTestBoundary';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${file.name}"\r\nContent-Type: image/png\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(parts),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

const post = (
  fields: Record<string, string>,
  file?: { name: string; bytes: Buffer },
  who: Caller = 'token qa',
) => {
  const { payload, headers } = multipart(fields, file);
  return s.api.app.inject({
    method: 'POST',
    url: '/api/v1/qa/images',
    headers: { ...s.api.as(who), ...headers },
    payload,
  });
};

const readsOf = async (serial: string) =>
  (
    await s.api.app.inject({
      method: 'GET',
      url: `/api/v1/qa/firearms/${serial}`,
      headers: s.api.as('user qa'),
    })
  ).json().reads as unknown[];

describe('case images at the QA station', () => {
  it("records a read sent as JSON with the image reader's read as from an image, a changed text as a correction", async () => {
    const codes = await engrave(s, 'A-1', ['S1', 'S2']);
    const machine = codes.get('S2')!.text.replace('-', '');
    const gear = codes.get('S2')!.gear;
    const send = (payload: object) =>
      s.api.app.inject({ method: 'POST', url: '/api/v1/qa/reads', headers: s.api.as('user qa'), payload });
    const ammo = { brand: 'Federal HST', lacquered: false };
    const typed = await send({ serial: 'S1', text: codes.get('S1')!.text, ammo });
    expect(typed.statusCode).toBe(201);
    expect(typed.json().read.source).toBe('typed');
    const changed = `${machine.slice(0, 9)}?`;
    const fixed = await send({ serial: 'S2', text: changed, gear, ammo, imageRead: { text: machine, gear } });
    expect(fixed.statusCode).toBe(201);
    expect(fixed.json().read).toMatchObject({
      source: 'image',
      corrected: { text: { from: machine, to: changed } },
    });
    const bad = await send({ serial: 'S2', text: machine, ammo, imageRead: { text: machine, gear: '01' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('imageRead.gear');
  });

  it('reads an image for the overlay as JSON from a session, storing nothing', async () => {
    const codes = await engrave(s, 'A-1', ['S1']);
    const bytes = await imageOf(codes.get('S1')!);
    const res = await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/qa/images/read',
      headers: s.api.as('user qa'),
      payload: { image: bytes.toString('base64'), name: 's1.png' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.text).toBe(codes.get('S1')!.text.replace('-', ''));
    expect(body.chars).toHaveLength(10);
    expect(body.teeth).toHaveLength(88);
    expect(body.chars[0].box).toHaveLength(4);
    expect(await readsOf('S1')).toHaveLength(0);
  });

  it('records a read from an image, and marks a corrected text as such', async () => {
    const codes = await engrave(s, 'A-1', ['S1']);
    const code = codes.get('S1')!;
    const bytes = await imageOf(code);
    const first = await post(
      { serial: 'S1', brand: 'Federal HST', lacquered: 'false', station: 'bench 2' },
      { name: 'c1.png', bytes },
    );
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      read: { serial: 'S1', station: 'bench 2', source: 'image', decode: { matches: true } },
      image: { corrected: false },
    });
    expect(first.json().read.corrected).toBeUndefined();
    expect(first.json().read.imageSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const typed = `${code.text.slice(0, 5)}?????`;
    const second = await post(
      { serial: 'S1', brand: 'Federal HST', lacquered: 'false', text: typed },
      { name: 'c2.png', bytes: await imageOf(code, 4) },
    );
    expect(second.statusCode).toBe(201);
    const machine = code.text.replace('-', '');
    expect(second.json()).toMatchObject({
      read: { text: typed, source: 'image', corrected: { text: { from: machine, to: typed } } },
      image: { corrected: true },
    });
    // the gear was not changed, so only the text is a correction
    expect(second.json().read.corrected.gear).toBeUndefined();
    expect(second.json().read.station).toBeUndefined();
    const reads = await readsOf('S1');
    expect(reads).toHaveLength(2);
    expect(reads[1]).toMatchObject({ source: 'image', corrected: { text: { from: machine, to: typed } } });
    // the audit trail says it too
    const audit = await s.audit.query({ action: 'qa.read', limit: 10 });
    const afters = audit.map((e) => e.after as Record<string, unknown>);
    expect(afters).toContainEqual(expect.objectContaining({ source: 'image', read: 1 }));
    expect(afters).toContainEqual(
      expect.objectContaining({
        source: 'image',
        read: 2,
        corrected: { text: { from: machine, to: typed } },
      }),
    );
    expect(afters.find((a) => a.read === 1)).not.toHaveProperty('corrected');
  });

  it('refuses a corrupt image, a missing image, an image with no stamp and the wrong role, storing nothing', async () => {
    await engrave(s, 'A-1', ['S1']);
    const fields = { serial: 'S1', brand: 'Federal HST', lacquered: 'false' };
    const corrupt = await post(fields, { name: 'bad.png', bytes: Buffer.from('this is not a png') });
    expect(corrupt.statusCode).toBe(400);
    expect(corrupt.json().error).toMatchObject({ code: 'IMAGE_UNREADABLE' });
    expect(corrupt.json().error.message).toContain('bad.png');
    const none = await post(fields);
    expect(none.statusCode).toBe(400);
    expect(none.json().error.message).toContain('"image"');
    const { default: sharp } = await import('sharp');
    const blank = await sharp({
      create: { width: 600, height: 600, channels: 3, background: { r: 160, g: 160, b: 160 } },
    })
      .png()
      .toBuffer();
    const noStamp = await post(fields, { name: 'blank.png', bytes: blank });
    expect(noStamp.statusCode).toBe(422);
    expect(noStamp.json().error.code).toBe('IMAGE_NO_STAMP');
    const wrongRole = await post(fields, { name: 'blank.png', bytes: blank }, 'token erp');
    expect(wrongRole.statusCode).toBe(403);
    expect(await readsOf('S1')).toHaveLength(0);
  });
});
