/**
 * Turns what zod finds into problems a person can act on: each names the setting by its path,
 * says what is wrong in plain words, and never repeats a value (it could be a secret).
 */
import type { z } from 'zod';
import { knownKeysAt } from './settings.js';

export interface ConfigProblem {
  /** The setting, e.g. `engraver.url` or `recipes.models[2].make`; empty for the whole file. */
  path: string;
  message: string;
  /** The environment variable the value came from. */
  variable?: string;
  /** Where the setting is written in the configuration file (1-based). */
  line?: number;
  column?: number;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((p, seg) => {
    if (typeof seg === 'number') return `${p}[${seg}]`;
    return p ? `${p}.${String(seg)}` : String(seg);
  }, '');
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.variable ? `${p.variable} (${p.path})` : p.path || '(the whole file)';
  const at = p.line !== undefined ? ` (line ${p.line})` : '';
  return `${where}: ${p.message}${at}`;
}

function kindOf(input: unknown): string {
  if (input === null) return 'nothing';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return 'text';
  if (typeof input === 'number') return Number.isInteger(input) ? 'a whole number' : 'a number';
  if (typeof input === 'boolean') return 'true or false';
  return typeof input;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping of settings',
  array: 'a list',
};

type RawIssue = z.core.$ZodRawIssue;

/** Messages for zod's own checks; messages written in the schema take precedence over these. */
export const errorMap: z.core.$ZodErrorMap = (issue: RawIssue) => {
  const i = issue as RawIssue & Record<string, unknown>;
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'required';
      const expected = EXPECTED[String(i.expected)] ?? String(i.expected);
      const hint = i.expected === 'string' && typeof issue.input === 'number' ? ' (put it in quotes)' : '';
      if (i.expected === 'int' && typeof issue.input === 'number') return 'must be a whole number';
      return `must be ${expected}, not ${kindOf(issue.input)}${hint}`;
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? 'at least' : 'at most';
      const limit = Number(issue.code === 'too_small' ? i.minimum : i.maximum);
      if (i.origin === 'string') return `must be ${bound} ${limit} character${limit === 1 ? '' : 's'}`;
      if (i.origin === 'array') return `must have ${bound} ${limit} item${limit === 1 ? '' : 's'}`;
      return `must be ${bound} ${limit}`;
    }
    case 'invalid_value':
      return `must be one of ${(i.values as unknown[]).map((v) => String(v)).join(', ')}`;
    case 'invalid_union':
      if (Array.isArray(i.options) && i.discriminator) {
        const options = (i.options as unknown[]).map(String).join(', ');
        const given =
          typeof issue.input === 'object' && issue.input !== null
            ? (issue.input as Record<string, unknown>)[String(i.discriminator)]
            : issue.input;
        return given === undefined ? `required: one of ${options}` : `must be one of ${options}`;
      }
      return 'is not any of the accepted forms';
    case 'invalid_format':
      return 'has the wrong format';
    default:
      return undefined;
  }
};

/** Edits between two words, counting a swap of neighbours as one (the commonest typing slip). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  const close = known
    .map((k) => ({ k, d: k.toLowerCase() === lower ? 0 : editDistance(lower, k.toLowerCase()) }))
    .filter(({ d }) => d <= Math.max(1, Math.floor(key.length / 3)))
    .sort((a, b) => a.d - b.d)[0];
  if (close) return `unknown setting; did you mean ${close.k}?`;
  return known.length > 0 ? `unknown setting (this section takes: ${known.join(', ')})` : 'unknown setting';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

export interface IssueProblem {
  path: PropertyKey[];
  message: string;
}

/** One problem per zod issue, and one per unknown key. */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], input: unknown): IssueProblem[] {
  const out: IssueProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(issue.path as (string | number)[], valueAt(input, issue.path));
      for (const key of issue.keys)
        out.push({ path: [...issue.path, key], message: unknownKeyMessage(key, known) });
    } else {
      out.push({ path: [...issue.path], message: issue.message });
    }
  }
  return out;
}
