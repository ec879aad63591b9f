/**
 * `stampline sim engraver --transport commands-tcp|commands-serial --profile NAME`: the
 * profile-driven marker, served by hand, with the fault injection of the other simulators at
 * start-up and on standard input.
 */

import { type CommandProfile, loadCommandProfile, markerFault } from '../../src/engraver/commands/profile.js';
import type { Logger } from '../../src/engraver/options.js';
import { FAULT, faultName } from '../../src/engraver/types.js';
import { StamplineError } from '../../src/errors.js';
import { CommandMarkerServer } from './command-server.js';
import { controlUntilStopped } from './control.js';
import { MarkerDevice } from './marker-device.js';
import { openPtyPair, type PtyPair } from './pty-pair.js';

export interface CommandSimOptions {
  transport: 'commands-tcp' | 'commands-serial';
  profile: string;
  host: string;
  /** Undefined: the profile's TCP port. */
  port?: number;
  device?: string;
  pty?: boolean;
  baudRate?: number;
  markingMs: number;
  journal?: string;
  faultNext?: { fault: number; at: number };
  interlockOpen?: boolean;
  partAbsent?: boolean;
  dropForMs: number;
  /** Start-up faults, as the run-time commands they stand for (`delay 20`, `withhold 1`, …). */
  commands: string[];
}

export const MARKER_CONTROL_HELP = `commands (one a line):
  status                      ready, marking, error, count, program and blocks, traffic
  fault-next CODE [FRACTION]  the next marking ends in fault CODE (1..6) after FRACTION (default 0.5)
  interlock open|closed       an open interlock faults every start with 1
  part absent|present         an absent part faults every start with 2
  power-cycle                 ready, count 0, program and blocks forgotten; a marking is left part-done
  marking-ms MS               marking time of the next markings
  drop                        drop the link now
  drop-events N               lose the next N unasked end-of-marking messages
  delay MS                    hold every reply back MS milliseconds (0 to stop)
  withhold N|all              give no reply to the next N commands
  corrupt N|all               spoil the next N replies so that no profile reads them
  help                        this list`;

export function runMarkerControl(
  line: string,
  device: MarkerDevice,
  server: CommandMarkerServer,
  profile: CommandProfile,
): { ok: boolean; message: string } {
  const [command, ...args] = line.trim().split(/\s+/);
  const ok = (message: string) => ({ ok: true, message });
  const no = (message: string) => ({ ok: false, message });
  const n = (raw: string | undefined, allowAll = false): number | undefined => {
    if (allowAll && raw === 'all') return Number.POSITIVE_INFINITY;
    return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
  };
  const f = server.faults;
  switch (command) {
    case '':
    case undefined:
      return ok('');
    case 'help':
      return ok(MARKER_CONTROL_HELP);
    case 'status': {
      const s = server.stats;
      return ok(
        `${device.isMarking ? 'marking' : device.ready ? 'ready' : 'in error'}, error ${device.fault ? markerFault(profile, device.fault) : 0}, count ${device.count}, program ${device.program ?? '-'}, blocks ${JSON.stringify(device.blocks)}; ${s.requests} commands, ${s.bytesIn} bytes in, ${s.bytesOut} out`,
      );
    }
    case 'fault-next': {
      const code = n(args[0]);
      const at = args[1] === undefined ? 0.5 : Number(args[1]);
      if (code === undefined || code < 1 || code > 6 || !(at >= 0 && at <= 1)) {
        return no('fault-next CODE [FRACTION]: CODE 1..6, FRACTION 0..1');
      }
      device.faultNextJob(code, at);
      return ok(`the next marking faults with ${code} (${faultName(code)})`);
    }
    case 'interlock':
      if (args[0] !== 'open' && args[0] !== 'closed') return no('interlock open|closed');
      device.interlockOpen = args[0] === 'open';
      return ok(`interlock ${args[0]}`);
    case 'part':
      if (args[0] !== 'absent' && args[0] !== 'present') return no('part absent|present');
      device.noPart = args[0] === 'absent';
      return ok(`part ${args[0]}`);
    case 'power-cycle':
      device.powerCycle();
      return ok('power cycled');
    case 'marking-ms': {
      const ms = n(args[0]);
      if (ms === undefined) return no('marking-ms MS');
      device.markingTimeMs = ms;
      return ok(`marking takes ${ms} ms`);
    }
    case 'drop':
      f.dropLink();
      return ok('link dropped');
    case 'drop-events': {
      const count = n(args[0]);
      if (count === undefined) return no('drop-events N');
      f.dropEvents = count;
      return ok(`the next ${count} end-of-marking messages are lost`);
    }
    case 'delay':
    case 'delay-replies': {
      const ms = n(args[0]);
      if (ms === undefined) return no('delay MS');
      f.delayRepliesMs = ms;
      return ok(`replies delayed ${ms} ms`);
    }
    case 'withhold':
    case 'withhold-replies': {
      const count = n(args[0], true);
      if (count === undefined) return no('withhold N|all');
      f.withholdReplies = count;
      return ok(`withholding ${args[0]} replies`);
    }
    case 'corrupt':
    case 'corrupt-replies': {
      const count = n(args[0], true);
      if (count === undefined) return no('corrupt N|all');
      f.corruptReplies = count;
      return ok(`corrupting ${args[0]} replies`);
    }
    default:
      return no(`unknown command "${command}"; type help`);
  }
}

export async function runCommandSimulator(opts: CommandSimOptions, logger: Logger): Promise<void> {
  const profile = loadCommandProfile(opts.profile);
  const device = new MarkerDevice({
    markingTimeMs: opts.markingMs,
    ...(opts.journal ? { journalFile: opts.journal } : {}),
  });
  if (opts.faultNext) device.faultNextJob(opts.faultNext.fault, opts.faultNext.at);
  device.interlockOpen = opts.interlockOpen === true;
  device.noPart = opts.partAbsent === true;
  const say = (line: string) => process.stdout.write(`${line}\n`);
  device.on((event) =>
    say(
      event.kind === 'done'
        ? `marking done (count ${device.count})`
        : `marking error ${markerFault(profile, event.fault)} (${faultName(event.fault)})`,
    ),
  );

  let pair: PtyPair | undefined;
  let server: CommandMarkerServer;
  let connectWith: string;
  if (opts.transport === 'commands-tcp') {
    server = new CommandMarkerServer({
      device,
      profile,
      link: { kind: 'tcp', host: opts.host, port: opts.port ?? profile.link.tcpPort },
      logger,
    });
    await server.start();
    connectWith = `commands-tcp://${opts.host}:${server.port}?profile=${profile.name}`;
  } else {
    if (!opts.device === !opts.pty) {
      throw new StamplineError(
        'INVALID_INPUT',
        '--transport commands-serial needs either --device PATH or --pty',
        {
          option: '--device',
        },
      );
    }
    if (opts.pty) pair = await openPtyPair();
    const path = pair ? pair.a : opts.device!;
    const baudRate = opts.baudRate ?? profile.link.baudRate;
    server = new CommandMarkerServer({
      device,
      profile,
      link: { kind: 'serial', path, baudRate, dropForMs: opts.dropForMs },
      logger,
    });
    try {
      await server.start();
    } catch (err) {
      await pair?.close();
      throw new StamplineError('INVALID_INPUT', `cannot open ${path}: ${(err as Error).message}`, { path });
    }
    connectWith = `commands-serial://${pair ? pair.b : '<the other end of the line>'}?profile=${profile.name}&baud=${baudRate}`;
  }
  for (const command of opts.commands) {
    const result = runMarkerControl(command, device, server, profile);
    if (!result.ok) {
      await server.stop();
      await pair?.close();
      throw new StamplineError('INVALID_INPUT', `${command}: ${result.message}`, { command });
    }
  }
  say(
    `${profile.name} marker simulator up (marking ${device.markingTimeMs} ms); connect with ${connectWith}`,
  );
  say('type "help" for run-time fault injection; Ctrl-C to stop');
  await controlUntilStopped((line) => runMarkerControl(line, device, server, profile), say);
  await server.stop();
  await pair?.close();
  device.close();
  process.stdin.destroy();
}

export { FAULT };
