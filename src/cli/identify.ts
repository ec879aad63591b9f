/**
 * `stampline identify --read TEXT[/GEAR] ...`: which firearm of this line carried the code that
 * cases show, on the line PC. It reads the line's files without writing or locking anything, so
 * it runs beside the daemon.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseKey } from '../codes/index.js';
import { readConfig } from '../config/load.js';
import { StamplineError } from '../errors.js';
import {
  type Identification,
  type IdentifiedFirearm,
  type IdentifyRead,
  LineIdentifier,
} from '../line/identify.js';
import { ReadOnlyLineFiles } from '../line/read-only.js';

interface IdentifyOptions {
  read: string[];
  dataDir?: string;
  config?: string;
  json?: boolean;
}

/** `TEXT`, `TEXT/GEAR` or `/GEAR`: what was read on one case. */
export function parseReadOption(value: string): IdentifyRead {
  const slash = value.indexOf('/');
  const text = (slash < 0 ? value : value.slice(0, slash)).trim();
  const gear = slash < 0 ? '' : value.slice(slash + 1).trim();
  return { ...(text ? { text } : {}), ...(gear ? { gear } : {}) };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function dashed(text: string): string {
  return `${text.slice(0, 5)}-${text.slice(5)}`;
}

function firearmLine(f: IdentifiedFirearm): string {
  const parts = [
    `${f.make} ${f.model} serial ${f.serial}`,
    `order ${f.order}`,
    f.destination ? `to ${f.destination}` : undefined,
    `state ${f.state}`,
    f.engravedAt ? `engraved ${f.engravedAt}` : undefined,
  ];
  const line = parts.filter(Boolean).join(', ');
  if (f.code.status === 'voided' && f.voided) {
    return `${line}\n    code ${dashed(f.code.text)} was VOIDED ${f.voided.at}: ${f.voided.reason}${f.voided.pinScrapped ? ' (pin scrapped)' : ''}`;
  }
  return line;
}

export function formatIdentification(a: Identification): string {
  const d = a.decode;
  const figures = d.ok
    ? `decoded ${dashed(d.text!)}, grade ${d.grade}, ${d.errors} errors, ${d.erasures} erasures${d.miscorrectionRisk !== undefined ? `, risk ${d.miscorrectionRisk.toExponential(1)}` : ''}`
    : `not decoded${d.warning ? `: ${d.warning}` : ''}`;
  const out: string[] = [];
  if (a.outcome === 'identified' && a.firearm) {
    out.push(`IDENTIFIED: code ${dashed(a.firearm.code.text)}`, `  ${firearmLine(a.firearm)}`);
  } else if (a.outcome === 'candidates') {
    out.push(`NOT IDENTIFIED: ${a.candidates.length} issued codes explain the reads about equally`);
    for (const c of a.candidates) {
      out.push(`  ${dashed(c.text)}  weight ratio ${c.weightRatio.toPrecision(3)}`);
      for (const f of c.firearms) out.push(`    ${firearmLine(f)}`);
    }
  } else {
    out.push('NOT IDENTIFIED: no code of this line explains the reads');
  }
  out.push(`  (${figures}; against ${a.issuedCodes} codes issued by this line)`);
  return `${out.join('\n')}\n`;
}

export function registerIdentifyCommand(program: Command): void {
  program
    .command('identify')
    .description(
      'identify cases against the codes this line issued (voided ones too): the firearm, or the candidates. Read-only; safe beside a running daemon. Exits 1 when nothing is identified',
    )
    .requiredOption(
      '--read <text[/gear]>',
      'what one case shows: its 10 characters (? where illegible), and after a / its 88 gear teeth (0 1 ?); repeat for several cases of one gun',
      collect,
    )
    .option('--config <file>', 'the line configuration (issuer key and number, data folder)')
    .option('--data-dir <dir>', "the line's data folder, instead of the configuration's")
    .option('--json', 'print the answer as JSON')
    .action(async (o: IdentifyOptions) => {
      const { config } = await readConfig(o.config ? { file: o.config } : {});
      if (!config.issuer.key)
        throw new StamplineError('CONFIG_INVALID', 'issuer.key is not set (STAMPLINE_ISSUER_KEY)');
      const dataDir = o.dataDir ?? config.line.dataDir;
      const codesDir = join(dataDir, 'codes');
      // a mistyped folder must not answer "not identified"
      const found = await stat(codesDir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!found) {
        throw new StamplineError('INVALID_INPUT', `${dataDir} holds no code index (no folder ${codesDir})`, {
          dataDir,
        });
      }
      const identifier = new LineIdentifier({
        key: parseKey(config.issuer.key),
        issuer: config.issuer.number,
        source: new ReadOnlyLineFiles(dataDir),
      });
      const answer = await identifier.identify({ reads: o.read.map(parseReadOption) });
      process.stdout.write(o.json ? `${JSON.stringify(answer, null, 2)}\n` : formatIdentification(answer));
      if (answer.outcome !== 'identified') process.exitCode = 1;
    });
}
