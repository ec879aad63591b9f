import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { publicDir } from '../../src/api/ui/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sources(): Array<{ file: string; text: string }> {
  const dir = publicDir();
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(js|html)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
  files.push(join(root, 'src', 'api', 'ui', 'certificates.ts'));
  return files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

/**
 * The literal names: `'data-test': 'x'` and `'data-test': cond ? 'x' : 'y'` in scripts,
 * `test: 'x'` for the dialogs, and `data-test="x"` in markup.
 */
function literalNames(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/'data-test':\s*'([a-z0-9-]+)'/g)) names.push(m[1]!);
  for (const m of text.matchAll(/'data-test':\s*[\w.]+\s*\?\s*'([a-z0-9-]+)'\s*:\s*'([a-z0-9-]+)'/g)) {
    names.push(m[1]!, m[2]!);
  }
  for (const m of text.matchAll(/\btest:\s*'([a-z0-9-]+)'/g)) names.push(m[1]!);
  for (const m of text.matchAll(/data-test="([a-z0-9-]+)"/g)) names.push(m[1]!);
  return names;
}

describe('the names browser tests use', () => {
  it('are all listed in docs/ui.md', () => {
    const doc = readFileSync(join(root, 'docs', 'ui.md'), 'utf8');
    const listed = new Set([...doc.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!));
    const missing: string[] = [];
    let count = 0;
    for (const { file, text } of sources()) {
      for (const name of literalNames(text)) {
        count++;
        if (!listed.has(name)) missing.push(`${name} (${file.slice(root.length + 1)})`);
      }
    }
    expect(count).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });
});
