/**
 * Run-time control of a running engraver simulator: one command a line (typed on its standard
 * input, or piped in), acting on the device or on the link. Pure apart from the objects it is
 * given, so the command set is testable without a terminal.
 */
import { createInterface } from 'node:readline';
import { type EngraverDevice, REG } from './device.js';
import type { LinkFaults } from './link-faults.js';
import type { LinkStats } from './link-stats.js';
import type { MarkingAction, MarkingTriggers } from './marking-triggers.js';

export const CONTROL_HELP = `commands (one a line):
  status                      state, fault, completed, activeJob, the faults in force, traffic
  fault-next CODE [FRACTION]  the next job faults with CODE (1..5) after FRACTION of its marking (default 0.5)
  interlock open|closed       an open interlock faults every start with 1
  part absent|present         an absent part faults every start with 2
  power-cycle                 back to READY with activeJob 0; a job being marked is left part-marked
  marking-ms MS               marking time of the next jobs
  drop                        drop the link now (close the connection or the port)
  drop-at-next-marking [FRACTION|off]
                              drop the link FRACTION (default 0.5) of the way through the next marking
  power-cycle-at-next-marking [FRACTION|off]
                              power-cycle FRACTION (default 0.5) of the way through the next marking
  delay MS                    hold every reply back MS milliseconds (0 to stop)
  withhold N|all              give no reply to the next N requests, or to every request (0 to stop)
  corrupt N|all               corrupt the next N replies, or every reply (0 to stop): a bad checksum
                              (ASCII) or CRC (Modbus RTU); Modbus TCP has none, so a malformed frame
  help                        this list
delay, withhold and corrupt also go by delay-replies, withhold-replies and corrupt-replies.`;

/** What a command may act on besides the device and the link faults. */
export interface ControlExtras {
  /** For drop-at-next-marking and power-cycle-at-next-marking. */
  triggers?: MarkingTriggers;
  /** Shown by status. */
  stats?: LinkStats;
}

export interface ControlResult {
  ok: boolean;
  message: string;
}

export function runControlCommand(
  line: string,
  device: EngraverDevice,
  faults: LinkFaults,
  extras: ControlExtras = {},
): ControlResult {
  const [command, ...args] = line.trim().split(/\s+/);
  const ok = (message: string): ControlResult => ({ ok: true, message });
  const no = (message: string): ControlResult => ({ ok: false, message });
  const count = (raw: string | undefined, what: string, max = 1_000_000): number | string => {
    if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) > max)
      return `${what} must be an integer 0..${max}`;
    return Number(raw);
  };
  const countOrAll = (raw: string | undefined): number | string => {
    if (raw === 'all') return Number.POSITIVE_INFINITY;
    const n = count(raw, 'count');
    return typeof n === 'string' ? `${n}, or all` : n;
  };
  const atNextMarking = (action: MarkingAction, what: string): ControlResult => {
    const { triggers } = extras;
    if (!triggers) return no(`${command} is not available here`);
    if (args[0] === 'off') {
      triggers.disarm(action);
      return ok(`will not ${what} at the next marking`);
    }
    const fraction = args[0] === undefined ? 0.5 : Number(args[0]);
    if (!(fraction >= 0 && fraction <= 1)) return no('the fraction must be between 0 and 1, or off');
    triggers.arm(action, fraction);
    return ok(`will ${what} ${fraction * 100}% of the way through the next marking`);
  };
  switch (command) {
    case undefined:
    case '':
      return ok('');
    case 'help':
      return ok(CONTROL_HELP);
    case 'status': {
      const s = device.status();
      const interfaceVersion = device.readHolding(REG.interface, 1)[0];
      const { triggers, stats } = extras;
      return ok(
        `state ${s.state} fault ${s.fault} completed ${s.completed} activeJob ${s.activeJob} interface ${interfaceVersion}` +
          ` | marking ${device.markingTimeMs} ms, interlock ${device.interlockOpen ? 'open' : 'closed'}, part ${device.noPart ? 'absent' : 'present'}` +
          ` | delay ${faults.delayRepliesMs} ms, withhold ${showCount(faults.withholdReplies)}, corrupt ${showCount(faults.corruptReplies)}` +
          (triggers ? ` | at next marking: ${triggers.describe()}` : '') +
          (stats ? ` | requests ${stats.requests}, at most ${stats.maxInFlight} in flight` : ''),
      );
    }
    case 'fault-next': {
      const code = count(args[0], 'fault code', 65535);
      if (typeof code === 'string' || code < 1)
        return no('fault-next needs a fault code 1..65535 (1..5 are the spec codes)');
      const fraction = args[1] === undefined ? 0.5 : Number(args[1]);
      if (!(fraction >= 0 && fraction <= 1)) return no('the fraction must be between 0 and 1');
      device.faultNextJob(code, fraction);
      return ok(`next job faults with ${code} after ${fraction * 100}% of its marking`);
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
      return ok('power cycled: READY, activeJob 0');
    case 'marking-ms': {
      const ms = count(args[0], 'marking time');
      if (typeof ms === 'string') return no(ms);
      device.markingTimeMs = ms;
      return ok(`marking takes ${ms} ms`);
    }
    case 'drop':
      faults.dropLink();
      return ok('link dropped');
    case 'drop-at-next-marking':
      return atNextMarking('drop', 'drop the link');
    case 'power-cycle-at-next-marking':
      return atNextMarking('power-cycle', 'power-cycle');
    case 'delay':
    case 'delay-replies': {
      const ms = count(args[0], 'delay');
      if (typeof ms === 'string') return no(ms);
      faults.delayRepliesMs = ms;
      return ok(`replies delayed ${ms} ms`);
    }
    case 'withhold':
    case 'withhold-replies': {
      const n = countOrAll(args[0]);
      if (typeof n === 'string') return no(n);
      faults.withholdReplies = n;
      return ok(`${replies(n)} withheld`);
    }
    case 'corrupt':
    case 'corrupt-replies': {
      const n = countOrAll(args[0]);
      if (typeof n === 'string') return no(n);
      faults.corruptReplies = n;
      return ok(`${replies(n)} corrupted`);
    }
    default:
      return no(`unknown command "${command}" (try help)`);
  }
}

function showCount(n: number): string {
  return n === Number.POSITIVE_INFINITY ? 'all' : String(n);
}

function replies(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return 'every reply';
  if (n === 0) return 'no reply';
  return n === 1 ? 'next reply' : `next ${n} replies`;
}

/**
 * Reads run-time commands on standard input, one a line, and says what each did, until SIGINT or
 * SIGTERM.
 */
export async function controlUntilStopped(
  run: (line: string) => ControlResult,
  say: (line: string) => void,
): Promise<void> {
  const input = createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    const result = run(line);
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
}
