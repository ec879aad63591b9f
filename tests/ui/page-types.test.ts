import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe("the page's scripts", () => {
  it('type-check against the DOM with their JSDoc (npm run check:ui)', async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = await promisify(execFile)(process.execPath, [tsc, '-p', 'src/api/ui/tsconfig.public.json'], {
      cwd: root,
    }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(run.out).toBe('');
    expect(run.code).toBe(0);
  }, 60_000);
});
