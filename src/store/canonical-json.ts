/**
 * Canonical JSON for hashing: object keys sorted by UTF-16 code units at every level, no
 * whitespace, numbers and strings as JSON.stringify writes them. For values that have been
 * through JSON (no undefined, no non-finite numbers) this is the JSON Canonicalization Scheme
 * of RFC 8785, so the hash of an audit entry can be checked outside this code base.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}
