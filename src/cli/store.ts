/**
 * `stampline store check [--repair]`: verifies a line's whole data folder offline and, with
 * `--repair`, fixes what the primary data can fix (see `line/store-check.ts`, `line/store-repair.ts`).
 * Exit 0 when nothing is wrong (after the repair, if asked), 1 when something is, 2 for a usage
 * error (no such folder, a daemon holding the store during `--repair`).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseKey } from '../codes/index.js';
import { loadConfig } from '../config/index.js';
import { StamplineError } from '../errors.js';
import { type CheckReport, checkStore } from '../line/store-check.js';
import { repairStore } from '../line/store-repair.js';
import { migrateStore, storeFormat } from '../store/migrations.js';

interface CheckOptions {
  config?: string;
  dataDir?: string;
  repair?: boolean;
  json?: boolean;
}

async function target(
  o: CheckOptions,
): Promise<{ dataDir: string; issuer?: { number: number; key: Buffer } }> {
  if (o.config && o.dataDir)
    throw new StamplineError('INVALID_INPUT', 'give --config or --data-dir, not both');
  if (o.config) {
    const config = await loadConfig({ file: o.config });
    return {
      dataDir: resolve(config.line.dataDir),
      ...(config.issuer.key
        ? { issuer: { number: config.issuer.number, key: parseKey(config.issuer.key) } }
        : {}),
    };
  }
  const dataDir = o.dataDir ?? process.env.STAMPLINE_DATA_DIR;
  if (!dataDir) throw new StamplineError('INVALID_INPUT', 'give --config FILE or --data-dir DIR');
  return { dataDir: resolve(dataDir) };
}

function formatLine(f: CheckReport['format']): string {
  if (f.found === null) return `none recorded (this release writes ${f.current})`;
  if (f.migrating)
    return `${f.found}, part-way through its migration to ${f.migrating.to} (done: ${f.migrating.done.join(', ') || 'nothing yet'}); the next start, or --repair, finishes it`;
  if (f.found < f.current)
    return `${f.found}, older than this release's ${f.current}; the next start, or --repair, migrates it`;
  return `${f.found}, this release's`;
}

/** The order states in the order of an order's life; `done` is how stores before the split said finished. */
const STATE_ORDER = ['queued', 'running', 'paused', 'faulted', 'engraved', 'complete', 'aborted', 'done'];

/** `orders by state: 1 queued, 2 engraved (awaiting QA or the registry), 5 complete`, as the header files say. */
function ordersByState(orders: readonly { state: string }[]): string | undefined {
  if (orders.length === 0) return undefined;
  const by = new Map<string, number>();
  for (const o of orders) by.set(o.state, (by.get(o.state) ?? 0) + 1);
  const rank = (s: string) => (STATE_ORDER.includes(s) ? STATE_ORDER.indexOf(s) : STATE_ORDER.length);
  const parts = [...by.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([state, n]) => {
      if (state === 'engraved') return `${n} engraved (awaiting QA or the registry)`;
      if (state === 'done')
        return `${n} done (stored before engraved and complete were told apart: read as engraved, completed by the line at its next start when QA and the registry are through)`;
      return `${n} ${state}`;
    });
  return `orders by state: ${parts.join(', ')}`;
}

export function printCheck(report: CheckReport, dataDir: string): string {
  const c = report.counts;
  const lines = [
    `${report.ok ? 'OK' : 'BAD'}: ${dataDir}: ${c.orders} orders, ${c.firearms} firearms, ${c.auditEntries} audit entries, ${c.outboxEntries} outbox entries, ${c.codesWitnessed} codes witnessed`,
  ];
  const states = ordersByState(report.orders);
  if (states) lines.push(states);
  const runs = report.allocator.reserved;
  const last = runs.at(-1);
  lines.push(
    `allocator: ${runs.length} reserved run(s)${last ? `, the last ${last[0]}..${last[1] - 1}` : ''}; highest index any witness holds: ${report.allocator.highestWitnessed ?? 'none'}`,
  );
  lines.push(`data format: ${formatLine(report.format)}`);
  for (const f of report.findings)
    lines.push(`BAD: ${f.file} ${f.problem}${f.repair ? ' [--repair fixes this]' : ''}`);
  return `${lines.join('\n')}\n`;
}

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('check the line’s data folder');
  store
    .command('check')
    .description(
      'verify every file, log, chain and index of the data folder, and the allocator against every witness; exits 1 on any problem',
    )
    .option(
      '--config <file>',
      'the line’s configuration (its data folder, and the issuer key to place codes)',
    )
    .option('--data-dir <dir>', 'the data folder, without a configuration')
    .option(
      '--repair',
      'move the allocator past every witnessed index, rebuild the indexes, adopt a folder without store.json (the daemon must be stopped)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (o: CheckOptions) => {
      const { dataDir, issuer } = await target(o);
      if (
        !(await stat(dataDir).then(
          (s) => s.isDirectory(),
          () => false,
        ))
      ) {
        throw new StamplineError('INVALID_INPUT', `no data folder ${dataDir}`, { dataDir });
      }
      // A newer format is refused before anything is read; --repair first migrates an older one.
      await storeFormat(dataDir);
      const migrated = o.repair ? await migrateStore(dataDir, { actor: 'stampline store check' }) : [];
      const options = { dataDir, ...(issuer ? { issuer } : {}) };
      let report = await checkStore(options);
      let repaired: string[] | undefined;
      if (o.repair && !report.ok) {
        repaired = await repairStore(dataDir, report);
        report = await checkStore(options);
      }
      if (o.json) {
        const { firearms: _f, orders: _o, unreserved: _u, ...shown } = report;
        process.stdout.write(
          `${JSON.stringify({ dataDir, ...shown, ...(migrated.length > 0 ? { migrated } : {}), ...(repaired ? { repaired } : {}) }, null, 2)}\n`,
        );
      } else {
        for (const m of migrated)
          process.stdout.write(`migrated: data format ${m.from} to ${m.to} (${m.steps.join(', ')})\n`);
        if (repaired) for (const r of repaired) process.stdout.write(`repaired: ${r}\n`);
        process.stdout.write(printCheck(report, dataDir));
      }
      if (!report.ok) process.exitCode = 1;
    });
}
