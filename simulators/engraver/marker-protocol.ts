/**
 * A marker's side of a command profile: reads each command with the profile's own templates and
 * answers as the spec's marker would, so any profile can be tried without the marker. What the
 * spec leaves open is decided here and in docs/engraver.md: a start with no program selected is
 * refused with the job-rejected code; TL refuses a start in error with `GO ERR <code>`.
 */
import {
  type CommandProfile,
  type CompiledExchange,
  markerFault,
} from '../../src/engraver/commands/profile.js';
import { compile, match, render, SEND_VARIABLES } from '../../src/engraver/commands/template.js';
import { FAULT } from '../../src/engraver/types.js';
import type { MarkerDevice, MarkerDeviceEvent } from './marker-device.js';

type Role =
  | { kind: 'load'; index: number }
  | { kind: 'start' }
  | { kind: 'abort' }
  | { kind: 'reset' }
  | { kind: 'status'; index: number }
  | { kind: 'counter' };

interface Matcher {
  role: Role;
  regex: RegExp;
  exchange: CompiledExchange;
}

export class MarkerProtocol {
  private readonly matchers: Matcher[];

  constructor(
    private readonly profile: CommandProfile,
    private readonly device: MarkerDevice,
  ) {
    const c = profile.compiled;
    const entry = (role: Role, exchange: CompiledExchange): Matcher => ({
      role,
      regex: compile(exchange.send, SEND_VARIABLES),
      exchange,
    });
    this.matchers = [
      ...c.load.map((e, index) => entry({ kind: 'load', index }, e)),
      entry({ kind: 'start' }, c.start),
      entry({ kind: 'abort' }, c.abort),
      entry({ kind: 'reset' }, c.reset),
      ...c.status.map((e, index) => entry({ kind: 'status', index }, e)),
      ...(c.counter ? [entry({ kind: 'counter' }, c.counter)] : []),
    ];
  }

  /** The reply to one command line, or undefined when the profile does not know the command. */
  answer(line: string): string | undefined {
    for (const m of this.matchers) {
      const values = match(m.regex, line);
      if (values) return this.act(m, values);
    }
    return undefined;
  }

  /** The unasked message a device event sends, when the profile has events. */
  event(event: MarkerDeviceEvent): string | undefined {
    const events = this.profile.compiled.events;
    if (!events) return undefined;
    if (event.kind === 'done') return render(events.done, {});
    return render(events.fault, { error: markerFault(this.profile, event.fault) });
  }

  private act(m: Matcher, values: Record<string, string>): string {
    const d = this.device;
    const ok = (v: Record<string, number> = {}) => render(m.exchange.ok, v);
    const fail = (code: number) =>
      m.exchange.fail ? render(m.exchange.fail, { code }) : (this.busyReply() ?? `ERR ${code}`);
    const { refusals } = this.profile;
    const busy = () => this.busyReply() ?? fail(refusals.busy[0] ?? 0);
    switch (m.role.kind) {
      case 'load': {
        if (d.isMarking) return busy();
        if (values.program !== undefined) d.program = values.program;
        if (values.text !== undefined) d.blocks[0] = values.text;
        if (values.gear !== undefined) d.blocks[1] = values.gear;
        return ok();
      }
      case 'start': {
        if (d.isMarking) return this.busyReply() ?? fail(refusals.notReady[0] ?? refusals.busy[0] ?? 0);
        if (d.fault !== FAULT.NONE) return fail(refusals.inError[0] ?? markerFault(this.profile, d.fault));
        if (d.program === undefined) return fail(markerFault(this.profile, FAULT.JOB_REJECTED));
        const reply = ok();
        d.start();
        return reply;
      }
      case 'abort':
        d.abort();
        return ok();
      case 'reset':
        if (d.isMarking) return busy();
        d.clearError();
        return ok();
      case 'status':
        return render(m.exchange.ok, this.statusValues());
      case 'counter':
        if (d.isMarking && this.profile.busy !== null) return busy();
        return ok({ count: d.count });
    }
  }

  private busyReply(): string | undefined {
    const busy = this.profile.compiled.busy;
    return busy ? render(busy.template, {}) : undefined;
  }

  private statusValues(): Record<string, number | undefined> {
    const d = this.device;
    const bits = this.profile.mask;
    const error = d.fault === FAULT.NONE ? 0 : markerFault(this.profile, d.fault);
    let mask = bits?.always ?? 0;
    if (d.ready) mask |= bits?.ready ?? 0;
    if (d.isMarking) mask |= bits?.marking ?? 0;
    if (error !== 0) mask |= bits?.fault ?? 0;
    return {
      ready: d.ready ? 1 : 0,
      marking: d.isMarking ? 1 : 0,
      // With a mask, the code follows only when the fault bit is set (TL's `ST <mask> <code>`).
      error: bits && error === 0 ? undefined : error,
      mask,
    };
  }
}
