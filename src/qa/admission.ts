/**
 * What a read must meet before the QA service takes it: a firearm of this line that carries the
 * code read (or the latest that held the serial), engraved and not yet decided, and under
 * ca-4075 a round that is examined and not read before. Each refusal names what is wrong.
 */
import { StamplineError } from '../errors.js';
import type { Firearm } from '../line/model.js';
import type { StoredFirearm } from '../line/repository.js';
import { type CheckedRead, invalid } from './input.js';
import { examinedRounds, type QaPolicy } from './policy.js';
import type { QaLine } from './service.js';
import type { StoredRead } from './types.js';

export async function locateFirearm(
  line: Pick<QaLine, 'findFirearms'>,
  input: CheckedRead,
): Promise<StoredFirearm> {
  if (input.code !== undefined) {
    const holders = await line.findFirearms({ code: input.code });
    const found = holders.at(-1);
    if (!found) {
      throw new StamplineError(
        'QA_UNKNOWN_FIREARM',
        `no firearm on this line was given code ${dashed(input.code)}`,
        {
          code: input.code,
        },
      );
    }
    const f = found.firearm;
    if (input.serial !== undefined && input.serial !== f.serial) {
      throw invalid('code', `code ${dashed(input.code)} is on firearm ${f.serial}, not ${input.serial}`, {
        serial: input.serial,
        code: input.code,
      });
    }
    if (f.code?.text !== input.code) {
      const voided = f.voided.find((v) => v.text === input.code)!;
      const now = f.code ? `it now carries code ${dashed(f.code.text)}` : 'it waits for a new pin and code';
      throw new StamplineError(
        'QA_ALREADY_DECIDED',
        `code ${dashed(input.code)} of firearm ${f.serial} was voided ${voided.voidedAt} (${voided.reason}); ${now}: read cases fired with its new pin`,
        { serial: f.serial, code: input.code, voided: { at: voided.voidedAt, reason: voided.reason } },
      );
    }
    return found;
  }
  const serial = input.serial!;
  const found = (await line.findFirearms({ serial })).at(-1);
  if (!found) {
    throw new StamplineError('QA_UNKNOWN_FIREARM', `no firearm on this line has serial ${serial}`, {
      serial,
    });
  }
  return found;
}

export function checkRound(
  policy: QaPolicy,
  input: CheckedRead,
  earlier: readonly StoredRead[],
  serial: string,
): void {
  if (policy.kind !== 'ca-4075') return;
  const rounds = policy.rounds;
  const examined = examinedRounds(rounds);
  if (input.round === undefined) {
    throw invalid('round', `the ca-4075 policy needs the round of each case: one of ${examined.join(', ')}`);
  }
  if (!examined.includes(input.round)) {
    throw invalid(
      'round',
      `round ${input.round} is not examined: of a test fire of ${rounds} rounds, ca-4075 examines rounds ${examined.join(', ')}`,
      { round: input.round },
    );
  }
  const before = earlier.find((r) => r.round === input.round);
  if (before) {
    throw new StamplineError(
      'QA_DUPLICATE_ROUND',
      `round ${input.round} of firearm ${serial} was read already (read ${before.id}, ${before.at} by ${before.by}); reads are never replaced`,
      { serial, round: input.round, read: before.id },
    );
  }
}

export function dashed(code: string): string {
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

export function notEngraved(f: Firearm): StamplineError {
  const lastVoid = f.voided.at(-1);
  let why: string;
  if (f.state === 'queued' && lastVoid?.qa?.result === 'fail') {
    why = `its code ${dashed(lastVoid.text)} failed QA and was voided; it waits for a new pin and code`;
  } else if (f.state === 'queued') {
    why = 'it waits to be engraved';
  } else if (f.state === 'cancelled') {
    why = 'its order was aborted before it was engraved';
  } else {
    why = 'it is being engraved';
  }
  return new StamplineError('QA_NOT_ENGRAVED', `firearm ${f.serial} has no engraved pin to verify: ${why}`, {
    serial: f.serial,
    state: f.state,
  });
}
