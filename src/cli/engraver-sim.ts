/**
 * `stampline sim engraver`: the reference engraver simulator (Modbus TCP, Modbus RTU, ASCII) and
 * the profile-driven command-marker simulator, run by hand with fault injection.
 */

import { AsciiEngraverServer } from '../../simulators/engraver/ascii-server.js';
import { type CommandSimOptions, runCommandSimulator } from '../../simulators/engraver/command-sim.js';
import {
  type ControlExtras,
  controlUntilStopped,
  runControlCommand,
} from '../../simulators/engraver/control.js';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import type { SimulatedLink } from '../../simulators/engraver/link-faults.js';
import { MarkingTriggers } from '../../simulators/engraver/marking-triggers.js';
import { ModbusRtuServer } from '../../simulators/engraver/modbus-rtu-server.js';
import { ModbusTcpServer } from '../../simulators/engraver/modbus-tcp-server.js';
import { openPtyPair, type PtyPair } from '../../simulators/engraver/pty-pair.js';
import type { Logger } from '../engraver/options.js';
import { faultName } from '../engraver/types.js';
import { StamplineError } from '../errors.js';
import { fraction, integer } from './engraver-args.js';

// ---- sim engraver ----------------------------------------------------------------------------

export interface SimOptions {
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

export async function runSimulator(opts: SimOptions): Promise<void> {
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
  const faultAt = fraction(opts.faultAt, '--fault-at');

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

  await controlUntilStopped((line) => runControlCommand(line, device, server.faults, extras), say);
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
  const faultAt = fraction(opts.faultAt, '--fault-at');
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
