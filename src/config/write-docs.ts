/**
 * `npm run docs:config`: regenerates the settings reference in docs/configuration.md from the
 * schema. With `--check`, changes nothing and exits 1 if the document is out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { renderSettingsReference, replaceGenerated } from './docs.js';

const file = new URL('../../docs/configuration.md', import.meta.url);
const current = await readFile(file, 'utf8');
const next = replaceGenerated(current, renderSettingsReference());
if (process.argv.includes('--check')) {
  if (next !== current) {
    process.stderr.write('docs/configuration.md is out of date: run npm run docs:config\n');
    process.exitCode = 1;
  }
} else if (next !== current) {
  await writeFile(file, next);
  process.stdout.write('docs/configuration.md updated\n');
}
