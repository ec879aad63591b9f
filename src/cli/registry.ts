/**
 * `stampline sim registry` (a simulated state registry), `stampline sim broker` (an embedded
 * aedes broker), and `stampline outbox list|retry|dismiss` for an operator looking at the
 * registry outbox of a line's data folder.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { startEmbeddedBroker } from '../../simulators/broker/embedded.js';
import { type Binding, RegistryBook } from '../../simulators/registry/book.js';
import { type RegistryIdentification, RegistryIdentifier } from '../../simulators/registry/identify.js';
import { type RegistryMode, SimulatedRegistry } from '../../simulators/registry/registry.js';
import { StamplineError } from '../errors.js';
import { createLogger } from '../logger.js';
import { Outbox, type OutboxItem } from '../registry/outbox.js';
import { checkRecord } from '../registry/record.js';
import { parseReadOption } from './identify.js';
import { dataToChange, dataToRead, type WhereOptions, where } from './where.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port 0..65535');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}

async function readPemOption(path: string | undefined, what: string): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    throw new StamplineError(
      'REGISTRY_BAD_CONFIG',
      `cannot read the ${what} file ${path}: ${(err as Error).message}`,
      {
        path,
      },
    );
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Opens the outbox of a data folder: read-only for listing (a daemon may be running), else exclusively. */
async function openOutbox(dataDir: string, readOnly: boolean): Promise<Outbox> {
  const dir = join(dataDir, 'outbox');
  // A mistyped folder must not read as an empty outbox, nor be created by a retry.
  const found = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!found) {
    throw new StamplineError('INVALID_INPUT', `${dataDir} holds no registry outbox (no folder ${dir})`, {
      dir,
    });
  }
  const outbox = new Outbox({ dir, readOnly });
  await outbox.start();
  return outbox;
}

function itemLine(item: OutboxItem): string {
  const base = `${item.recordId}  ${item.state.padEnd(9)}  ${item.event.padEnd(8)}  ${item.serial}  ${item.code}  ${item.occurredAt}`;
  return item.rejection ? `${base}\n    rejected ${item.rejection.at}: ${item.rejection.reason}` : base;
}

function registerOutboxCommands(program: Command): void {
  const outbox = program
    .command('outbox')
    .description('the registry outbox: records kept until the registry accepts them, and those it rejected');
  where(
    outbox
      .command('list')
      .description('list rejected and pending records (read-only; safe beside a running daemon)'),
  )
    .option('--rejected', 'only rejected records')
    .option('--limit <n>', 'at most n pending records', positive, 100)
    .option('--json', 'print JSON')
    .action(async (o: WhereOptions & { rejected?: boolean; limit: number; json?: boolean }) => {
      const box = await openOutbox(await dataToRead(o), true);
      try {
        const rejected = box.rejected();
        const pending = o.rejected ? [] : box.pending(o.limit);
        const stats = box.stats();
        if (o.json) {
          process.stdout.write(
            `${JSON.stringify({ pending: stats.pending, rejected: stats.rejected, items: [...rejected, ...pending] }, null, 2)}\n`,
          );
          return;
        }
        process.stdout.write(`${stats.rejected} rejected, ${stats.pending} pending\n`);
        if (rejected.length > 0) {
          process.stdout.write('\nRejected by the registry (retry or dismiss each):\n');
          for (const item of rejected) process.stdout.write(`  ${itemLine(item)}\n`);
        }
        if (pending.length > 0) {
          process.stdout.write(
            `\nPending (oldest first${stats.pending > pending.length ? `, first ${pending.length}` : ''}):\n`,
          );
          for (const item of pending) process.stdout.write(`  ${itemLine(item)}\n`);
        }
      } finally {
        await box.stop();
      }
    });
  where(outbox.command('retry'))
    .description(
      'send a rejected record again, once its cause is fixed (the daemon must be stopped; use the API while it runs)',
    )
    .argument('<recordId>', 'the rejected record')
    .option('--by <name>', 'who decides (kept with the action)', process.env.USER)
    .action(async (recordId: string, o: WhereOptions & { by?: string }) => {
      const box = await openOutbox(await dataToChange(o, 'outbox retry'), false);
      try {
        await box.retry(recordId, o.by ?? null);
        process.stdout.write(`${recordId} will be sent again when the line next runs\n`);
      } finally {
        await box.stop();
      }
    });
  where(outbox.command('dismiss'))
    .description(
      'remove a rejected record for good, with a reason (the daemon must be stopped; use the API while it runs)',
    )
    .argument('<recordId>', 'the rejected record')
    .requiredOption('--reason <text>', 'why it will not be sent (kept with the action and logged)')
    .option('--by <name>', 'who decides (kept with the action)', process.env.USER)
    .action(async (recordId: string, o: WhereOptions & { reason: string; by?: string }) => {
      const box = await openOutbox(await dataToChange(o, 'outbox dismiss'), false);
      try {
        await box.dismiss(recordId, o.reason, o.by ?? null);
        process.stdout.write(`${recordId} dismissed\n`);
      } finally {
        await box.stop();
      }
    });
}

interface SimRegistryOptions {
  mqtt?: string;
  file?: string;
  protocol: string;
  clientId?: string;
  username?: string;
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  silent?: boolean;
  reject?: string;
  show?: boolean;
  serial?: string;
  json?: boolean;
  identifyPort?: number;
}

/** The book of a registry file, read without disturbing a simulator that writes it. */
async function loadBook(file: string): Promise<RegistryBook> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new StamplineError('INVALID_INPUT', `cannot read ${file}: ${(err as Error).message}`, {
      file,
    });
  }
  const book = new RegistryBook();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '' || (i === lines.length - 1 && !text.endsWith('\n'))) return;
    let check: ReturnType<typeof checkRecord>;
    try {
      check = checkRecord((JSON.parse(line) as { record?: unknown }).record);
    } catch {
      check = { ok: false, reason: 'not JSON' };
    }
    if (!check.ok) throw new StamplineError('INVALID_INPUT', `${file} line ${i + 1}: ${check.reason}`, {});
    book.add(check.record);
  });
  return book;
}

async function showRegistryFile(o: SimRegistryOptions & { file: string }): Promise<void> {
  const book = await loadBook(o.file);
  if (o.serial !== undefined) {
    const records = book.recordsFor(o.serial);
    if (o.json) process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
    else {
      for (const r of records) {
        process.stdout.write(
          `${r.occurredAt}  ${r.event.padEnd(8)}  ${r.code}  ${r.firearm.make} ${r.firearm.model} ${r.firearm.serial}  ${r.recordId}\n`,
        );
      }
    }
    if (records.length === 0) process.exitCode = 1;
    return;
  }
  const bindings = book.bindings();
  if (o.json) {
    process.stdout.write(`${JSON.stringify(bindings, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${book.size} records, ${bindings.length} codes bound\n`);
  for (const b of bindings) {
    const qa = b.verified ? `  qa ${b.verified}` : '';
    process.stdout.write(
      `${b.code}  ${b.state.padEnd(6)}  ${b.firearm.make} ${b.firearm.model} ${b.firearm.serial}${qa}\n`,
    );
  }
}

function registerSimCommands(sim: Command): void {
  const registry = sim
    .command('registry')
    .description('run a simulated state registry on an MQTT broker, or show what one has bound (--show)')
    .option('--mqtt <url>', 'broker URL (mqtt://, mqtts://, ws://, wss://)')
    .option('--file <file>', 'the registry file (JSON lines of accepted records), created if absent')
    .addOption(
      new Option('--protocol <version>', 'MQTT protocol version (4 is 3.1.1)')
        .choices(['4', '5'])
        .default('4'),
    )
    .option('--client-id <id>', 'MQTT client id', 'stampline-registry-sim')
    .option('--username <name>', 'broker user name (password from STAMPLINE_REGISTRY_PASSWORD)')
    .option('--ca <file>', "PEM file of the CA of the broker's certificate")
    .option('--cert <file>', 'PEM file of a client certificate')
    .option('--key <file>', 'PEM file of the client key')
    .option('--insecure', 'accept any broker certificate (diagnosis only)')
    .option('--silent', 'hear records but answer nothing (to test resends)')
    .option('--reject <reason>', 'reject every new record with this reason (to test rejections)')
    .option('--show', 'print the codes bound in --file and exit (no broker needed)')
    .option('--serial <serial>', 'with --show: the records of one firearm, in the order they happened')
    .option('--json', 'with --show or identify: print JSON')
    .option(
      '--identify-port <n>',
      'serve POST /identify for investigators on this port (0: any free one)',
      port,
    )
    .action(async (o: SimRegistryOptions) => {
      if (o.file === undefined)
        throw new StamplineError('INVALID_INPUT', 'give the registry file with --file', {});
      if (o.show) {
        await showRegistryFile({ ...o, file: o.file });
        return;
      }
      if (!o.mqtt)
        throw new StamplineError('INVALID_INPUT', 'give the broker with --mqtt URL (or use --show)', {});
      if (o.silent && o.reject !== undefined) {
        throw new StamplineError('INVALID_INPUT', '--silent and --reject cannot be used together', {});
      }
      const mode: RegistryMode = o.silent
        ? { kind: 'silent' }
        : o.reject !== undefined
          ? { kind: 'reject', reason: o.reject }
          : { kind: 'normal' };
      const logger = createLogger({ level: 'info', pretty: true });
      const registry = new SimulatedRegistry({
        mqtt: {
          url: o.mqtt,
          protocolVersion: o.protocol === '5' ? 5 : 4,
          ...(o.clientId ? { clientId: o.clientId } : {}),
          ...(o.username ? { username: o.username } : {}),
          ...(process.env.STAMPLINE_REGISTRY_PASSWORD
            ? { password: process.env.STAMPLINE_REGISTRY_PASSWORD }
            : {}),
          ...(o.ca ? { ca: await readPemOption(o.ca, 'CA') } : {}),
          ...(o.cert ? { cert: await readPemOption(o.cert, 'certificate') } : {}),
          ...(o.key ? { key: await readPemOption(o.key, 'key') } : {}),
          ...(o.insecure ? { rejectUnauthorized: false } : {}),
        },
        file: o.file,
        mode,
        logger,
        ...(o.identifyPort !== undefined ? { identifyPort: o.identifyPort } : {}),
      });
      registry.on('answer', (a) => {
        const level = a.status === 'rejected' ? 'warn' : 'info';
        logger[level]({ recordId: a.recordId, reason: a.reason, topic: a.topic }, `record ${a.status}`);
      });
      await registry.start();
      await untilSignal();
      await registry.stop();
      logger.info(registry.stats(), 'registry simulator stopped');
    });

  registerRegistryIdentify(registry);

  sim
    .command('broker')
    .description('run an embedded MQTT 3.1.1 broker (aedes) until interrupted')
    .option('--port <n>', 'TCP port (0: any free port)', port, 1883)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .action(async (o: { port: number; host: string }) => {
      const broker = await startEmbeddedBroker({ port: o.port, host: o.host });
      process.stdout.write(`MQTT broker (aedes, MQTT 3.1.1) listening on ${broker.url}\n`);
      await untilSignal();
      await broker.stop();
    });
}

/**
 * `stampline sim registry identify --read ...`: an investigator's query, over the records of a
 * registry file (read as it is, beside a simulator writing it) or of a running simulator's desk.
 */
function registerRegistryIdentify(registry: Command): void {
  registry
    .command('identify')
    .description(
      'identify cases against every code the registry holds, of every issuer: the firearm, or the candidates. Give the registry --file (before or after identify), or --url of a running one. Exits 1 when nothing is identified',
    )
    .requiredOption(
      '--read <text[/gear]>',
      'what one case shows (as for stampline identify); repeat for several cases',
      collect,
    )
    .option('--url <url>', 'ask a running simulator (its --identify-port) instead of reading --file')
    .option('--json', 'print the answer as JSON')
    .action(async (o: { read: string[]; url?: string; json?: boolean }, cmd: Command) => {
      // `--file` and `--json` are also options of `sim registry`, which takes them wherever they stand
      const parent = (cmd.parent?.opts() ?? {}) as SimRegistryOptions;
      const file = parent.file;
      const json = o.json === true || parent.json === true;
      const body = { reads: o.read.map(parseReadOption) };
      let answer: RegistryIdentification;
      if (o.url !== undefined) answer = await askDesk(o.url, body);
      else if (file !== undefined) answer = new RegistryIdentifier(await loadBook(file)).identify(body);
      else
        throw new StamplineError(
          'INVALID_INPUT',
          'give the registry file with --file, or a running one with --url',
          {},
        );
      process.stdout.write(json ? `${JSON.stringify(answer, null, 2)}\n` : formatRegistryAnswer(answer));
      if (answer.outcome !== 'identified') process.exitCode = 1;
    });
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function askDesk(url: string, body: unknown): Promise<RegistryIdentification> {
  const target = `${url.replace(/\/+$/, '')}/identify`;
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new StamplineError(
      'REGISTRY_LINK_DOWN',
      `cannot reach the registry at ${target}: ${(err as Error).message}`,
      {
        url: target,
      },
    );
  }
  const answer = (await res.json().catch(() => undefined)) as
    | (RegistryIdentification & { error?: { code: string; message: string } })
    | undefined;
  if (!res.ok || !answer || answer.error) {
    const message = answer?.error?.message ?? `HTTP ${res.status}`;
    throw new StamplineError(
      res.status === 400 ? 'IDENTIFY_INVALID_READS' : 'REGISTRY_LINK_DOWN',
      `the registry at ${target} answered: ${message}`,
      {
        url: target,
        status: res.status,
      },
    );
  }
  return answer;
}

function formatRegistryAnswer(a: RegistryIdentification): string {
  const dash = (t: string) => `${t.slice(0, 5)}-${t.slice(5)}`;
  const bound = (b: Binding | undefined) =>
    b
      ? `${b.firearm.make} ${b.firearm.model} serial ${b.firearm.serial}, issuer ${b.issuer}, ${b.state}${b.verified ? `, QA ${b.verified}` : ''}`
      : 'bound to no firearm';
  const out: string[] = [];
  if (a.outcome === 'identified' && a.binding)
    out.push(`IDENTIFIED: code ${dash(a.binding.code)}`, `  ${bound(a.binding)}`);
  else if (a.outcome === 'candidates') {
    out.push(`NOT IDENTIFIED: ${a.candidates.length} codes at the registry explain the reads about equally`);
    for (const c of a.candidates)
      out.push(`  ${dash(c.code)}  weight ratio ${c.weightRatio.toPrecision(3)}  ${bound(c.binding)}`);
  } else out.push('NOT IDENTIFIED: no code at the registry explains the reads');
  const d = a.decode;
  out.push(
    `  (${d.ok ? `decoded ${dash(d.text!)}, grade ${d.grade}${d.miscorrectionRisk !== undefined ? `, risk ${d.miscorrectionRisk.toExponential(1)}` : ''}` : `not decoded${d.warning ? `: ${d.warning}` : ''}`}; against ${a.issuedCodes} codes)`,
  );
  return `${out.join('\n')}\n`;
}

/** `stampline outbox ...`, `stampline sim registry` and `stampline sim broker`. */
export function registerRegistryCommands(program: Command, sim: Command): void {
  registerOutboxCommands(program);
  registerSimCommands(sim);
}
