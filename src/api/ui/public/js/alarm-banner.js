// The alarm banner of the page shell: shown on every screen while an alarm is active, most
// severe first, each with what is wrong and what to do, and an Acknowledge button for the roles
// that may. It follows the line's `alarm` events and reloads when the event stream comes back.
import { enc, get, post } from './api.js';
import { h, replace } from './dom.js';
import { when } from './format.js';
import { errorView, notify } from './ui.js';

export const KIND_WORDS = {
  'engraver-fault': 'Engraver fault',
  'engraver-link-down': 'Engraver not reachable',
  'registry-link-down': 'Registry not reachable',
  'records-rejected': 'Records rejected',
  'store-repair': 'Store repaired',
  'qa-failures': 'QA failures',
  'codes-low': 'Codes running out',
};

export const SEVERITY_WORDS = { critical: 'Critical', major: 'Major', warning: 'Warning' };

/**
 * @param {HTMLElement} el the banner's place in the shell
 * @param {{ can: (p: string) => boolean, live: { subscribe: Function } }} shell
 */
export function alarmBanner(el, shell) {
  let active = [];
  let shown = false;
  let loading = null;
  let again = false;
  const errors = h('div', { class: 'error-slot' });

  function render() {
    el.hidden = !shown || active.length === 0;
    if (el.hidden) {
      replace(el);
      return;
    }
    replace(
      el,
      h(
        'h2',
        { class: 'alarm-title', id: 'alarm-banner-title' },
        active.length === 1 ? '1 active alarm' : `${active.length} active alarms`,
      ),
      h(
        'ul',
        { class: 'alarm-list' },
        active.map((a) =>
          h(
            'li',
            {
              class: `alarm alarm-${a.severity}`,
              'data-test': 'alarm',
              'data-kind': a.kind,
              'data-severity': a.severity,
              'data-acknowledged': a.acknowledgedAt ? 'yes' : 'no',
            },
            h('span', { class: 'alarm-severity' }, SEVERITY_WORDS[a.severity] ?? a.severity),
            h(
              'span',
              { class: 'alarm-body' },
              h('strong', { class: 'alarm-kind' }, KIND_WORDS[a.kind] ?? a.kind),
              ' ',
              h('span', { 'data-test': 'alarm-message' }, a.message),
              ' ',
              h(
                'span',
                { class: 'alarm-when' },
                h('time', { datetime: a.raisedAt, title: a.raisedAt }, `since ${when(a.raisedAt)}`),
                a.acknowledgedAt
                  ? h(
                      'span',
                      { 'data-test': 'alarm-acked' },
                      ` · acknowledged by ${a.acknowledgedBy} at ${when(a.acknowledgedAt)}`,
                    )
                  : null,
              ),
            ),
            !a.acknowledgedAt && shell.can('alarms.ack')
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'alarm-ack',
                    'data-test': 'alarm-ack',
                    'data-alarm': a.id,
                    'aria-label': `Acknowledge: ${KIND_WORDS[a.kind] ?? a.kind}`,
                    onclick: (ev) => acknowledge(a, ev.currentTarget),
                  },
                  'Acknowledge',
                )
              : null,
          ),
        ),
      ),
      h(
        'p',
        { class: 'alarm-more' },
        h('a', { href: '#/alarms', 'data-test': 'alarm-journal-link' }, 'Alarm journal'),
      ),
      errors,
    );
  }

  async function acknowledge(alarm, button) {
    button.disabled = true;
    replace(errors);
    try {
      await post(`/api/v1/alarms/${enc(alarm.id)}/ack`, {});
      notify(`Acknowledged: ${KIND_WORDS[alarm.kind] ?? alarm.kind}`);
    } catch (err) {
      replace(errors, errorView(err, 'The alarm could not be acknowledged'));
    }
    await refresh();
    // The button is gone with the row's new state: keep the focus in the banner.
    const next = /** @type {HTMLElement | null} */ (
      el.querySelector('[data-test="alarm-ack"]') ?? el.querySelector('a')
    );
    next?.focus();
  }

  /** Loads the active alarms; calls while one load runs give one more load after it. */
  async function refresh() {
    if (!shown) return;
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        try {
          const body = await get('/api/v1/alarms?limit=1');
          active = body.active;
        } catch {
          // the stream's state in the header tells that the line is not reachable
        }
      } while (again);
      loading = null;
      render();
    })();
    return loading;
  }

  shell.live.subscribe((type) => {
    if (type === 'alarm') refresh();
  });

  return {
    /** Logged in: show and load. */
    show() {
      shown = true;
      refresh();
    },
    /** Logged out: nothing shown. */
    hide() {
      shown = false;
      active = [];
      render();
    },
    refresh,
  };
}
