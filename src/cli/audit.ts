import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { StamplineError } from '../errors.js';
import { type AuditEntry, AuditTrail } from '../store/audit.js';
import { dataToRead, type WhereOptions, where } from './where.js';

interface ShowOptions extends WhereOptions {
  subject?: string;
  actor?: string;
  action?: string;
  limit: string;
  before?: string;
  json?: boolean;
}

/**
 * Opens the trail read-only, so both commands are safe beside a running daemon. A data folder
 * with no audit trail is an input error: verifying the wrong folder must not print OK.
 */
async function openTrail(dataDir: string): Promise<AuditTrail> {
  const trail = new AuditTrail({ dataDir, readOnly: true });
  const exists = await stat(trail.dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!exists) {
    throw new StamplineError('INVALID_INPUT', `no audit trail in ${dataDir} (looked for ${trail.dir})`, {
      dataDir,
    });
  }
  await trail.start();
  return trail;
}

function wholeNumber(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new StamplineError(
      'INVALID_INPUT',
      `${what} must be a whole number ≥ ${min}, not ${JSON.stringify(text)}`,
    );
  }
  return n;
}

function formatEntry(e: AuditEntry): string {
  const head = `#${e.seq}  ${e.time}  ${e.actor}  ${e.action}  ${e.subject}`;
  const lines = [e.reason === null ? head : `${head}  (${e.reason})`];
  if (e.before !== null) lines.push(`    before: ${JSON.stringify(e.before)}`);
  if (e.after !== null) lines.push(`    after:  ${JSON.stringify(e.after)}`);
  return lines.join('\n');
}

/** `stampline audit verify` and `stampline audit show`. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('check and read the hash-chained audit trail');

  where(
    audit
      .command('verify')
      .description(
        'check every entry of the audit trail; exits 1 and names the first bad entry if it does not verify',
      ),
  ).action(async (opts: WhereOptions) => {
    const trail = await openTrail(await dataToRead(opts));
    try {
      const result = await trail.verify();
      if (result.ok) {
        process.stdout.write(`OK: ${result.count} audit entries verified; head ${result.head}\n`);
        return;
      }
      const bad = result.firstBad;
      const file = `audit.${String(bad.segment).padStart(8, '0')}.jsonl`;
      process.stdout.write(
        `BAD: audit entry seq ${bad.seq} (${trail.dir}/${file} line ${bad.line}): ${bad.reason}\n` +
          `${result.count} entries before it verified\n`,
      );
      // 1: the command ran and the answer is negative
      process.exitCode = 1;
    } finally {
      await trail.stop();
    }
  });

  where(audit.command('show').description('print audit entries, newest first'))
    .option('--subject <subject>', 'only entries about this subject (an order id, a serial, a code)')
    .option('--actor <actor>', 'only entries by this actor')
    .option('--action <action>', 'only entries of this action')
    .option('--limit <n>', 'at most this many entries', '20')
    .option('--before <seq>', 'only entries older than this seq (to page back)')
    .option('--json', 'print a JSON array of entries')
    .action(async (opts: ShowOptions) => {
      const limit = wholeNumber(opts.limit, '--limit', 1);
      const before = opts.before === undefined ? undefined : wholeNumber(opts.before, '--before', 0);
      const trail = await openTrail(await dataToRead(opts));
      try {
        const entries = await trail.query({
          subject: opts.subject,
          actor: opts.actor,
          action: opts.action,
          limit,
          before,
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        else if (entries.length === 0) process.stdout.write('no matching audit entries\n');
        else process.stdout.write(`${entries.map(formatEntry).join('\n')}\n`);
      } finally {
        await trail.stop();
      }
    });
}
