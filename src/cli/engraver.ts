/**
 * `stampline engraver probe|test-job|send` for integrators bringing up an engraver link, and
 * `stampline sim engraver` to run the reference engraver simulator by hand. This file declares
 * the commands; engraver-link.ts and engraver-sim.ts carry them out.
 */
import type { Command } from 'commander';
import { CONTROL_HELP } from '../../simulators/engraver/control.js';
import {
  type ProbeOptions,
  probe,
  type SendOptions,
  sendCommand,
  type TestJobOptions,
  testJob,
} from './engraver-link.js';
import { runSimulator, type SimOptions } from './engraver-sim.js';

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
