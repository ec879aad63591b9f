#!/usr/bin/env node
// Compiles the TypeScript sources one file to one file into .build/, mirroring the tree, so the
// daemon starts without a TypeScript loader (bin/stampline.js uses the build only while it is
// newer than every source). Links in .build/ to config/, docs/, package.json and the web UI's
// files keep the paths that sources resolve relative to their own location valid. Runs on
// `npm install` (prepare).
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.build');
const SOURCE_DIRS = ['src', 'simulators'];

function sources(dir) {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath ?? e.path, e.name)));
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: SOURCE_DIRS.flatMap(sources),
  outdir: out,
  outbase: '.',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  bundle: false,
  sourcemap: 'linked',
  logLevel: 'warning',
});
for (const name of ['config', 'docs', 'package.json']) {
  symlinkSync(join('..', name), join(out, name));
}
// The web UI's files are served as written (no compile step), so the build links their folder.
const uiPublic = join('src', 'api', 'ui', 'public');
symlinkSync(relative(dirname(join(out, uiPublic)), join(root, uiPublic)), join(out, uiPublic));
writeFileSync(join(out, '.stamp'), `${new Date().toISOString()}\n`);
