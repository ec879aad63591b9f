import { describe, expect, it } from 'vitest';
import { advance, startExchange } from '../../../src/engraver/ascii/exchange.js';
import type { Command, Incoming, NakReason } from '../../../src/engraver/ascii/messages.js';
import { AsciiSession, type SessionAction } from '../../../src/engraver/ascii/session.js';
import type { EngraveJob, EngraverStatus } from '../../../src/engraver/types.js';

const job: EngraveJob = {
  jobId: 5,
  text: 'ABC',
  gear: '101',
  mirror: false,
  target: 'firing-pin',
  recipe: { power: 500, frequency: 20, speed: 800, passes: 1 },
};
const status: EngraverStatus = { state: 'READY', activeJob: 0, fault: 0, completed: 0 };
const STAT_REPLY: Incoming = { kind: 'STAT', status };
const GO5: Command = { kind: 'GO', jobId: 5 };

/** A session whose link has been checked once, as after a connect. */
function readySession(): AsciiSession {
  const session = new AsciiSession();
  session.connected();
  session.begin({ kind: 'STAT' });
  session.receive(STAT_REPLY);
  expect(session.suspect).toBe(false);
  return session;
}

function sent(actions: SessionAction[]): string[] {
  return actions.flatMap((a) => (a.kind === 'send' ? [a.command.kind] : []));
}

function settled(actions: SessionAction[]) {
  const settle = actions.find((a) => a.kind === 'settle');
  return settle?.kind === 'settle' ? settle.result : undefined;
}

describe('exchange state machine', () => {
  it('goes probing → awaiting → settled on a suspect link', () => {
    let step = startExchange(GO5, true);
    expect(step.state.phase).toBe('probing');
    expect(step.actions).toEqual([{ kind: 'send', command: { kind: 'STAT' } }, { kind: 'arm-timer' }]);
    step = advance(step.state, { kind: 'reply', reply: STAT_REPLY as never });
    expect(step.state).toEqual({ phase: 'awaiting', command: GO5, attempt: 1 });
    step = advance(step.state, { kind: 'reply', reply: { kind: 'ACK', jobId: 5 } });
    expect(step.state).toEqual({
      phase: 'settled',
      command: GO5,
      result: { ok: true, reply: { kind: 'ACK', jobId: 5 } },
    });
  });

  it('does not consume a reply that is not its own', () => {
    const step = advance(startExchange(GO5, false).state, {
      kind: 'reply',
      reply: { kind: 'ACK', jobId: 6 },
    });
    expect(step.consumed).toBe(false);
    expect(step.state.phase).toBe('awaiting');
  });

  it('records whether the command reached the wire when it times out', () => {
    expect(advance(startExchange(GO5, true).state, { kind: 'timeout' }).state).toMatchObject({
      result: { ok: false, failure: { kind: 'timeout', waitingFor: 'probe', sent: false } },
    });
    expect(advance(startExchange(GO5, false).state, { kind: 'timeout' }).state).toMatchObject({
      result: { ok: false, failure: { kind: 'timeout', waitingFor: 'reply', sent: true } },
    });
  });
});

describe('AsciiSession', () => {
  it('asks $STAT before anything else on a new link', () => {
    const session = new AsciiSession();
    session.connected();
    expect(sent(session.begin({ kind: 'JOB', job }))).toEqual(['STAT']);
    expect(sent(session.receive(STAT_REPLY))).toEqual(['JOB']);
    expect(settled(session.receive({ kind: 'ACK', jobId: 5 }))).toEqual({
      ok: true,
      reply: { kind: 'ACK', jobId: 5 },
    });
  });

  it('delivers events interleaved with a reply as events, never as the reply', () => {
    const session = readySession();
    session.begin(GO5);
    const done = session.receive({ kind: 'DONE', jobId: 5, completed: 1 });
    expect(done).toEqual([{ kind: 'event', event: { kind: 'DONE', jobId: 5, completed: 1 } }]);
    const fault = session.receive({ kind: 'FAULT', jobId: 4, fault: 3 });
    expect(fault).toEqual([{ kind: 'event', event: { kind: 'FAULT', jobId: 4, fault: 3 } }]);
    expect(session.busy).toBe(true);
    expect(settled(session.receive({ kind: 'ACK', jobId: 5 }))).toMatchObject({ ok: true });
  });

  it('matches replies by job id, not order', () => {
    const session = readySession();
    session.begin(GO5);
    const stray = session.receive({ kind: 'ACK', jobId: 4 });
    expect(stray).toMatchObject([{ kind: 'discard', why: 'unasked' }]);
    expect(session.busy).toBe(true);
    expect(settled(session.receive({ kind: 'NAK', jobId: 5, reason: 'NOJOB' }))).toEqual({
      ok: false,
      failure: { kind: 'refused', reason: 'NOJOB', jobId: 5 },
    });
  });

  it('does not take an ACK of 0 as the answer to $STAT', () => {
    const session = readySession();
    session.begin({ kind: 'STAT' });
    expect(session.receive({ kind: 'ACK', jobId: 0 })).toMatchObject([{ kind: 'discard', why: 'unasked' }]);
    expect(settled(session.receive(STAT_REPLY))).toMatchObject({ ok: true });
  });

  it.each<Exclude<NakReason, 'CHECKSUM'>>(['BUSY', 'BADJOB', 'NOJOB', 'FAULT'])(
    'reports NAK %s as a refusal',
    (reason) => {
      const session = readySession();
      session.begin({ kind: 'JOB', job });
      expect(settled(session.receive({ kind: 'NAK', jobId: 5, reason }))).toEqual({
        ok: false,
        failure: { kind: 'refused', reason, jobId: 5 },
      });
    },
  );

  it('after NAK CHECKSUM asks $STAT, then sends the command once more', () => {
    const session = readySession();
    session.begin(GO5);
    const nak: Incoming = { kind: 'NAK', jobId: 0, reason: 'CHECKSUM' };
    expect(sent(session.receive(nak))).toEqual(['STAT']);
    expect(sent(session.receive(STAT_REPLY))).toEqual(['GO']);
    expect(settled(session.receive({ kind: 'ACK', jobId: 5 }))).toMatchObject({ ok: true });
  });

  it('gives up after a second NAK CHECKSUM', () => {
    const session = readySession();
    session.begin(GO5);
    const nak: Incoming = { kind: 'NAK', jobId: 0, reason: 'CHECKSUM' };
    session.receive(nak);
    session.receive(STAT_REPLY);
    expect(settled(session.receive(nak))).toEqual({
      ok: false,
      failure: { kind: 'corrupted', during: 'command' },
    });
    // The engraver did answer: the link is noisy, not silent.
    expect(session.suspect).toBe(false);
  });

  it('takes the command’s own reply during the resync: the NAK CHECKSUM was for noise', () => {
    const session = readySession();
    session.begin(GO5);
    session.receive({ kind: 'NAK', jobId: 0, reason: 'CHECKSUM' });
    const actions = session.receive({ kind: 'ACK', jobId: 5 });
    expect(sent(actions)).toEqual([]);
    expect(settled(actions)).toMatchObject({ ok: true });
  });

  it('after a missed reply, asks $STAT before sending anything else', () => {
    const session = readySession();
    session.begin(GO5);
    expect(settled(session.timeout())).toEqual({
      ok: false,
      failure: { kind: 'timeout', waitingFor: 'reply', sent: true },
    });
    expect(session.suspect).toBe(true);
    expect(sent(session.begin({ kind: 'JOB', job: { ...job, jobId: 6 } }))).toEqual(['STAT']);
  });

  it('discards a reply that comes after its request timed out, never taking it for the next', () => {
    const session = readySession();
    session.begin(GO5);
    session.timeout();
    session.begin({ kind: 'JOB', job }); // same job id 5: an ACK,5 could answer either
    const late = session.receive({ kind: 'ACK', jobId: 5 });
    expect(late).toMatchObject([{ kind: 'discard', why: 'late' }]);
    expect(sent(session.receive(STAT_REPLY))).toEqual(['JOB']);
    expect(session.owedReplies).toBe(0);
    expect(settled(session.receive({ kind: 'ACK', jobId: 5 }))).toMatchObject({ ok: true });
  });

  it('takes a late $STAT for late even when a $STAT is being asked again', () => {
    const session = readySession();
    session.begin({ kind: 'STAT' });
    session.timeout();
    session.begin({ kind: 'STAT' });
    expect(session.receive(STAT_REPLY)).toMatchObject([{ kind: 'discard', why: 'late' }]);
    expect(settled(session.receive(STAT_REPLY))).toMatchObject({ ok: true });
  });

  it('once late replies have drained, the next reply is the answer again', () => {
    const session = readySession();
    session.begin({ kind: 'STAT' });
    session.timeout();
    session.drained();
    session.begin({ kind: 'STAT' });
    expect(settled(session.receive(STAT_REPLY))).toMatchObject({ ok: true });
  });

  it('presumes the link lost when $STAT goes unanswered on a suspect link', () => {
    const session = readySession();
    session.begin(GO5);
    session.timeout();
    session.begin({ kind: 'RESET' });
    const actions = session.timeout();
    expect(settled(actions)).toEqual({
      ok: false,
      failure: { kind: 'timeout', waitingFor: 'probe', sent: false },
    });
    expect(actions).toContainEqual(expect.objectContaining({ kind: 'link-lost' }));
  });

  it('one missed reply on a sound link makes it suspect, not yet lost', () => {
    const session = readySession();
    session.begin(GO5);
    const kinds = session.timeout().map((a) => a.kind);
    expect(kinds).toContain('link-suspect');
    expect(kinds).not.toContain('link-lost');
  });

  it('reports the link verified, with the status, when $STAT is answered on a suspect link', () => {
    const session = readySession();
    session.begin(GO5);
    session.timeout();
    session.drained();
    session.begin(GO5);
    const busy: EngraverStatus = { state: 'BUSY', activeJob: 5, fault: 0, completed: 0 };
    const actions = session.receive({ kind: 'STAT', status: busy });
    expect(actions[0]).toEqual({ kind: 'link-verified', status: busy });
    expect(sent(actions)).toEqual(['GO']);
    // Once sound, a $STAT answer is just an answer.
    session.receive({ kind: 'ACK', jobId: 5 });
    session.begin({ kind: 'STAT' });
    expect(session.receive(STAT_REPLY).map((a) => a.kind)).not.toContain('link-verified');
  });

  it('fails the exchange in flight when the link goes down', () => {
    const session = readySession();
    session.begin(GO5);
    expect(settled(session.linkDown('port closed'))).toEqual({
      ok: false,
      failure: { kind: 'link-down', detail: 'port closed', sent: true },
    });
    expect(session.busy).toBe(false);
    expect(session.suspect).toBe(true);
  });

  it('discards replies when nothing was asked', () => {
    const session = readySession();
    expect(session.receive({ kind: 'NAK', jobId: 0, reason: 'CHECKSUM' })).toMatchObject([
      { kind: 'discard', why: 'unasked' },
    ]);
  });

  it('refuses a second exchange while one is in progress', () => {
    const session = readySession();
    session.begin(GO5);
    expect(() => session.begin({ kind: 'STAT' })).toThrow(/already in progress/);
  });
});
