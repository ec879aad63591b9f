/**
 * How `stampline code encode|decode` print their answers: JSON for tools, grouped text for
 * people checking a pin or a case by eye.
 */
import { MAX_MISCORRECTION_RISK } from '../codes/decode.js';
import { type Codeword, type DecodeResult, formatText } from '../codes/index.js';

export function codewordJson(c: Codeword): object {
  return { ok: true, issuer: c.issuer, index: c.index, text: c.text, gear: c.gear, codeword: c.symbols };
}

export function decodeJson(r: DecodeResult): object {
  if (!r.ok) {
    return {
      ok: false,
      error: r.error,
      uec: r.uec,
      grade: r.grade,
      confident: false,
      ...(r.candidates ? { candidates: r.candidates } : {}),
    };
  }
  return {
    ok: true,
    issuer: r.issuer,
    index: r.index,
    text: r.text,
    errors: r.errors,
    erasures: r.erasures,
    uec: r.uec,
    grade: r.grade,
    confident: r.confident,
    ...(r.warning ? { warning: r.warning } : {}),
    miscorrectionRisk: r.miscorrectionRisk,
    codeword: r.codeword,
    gear: r.gear,
    gearRotations: r.gearRotations,
    ...(r.candidates ? { candidates: r.candidates } : {}),
  };
}

/** The gear as people check it against a ring: sync, then one group of 5 per symbol. */
function groupedGear(gear: string): string {
  const groups = [gear.slice(0, 8)];
  for (let o = 8; o < gear.length; o += 5) groups.push(gear.slice(o, o + 5));
  return groups.join(' ');
}

function codewordLines(c: Pick<Codeword, 'text' | 'gear' | 'symbols'>): string[] {
  return [
    `text      ${formatText(c.text)}`,
    `gear      ${groupedGear(c.gear)}`,
    `codeword  ${c.symbols.slice(0, 8).join(' ')} | ${c.symbols.slice(8).join(' ')}`,
  ];
}

export function codewordText(c: Codeword): string {
  return `${[`issuer    ${c.issuer}`, `index     ${c.index}`, ...codewordLines(c)].join('\n')}\n`;
}

export function decodeText(r: DecodeResult): string {
  if (!r.ok) return `not decoded: ${r.error}\ngrade     F\n${candidateLines(r.candidates)}`;
  const verdict = r.confident ? 'identified' : 'candidate (not an identification)';
  const lines = [
    `${verdict}: issuer ${r.issuer}, index ${r.index}`,
    ...codewordLines({ text: r.text, gear: r.gear, symbols: r.codeword }),
    `corrected ${r.errors} error${r.errors === 1 ? '' : 's'}, filled ${r.erasures} erasure${r.erasures === 1 ? '' : 's'}`,
    `UEC       ${r.uec.toFixed(3)}, grade ${r.grade}`,
    `risk      ${r.miscorrectionRisk.toExponential(1)} estimated probability of a miscorrection (confident at most ${MAX_MISCORRECTION_RISK})`,
  ];
  r.gearRotations.forEach((rot, n) => {
    if (rot !== null) lines.push(`read ${n + 1}    gear sync starts at tooth ${rot + 1} of the read`);
  });
  if (r.warning) lines.push(`warning:  ${r.warning}`);
  return `${lines.join('\n')}\n${candidateLines(r.candidates)}`;
}

function candidateLines(candidates: DecodeResult['candidates']): string {
  if (!candidates) return '';
  if (candidates.length === 0) return 'issued    no issued code explains the reads\n';
  return candidates
    .map(
      (c, n) =>
        `${n === 0 ? 'issued   ' : '         '} ${formatText(c.text)}  issuer ${c.issuer}` +
        `${c.index === undefined ? '' : `, index ${c.index}`}  weight ratio ${c.weightRatio.toExponential(1)}\n`,
    )
    .join('');
}
