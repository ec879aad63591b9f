/**
 * The little template language of command profiles, used both ways: the driver renders commands
 * and reads replies with it, the simulator reads commands and renders replies with the same
 * templates, so a profile says each exchange once.
 *
 *   `WX,BLK=0,CharacterString={text}`  literal text and `{name}` placeholders
 *   `ST {mask}[ {error}]`               `[...]` is optional: present when its placeholders are
 *
 * `\{`, `\[`, `\]` and `\\` stand for the characters themselves. Reply placeholders are decimal
 * integers; command placeholders take what the job gives them (see `SEND_VARIABLES`).
 */

export type Part =
  | { kind: 'literal'; text: string }
  | { kind: 'variable'; name: string }
  | { kind: 'optional'; parts: Part[] };

export interface Template {
  readonly source: string;
  readonly parts: readonly Part[];
  /** Every placeholder name, optional ones included, in order. */
  readonly variables: readonly string[];
}

/** Placeholders a command may carry, and what each matches when the simulator reads one. */
export const SEND_VARIABLES: Readonly<Record<string, string>> = {
  program: '[^\\r\\n]+?',
  text: '[^\\r\\n]*?',
  gear: '[^\\r\\n]*?',
  jobId: '\\d+',
  mirror: '[01]',
  power: '\\d+',
  frequency: '\\d+',
  speed: '\\d+',
  passes: '\\d+',
};

/** Placeholders a reply or an unasked message may carry; every one is a decimal integer. */
export const REPLY_VARIABLES = ['ready', 'marking', 'error', 'mask', 'count', 'code'] as const;
export type ReplyVariable = (typeof REPLY_VARIABLES)[number];

export class TemplateError extends Error {}

export function parseTemplate(source: string): Template {
  let at = 0;
  const variables: string[] = [];
  const parse = (inOptional: boolean): Part[] => {
    const parts: Part[] = [];
    let literal = '';
    const flush = () => {
      if (literal) parts.push({ kind: 'literal', text: literal });
      literal = '';
    };
    while (at < source.length) {
      const ch = source[at]!;
      if (ch === '\\') {
        const next = source[at + 1];
        if (next === undefined || !'{}[]\\'.includes(next)) {
          throw new TemplateError(`"\\" at ${at} must be followed by one of { } [ ] \\`);
        }
        literal += next;
        at += 2;
      } else if (ch === '{') {
        const close = source.indexOf('}', at);
        const name = close < 0 ? '' : source.slice(at + 1, close);
        if (!/^[A-Za-z]+$/.test(name)) throw new TemplateError(`"{" at ${at} does not open a {name}`);
        flush();
        parts.push({ kind: 'variable', name });
        variables.push(name);
        at = close + 1;
      } else if (ch === '[') {
        if (inOptional) throw new TemplateError(`optional parts cannot nest ("[" at ${at})`);
        flush();
        at++;
        const inner = parse(true);
        if (source[at] !== ']') throw new TemplateError('a "[" is never closed');
        at++;
        if (!inner.some((p) => p.kind === 'variable')) {
          throw new TemplateError('an optional part [...] must hold a {placeholder}');
        }
        parts.push({ kind: 'optional', parts: inner });
      } else if (ch === ']') {
        if (inOptional) break;
        throw new TemplateError(`"]" at ${at} closes nothing`);
      } else if (ch === '}') {
        throw new TemplateError(`"}" at ${at} closes nothing`);
      } else {
        literal += ch;
        at++;
      }
    }
    flush();
    return parts;
  };
  const parts = parse(false);
  if (parts.length === 0) throw new TemplateError('is empty');
  return { source, parts, variables };
}

/** Renders with the values given; an optional part is left out when one of its values is missing. */
export function render(
  template: Template,
  values: Readonly<Record<string, string | number | undefined>>,
): string {
  const out = (parts: readonly Part[]): string | undefined => {
    let text = '';
    for (const part of parts) {
      if (part.kind === 'literal') text += part.text;
      else if (part.kind === 'variable') {
        const value = values[part.name];
        if (value === undefined) return undefined;
        text += String(value);
      } else text += out(part.parts) ?? '';
    }
    return text;
  };
  const text = out(template.parts);
  if (text === undefined) {
    const missing = template.variables.filter((name) => values[name] === undefined);
    throw new TemplateError(`"${template.source}" needs a value for {${missing.join('}, {')}}`);
  }
  return text;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A regular expression matching the whole of a line the template renders, with one named group
 * per placeholder. `patterns` gives each placeholder's pattern; the default is a decimal integer.
 */
export function compile(template: Template, patterns: Readonly<Record<string, string>> = {}): RegExp {
  const seen = new Set<string>();
  const source = (parts: readonly Part[]): string =>
    parts
      .map((part) => {
        if (part.kind === 'literal') return escapeRegex(part.text);
        if (part.kind === 'optional') return `(?:${source(part.parts)})?`;
        // A name used twice must hold the same value: a back-reference says so.
        if (seen.has(part.name)) return `\\k<${part.name}>`;
        seen.add(part.name);
        return `(?<${part.name}>${patterns[part.name] ?? '\\d+'})`;
      })
      .join('');
  return new RegExp(`^${source(template.parts)}$`);
}

/** The placeholders' values if the line is one the template renders, else undefined. */
export function match(regex: RegExp, line: string): Record<string, string> | undefined {
  const m = regex.exec(line);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.groups ?? {})) if (value !== undefined) out[name] = value;
  return out;
}
