/**
 * Run-time control of a running engraver simulator: one command a line (typed on its standard
 * input, or piped in), acting on the device or on the link. Pure apart from the objects it is
 * given, so the command set is testable without a terminal.
 */
import { type EngraverDevice, REG } from './device.js';
import type { LinkFaults } from './link-faults.js';

export const CONTROL_HELP = `commands (one a line):
  status                      state, fault, completed, activeJob, and the link faults
  fault-next CODE [FRACTION]  the next job faults with CODE (1..5) after FRACTION of its marking (default 0.5)
  interlock open|closed       an open interlock faults every start with 1
  part absent|present         an absent part faults every start with 2
  power-cycle                 back to READY with activeJob 0; a job being marked is left part-marked
  marking-ms MS               marking time of the next jobs
  drop                        drop the link now (close the connection or the port)
  delay MS                    hold every reply back MS milliseconds (0 to stop)
  withhold N                  give no reply to the next N requests
  corrupt N                   corrupt the next N replies (bad checksum or CRC; TCP: a malformed frame)
  help                        this list`;

export interface ControlResult {
  ok: boolean;
  message: string;
}

export function runControlCommand(line: string, device: EngraverDevice, faults: LinkFaults): ControlResult {
  const [command, ...args] = line.trim().split(/\s+/);
  const ok = (message: string): ControlResult => ({ ok: true, message });
  const no = (message: string): ControlResult => ({ ok: false, message });
  const count = (raw: string | undefined, what: string, max = 1_000_000): number | string => {
    if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) > max)
      return `${what} must be an integer 0..${max}`;
    return Number(raw);
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
      return ok(
        `state ${s.state} fault ${s.fault} completed ${s.completed} activeJob ${s.activeJob} interface ${interfaceVersion}` +
          ` | marking ${device.markingTimeMs} ms, interlock ${device.interlockOpen ? 'open' : 'closed'}, part ${device.noPart ? 'absent' : 'present'}` +
          ` | delay ${faults.delayRepliesMs} ms, withhold ${faults.withholdReplies}, corrupt ${faults.corruptReplies}`,
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
    case 'delay': {
      const ms = count(args[0], 'delay');
      if (typeof ms === 'string') return no(ms);
      faults.delayRepliesMs = ms;
      return ok(`replies delayed ${ms} ms`);
    }
    case 'withhold': {
      const n = count(args[0], 'count');
      if (typeof n === 'string') return no(n);
      faults.withholdReplies = n;
      return ok(`next ${n} replies withheld`);
    }
    case 'corrupt': {
      const n = count(args[0], 'count');
      if (typeof n === 'string') return no(n);
      faults.corruptReplies = n;
      return ok(`next ${n} replies corrupted`);
    }
    default:
      return no(`unknown command "${command}" (try help)`);
  }
}
