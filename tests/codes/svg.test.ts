import { describe, expect, it } from 'vitest';
import { GLYPHS } from '../../src/codes/glyphs.js';
import { ALPHABET, encode, renderPinSvg } from '../../src/codes/index.js';
import { isStamplineError } from '../../src/errors.js';

const CODE = encode(42, 123456, '00112233445566778899aabbccddeeff'); // 0AH8PRWMNS

/** The sub-paths (one per tooth) of the path with the given class. */
function teeth(svg: string, cls: string): string[] {
  const m = svg.match(new RegExp(`class="${cls}" d="([^"]*)"`));
  return m ? m[1]!.split('M').filter(Boolean) : [];
}

describe('pin face SVG', () => {
  const svg = renderPinSvg(CODE);

  it('is a self-contained SVG document with the code as its title', () => {
    expect(svg).toMatch(
      /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="-50 -50 100 100" width="512" height="512"/,
    );
    expect(svg).toContain('<title>0AH8P-RWMNS</title>');
    expect(svg).not.toMatch(/href|url\(|<text|font-family|@import/);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });

  it('draws one block per 1 of the gear, the sync apart', () => {
    const ones = [...CODE.gear].filter((b) => b === '1').length;
    expect(teeth(svg, 'tooth sync')).toHaveLength(4); // 11100100
    expect(teeth(svg, 'tooth sync').length + teeth(svg, 'tooth').length).toBe(ones);
  });

  it('draws each of the ten characters from the stroke font', () => {
    for (const ch of CODE.text) expect(svg).toContain(`d="${GLYPHS[ch]}"`);
    expect(svg.match(/scale\(2\.3\)/g)).toHaveLength(10);
  });

  it('has a glyph for every symbol of the alphabet', () => {
    for (const ch of ALPHABET) expect(GLYPHS[ch], ch).toMatch(/^M[\d. LMZ]+$/);
  });

  it('mirrors the whole face for the pin, not for the case impression', () => {
    const mirrored = renderPinSvg(CODE, { mirror: true });
    expect(svg).not.toContain('scale(-1 1)');
    expect(mirrored).toContain('<g transform="scale(-1 1)"');
    expect(mirrored.replace(' transform="scale(-1 1)"', '').replace(' (pin, mirrored)', '')).toBe(svg);
  });

  it('takes a size in pixels', () => {
    expect(renderPinSvg(CODE, { size: 120 })).toContain('width="120" height="120"');
  });

  it('rejects text, gear or size that cannot be drawn', () => {
    const bad = [
      () => renderPinSvg({ text: '0AH8PRWMN', gear: CODE.gear }),
      () => renderPinSvg({ text: '0AH8PRWMNU', gear: CODE.gear }),
      () => renderPinSvg({ text: CODE.text, gear: CODE.gear.slice(1) }),
      () => renderPinSvg({ text: CODE.text, gear: `${CODE.gear.slice(1)}2` }),
      () => renderPinSvg(CODE, { size: -1 }),
    ];
    for (const fn of bad) {
      let caught: unknown;
      try {
        fn();
      } catch (err) {
        caught = err;
      }
      expect(isStamplineError(caught)).toBe(true);
    }
  });
});
