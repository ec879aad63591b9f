/**
 * `stampline order validate FILE` checks an order file offline, as the line would; `stampline sim
 * erp post|drop|sample` plays the ERP.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { dropOrders, fileNameFor, postOrder } from '../../simulators/erp/feeder.js';
import { sampleOrder } from '../../simulators/erp/sample.js';
import { formatOrdersCsv, parseOrdersCsv } from '../erp/csv.js';
import { type Order, parseOrders, TARGETS, type Target } from '../erp/order.js';
import {
  type CsvProblem,
  DEFAULT_MAX_PROBLEMS,
  formatCsvProblem,
  formatProblem,
  type Problem,
} from '../erp/problems.js';
import { StamplineError } from '../errors.js';

/** Same values as EXIT in src/cli.ts (not imported: that module imports this one). */
const NEGATIVE = 1;
const FAILURE = 3;

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
}

type Format = 'json' | 'csv';

function formatOf(file: string, text: string, forced: Format | undefined): Format {
  if (forced) return forced;
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.csv') return 'csv';
  return /^\s*[[{]/.test(text.slice(0, 64)) ? 'json' : 'csv';
}

export type ValidateResult =
  | { ok: true; format: Format; orders: Order[] }
  | { ok: false; format: 'json'; problems: Problem[]; total: number }
  | { ok: false; format: 'csv'; problems: CsvProblem[]; total: number };

/** Validates the bytes of an order file, JSON (one order or a list) or drop-folder CSV. */
export function validateOrderFile(
  file: string,
  bytes: Uint8Array,
  opts: { format?: Format; maxProblems?: number } = {},
): ValidateResult {
  const head = Buffer.from(bytes.subarray(0, 64)).toString('utf8');
  const format = formatOf(file, head, opts.format);
  if (format === 'csv') {
    const r = parseOrdersCsv(bytes, opts);
    return r.ok
      ? { ok: true, format, orders: r.orders }
      : { ok: false, format, problems: r.problems, total: r.total };
  }
  let input: unknown;
  try {
    input = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    return {
      ok: false,
      format,
      problems: [{ path: '', reason: `not valid JSON: ${(err as Error).message}` }],
      total: 1,
    };
  }
  const r = parseOrders(input, opts);
  return r.ok
    ? { ok: true, format, orders: r.orders }
    : { ok: false, format, problems: r.problems, total: r.total };
}

interface OrderFieldOptions {
  orderId?: string;
  firearms: number;
  make?: string;
  model?: string;
  caliber?: string;
  target?: Target;
  destination?: string;
  serialPrefix?: string;
  reworkEvery?: number;
}

function withOrderFields(cmd: Command): Command {
  return cmd
    .option('--order-id <id>', 'order id (default SIM-<date and time>)')
    .option('--firearms <n>', 'number of firearms', count, 10)
    .option('--make <make>', 'make', 'Acme Arms')
    .option('--model <model>', 'model', 'P-9 Compact')
    .option('--caliber <caliber>', 'caliber ("" for none)', '9mm Luger')
    .addOption(
      new Option('--target <target>', 'what is engraved').choices([...TARGETS]).default('firing-pin'),
    )
    .option('--destination <licence>', "receiving dealer's licence number")
    .option('--serial-prefix <prefix>', 'serials are <prefix>-000001, ... (default from the order id)')
    .option('--rework-every <n>', 'mark every n-th firearm as a rework', count);
}

function defaultOrderId(): string {
  return `SIM-${new Date().toISOString().replace(/[-:T]/g, '').replace(/\..*$/, '')}`;
}

function buildOrder(o: OrderFieldOptions, id = o.orderId ?? defaultOrderId()): Order {
  return sampleOrder({
    id,
    firearms: o.firearms,
    make: o.make,
    model: o.model,
    caliber: o.caliber === '' ? null : o.caliber,
    target: o.target,
    destination: o.destination,
    serialPrefix: o.serialPrefix,
    reworkEvery: o.reworkEvery,
  });
}

async function readOrderFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new StamplineError('ERP_UNREADABLE_FILE', `cannot read ${file}: ${(err as Error).message}`, {
      file,
    });
  }
}

export function registerErpCommands(program: Command, sim: Command): void {
  const order =
    program.commands.find((c) => c.name() === 'order') ??
    program.command('order').description('orders from the ERP');
  order
    .command('validate')
    .description('check a JSON or CSV order file offline and print every problem (exit 1 when there are any)')
    .argument('<file>', 'a JSON order (or list of orders), or a drop-folder CSV file')
    .addOption(new Option('--format <format>', 'read the file as').choices(['json', 'csv']))
    .option('--json', 'print the result as JSON')
    .option('--max-problems <n>', 'list at most n problems (0: all)', count, DEFAULT_MAX_PROBLEMS)
    .action(async (file: string, o: { format?: Format; json?: boolean; maxProblems: number }) => {
      const r = validateOrderFile(file, await readOrderFile(file), {
        format: o.format,
        maxProblems: o.maxProblems,
      });
      if (o.json) {
        process.stdout.write(
          `${JSON.stringify(r.ok ? { ...r, orders: undefined, summary: summary(r.orders) } : r)}\n`,
        );
      } else if (r.ok) {
        const s = summary(r.orders);
        process.stdout.write(
          `${file}: valid, ${s.orders} order${s.orders === 1 ? '' : 's'}, ${s.firearms} firearm${s.firearms === 1 ? '' : 's'}\n`,
        );
        for (const x of r.orders)
          process.stdout.write(`  ${x.id}: ${x.firearms.length} firearms, ${x.make} ${x.model}\n`);
      } else {
        const lines =
          r.format === 'csv'
            ? r.problems.map((p) => formatCsvProblem(p))
            : r.problems.map((p) => formatProblem(p));
        process.stdout.write(`${file}: ${r.total} problem${r.total === 1 ? '' : 's'}\n${lines.join('\n')}\n`);
      }
      if (!r.ok) process.exitCode = NEGATIVE;
    });

  const erp = sim.command('erp').description('play the ERP: post orders to the line or drop CSV files');

  withOrderFields(
    erp
      .command('post')
      .description('POST an order to the line (POST /api/v1/orders) and print the answer')
      .requiredOption('--url <url>', "the line's base URL, e.g. http://127.0.0.1:8080")
      .addOption(
        new Option('--token <token>', 'ERP API token').env('STAMPLINE_ERP_TOKEN').makeOptionMandatory(),
      )
      .option('--body <file>', 'post this file as it is instead of a generated order'),
  ).action(async (o: OrderFieldOptions & { url: string; token: string; body?: string }) => {
    const body = o.body !== undefined ? (await readOrderFile(o.body)).toString('utf8') : buildOrder(o);
    const answer = await postOrder({ url: o.url, token: o.token, body });
    process.stdout.write(
      `HTTP ${answer.status}\n${typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body, null, 2)}\n`,
    );
    if (answer.status >= 500) process.exitCode = FAILURE;
    else if (answer.status >= 300) process.exitCode = NEGATIVE;
  });

  withOrderFields(
    erp
      .command('drop')
      .description('write orders as a CSV file into a drop folder (temporary name, then rename)')
      .requiredOption('--dir <dir>', 'the drop folder')
      .option('--orders <k>', 'number of orders in the file (ids <order-id>-1, -2, ...)', count, 1)
      .option('--name <name>', 'file name (default from the order id)'),
  ).action(async (o: OrderFieldOptions & { dir: string; orders: number; name?: string }) => {
    const base = o.orderId ?? defaultOrderId();
    const orders =
      o.orders === 1
        ? [buildOrder(o, base)]
        : Array.from({ length: o.orders }, (_, k) =>
            buildOrder(
              { ...o, serialPrefix: o.serialPrefix && `${o.serialPrefix}-${k + 1}` },
              `${base}-${k + 1}`,
            ),
          );
    const path = await dropOrders({ dir: o.dir, orders, name: o.name ?? fileNameFor(base) });
    process.stdout.write(`${path}\n`);
  });

  withOrderFields(
    erp
      .command('sample')
      .description('print a sample order, as JSON (the API body) or CSV (a drop-folder file)')
      .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv']).default('json')),
  ).action((o: OrderFieldOptions & { format: Format }) => {
    const sample = buildOrder(o);
    process.stdout.write(
      o.format === 'csv' ? formatOrdersCsv([sample]) : `${JSON.stringify(sample, null, 2)}\n`,
    );
  });
}

function summary(orders: Order[]): { orders: number; firearms: number; ids: string[] } {
  return {
    orders: orders.length,
    firearms: orders.reduce((n, o) => n + o.firearms.length, 0),
    ids: orders.map((o) => o.id),
  };
}
