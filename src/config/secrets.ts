/**
 * Secrets kept out of logs and out of `stampline config show`. Which settings are secret is
 * marked in the schema, so a new secret setting is masked without touching this file.
 */
import { SECRET_SETTINGS } from './settings.js';

/** What a secret that is set shows as. An unset secret stays absent, so one can tell the two apart. */
export const MASK = '********';

/** A deep copy of `config` with every secret that is set replaced by MASK. */
export function maskSecrets<T>(config: T): T {
  const copy = structuredClone(config);
  for (const path of SECRET_SETTINGS) {
    let node: unknown = copy;
    for (const seg of path.slice(0, -1)) {
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[seg] : undefined;
    }
    const last = path[path.length - 1]!;
    if (typeof node === 'object' && node !== null && (node as Record<string, unknown>)[last] != null) {
      (node as Record<string, unknown>)[last] = MASK;
    }
  }
  return copy;
}
