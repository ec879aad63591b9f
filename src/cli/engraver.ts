/**
 * `stampline engraver probe|test-job` for integrators bringing up an engraver link, and
 * `stampline sim engraver` to run the reference engraver simulator by hand.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { AsciiEngraverServer } from '../../simulators/engraver/ascii-server.js';
import { type CommandSimOptions, runCommandSimulator } from '../../simulators/engraver/command-sim.js';
import { CONTROL_HELP, type ControlExtras, runControlCommand } from '../../simulators/engraver/control.js';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import type { SimulatedLink } from '../../simulators/engraver/link-faults.js';
import { MarkingTriggers } from '../../simulators/engraver/marking-triggers.js';
import { ModbusRtuServer } from '../../simulators/engraver/modbus-rtu-server.js';
import { ModbusTcpServer } from '../../simulators/engraver/modbus-tcp-server.js';
import { openPtyPair, type PtyPair } from '../../simulators/engraver/pty-pair.js';
import { createEngraver, linkTarget, loadCommandProfile, sendRawCommand } from '../engraver/index.js';
import type { Logger } from '../engraver/options.js';
import { loadProfile } from '../engraver/profile.js';
import { type EngraveJob, type Engraver, faultName } from '../engraver/types.js';
import { parseEngraverUrl } from '../engraver/url.js';
import { StamplineError } from '../errors.js';

const EXIT_NEGATIVE = 1;

export function registerEngraverCommands(program: Command, sim: Command): void {
  const engraver = program
    .command('engraver')
    .description('talk to a laser engraver: check a link, run a test job (for integrators)');

  engraver
    .command('probe')
    .description('connect, print the interface version and state; exit 1 if the engraver cannot be reached')
    .argument('<url>', 'engraver URL, e.g. modbus-tcp://10.0.0.5:502?unit=1')
    .option('--timeout <ms>', 'how long to try to connect', '5000')
    .option('--request-timeout <ms>', 'timeout of each request', '1000')
    .option(
      '--profile <name-or-path>',
      'Modbus register-map profile (default: the URL profile, else sl1-modbus)',
    )
    .option('--json', 'print one JSON object instead of text')
    .action(async (url: string, opts: ProbeOptions) => {
      await probe(url, opts);
    });

  engraver
    .command('test-job')
    .description('load, start and wait for one job; print how it ended (exit 1 unless DONE)')
    .argument('<url>', 'engraver URL')
    .requiredOption('--text <text>', 'characters to mark (printable ASCII, at most 16 on sl1)')
    .option('--gear <bits>', 'gear bits as 0 and 1', '')
    .option('--mirror', 'mark mirrored')
    .option('--breech-face', 'target the breech face instead of the firing pin')
    .option('--job-id <n>', 'job id 1..4294967295 (default: derived from the clock)')
    .option('--power <per-mille>', 'laser power in 0.1 % (0..1000)', '500')
    .option('--frequency <khz>', 'pulse frequency, kHz', '20')
    .option('--speed <mm-per-s>', 'mark speed, mm/s', '300')
    .option('--passes <n>', 'passes (1..20)', '1')
    .option('--timeout <ms>', 'how long to wait for the job to end', '30000')
    .option('--request-timeout <ms>', 'timeout of each request', '1000')
    .option('--reset', 'reset the engraver first if it is in FAULT')
    .option('--profile <name-or-path>', 'Modbus register-map profile')
    .action(async (url: string, opts: TestJobOptions) => {
      await testJob(url, opts);
    });

  engraver
    .command('send')
    .description(
      'send one command to a text-command marker as typed and print every line it answers (for writing a profile)',
    )
    .argument(
      '<url>',
      'commands-tcp://host[:port]?profile=NAME or commands-serial:///dev/ttyUSB0?profile=NAME',
    )
    .argument('<command>', 'the command, without its terminator (the profile adds it), e.g. "RX,Ready"')
    .option('--timeout <ms>', 'how long to wait for a first answer', '2000')
    .option('--quiet <ms>', 'after an answer, how long to listen for more', '300')
    .option('--json', 'print one JSON object instead of text')
    .action(async (url: string, command: string, opts: SendOptions) => {
      await sendCommand(url, command, opts);
    });

  sim
    .command('engraver')
    .description(
      'run the reference engraver simulator; type "help" on its standard input for run-time faults',
    )
    .requiredOption(
      '--transport <transport>',
      'required: modbus-tcp, modbus-rtu, ascii-serial, commands-tcp or commands-serial',
    )
    .option('--profile <name-or-path>', 'command profile to serve (commands-tcp, commands-serial)')
    .option('--port <port>', "TCP port (modbus-tcp: default 1502; commands-tcp: the profile's)")
    .option('--host <host>', 'address to listen on (modbus-tcp)', '127.0.0.1')
    .option('--device <path>', 'serial device to serve on (modbus-rtu, ascii-serial)')
    .option('--pty', 'make a socat pseudo-terminal pair, serve on one end and print the other')
    .option('--baud <rate>', 'baud rate (default 19200 for modbus-rtu, 115200 for ascii-serial)')
    .option('--unit <id>', 'Modbus unit id', '1')
    .option('--marking-ms <ms>', 'how long marking takes', '1500')
    .option('--journal <file>', 'append every mark (start and end) to this file as JSON lines')
    .option('--fault-next <code>', 'the first job faults with this code (1..5) mid-marking')
    .option('--fault-at <fraction>', 'when the injected fault strikes, as a fraction of the marking', '0.5')
    .option('--interlock-open', 'start with the interlock open (every start faults with 1)')
    .option('--part-absent', 'start with no part present (every start faults with 2)')
    .option('--drop-for <ms>', 'serial transports: how long a dropped link stays down', '3000')
    .option('--delay-replies <ms>', 'hold every reply back MS milliseconds')
    .option('--withhold-replies <n|all>', 'give no reply to the first N requests, or to every request')
    .option(
      '--corrupt-replies <n|all>',
      'corrupt the first N replies, or every reply: a bad checksum (ascii-serial) or CRC (modbus-rtu); ' +
        'modbus-tcp has no checksum of its own, so a malformed frame',
    )
    .option(
      '--drop-at-next-marking [fraction]',
      "drop the link FRACTION (default 0.5) of the way through the first job's marking",
    )
    .option(
      '--power-cycle-at-next-marking [fraction]',
      "power-cycle FRACTION (default 0.5) of the way through the first job's marking " +
        '(add --drop-at-next-marking for a power cut that also drops the link)',
    )
    .addHelpText(
      'after',
      `\nAt run time the simulator reads ${CONTROL_HELP}\nThe flags --delay-replies to --power-cycle-at-next-marking are the commands of the same names, given at start-up.`,
    )
    .action(async (opts: SimOptions) => {
      await runSimulator(opts);
    });
}

// ---- probe -----------------------------------------------------------------------------------

interface ProbeOptions {
  timeout: string;
  requestTimeout: string;
  profile?: string;
  json?: boolean;
}

async function probe(url: string, opts: ProbeOptions): Promise<void> {
  const timeoutMs = integer(opts.timeout, '--timeout', 1, 600_000);
  const { engraver, lastProblem } = openEngraver(
    url,
    opts.profile,
    integer(opts.requestTimeout, '--request-timeout', 10, 60_000),
  );
  try {
    await engraver.start();
    try {
      await engraver.whenConnected(timeoutMs);
    } catch (err) {
      const reason = lastProblem() ?? (err as Error).message;
      report(opts.json, { url, reachable: false, reason }, `engraver ${url} cannot be reached: ${reason}`);
      process.exitCode = EXIT_NEGATIVE;
      return;
    }
    const interfaceVersion = await engraver.readInterfaceVersion();
    const status = await engraver.readStatus();
    const expected = expectedInterface(url, opts.profile);
    const mismatch =
      expected !== undefined && interfaceVersion !== undefined && expected !== interfaceVersion;
    const lines = [
      `engraver   ${url}`,
      `interface  ${interfaceVersion ?? 'none (the protocol has no version register)'}${mismatch ? `  (the profile expects ${expected}: check the profile)` : ''}`,
      `state      ${status.state}`,
      `fault      ${status.fault} (${faultName(status.fault)})`,
      `completed  ${status.completed}`,
      `activeJob  ${status.activeJob}`,
    ];
    report(
      opts.json,
      {
        url,
        reachable: true,
        interfaceVersion: interfaceVersion ?? null,
        expectedInterface: expected ?? null,
        status,
      },
      lines.join('\n'),
    );
    if (mismatch) process.exitCode = EXIT_NEGATIVE;
  } finally {
    await engraver.stop();
  }
}

function expectedInterface(url: string, profile: string | undefined): number | undefined {
  const parsed = parseEngraverUrl(url);
  if (
    parsed.transport === 'ascii-serial' ||
    parsed.transport === 'commands-tcp' ||
    parsed.transport === 'commands-serial'
  )
    return undefined;
  return loadProfile(profile ?? parsed.profile).interfaceVersion ?? undefined;
}

// ---- test-job --------------------------------------------------------------------------------

interface TestJobOptions {
  text: string;
  gear: string;
  mirror?: boolean;
  breechFace?: boolean;
  jobId?: string;
  power: string;
  frequency: string;
  speed: string;
  passes: string;
  timeout: string;
  requestTimeout: string;
  reset?: boolean;
  profile?: string;
}

async function testJob(url: string, opts: TestJobOptions): Promise<void> {
  if (!/^[01]*$/.test(opts.gear)) {
    throw new StamplineError('INVALID_INPUT', `--gear must be a string of 0 and 1, not "${opts.gear}"`, {
      option: '--gear',
    });
  }
  const job: EngraveJob = {
    jobId: opts.jobId === undefined ? clockJobId() : integer(opts.jobId, '--job-id', 1, 0xffffffff),
    text: opts.text,
    gear: opts.gear,
    mirror: opts.mirror === true,
    target: opts.breechFace ? 'breech-face' : 'firing-pin',
    recipe: {
      power: integer(opts.power, '--power', 0, 1000),
      frequency: integer(opts.frequency, '--frequency', 0, 65535),
      speed: integer(opts.speed, '--speed', 0, 65535),
      passes: integer(opts.passes, '--passes', 1, 20),
    },
  };
  const timeoutMs = integer(opts.timeout, '--timeout', 1, 3_600_000);
  const { engraver, lastProblem } = openEngraver(
    url,
    opts.profile,
    integer(opts.requestTimeout, '--request-timeout', 10, 60_000),
  );
  const say = (line: string) => process.stdout.write(`${line}\n`);
  try {
    await engraver.start();
    try {
      await engraver.whenConnected(5000);
    } catch (err) {
      throw new StamplineError(
        'ENGRAVER_LINK_DOWN',
        `engraver ${url} cannot be reached: ${lastProblem() ?? (err as Error).message}`,
        { url },
      );
    }
    const before = await engraver.readStatus();
    if (before.state === 'FAULT') {
      if (!opts.reset) {
        say(
          `engraver is in FAULT ${before.fault} (${faultName(before.fault)}); clear the cause and run again with --reset`,
        );
        process.exitCode = EXIT_NEGATIVE;
        return;
      }
      await engraver.reset();
      say(`reset the engraver (was FAULT ${before.fault}: ${faultName(before.fault)})`);
    }
    await engraver.loadJob(job);
    say(`loaded job ${job.jobId}: "${job.text}", ${job.gear.length} gear bits`);
    await engraver.startJob(job.jobId);
    say(`started job ${job.jobId}`);
    const outcome = await engraver.waitForEnd(job.jobId, { timeoutMs });
    if (outcome.kind === 'done') {
      say(`job ${job.jobId} DONE (engraver has completed ${outcome.completed} jobs since power-on)`);
    } else {
      say(`job ${job.jobId} FAULT ${outcome.fault} (${faultName(outcome.fault)})`);
      process.exitCode = EXIT_NEGATIVE;
    }
  } finally {
    await engraver.stop();
  }
}

/** A job id that differs from run to run without bookkeeping: seconds since 2020, never 0. */
function clockJobId(): number {
  return Math.max(1, Math.floor((Date.now() - Date.UTC(2020, 0, 1)) / 1000) % 0xffffffff);
}

// ---- shared ----------------------------------------------------------------------------------

/** An engraver whose logger remembers the last warning, so a failure can say why. */
function openEngraver(
  url: string,
  profile: string | undefined,
  requestTimeoutMs: number,
): { engraver: Engraver; lastProblem: () => string | undefined } {
  let problem: string | undefined;
  const remember = (obj: unknown, msg?: string) => {
    const err = (obj as { err?: unknown } | undefined)?.err;
    problem = typeof err === 'string' ? err : (msg ?? problem);
  };
  const logger: Logger = {
    debug() {},
    info() {},
    warn: remember,
    error: remember,
    child: () => logger,
  };
  const engraver = createEngraver(url, {
    requestTimeoutMs,
    reconnect: { initialMs: 250, maxMs: 1000 },
    logger,
    ...(profile ? { profile } : {}),
  });
  return { engraver, lastProblem: () => problem };
}

function report(json: boolean | undefined, data: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${text}\n`);
}

function integer(raw: string, option: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new StamplineError('INVALID_INPUT', `${option} must be an integer ${min}..${max}, not "${raw}"`, {
      option,
    });
  }
  return Number(raw);
}

// ---- sim engraver ----------------------------------------------------------------------------

interface SimOptions {
  transport: string;
  profile?: string;
  port?: string;
  host: string;
  device?: string;
  pty?: boolean;
  baud?: string;
  unit: string;
  markingMs: string;
  journal?: string;
  faultNext?: string;
  faultAt: string;
  interlockOpen?: boolean;
  partAbsent?: boolean;
  dropFor: string;
  delayReplies?: string;
  withholdReplies?: string;
  corruptReplies?: string;
  dropAtNextMarking?: string | true;
  powerCycleAtNextMarking?: string | true;
}

/**
 * The link-fault flags, as the run-time commands they stand for, so that a flag and its command
 * cannot mean different things.
 */
function startupFaultCommands(opts: SimOptions): { flag: string; command: string }[] {
  const commands: { flag: string; command: string }[] = [];
  const add = (flag: string, value: string | true | undefined) => {
    if (value === undefined) return;
    const name = flag.slice(2);
    commands.push({ flag, command: value === true ? name : `${name} ${value}` });
  };
  add('--delay-replies', opts.delayReplies);
  add('--withhold-replies', opts.withholdReplies);
  add('--corrupt-replies', opts.corruptReplies);
  add('--drop-at-next-marking', opts.dropAtNextMarking);
  add('--power-cycle-at-next-marking', opts.powerCycleAtNextMarking);
  return commands;
}

/** Prints what the servers report of injected faults and of trouble on the wire. */
function simulatorLogger(say: (line: string) => void): Logger {
  // As with pino, the message may come alone, as the first argument.
  const text = (obj: unknown, msg: string | undefined) => msg ?? (typeof obj === 'string' ? obj : undefined);
  const logger: Logger = {
    debug() {},
    info(obj, msg) {
      const line = text(obj, msg);
      if (line?.startsWith('fault injection')) say(line);
    },
    warn(obj, msg) {
      const line = text(obj, msg);
      if (line) say(`warning: ${line}`);
    },
    error(obj, msg) {
      const line = text(obj, msg);
      if (line) say(`error: ${line}`);
    },
    child: () => logger,
  };
  return logger;
}

async function runSimulator(opts: SimOptions): Promise<void> {
  const transport = opts.transport;
  if (transport === 'commands-tcp' || transport === 'commands-serial') {
    await runCommandSimulator(
      commandSimOptions(transport, opts),
      simulatorLogger((line) => process.stdout.write(`${line}\n`)),
    );
    return;
  }
  if (transport !== 'modbus-tcp' && transport !== 'modbus-rtu' && transport !== 'ascii-serial') {
    throw new StamplineError(
      'INVALID_INPUT',
      `--transport must be modbus-tcp, modbus-rtu or ascii-serial, not "${transport}"`,
      { option: '--transport' },
    );
  }
  const serial = transport !== 'modbus-tcp';
  if (serial && !opts.device && !opts.pty) {
    throw new StamplineError('INVALID_INPUT', `--transport ${transport} needs --device PATH (or --pty)`, {
      option: '--device',
    });
  }
  if (serial && opts.device && opts.pty) {
    throw new StamplineError('INVALID_INPUT', 'give either --device or --pty, not both', { option: '--pty' });
  }
  const unitId = integer(opts.unit, '--unit', 1, 247);
  const baudRate =
    opts.baud === undefined
      ? transport === 'ascii-serial'
        ? 115200
        : 19200
      : integer(opts.baud, '--baud', 300, 4_000_000);
  const dropForMs = integer(opts.dropFor, '--drop-for', 0, 600_000);
  const faultAt = Number(opts.faultAt);
  if (!(faultAt >= 0 && faultAt <= 1)) {
    throw new StamplineError('INVALID_INPUT', `--fault-at must be a fraction 0..1, not "${opts.faultAt}"`, {
      option: '--fault-at',
    });
  }

  const device = new EngraverDevice({
    markingTimeMs: integer(opts.markingMs, '--marking-ms', 0, 3_600_000),
    ...(opts.journal ? { journalFile: opts.journal } : {}),
  });
  if (opts.faultNext !== undefined)
    device.faultNextJob(integer(opts.faultNext, '--fault-next', 1, 65535), faultAt);
  device.interlockOpen = opts.interlockOpen === true;
  device.noPart = opts.partAbsent === true;

  const say = (line: string) => process.stdout.write(`${line}\n`);
  const logger = simulatorLogger(say);
  device.on((event) => {
    if (event.kind === 'marking') say(`marking job ${event.record.jobId} "${event.record.text}"`);
    else if (event.kind === 'done') say(`job ${event.jobId} DONE (completed ${event.completed})`);
    else if (event.kind === 'fault')
      say(`job ${event.jobId} FAULT ${event.fault} (${faultName(event.fault)})`);
    else say('power cycled');
  });

  let pair: PtyPair | undefined;
  let server: SimulatedLink;
  let extras: Required<ControlExtras>;
  let connectWith: string;
  if (transport === 'modbus-tcp') {
    const tcp = new ModbusTcpServer({
      device,
      port: integer(opts.port ?? '1502', '--port', 0, 65535),
      host: opts.host,
      unitId,
      logger,
    });
    server = tcp;
    extras = applyStartupFaults(opts, device, server, say);
    await tcp.start();
    connectWith = `modbus-tcp://${opts.host}:${tcp.port}?unit=${unitId}`;
  } else {
    let path = opts.device!;
    if (opts.pty) {
      pair = await openPtyPair();
      path = pair.a;
    }
    const driverEnd = pair ? pair.b : '<the other end of the serial line>';
    if (transport === 'modbus-rtu') {
      server = new ModbusRtuServer({ device, path, baudRate, unitId, dropForMs, logger });
      connectWith = `modbus-rtu://${driverEnd}?baud=${baudRate}&unit=${unitId}`;
    } else {
      server = new AsciiEngraverServer({ device, path, baudRate, dropForMs, logger });
      connectWith = `ascii-serial://${driverEnd}?baud=${baudRate}`;
    }
    try {
      extras = applyStartupFaults(opts, device, server, say);
    } catch (err) {
      await pair?.close();
      throw err;
    }
    try {
      await server.start();
    } catch (err) {
      await pair?.close();
      throw new StamplineError('INVALID_INPUT', `cannot open ${path}: ${(err as Error).message}`, { path });
    }
    say(`serving ${transport} on ${path} at ${baudRate} baud`);
  }
  say(`engraver simulator up (marking ${device.markingTimeMs} ms); connect with ${connectWith}`);
  say('type "help" for run-time fault injection; Ctrl-C to stop');

  const input = createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    const result = runControlCommand(line, device, server.faults, extras);
    if (result.message) say(result.ok ? result.message : `error: ${result.message}`);
  });

  await new Promise<void>((resolve) => {
    const finish = () => {
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      resolve();
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
  input.close();
  extras.triggers.close();
  await server.stop();
  await pair?.close();
  device.close();
  process.stdin.destroy();
}

/** Sets the faults the flags ask for on a server not yet started; a bad value is a usage error. */
function applyStartupFaults(
  opts: SimOptions,
  device: EngraverDevice,
  server: SimulatedLink,
  say: (line: string) => void,
): Required<ControlExtras> {
  const triggers = new MarkingTriggers(device, server.faults, ({ action, jobId }) =>
    say(`${action}-at-next-marking: struck during the marking of job ${jobId}`),
  );
  const extras = { triggers, stats: server.stats };
  for (const { flag, command } of startupFaultCommands(opts)) {
    const result = runControlCommand(command, device, server.faults, extras);
    if (!result.ok) {
      triggers.close();
      throw new StamplineError('INVALID_INPUT', `${flag}: ${result.message}`, { option: flag });
    }
    say(result.message);
  }
  return extras;
}

// ---- send (command markers) -------------------------------------------------------------------

interface SendOptions {
  timeout: string;
  quiet: string;
  json?: boolean;
}

async function sendCommand(url: string, command: string, opts: SendOptions): Promise<void> {
  const parsed = parseEngraverUrl(url);
  if (parsed.transport !== 'commands-tcp' && parsed.transport !== 'commands-serial') {
    throw new StamplineError(
      'INVALID_INPUT',
      `engraver send talks to text-command markers (commands-tcp://, commands-serial://), not ${parsed.transport}`,
      { url },
    );
  }
  const profile = loadCommandProfile(parsed.profile);
  const answer = await sendRawCommand(profile, linkTarget(parsed, profile), command, {
    timeoutMs: integer(opts.timeout, '--timeout', 10, 600_000),
    quietMs: integer(opts.quiet, '--quiet', 0, 60_000),
  });
  const lines = [
    `> ${command}`,
    ...answer.lines.map((line) => `< ${line}`),
    ...answer.discarded.map((d) => `! ${d.length} bytes discarded (${d.reason}): ${d.detail}`),
  ];
  if (answer.lines.length === 0) lines.push('(no answer)');
  report(
    opts.json,
    { url, command, replies: answer.lines, discarded: answer.discarded.length },
    lines.join('\n'),
  );
  if (answer.lines.length === 0) process.exitCode = EXIT_NEGATIVE;
}

function commandSimOptions(
  transport: 'commands-tcp' | 'commands-serial',
  opts: SimOptions,
): CommandSimOptions {
  if (!opts.profile) {
    throw new StamplineError(
      'INVALID_INPUT',
      `--transport ${transport} needs --profile NAME (e.g. kv-marker)`,
      {
        option: '--profile',
      },
    );
  }
  const faultAt = Number(opts.faultAt);
  if (!(faultAt >= 0 && faultAt <= 1)) {
    throw new StamplineError('INVALID_INPUT', `--fault-at must be a fraction 0..1, not "${opts.faultAt}"`, {
      option: '--fault-at',
    });
  }
  const commands = startupFaultCommands(opts)
    .filter(({ flag }) => !flag.endsWith('-at-next-marking'))
    .map(({ command }) => command);
  return {
    transport,
    profile: opts.profile,
    host: opts.host,
    ...(opts.port !== undefined ? { port: integer(opts.port, '--port', 0, 65535) } : {}),
    ...(opts.device ? { device: opts.device } : {}),
    ...(opts.pty ? { pty: true } : {}),
    ...(opts.baud !== undefined ? { baudRate: integer(opts.baud, '--baud', 300, 4_000_000) } : {}),
    markingMs: integer(opts.markingMs, '--marking-ms', 0, 3_600_000),
    ...(opts.journal ? { journal: opts.journal } : {}),
    ...(opts.faultNext !== undefined
      ? { faultNext: { fault: integer(opts.faultNext, '--fault-next', 1, 6), at: faultAt } }
      : {}),
    interlockOpen: opts.interlockOpen === true,
    partAbsent: opts.partAbsent === true,
    dropForMs: integer(opts.dropFor, '--drop-for', 0, 600_000),
    commands,
  };
}
