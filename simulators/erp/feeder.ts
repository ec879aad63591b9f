/**
 * The ERP side of order intake: posting a JSON order to the line's API, or dropping a CSV file
 * into its folder the way an integrator should (a temporary dot-name, then a rename, so the line
 * never sees a half-written file).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { formatOrdersCsv } from '../../src/erp/csv.js';
import { freeName, fsyncDir, moveNoClobber } from '../../src/erp/no-clobber.js';
import type { Order } from '../../src/erp/order.js';
import { StamplineError } from '../../src/errors.js';

export interface PostOrderOptions {
  /** The line's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  token: string;
  /** An order, or anything at all when testing how the line answers a bad one. */
  body: unknown;
  timeoutMs?: number;
}

export interface PostAnswer {
  status: number;
  /** The answer parsed as JSON, or its text when it is not JSON. */
  body: unknown;
}

export async function postOrder(opts: PostOrderOptions): Promise<PostAnswer> {
  let target: URL;
  try {
    target = new URL('/api/v1/orders', opts.url);
  } catch {
    throw new StamplineError('INVALID_INPUT', `not a URL: ${JSON.stringify(opts.url)}`);
  }
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
      body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new StamplineError('ERP_LINE_UNREACHABLE', `cannot reach the line at ${target.href}: ${why}`, {
      url: target.href,
    });
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, body };
}

export interface DropOrdersOptions {
  dir: string;
  orders: readonly Order[];
  /** File name; by default the first order's id. A name already in the folder gets `-2`, `-3`. */
  name?: string;
}

/** A safe file name from an order id: `PO 17/b` gives `PO_17_b.csv`. */
export function fileNameFor(id: string): string {
  return `${id.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_')}.csv`;
}

/** Writes the orders as one CSV file into the drop folder, atomically; answers its path. */
export async function dropOrders(opts: DropOrdersOptions): Promise<string> {
  let name = opts.name ?? fileNameFor(opts.orders[0]?.id ?? 'orders');
  if (!name.toLowerCase().endsWith('.csv')) name = `${name}.csv`;
  await mkdir(opts.dir, { recursive: true });
  const tmp = join(opts.dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(formatOrdersCsv(opts.orders));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    for (;;) {
      const candidate = await freeName(opts.dir, name);
      const path = join(opts.dir, candidate);
      if (await moveNoClobber(tmp, path)) {
        await fsyncDir(opts.dir);
        return path;
      }
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
