/**
 * The allocator's position checked against every other record of the codes the line has given:
 * the code index, the firearms, the outbox and the audit trail. Each of them is written when a
 * code is used, so each holds only indexes the allocator reserved first; one that holds an index
 * the allocator has not reserved shows the allocator went back (its file lost or replaced by an
 * older copy), and the line would hand that index out again. Start-up refuses then, naming them.
 *
 * At start-up each witness gives what it holds cheaply: the last line of each code index shard
 * (codes are indexed in the order they are allocated), the unfinished orders' firearms (already in
 * memory), the codes of the records the outbox read, the audit trail's last entry. `stampline
 * store check` reads every witness whole.
 */
import { CHAR_VALUE } from '../codes/alphabet.js';
import { unpackIndex, unpackIssuer } from '../codes/codeword.js';
import { keyContext } from '../codes/key.js';
import { StamplineError } from '../errors.js';
import { isReserved } from './allocator.js';

/** An index a witness holds, with what holds it. */
export interface WitnessIndex {
  witness: 'code index' | 'firearms' | 'outbox' | 'audit trail';
  /** The file, or the order and firearm, where it was seen. */
  where: string;
  index: number;
  code: string;
}

/** The index of a code of `issuer` under `key`, or undefined for a text that is not one. */
export function indexOfCode(text: string, issuer: number, key: Buffer): number | undefined {
  if (typeof text !== 'string' || text.length !== 10) return undefined;
  const symbols: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const v = CHAR_VALUE[text.charCodeAt(i)] ?? -1;
    if (v < 0) return undefined;
    symbols.push(v);
  }
  if (unpackIssuer(symbols) !== issuer) return undefined;
  return unpackIndex(symbols, keyContext(key));
}

/** The codes an audit entry names (`code` in what it records before and after). */
export function codesInAuditEntry(entry: unknown): string[] {
  const codes: string[] = [];
  const e = entry as { before?: unknown; after?: unknown } | undefined;
  for (const side of [e?.before, e?.after]) {
    const code = (side as { code?: unknown } | null | undefined)?.code;
    if (typeof code === 'string') codes.push(code.replace('-', ''));
  }
  return codes;
}

/**
 * The witnessed indexes the allocator has not reserved, the highest of each witness first.
 * Empty when the allocator is ahead of every witness, as it must be.
 */
export function unreservedWitnesses(
  reserved: ReadonlyArray<readonly [number, number]>,
  seen: Iterable<WitnessIndex>,
): WitnessIndex[] {
  const worst = new Map<string, WitnessIndex>();
  for (const w of seen) {
    if (isReserved(reserved, w.index)) continue;
    const held = worst.get(w.witness);
    if (!held || w.index > held.index) worst.set(w.witness, w);
  }
  return [...worst.values()].sort((a, b) => b.index - a.index);
}

/** The refusal of a start whose allocator is behind a witness. */
export function allocatorBehind(allocatorFile: string, behind: WitnessIndex[]): StamplineError {
  const named = behind.map((w) => `the ${w.witness} holds index ${w.index} (${w.code}, ${w.where})`);
  return new StamplineError(
    'STORE_WITNESS_AHEAD',
    `the allocator (${allocatorFile}) has not reserved indexes the line has already given: ${named.join('; ')}. Handing them out again would put one code on two pins. Run \`stampline store check\` to see why, and \`stampline store check --repair\` to move the allocator past them`,
    { file: allocatorFile, witnesses: behind },
  );
}

export interface StartWitnesses {
  issuer: number;
  key: Buffer;
  /** The codes on the last line of each code index shard, and the folder they are in. */
  codeIndex: { dir: string; codes: Iterable<string> };
  /** Unfinished orders' firearms, in memory at start-up. */
  firearms: Iterable<{
    orderId: string;
    seq: number;
    code?: { index: number; text: string };
    voided: Array<{ index: number; text: string }>;
  }>;
  outbox?: { dir: string; codes: Iterable<string> };
  audit?: { dir: string; last: unknown };
}

/** What each witness holds, as cheaply as start-up can read it. */
export function startWitnesses(o: StartWitnesses): WitnessIndex[] {
  const seen: WitnessIndex[] = [];
  const add = (witness: WitnessIndex['witness'], where: string, code: string) => {
    const index = indexOfCode(code, o.issuer, o.key);
    if (index !== undefined) seen.push({ witness, where, index, code });
  };
  for (const code of o.codeIndex.codes) add('code index', o.codeIndex.dir, code);
  for (const f of o.firearms) {
    const where = `order ${f.orderId} firearm ${f.seq}`;
    if (f.code) seen.push({ witness: 'firearms', where, index: f.code.index, code: f.code.text });
    for (const v of f.voided) seen.push({ witness: 'firearms', where, index: v.index, code: v.text });
  }
  if (o.outbox) for (const code of o.outbox.codes) add('outbox', o.outbox.dir, code);
  if (o.audit) for (const code of codesInAuditEntry(o.audit.last)) add('audit trail', o.audit.dir, code);
  return seen;
}
