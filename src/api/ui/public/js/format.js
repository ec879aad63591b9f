// How values read on screen: codes grouped as people read them, local times to the minute,
// shares as percentages, and the words for states.

/** Crockford's alphabet, the characters of a code (spec codes.md). */
export const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `XXXXX-XXXXX`; the dash is for people and not part of the code. */
export function groupCode(text) {
  if (typeof text !== 'string' || text.length === 0) return '';
  const bare = text.replace(/-/g, '');
  return bare.length === 10 ? `${bare.slice(0, 5)}-${bare.slice(5)}` : bare;
}

/** A code as typed or scanned, normalised as the decoder would read it, or null if it is not one. */
export function asCode(value) {
  const bare = String(value).toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return bare.length === 10 && [...bare].every((ch) => ALPHABET.includes(ch)) ? bare : null;
}

const pad = (n) => String(n).padStart(2, '0');

/** Local time to the minute (the floor's clock); the full ISO time goes in a title. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * Where a read came from, as the read lists show it: `typed`, `image`, or `image, corrected`,
 * with `detail` what the person changed of the reader's text (`text A?C… → ABC…`; the QA
 * station leaves it out, as it shows no text of earlier reads). A read logged before the source
 * was recorded is told by its station (`... (image, corrected)`), else shown as typed.
 * @param {{ source?: string, station?: string, corrected?: { text?: { from: string, to: string }, gear?: { from: string, to: string } } }} r
 * @param {boolean} [detail]
 */
export function sourceOf(r, detail = true) {
  const legacy = /\(image(, corrected)?\)$/.exec(r?.station ?? '');
  const source = r?.source ?? (legacy ? 'image' : 'typed');
  if (source !== 'image') return 'typed';
  const c = r.corrected;
  if (!c) return legacy?.[1] ? 'image, corrected' : 'image';
  if (!detail) return 'image, corrected';
  const parts = [];
  if (c.text)
    parts.push(`text ${groupCode(c.text.from) || c.text.from} → ${groupCode(c.text.to) || c.text.to}`);
  if (c.gear) parts.push('gear');
  return `image, corrected: ${parts.join('; ')}`;
}

export function pct(share) {
  if (typeof share !== 'number' || !Number.isFinite(share)) return '–';
  return `${Math.round(share * 1000) / 10}%`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

export const FIREARM_STATE_WORDS = {
  queued: 'queued',
  allocated: 'code allocated',
  loaded: 'loaded',
  marking: 'marking',
  engraved: 'engraved',
  cancelled: 'cancelled',
};

export const GRADES = ['A', 'B', 'C', 'D', 'F'];
