/**
 * The settings of the schema as a flat list, read from its JSON Schema: what the documentation
 * lists, which values are secrets or file paths, and which keys a section knows (to suggest the
 * right one for a misspelt key). One walk of the schema serves all of them, so they cannot
 * disagree with it.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  secret?: boolean;
  fsPath?: boolean;
  defaultText?: string;
}

export interface SettingInfo {
  /** Dotted path; list items are `[]`: `recipes.models[].make`. */
  path: string;
  segments: string[];
  /** A section (a mapping of settings) rather than a value. */
  section: boolean;
  /** For settings of one variant of a union: `kind: ca-4075`. */
  variant?: string;
  type: string;
  description: string;
  required: boolean;
  default?: unknown;
  defaultText?: string;
  secret: boolean;
  fsPath: boolean;
}

export const CONFIG_JSON_SCHEMA = z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchema;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

function isObjectSchema(s: JsonSchema): boolean {
  return s.type === 'object' || s.properties !== undefined;
}

/** The non-null alternatives of a schema. */
function alternatives(s: JsonSchema): JsonSchema[] {
  const list = s.oneOf ?? s.anyOf;
  return list ? list.filter((a) => a.type !== 'null') : [s];
}

function nullable(s: JsonSchema): boolean {
  return (s.oneOf ?? s.anyOf ?? []).some((a) => a.type === 'null');
}

export function describeType(s: JsonSchema): string {
  const alts = alternatives(s);
  if (alts.length > 1 && !alts.every(isObjectSchema)) return alts.map(describeType).join(', or ');
  const one = alts[0] ?? s;
  if (one.const !== undefined) return `\`${String(one.const)}\``;
  if (one.enum) return `one of ${one.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  switch (one.type) {
    case 'integer': {
      const min = one.minimum ?? -MAX_SAFE;
      const max = one.maximum ?? MAX_SAFE;
      if (max >= MAX_SAFE) return min <= -MAX_SAFE ? 'integer' : `integer ≥ ${min}`;
      return `integer ${min}..${max}`;
    }
    case 'boolean':
      return '`true` or `false`';
    case 'string':
      return s.fsPath || one.fsPath ? 'path' : 'string';
    case 'array':
      return one.items && isObjectSchema(one.items)
        ? 'list of mappings'
        : `list of ${describeType(one.items ?? {})}s`;
    case 'object':
      return 'mapping';
    default:
      return one.properties ? 'mapping' : 'value';
  }
}

function walk(
  schema: JsonSchema,
  segments: string[],
  required: boolean,
  out: SettingInfo[],
  variant: string | undefined,
): void {
  const alts = alternatives(schema);
  const objectAlts = alts.filter(isObjectSchema);
  const isSection = objectAlts.length > 0 && objectAlts.length === alts.length;
  const path = toPath(segments);
  if (segments.length > 0) {
    out.push({
      path,
      segments,
      section: isSection,
      ...(variant ? { variant } : {}),
      type: isSection ? (nullable(schema) ? 'mapping, or null' : 'mapping') : describeType(schema),
      description: schema.description ?? '',
      required,
      ...(schema.default !== undefined && (!isSection || !isEmptyObject(schema.default))
        ? { default: schema.default }
        : {}),
      ...(schema.defaultText !== undefined ? { defaultText: schema.defaultText } : {}),
      secret: schema.secret === true,
      fsPath: schema.fsPath === true,
    });
  }
  if (isSection) {
    for (const alt of objectAlts) {
      const kind = alt.properties?.kind?.const;
      const altVariant = objectAlts.length > 1 && kind !== undefined ? `kind: ${String(kind)}` : variant;
      for (const [key, child] of Object.entries(alt.properties ?? {})) {
        walk(child, [...segments, key], alt.required?.includes(key) ?? false, out, altVariant);
      }
    }
  } else {
    const list = alts.find((a) => a.type === 'array' && a.items && isObjectSchema(a.items));
    if (list?.items) {
      for (const [key, child] of Object.entries(list.items.properties ?? {})) {
        walk(child, [...segments, '[]', key], list.items.required?.includes(key) ?? false, out, variant);
      }
    }
  }
}

function toPath(segments: readonly string[]): string {
  return segments.reduce((p, s) => (s === '[]' ? `${p}[]` : p ? `${p}.${s}` : s), '');
}

/** Every section and setting, in schema order. */
export const SETTINGS: readonly SettingInfo[] = (() => {
  const out: SettingInfo[] = [];
  walk(CONFIG_JSON_SCHEMA, [], true, out, undefined);
  return out;
})();

/** Paths of the secret settings, as segments. */
export const SECRET_SETTINGS: readonly string[][] = SETTINGS.filter((s) => s.secret).map((s) => s.segments);

/** Paths of the settings that name files or folders. */
export const PATH_SETTINGS: readonly string[][] = SETTINGS.filter((s) => s.fsPath).map((s) => s.segments);

/**
 * The keys the section at `path` accepts. `value` is the section as given, so that a union
 * (the QA policy) answers for the variant its `kind` selects.
 */
export function knownKeysAt(path: readonly (string | number)[], value: unknown): string[] {
  let schemas: JsonSchema[] = [CONFIG_JSON_SCHEMA];
  for (const seg of path) {
    const next: JsonSchema[] = [];
    for (const s of schemas) {
      for (const alt of alternatives(s)) {
        if (typeof seg === 'number') {
          if (alt.items) next.push(alt.items);
        } else if (alt.properties?.[seg]) {
          next.push(alt.properties[seg]);
        }
      }
    }
    schemas = next;
  }
  const objects = schemas.flatMap(alternatives).filter(isObjectSchema);
  const kind =
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>).kind : undefined;
  const chosen = objects.filter((o) => o.properties?.kind?.const === kind);
  return [...new Set((chosen.length > 0 ? chosen : objects).flatMap((o) => Object.keys(o.properties ?? {})))];
}
