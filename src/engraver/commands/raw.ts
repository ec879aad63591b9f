/**
 * One command typed by hand, for `stampline engraver send`: an integrator writing a profile for
 * a new marker sees exactly what it answers. Only the profile's link settings are used, so a
 * profile whose status queries are still wrong does not stand in the way.
 */
import { StamplineError } from '../../errors.js';
import { type Frame, LineDecoder, terminatorBytes } from './framing.js';
import { type LinkTarget, openLink } from './link.js';
import type { CommandProfile } from './profile.js';

export interface RawAnswer {
  /** Every line received, unasked ones included, in order. */
  lines: string[];
  /** Bytes that formed no line, with why. */
  discarded: Extract<Frame, { kind: 'discarded' }>[];
}

export async function sendRawCommand(
  profile: CommandProfile,
  target: LinkTarget,
  command: string,
  options: { timeoutMs: number; quietMs: number },
): Promise<RawAnswer> {
  if (/[\r\n]/.test(command)) {
    throw new StamplineError(
      'INVALID_INPUT',
      'the command must be one line; its terminator is added from the profile',
      {
        command,
      },
    );
  }
  let port: Awaited<ReturnType<typeof openLink>>;
  try {
    port = await openLink(target, options.timeoutMs);
  } catch (err) {
    throw new StamplineError(
      'ENGRAVER_LINK_DOWN',
      `cannot open the link to the marker: ${(err as Error).message}`,
      {
        target,
      },
    );
  }
  const decoder = new LineDecoder(profile.link.replyEnd);
  const answer: RawAnswer = { lines: [], discarded: [] };
  try {
    await new Promise<void>((resolve, reject) => {
      let timer = setTimeout(resolve, options.timeoutMs);
      const take = (frames: Frame[]) => {
        for (const frame of frames) {
          if (frame.kind === 'line') answer.lines.push(frame.text);
          else answer.discarded.push(frame);
        }
        if (frames.length > 0) {
          clearTimeout(timer);
          timer = setTimeout(resolve, options.quietMs);
        }
      };
      port.onData((chunk) => take(decoder.push(chunk)));
      port.onEnd((reason) => {
        clearTimeout(timer);
        take(decoder.end());
        if (answer.lines.length > 0) resolve();
        else
          reject(
            new StamplineError('ENGRAVER_LINK_DOWN', `the link ended before any answer: ${reason}`, {
              target,
            }),
          );
      });
      port.write(
        Buffer.concat([Buffer.from(command, 'latin1'), terminatorBytes(profile.link.commandEnd)]),
        (err) => {
          if (err)
            reject(new StamplineError('ENGRAVER_LINK_DOWN', `cannot write: ${err.message}`, { target }));
        },
      );
    });
  } finally {
    await port.close();
  }
  return answer;
}
