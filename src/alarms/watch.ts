/**
 * Where the alarm service's observations come from: the line's events and status, the registry
 * link and outbox, the QA verdicts. And where its active alarms go besides the API: the
 * registry's retained status. The daemon calls `watchAlarms` once the services run.
 */

import type { QaDecisionEvent } from '../qa/index.js';
import type { SubmitResult } from '../qa/types.js';
import type { RegistryReporter } from '../registry/reporter.js';
import type { LineApi } from '../shared.js';
import type { AlarmService } from './service.js';

export interface AlarmSources {
  line: Pick<LineApi, 'on' | 'off' | 'status'>;
  /** codes left in the issuer's index block */
  codesLeft: () => number;
  reporter?: Pick<RegistryReporter, 'on' | 'off' | 'link' | 'outbox' | 'setAlarms'>;
  qa?: {
    on(event: 'read', l: (e: SubmitResult) => void): unknown;
    on(event: 'decision', l: (e: QaDecisionEvent) => void): unknown;
    off(event: 'read', l: (e: SubmitResult) => void): unknown;
    off(event: 'decision', l: (e: QaDecisionEvent) => void): unknown;
  };
}

/** Starts feeding the service; returns the function that stops it. */
export function watchAlarms(alarms: AlarmService, s: AlarmSources): () => void {
  const off: Array<() => void> = [];

  const engraver = () => {
    const st = s.line.status();
    void alarms.observe({
      kind: 'engraver',
      connected: st.engraver.connected,
      ...(st.engraver.status ? { state: st.engraver.status.state, fault: st.engraver.status.fault } : {}),
      ...(st.halted ? { halted: st.halted } : {}),
    });
  };
  let lastLeft: number | undefined;
  const codes = () => {
    const left = s.codesLeft();
    if (left === lastLeft) return;
    lastLeft = left;
    void alarms.observe({ kind: 'codes', left });
  };
  const onEngraver = (e: { reason?: string; connected: boolean }) => {
    if (!e.connected)
      void alarms.observe({ kind: 'engraver', connected: false, ...(e.reason ? { reason: e.reason } : {}) });
    else engraver();
  };
  const onOrder = () => engraver();
  s.line.on('engraver', onEngraver);
  s.line.on('order', onOrder);
  s.line.on('firearm', codes);
  off.push(() => {
    s.line.off('engraver', onEngraver);
    s.line.off('order', onOrder);
    s.line.off('firearm', codes);
  });

  const reporter = s.reporter;
  if (reporter) {
    const link = () => {
      const st = reporter.link.status();
      void alarms.observe({ kind: 'registry-link', state: st.state, error: st.lastError });
    };
    const outbox = () => void alarms.observe({ kind: 'outbox', rejected: reporter.outbox.stats().rejected });
    reporter.on('link', link);
    const changes = ['rejected', 'retried', 'dismissed'] as const;
    for (const name of changes) reporter.outbox.on(name, outbox);
    const publish = () =>
      reporter.setAlarms(
        alarms.active().map((a) => ({ kind: a.kind, severity: a.severity, since: a.raisedAt })),
      );
    alarms.on('alarm', publish);
    off.push(() => {
      reporter.off('link', link);
      for (const name of changes) reporter.outbox.off(name, outbox);
      alarms.off('alarm', publish);
    });
    link();
    outbox();
    publish();
  }

  const qa = s.qa;
  if (qa) {
    const onRead = (e: SubmitResult) => {
      if (e.outcome !== 'pending' && e.verdict.status !== 'pending')
        void alarms.observe({ kind: 'qa-verdict', status: e.verdict.status });
    };
    const onDecision = (e: QaDecisionEvent) => {
      if (e.verdict.status !== 'pending')
        void alarms.observe({ kind: 'qa-verdict', status: e.verdict.status });
    };
    qa.on('read', onRead);
    qa.on('decision', onDecision);
    off.push(() => {
      qa.off('read', onRead);
      qa.off('decision', onDecision);
    });
  }

  // What holds now, before any event: a link that was down at the last stop and is up now clears.
  const st = s.line.status();
  if (st.engraver.connected || st.engraver.status || st.halted) engraver();
  else void alarms.observe({ kind: 'engraver', connected: false, reason: 'not connected since start' });
  codes();
  return () => {
    for (const f of off.splice(0)) f();
  };
}
