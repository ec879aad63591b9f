// The line at a glance: the engraver's link and state with what to do about a fault, what waits
// after it (firearms awaiting QA, records queued for the registry and the oldest one's age), the
// orders in progress and the engraved ones not yet complete with live progress, and the registry
// link with the outbox and its rejected records.
import { enc, get, post, throttle } from '../api.js';
import { h, replace } from '../dom.js';
import { groupCode, plural, when } from '../format.js';
import { orderActions } from '../order-actions.js';
import { askReason, busy, chip, errorSlot, errorView, facts, notify } from '../ui.js';
import { ago, backlogView, engravedList, orderLiveItem } from './line-backlog.js';

/** What the floor does about each fault of the reference engraver (spec engraver-modbus.md). */
const FAULT_ADVICE = {
  1: ['Interlock open', 'Close the enclosure door, then press Reset.'],
  2: ['No part present', 'Put a firing pin in the fixture, then press Reset.'],
  3: ['Marking error', 'Check the pin in the fixture and the laser window, then press Reset.'],
  4: [
    'Job rejected',
    "The engraver refused the job's settings: check the recipe for this make and model, then press Reset.",
  ],
  5: ['Over-temperature', 'Let the laser cool down and check its fan or chiller, then press Reset.'],
};
const SCRAP_NOTE =
  'A pin that was being marked when the fault came is scrapped: take it out and put it with the scrap. Its code is void, and the firearm gets a new pin and a new code.';

const LINK_WORDS = { up: 'connected', down: 'down', connecting: 'connecting', stopped: 'stopped' };

function faultOf(line) {
  const status = line.engraver?.status;
  const code = status?.state === 'FAULT' ? status.fault : line.halted?.fault;
  if (code === undefined || code === null || code === 0) return null;
  const [name, advice] = FAULT_ADVICE[code] ?? [
    `Fault ${code}`,
    'Look at the engraver panel, clear the cause, then press Reset.',
  ];
  return { code, name, advice, scrap: code !== 2 && code !== 4 };
}

export function mount(root, ctx) {
  const errors = errorSlot();
  const engraverEl = h('section', {
    class: 'card',
    'aria-labelledby': 'h-engraver',
    'data-test': 'line-engraver',
  });
  const backlogEl = h('section', {
    class: 'card',
    'aria-labelledby': 'h-backlog',
    'data-test': 'line-backlog',
  });
  const workEl = h('section', { class: 'card wide', 'aria-labelledby': 'h-work', 'data-test': 'line-work' });
  const registryEl = h('section', {
    class: 'card',
    'aria-labelledby': 'h-registry',
    'data-test': 'line-registry',
  });
  // Shown only when a store log had a torn tail cut off at start-up (a crash mid-write).
  const repairsEl = h('section', {
    class: 'card wide',
    'aria-labelledby': 'h-repairs',
    'data-test': 'line-store-repairs',
    hidden: true,
  });
  const refreshButton = h(
    'button',
    { type: 'button', class: 'quiet', 'data-test': 'line-refresh' },
    'Refresh',
  );
  root.append(
    h('div', { class: 'screen-head' }, h('h1', { tabindex: -1 }, 'Line'), refreshButton),
    errors.el,
    h('div', { class: 'grid' }, engraverEl, backlogEl, registryEl, workEl, repairsEl),
  );

  function renderRepairs(repairs) {
    const list = Array.isArray(repairs) ? repairs : [];
    repairsEl.hidden = list.length === 0;
    if (list.length === 0) return;
    replace(
      repairsEl,
      h('h2', { id: 'h-repairs' }, 'Store repairs at start-up'),
      h(
        'p',
        { class: 'advice' },
        'A log of the store ended in a half-written line (the line stopped mid-write) and it was cut off. Those bytes were never confirmed to anyone; if this repeats without crashes, check the disk.',
      ),
      h(
        'ul',
        null,
        ...list.map((r) =>
          h(
            'li',
            { 'data-test': 'store-repair' },
            `${r.file}: ${plural(r.droppedBytes, 'byte')} cut off, ${when(r.at)}`,
          ),
        ),
      ),
    );
  }

  const failed = (err) => errors.show(err);

  function renderEngraver(line) {
    const eng = line.engraver ?? {};
    const status = eng.status;
    const fault = faultOf(line);
    const children = [
      h('h2', { id: 'h-engraver' }, 'Engraver'),
      facts([
        ['Link', chip(eng.connected ? 'up' : 'down', LINK_WORDS)],
        [
          'State',
          status
            ? h(
                'span',
                { 'data-test': 'engraver-state' },
                chip(status.state),
                eng.statusAt
                  ? h(
                      'span',
                      { class: 'hint', 'data-test': 'engraver-state-age', 'data-at': eng.statusAt },
                      ` read ${ago(eng.statusAt)}`,
                    )
                  : null,
              )
            : 'not known yet',
        ],
        ['Address', h('code', null, eng.url ?? '')],
        status ? ['Jobs since power-on', String(status.completed)] : null,
      ]),
    ];
    if (!eng.connected) {
      children.push(
        h(
          'div',
          { class: 'advice warn', role: 'status', 'data-test': 'engraver-link-advice' },
          h('p', { class: 'advice-title' }, 'No link to the engraver'),
          h(
            'p',
            null,
            'Check that the engraver is switched on and that its network or serial cable is plugged in. The line reconnects by itself and carries on where it stopped.',
          ),
        ),
      );
    }
    if (fault || line.halted) {
      const reset = ctx.can('engraver.reset')
        ? h('button', { type: 'button', class: 'primary big', 'data-test': 'engraver-reset' }, 'Reset')
        : h('p', { class: 'hint' }, 'An operator or a supervisor can press Reset.');
      if (reset instanceof HTMLButtonElement) {
        reset.addEventListener('click', async () => {
          errors.clear();
          try {
            const after = await busy(reset, () => post('/api/v1/engraver/reset', {}));
            notify(after?.state === 'FAULT' ? 'The engraver is still in fault' : 'Engraver reset');
            refresh();
          } catch (err) {
            failed(err);
          }
        });
      }
      children.push(
        h(
          'div',
          { class: 'advice bad', role: 'alert', 'data-test': 'engraver-fault' },
          h(
            'p',
            { class: 'advice-title' },
            fault ? `Fault: ${fault.name.toLowerCase()}` : 'The line is halted',
          ),
          fault ? h('p', { 'data-test': 'engraver-fault-advice' }, fault.advice) : null,
          line.halted?.reason ? h('p', { class: 'reason' }, line.halted.reason) : null,
          fault?.scrap ? h('p', { class: 'hint' }, SCRAP_NOTE) : null,
          reset,
        ),
      );
    }
    replace(engraverEl, children);
  }

  /** The line sends only the first orders of a long queue, and how many there are in all. */
  function moreOrders(line, shown) {
    const total = typeof line.activeTotal === 'number' ? line.activeTotal : shown;
    if (total <= shown) return null;
    const by = line.activeByState ?? {};
    const parts = ['running', 'faulted', 'paused', 'queued']
      .filter((s) => by[s])
      .map((s) => `${by[s].toLocaleString()} ${s}`);
    return h(
      'p',
      { class: 'hint' },
      `${(total - shown).toLocaleString()} more open orders (${parts.join(', ')}). `,
      h('a', { href: '#/orders' }, 'See them all in Orders'),
    );
  }

  function renderWork(line) {
    const orders = line.activeOrders ?? [];
    const current = line.current;
    replace(
      workEl,
      h('h2', { id: 'h-work' }, 'In progress'),
      h(
        'p',
        { class: 'now', 'data-test': 'line-current' },
        current
          ? [
              'Marking serial ',
              h('strong', { class: 'mono' }, current.serial),
              ' of order ',
              h('a', { href: `#/orders/${enc(current.orderId)}` }, current.orderId),
            ]
          : 'No job on the engraver.',
      ),
      orders.length === 0
        ? h(
            'p',
            { class: 'empty' },
            'No order is at the engraver. ',
            ctx.can('orders.submit') ? h('a', { href: '#/receive' }, 'Receive firearms') : null,
          )
        : h(
            'ul',
            { class: 'orders-live' },
            orders.map((o) =>
              orderLiveItem(o, 'active-order', orderActions(o, ctx, { done: refresh, failed })),
            ),
          ),
      moreOrders(line, orders.length),
      engravedList(line.backlog),
      typeof line.indexesLeft === 'number'
        ? h(
            'p',
            { class: line.indexesLeft < 1000 ? 'warn-text' : 'hint', 'data-test': 'indexes-left' },
            `Codes left in this line's block: ${line.indexesLeft.toLocaleString()}`,
            line.indexesLeft < 1000 ? '. Ask the issuer for a new block soon.' : '',
          )
        : null,
    );
  }

  function rejectedRow(item) {
    const retry = ctx.can('outbox.retry')
      ? h('button', { type: 'button', 'data-test': 'outbox-retry', 'data-record': item.recordId }, 'Retry')
      : null;
    const dismiss = ctx.can('outbox.dismiss')
      ? h(
          'button',
          { type: 'button', class: 'danger', 'data-test': 'outbox-dismiss', 'data-record': item.recordId },
          'Dismiss…',
        )
      : null;
    retry?.addEventListener('click', async () => {
      errors.clear();
      try {
        await busy(retry, () => post(`/api/v1/outbox/${enc(item.recordId)}/retry`, {}));
        notify(`Record for ${item.serial} sent again`);
        refresh();
      } catch (err) {
        failed(err);
      }
    });
    dismiss?.addEventListener('click', async () => {
      const reason = await askReason({
        title: `Give up the ${item.event} record of ${item.serial}`,
        message: 'The registry will not hear of it from this line. Say why, for the audit trail.',
        required: true,
        confirm: 'Dismiss the record',
        danger: true,
      });
      if (reason === null) return;
      errors.clear();
      try {
        await busy(dismiss, () => post(`/api/v1/outbox/${enc(item.recordId)}/dismiss`, { reason }));
        notify(`Record for ${item.serial} dismissed`);
        refresh();
      } catch (err) {
        failed(err);
      }
    });
    return h(
      'tr',
      { 'data-test': 'outbox-rejected', 'data-record': item.recordId },
      h('td', null, item.event),
      h('td', { class: 'mono' }, h('a', { href: `#/records/${enc(item.serial)}` }, item.serial)),
      h('td', { class: 'mono' }, groupCode(item.code)),
      h('td', null, item.rejection?.reason ?? ''),
      h('td', { title: item.rejection?.at ?? '' }, when(item.rejection?.at)),
      h('td', { class: 'row-actions' }, retry, dismiss),
    );
  }

  function renderRegistry(registry, outbox) {
    const link = registry?.link;
    const rejected = outbox?.rejected ?? [];
    const depth = outbox?.depth ?? registry?.outboxDepth;
    replace(
      registryEl,
      h('h2', { id: 'h-registry' }, 'Registry'),
      facts([
        ['Link', link ? chip(link.state, LINK_WORDS) : 'not known'],
        link?.url ? ['Broker', h('code', null, link.url)] : null,
        link?.since ? ['Since', when(link.since)] : null,
        [
          'Outbox',
          h(
            'span',
            { 'data-test': 'outbox-depth' },
            depth === undefined ? 'not known' : plural(depth, 'record'),
          ),
        ],
      ]),
      link && link.state !== 'up'
        ? h(
            'div',
            { class: 'advice warn', role: 'status' },
            h('p', { class: 'advice-title' }, 'The registry is not connected'),
            h(
              'p',
              null,
              'Records wait in the outbox and are sent when the link is back; nothing is lost. Check the network to the broker.',
            ),
            link.lastError ? h('p', { class: 'reason' }, link.lastError) : null,
          )
        : null,
      rejected.length > 0
        ? [
            h('h3', null, `Rejected by the registry (${rejected.length})`),
            h(
              'p',
              { class: 'hint' },
              'Fix the cause at the registry, then Retry; or Dismiss with a reason if the record must not be sent.',
            ),
            h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'list' },
                h(
                  'thead',
                  null,
                  h(
                    'tr',
                    null,
                    ['Event', 'Serial', 'Code', 'Reason', 'When', ''].map((t) =>
                      h('th', { scope: 'col' }, t),
                    ),
                  ),
                ),
                h('tbody', null, rejected.map(rejectedRow)),
              ),
            ),
          ]
        : outbox
          ? h('p', { class: 'empty', 'data-test': 'outbox-no-rejected' }, 'No record rejected.')
          : null,
    );
  }

  let stopped = false;
  async function refresh() {
    const [line, outbox, health] = await Promise.allSettled([
      get('/api/v1/line'),
      get('/api/v1/outbox'),
      get('/healthz'),
    ]);
    if (stopped) return;
    if (line.status === 'rejected') {
      errors.show(line.reason, 'The line status cannot be read');
      return;
    }
    errors.clear();
    renderEngraver(line.value);
    renderWork(line.value);
    renderRepairs(line.value.storeRepairs);
    // The health check (open to all) carries the registry link when the line status does not.
    const registry =
      line.value.registry ?? (health.status === 'fulfilled' ? health.value?.checks?.registry : undefined);
    replace(
      backlogEl,
      backlogView(line.value, outbox.status === 'fulfilled' ? outbox.value : undefined, ctx),
    );
    if (outbox.status === 'rejected') {
      renderRegistry(registry, undefined);
      registryEl.append(errorView(outbox.reason, 'The outbox cannot be read'));
    } else {
      renderRegistry(registry, outbox.value);
    }
  }

  const soon = throttle(refresh, 500);
  const unsubscribe = ctx.live.subscribe(() => soon());
  // The registry link changes without an event of the line; a slow poll keeps it honest.
  const poll = setInterval(soon, 10_000);
  // The state's age moves on between events.
  const ticker = setInterval(() => {
    for (const el of root.querySelectorAll('[data-test="engraver-state-age"]')) {
      const at = el.getAttribute('data-at');
      if (at) el.textContent = ` read ${ago(at)}`;
    }
    for (const el of root.querySelectorAll('[data-test="outbox-oldest"][data-at]')) {
      el.textContent = `queued ${ago(el.getAttribute('data-at'))}`;
    }
  }, 1000);
  refreshButton.addEventListener('click', () => busy(refreshButton, refresh));
  refresh();
  return () => {
    stopped = true;
    unsubscribe();
    soon.cancel();
    clearInterval(poll);
    clearInterval(ticker);
  };
}
