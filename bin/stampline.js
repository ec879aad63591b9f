#!/usr/bin/env node
// Entry point of the `stampline` executable. It runs the compiled sources in .build/ (made by
// `npm install` through `npm run build`) while they are newer than every source file, and
// otherwise the TypeScript sources through tsx's loader, so an edited checkout never runs stale
// code and a fresh one starts fast (see docs/architecture.md).
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function buildIsFresh() {
  let built;
  try {
    built = statSync(join(root, '.build', '.stamp')).mtimeMs;
  } catch {
    return false;
  }
  for (const dir of ['src', 'simulators']) {
    for (const e of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (
        e.isFile() &&
        e.name.endsWith('.ts') &&
        statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs > built
      ) {
        return false;
      }
    }
  }
  return true;
}

let cli;
if (process.env.STAMPLINE_FROM_SOURCE !== '1' && buildIsFresh()) {
  cli = await import('../.build/src/cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli.ts');
}
process.exitCode = await cli.main(process.argv);
