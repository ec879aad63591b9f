/**
 * The order model: what the ERP sends and what the line stores. `parseOrder` is the one gate a
 * JSON order passes (the HTTP route and `stampline order validate` both use it); it lists every
 * problem at once, by field path, so the ERP can fix an order in one round.
 *
 * `orderSchema` is the same contract as a zod schema, for documentation and OpenAPI
 * (`z.toJSONSchema(orderSchema, { io: 'input' })`). `parseOrder` does not run it: a hand-written
 * pass gives each problem a precise reason and checks serial uniqueness in the same loop; a
 * property test keeps the two in agreement.
 */
import { z } from 'zod';
import { ruledText, TEXT_RULE } from '../text-rule.js';
import { omittedReason, type Problem, ProblemCollector } from './problems.js';
import {
  caliberProblem,
  DESTINATION_PATTERN,
  describeType,
  destinationProblem,
  LIMITS,
  makeProblem,
  modelProblem,
  normalizeDestination,
  normalizeOptionalText,
  normalizeTarget,
  normalizeText,
  ORDER_ID_PATTERN,
  orderIdProblem,
  quote,
  reworkProblem,
  SERIAL_PATTERN,
  serialProblem,
  TARGETS,
  type Target,
  targetProblem,
} from './rules.js';

export type { Problem } from './problems.js';
export { DEFAULT_TARGET, LIMITS, TARGETS, type Target } from './rules.js';

export interface Firearm {
  serial: string;
  /** True when the serial may have been engraved on this line before (a pin being replaced). */
  rework?: boolean;
}

export interface Order {
  id: string;
  make: string;
  model: string;
  caliber?: string;
  target: Target;
  /** The receiving dealer's licence number. */
  destination?: string;
  firearms: Firearm[];
}

export type ParseOrderResult =
  | { ok: true; order: Order }
  | { ok: false; problems: Problem[] /** every problem found, including any not listed */; total: number };

export interface ParseOptions {
  /** How many problems to list before summarising the rest; 0 lists all. Default 200. */
  maxProblems?: number;
}

export const ORDER_FIELDS = ['id', 'make', 'model', 'caliber', 'target', 'destination', 'firearms'] as const;
export const FIREARM_FIELDS = ['serial', 'rework'] as const;

const orderFieldSet: ReadonlySet<string> = new Set(ORDER_FIELDS);

/** `a.b` for a plain name, `a["odd key"]` otherwise, so every path can be read back unambiguously. */
function child(base: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks the firearms of one order into `out`, reporting problems through `report(index, field, reason)`.
 * Shared by `parseOrder` and by callers that validate several orders together.
 */
function checkFirearms(
  items: readonly unknown[],
  report: (index: number, field: string | undefined, reason: string) => void,
  out: Firearm[],
): void {
  const firstIndex = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (!isPlainObject(item)) {
      report(i, undefined, `must be an object like {"serial": "ABC-123"}, not ${describeType(item)}`);
      continue;
    }
    let serial: unknown;
    let rework: unknown;
    for (const key in item) {
      if (!Object.hasOwn(item, key)) continue;
      if (key === 'serial') serial = item.serial;
      else if (key === 'rework') rework = item.rework;
      else report(i, key, 'is not a field of a firearm (a firearm has serial and rework)');
    }
    const sp = serialProblem(serial);
    if (sp) {
      report(i, 'serial', sp);
    } else {
      const s = serial as string;
      const first = firstIndex.get(s);
      if (first === undefined) {
        firstIndex.set(s, i);
      } else {
        report(
          i,
          'serial',
          `${quote(s)} is already the serial of firearms[${first}]; a serial appears once in an order`,
        );
      }
    }
    const rp = reworkProblem(rework);
    if (rp) report(i, 'rework', rp);
    // Any problem fails the whole order, so what is pushed after one is never returned.
    out.push(rework === true ? { serial: serial as string, rework: true } : { serial: serial as string });
  }
}

/** Validates and normalises an order received as JSON. Never throws. */
export function parseOrder(input: unknown, options: ParseOptions = {}): ParseOrderResult {
  const problems = new ProblemCollector<Problem>(options.maxProblems);
  const add = (path: string, reason: string | undefined) => {
    if (reason !== undefined) problems.add({ path, reason });
  };
  const fail = (): ParseOrderResult => ({
    ok: false,
    problems: problems.finish((omitted, listed) => ({
      path: 'firearms',
      reason: omittedReason(omitted, listed),
    })),
    total: problems.total,
  });

  if (!isPlainObject(input)) {
    add('', `an order must be a JSON object, not ${describeType(input)}`);
    return fail();
  }
  add('id', orderIdProblem(input.id));
  add('make', makeProblem(input.make));
  add('model', modelProblem(input.model));
  add('caliber', caliberProblem(input.caliber));
  add('target', targetProblem(input.target));
  add('destination', destinationProblem(input.destination));
  for (const key of Object.keys(input)) {
    if (!orderFieldSet.has(key))
      add(child('', key), `is not a field of an order (an order has ${ORDER_FIELDS.join(', ')})`);
  }

  const firearms: Firearm[] = [];
  const items = input.firearms;
  if (items === undefined) {
    add('firearms', 'is required: a list of {"serial": "..."}');
  } else if (!Array.isArray(items)) {
    add('firearms', `must be an array of {"serial": "..."}, not ${describeType(items)}`);
  } else {
    if (items.length === 0) add('firearms', 'must hold at least 1 firearm');
    if (items.length > LIMITS.firearms) {
      add('firearms', `must hold at most ${LIMITS.firearms} firearms; this one has ${items.length}`);
    }
    checkFirearms(
      items,
      (i, field, reason) =>
        problems.add({ path: field ? child(`firearms[${i}]`, field) : `firearms[${i}]`, reason }),
      firearms,
    );
  }
  if (!problems.empty) return fail();

  const order: Order = {
    id: input.id as string,
    make: normalizeText(input.make as string),
    model: normalizeText(input.model as string),
    target: normalizeTarget(input.target),
    firearms,
  };
  const caliber = normalizeOptionalText(input.caliber);
  if (caliber !== undefined) order.caliber = caliber;
  const destination = normalizeDestination(input.destination);
  if (destination !== undefined) order.destination = destination;
  return { ok: true, order: reorder(order) };
}

/** Fields in the documented order, so a stored or printed order reads the same every time. */
function reorder(o: Order): Order {
  const out: Order = { id: o.id, make: o.make, model: o.model } as Order;
  if (o.caliber !== undefined) out.caliber = o.caliber;
  out.target = o.target;
  if (o.destination !== undefined) out.destination = o.destination;
  out.firearms = o.firearms;
  return out;
}

/**
 * Validates a list of orders meant to be taken together (a JSON file of several orders): each
 * order as `parseOrder` does, plus a serial appearing in two of them, which the line would refuse.
 * Paths are prefixed with the order's index: `[2].firearms[5].serial`.
 */
export function parseOrders(
  input: unknown,
  options: ParseOptions = {},
): { ok: true; orders: Order[] } | { ok: false; problems: Problem[]; total: number } {
  if (!Array.isArray(input)) {
    const r = parseOrder(input, options);
    return r.ok ? { ok: true, orders: [r.order] } : r;
  }
  const problems = new ProblemCollector<Problem>(options.maxProblems);
  const orders: Order[] = [];
  const seenIds = new Map<string, number>();
  const seenSerials = new Map<string, { order: number; firearm: number }>();
  if (input.length === 0) problems.add({ path: '', reason: 'the list holds no orders' });
  input.forEach((one, k) => {
    const r = parseOrder(one, { maxProblems: 0 });
    if (!r.ok) {
      for (const p of r.problems)
        problems.add({ path: p.path === '' ? `[${k}]` : `[${k}].${p.path}`, reason: p.reason });
      return;
    }
    const o = r.order;
    const dupId = seenIds.get(o.id);
    if (dupId !== undefined)
      problems.add({ path: `[${k}].id`, reason: `${quote(o.id)} is also the id of [${dupId}]` });
    else seenIds.set(o.id, k);
    o.firearms.forEach((f, i) => {
      const at = seenSerials.get(f.serial);
      if (at) {
        problems.add({
          path: `[${k}].firearms[${i}].serial`,
          reason: `${quote(f.serial)} is also in order [${at.order}] (firearms[${at.firearm}]); a serial may be in only one order`,
        });
      } else {
        seenSerials.set(f.serial, { order: k, firearm: i });
      }
    });
    orders.push(o);
  });
  if (!problems.empty) {
    return {
      ok: false,
      problems: problems.finish((omitted, listed) => ({ path: '', reason: omittedReason(omitted, listed) })),
      total: problems.total,
    };
  }
  return { ok: true, orders };
}

/**
 * True when two orders say the same thing. The line uses it to answer a repeated intake of an
 * order it already holds (a drop-folder file retried after a crash) as accepted, not as a clash.
 */
export function sameOrder(a: Order, b: Order): boolean {
  if (
    a.id !== b.id ||
    a.make !== b.make ||
    a.model !== b.model ||
    a.caliber !== b.caliber ||
    a.target !== b.target ||
    a.destination !== b.destination ||
    a.firearms.length !== b.firearms.length
  ) {
    return false;
  }
  for (let i = 0; i < a.firearms.length; i++) {
    const x = a.firearms[i]!;
    const y = b.firearms[i]!;
    if (x.serial !== y.serial || (x.rework === true) !== (y.rework === true)) return false;
  }
  return true;
}

const maxChars = (n: number) => (s: string) => [...s].length <= n;
const text = (max: number) =>
  ruledText(z.string().trim().min(1)).refine(maxChars(max)).describe(`1..${max} characters: ${TEXT_RULE}`);
const optionalText = (max: number) =>
  ruledText(z.string().trim())
    .refine(maxChars(max))
    .nullish()
    .describe(`at most ${max} characters, blank means none: ${TEXT_RULE}`);

export const firearmSchema = z.strictObject({
  serial: z.string().regex(SERIAL_PATTERN).describe('1..32 characters of A-Z, 0-9 and -'),
  rework: z.boolean().nullish().describe('true when the serial may have been engraved on this line before'),
});

/** The JSON order as the API accepts it. Uniqueness of serials is a refinement JSON Schema cannot state. */
export const orderSchema = z
  .strictObject({
    id: z
      .string()
      .regex(ORDER_ID_PATTERN)
      .describe('1..64 printable ASCII characters, no space at either end'),
    make: text(LIMITS.textLength),
    model: text(LIMITS.textLength),
    caliber: optionalText(LIMITS.caliberLength),
    target: z
      .enum([...TARGETS, ''])
      .nullish()
      .describe('"firing-pin" (the default) or "breech-face"'),
    destination: z
      .union([z.literal(''), z.string().regex(DESTINATION_PATTERN)])
      .nullish()
      .describe('dealer licence number: 1..32 characters of A-Z, 0-9 and -'),
    firearms: z.array(firearmSchema).min(1).max(LIMITS.firearms),
  })
  .refine((o) => new Set(o.firearms.map((f) => f.serial)).size === o.firearms.length, {
    message: 'serials must be unique within the order',
    path: ['firearms'],
  });
