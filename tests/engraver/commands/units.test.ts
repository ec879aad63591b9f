/**
 * The pure layers of the command-marker driver: profiles (errors by path), the template language,
 * framing (typed frames, discarded bytes), the exchange routing (TL's unasked end messages are
 * never an answer) and what the readings prove about a job.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CommandSession, type Outgoing } from '../../../src/engraver/commands/exchange.js';
import { LineDecoder } from '../../../src/engraver/commands/framing.js';
import { jobCommands } from '../../../src/engraver/commands/job.js';
import { loadCommandProfile, parseCommandProfile } from '../../../src/engraver/commands/profile.js';
import { compile, match, parseTemplate, render } from '../../../src/engraver/commands/template.js';
import { JobTracker, readingOf } from '../../../src/engraver/commands/tracker.js';
import { isStamplineError } from '../../../src/errors.js';
import { sampleJob } from '../support/rigs.js';

const kvText = readFileSync(new URL('../../../config/profiles/kv-marker.yaml', import.meta.url), 'utf8');

function problems(mutate: (doc: Record<string, unknown>) => void): string[] {
  const doc = parse(kvText) as Record<string, unknown>;
  mutate(doc);
  try {
    parseCommandProfile(doc, 'test.yaml');
  } catch (err) {
    if (isStamplineError(err, 'ENGRAVER_BAD_PROFILE'))
      return (err.context as { problems: string[] }).problems;
    throw err;
  }
  return [];
}

describe('command profiles', () => {
  it('loads both shipped profiles', () => {
    expect(loadCommandProfile('kv-marker').compiled.counter).toBeDefined();
    expect(loadCommandProfile('tl-marker').compiled.events).toBeDefined();
  });

  it('names the field of every problem', () => {
    expect(
      problems((d) => ((d.load as { send: string }[])[1]!.send = 'WX,BLK=0,CharacterString={txt}')),
    ).toEqual([expect.stringMatching(/^load\.1\.send: \{txt\} is not known here/)]);
    expect(problems((d) => ((d.start as { fail: string }).fail = 'WX,NG'))).toEqual([
      'start.fail: must carry {code}',
    ]);
    expect(problems((d) => ((d.counter as { reply: string }).reply = 'RX,OK'))).toEqual([
      'counter.reply: must carry {count}',
    ]);
    expect(problems((d) => ((d.link as { tcpPort: number }).tcpPort = 70000))[0]).toMatch(/^link\.tcpPort: /);
    expect(problems((d) => ((d.status as unknown[]).length = 1))).toEqual([
      'status: no status reply carries {error}, nor a {mask} with a fault bit',
    ]);
    expect(problems((d) => ((d.gear as { gapChar: string }).gapChar = '1'))).toEqual([
      'gear.gapChar: must differ from toothChar',
    ]);
    expect(problems((d) => ((d.abort as { ok: string }).ok = 'WX,[OK'))[0]).toMatch(
      /^abort\.ok: a "\[" is never closed/,
    );
  });
});

describe('templates', () => {
  it('renders and reads an optional part both ways', () => {
    const t = parseTemplate('ST {mask}[ {error}]');
    expect(render(t, { mask: 7 })).toBe('ST 7');
    expect(render(t, { mask: 35, error: 3 })).toBe('ST 35 3');
    const re = compile(t);
    expect(match(re, 'ST 7')).toEqual({ mask: '7' });
    expect(match(re, 'ST 35 3')).toEqual({ mask: '35', error: '3' });
    expect(match(re, 'ST x')).toBeUndefined();
  });

  it('writes the gear bits with the profile characters', () => {
    const profile = loadCommandProfile('tl-marker');
    const lines = jobCommands(profile, sampleJob({ text: 'AB12', gear: '1101', target: 'breech-face' })).map(
      (c) => c.line,
    );
    expect(lines).toEqual(['LD "BREECH.MRK" 1', 'VS 0 "AB12"', 'VS 1 "1101"']);
  });
});

describe('framing', () => {
  it('splits on the terminator whatever the chunks, and reports what it drops', () => {
    const decoder = new LineDecoder('\r\n');
    const frames = [
      ...decoder.push(Buffer.from('GO M\r')),
      ...decoder.push(Buffer.from('\nST 7\r\nbad\x01\r\nGO')),
    ];
    expect(frames).toEqual([
      { kind: 'line', text: 'GO M' },
      { kind: 'line', text: 'ST 7' },
      expect.objectContaining({ kind: 'discarded', reason: 'not-ascii', length: 5 }),
    ]);
    expect(decoder.end()).toEqual([
      expect.objectContaining({ kind: 'discarded', reason: 'partial-at-close' }),
    ]);
  });

  it('drops the LF of a CR LF when lines end in CR', () => {
    const decoder = new LineDecoder('\r');
    expect(decoder.push(Buffer.from('WX,OK\r\nRX,OK,1\r'))).toEqual([
      { kind: 'line', text: 'WX,OK' },
      { kind: 'line', text: 'RX,OK,1' },
    ]);
  });
});

describe('the exchange with a TL marker', () => {
  const profile = loadCommandProfile('tl-marker');
  const c = profile.compiled;
  const session = () =>
    new CommandSession({ done: c.events!.doneRegex, fault: c.events!.faultRegex }, c.busy!.regex);
  const out = (label: string, exchange = c.start): Outgoing => ({
    label,
    line: render(exchange.send, { program: 'PIN.MRK' }),
    exchange,
  });

  it('never takes GO F or GO E as the answer to the command waiting', () => {
    const s = session();
    s.begin(out('start'));
    expect(s.receive('GO F')).toEqual([{ kind: 'event', event: { kind: 'done' }, line: 'GO F' }]);
    expect(s.receive('GO E 3')).toEqual([
      { kind: 'event', event: { kind: 'fault', error: 3 }, line: 'GO E 3' },
    ]);
    expect(s.busyNow).toBe(true);
    expect(s.receive('GO M')).toEqual([
      { kind: 'disarm-timer' },
      {
        kind: 'settle',
        out: expect.objectContaining({ label: 'start' }),
        result: { ok: true, reply: 'GO M', values: {} },
      },
    ]);
    s.begin(out('status', c.status[0]!));
    expect(s.receive('GO F')[0]).toMatchObject({ kind: 'event' });
    expect(s.receive('ST 7')[1]).toMatchObject({ kind: 'settle', result: { ok: true, values: { mask: 7 } } });
  });

  it('reads BUSY as busy, and a missed reply makes the link suspect, then lost', () => {
    const s = session();
    s.connected();
    s.verified();
    s.begin(out('load', c.load[0]!));
    expect(s.receive('BUSY')[1]).toMatchObject({ result: { ok: false, failure: { kind: 'busy' } } });
    s.begin(out('status', c.status[0]!));
    expect(s.timeout().at(-1)).toMatchObject({ kind: 'link-suspect' });
    expect(s.receive('ST 7')).toEqual([expect.objectContaining({ kind: 'discard', why: 'late' })]);
    s.begin(out('status', c.status[0]!));
    expect(s.timeout().at(-1)).toMatchObject({ kind: 'link-lost' });
  });
});

describe('what the readings prove about a job', () => {
  const kv = loadCommandProfile('kv-marker');
  const ready = { ready: 1, error: 0 };
  const reading = (values: Record<string, number>) => readingOf(kv, values);

  it.each([
    ['the count moved by one', { ...ready, count: 8 }, { state: 'DONE', activeJob: 5 }],
    ['still marking', { ready: 0, error: 0, count: 7 }, { state: 'BUSY', activeJob: 5 }],
    ['in error 102', { ready: 0, error: 102, count: 7 }, { state: 'FAULT', fault: 2, activeJob: 5 }],
    ['an unknown error', { ready: 0, error: 999, count: 7 }, { state: 'FAULT', fault: 6, activeJob: 5 }],
    [
      'the count did not move',
      { ...ready, count: 7 },
      { state: 'READY', activeJob: 0, unprovable: expect.stringMatching(/still 7/) },
    ],
    [
      'the count went back',
      { ...ready, count: 0 },
      { state: 'READY', activeJob: 0, unprovable: expect.stringMatching(/from 7 to 0/) },
    ],
  ])('after a restart, %s', (_why, values, expected) => {
    const tracker = new JobTracker(kv);
    tracker.recall(5, 7);
    expect(tracker.observe(reading(values))).toMatchObject(expected);
  });

  it('without a counter, only a job watched to its end on one link is done', () => {
    const noCounter = { ...kv, counter: null, compiled: { ...kv.compiled, counter: undefined } };
    const watched = new JobTracker(noCounter);
    watched.started(5, undefined);
    expect(watched.observe(readingOf(noCounter, ready))).toMatchObject({ state: 'DONE', activeJob: 5 });
    const broken = new JobTracker(noCounter);
    broken.started(5, undefined);
    broken.linkLost();
    expect(broken.observe(readingOf(noCounter, ready))).toMatchObject({
      activeJob: 0,
      unprovable: expect.stringMatching(/keeps no count/),
    });
  });
});
