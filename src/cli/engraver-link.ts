/**
 * `stampline engraver probe|test-job|send`: for integrators bringing up an engraver link, and
 * writing a profile for a text-command marker.
 */
import { createEngraver, linkTarget, loadCommandProfile, sendRawCommand } from '../engraver/index.js';
import type { Logger } from '../engraver/options.js';
import { loadProfile } from '../engraver/profile.js';
import { type EngraveJob, type Engraver, faultName } from '../engraver/types.js';
import { parseEngraverUrl } from '../engraver/url.js';
import { StamplineError } from '../errors.js';
import { EXIT_NEGATIVE, integer, report } from './engraver-args.js';

// ---- probe -----------------------------------------------------------------------------------

export interface ProbeOptions {
  timeout: string;
  requestTimeout: string;
  profile?: string;
  json?: boolean;
}

export async function probe(url: string, opts: ProbeOptions): Promise<void> {
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

export interface TestJobOptions {
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

export async function testJob(url: string, opts: TestJobOptions): Promise<void> {
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

// ---- send (command markers) -------------------------------------------------------------------

export interface SendOptions {
  timeout: string;
  quiet: string;
  json?: boolean;
}

export async function sendCommand(url: string, command: string, opts: SendOptions): Promise<void> {
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
