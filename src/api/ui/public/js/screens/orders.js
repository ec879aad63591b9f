// Orders: the list, and one order's detail with its actions and its firearms, each with its code,
// pin face and case impression. Progress follows the line's events while the screen is open.
import { enc, get, query, throttle } from '../api.js';
import { h, replace } from '../dom.js';
import { FIREARM_STATE_WORDS, groupCode, plural, when } from '../format.js';
import { orderActions } from '../order-actions.js';
import { countFirearms, orderProgress } from '../progress.js';
import {
  busy,
  chip,
  errorSlot,
  facts,
  field,
  firearmHistory,
  itemHeading,
  pinFigures,
  registryStatus,
} from '../ui.js';

const STATES = ['queued', 'running', 'paused', 'faulted', 'engraved', 'complete', 'aborted'];
const PAGE = 50;

export function mount(root, ctx) {
  return ctx.params[0] ? mountDetail(root, ctx, ctx.params[0]) : mountList(root, ctx);
}

// ---- the list ----------------------------------------------------------------------------------

function mountList(root, ctx) {
  const errors = errorSlot();
  const filter = h('input', {
    type: 'search',
    'data-test': 'orders-filter',
    placeholder: 'order id, make, model or dealer licence',
  });
  const stateSel = h(
    'select',
    { 'data-test': 'orders-state' },
    h('option', { value: '' }, 'any state'),
    STATES.map((s) => h('option', { value: s }, s)),
  );
  const body = h('div', { class: 'table-wrap' });
  const older = h('button', { type: 'button', 'data-test': 'orders-older' }, 'Older orders');
  const pager = h('div', { class: 'pager' });
  root.append(
    h(
      'div',
      { class: 'screen-head' },
      h('h1', { tabindex: -1 }, 'Orders'),
      ctx.can('orders.submit')
        ? h('a', { class: 'button', href: '#/receive', 'data-test': 'orders-receive' }, 'Receive firearms')
        : null,
    ),
    errors.el,
    h('div', { class: 'filters' }, field('Find', filter), field('State', stateSel)),
    body,
    pager,
  );

  // The line sends one page of orders at a time, filtered and newest first: `first` is the page
  // the list opens with and live events refresh; `kept` are the older pages asked for since.
  let active = [];
  let first = [];
  let kept = [];
  let next = null;
  let loaded = false;

  function render() {
    // A row of an order the line is working on carries its counts; `active` is only the first of them.
    const counts = new Map(active.map((o) => [o.id, o.counts]));
    const rows = [...first, ...kept];
    const filtered = filter.value.trim() !== '' || stateSel.value !== '';
    // the same button stays put, so it keeps the focus after a click
    if (next === null) replace(pager);
    else if (!pager.contains(older)) replace(pager, older);
    replace(
      body,
      rows.length === 0
        ? h(
            'p',
            { class: 'empty' },
            loaded && !filtered ? 'The line holds no order yet.' : loaded ? 'No order matches.' : '',
          )
        : h(
            'table',
            { class: 'list', 'data-test': 'orders-table' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                [
                  'Order',
                  'Make and model',
                  'Firearms',
                  'State',
                  'Progress',
                  'Destination',
                  'Source',
                  'Created',
                ].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              null,
              rows.map((o) => {
                const c = o.counts ?? counts.get(o.id);
                return h(
                  'tr',
                  { 'data-test': 'order-row', 'data-order': o.id },
                  h(
                    'td',
                    { class: 'serial' },
                    h('a', { href: `#/orders/${enc(o.id)}`, class: 'mono', 'data-test': 'order-link' }, o.id),
                  ),
                  h('td', null, `${o.make} ${o.model}`),
                  h('td', { class: 'num' }, String(o.size)),
                  h('td', null, chip(o.state)),
                  h(
                    'td',
                    { class: 'nowrap', 'data-test': 'order-row-progress' },
                    c
                      ? `${c.engraved} engraved · ${c.verified ?? 0} verified · ${c.accepted ?? 0} accepted`
                      : '',
                  ),
                  h('td', { class: 'mono serial' }, o.destination ?? ''),
                  h('td', null, o.source),
                  h('td', { title: o.createdAt }, when(o.createdAt)),
                );
              }),
            ),
          ),
    );
  }

  const filters = () => ({ state: stateSel.value, q: filter.value.trim() });
  // A newer request (another filter, an event) makes the answer of an older one stale.
  let asked = 0;
  let stopped = false;

  /** The first page again; `keep` keeps the older pages when the new first page still reaches them. */
  async function load(keep) {
    const mine = ++asked;
    try {
      const fresh = await get(`/api/v1/orders${query(filters())}`);
      if (stopped || mine !== asked) return;
      const page = fresh.all ?? [];
      const end = page.at(-1);
      // Kept pages stay only when the new first page still reaches where the old one ended (new
      // orders push it up), so that no order falls between the two.
      const reaches = end && kept.length > 0 && first.length > 0 && !isAfter(first.at(-1), end);
      const rest = keep && fresh.next !== null && reaches ? kept.filter((o) => isAfter(o, end)) : [];
      if (rest.length > 0) {
        kept = rest;
      } else {
        kept = [];
        next = fresh.next ?? null;
      }
      active = fresh.active ?? [];
      first = page;
      loaded = true;
      errors.clear();
      render();
    } catch (err) {
      if (!stopped && mine === asked) errors.show(err, 'The orders cannot be read');
    }
  }

  async function loadOlder() {
    if (next === null) return;
    const mine = asked;
    try {
      const fresh = await get(`/api/v1/orders${query({ ...filters(), before: next })}`);
      if (stopped || mine !== asked) return;
      kept = [...kept, ...(fresh.all ?? [])];
      next = fresh.next ?? null;
      errors.clear();
      render();
    } catch (err) {
      if (!stopped && mine === asked) errors.show(err, 'The older orders cannot be read');
    }
  }

  const reload = () => load(false);
  let typing = null;
  filter.addEventListener('input', () => {
    if (typing !== null) clearTimeout(typing);
    typing = setTimeout(() => {
      typing = null;
      reload();
    }, 300);
  });
  stateSel.addEventListener('change', reload);
  older.addEventListener('click', () => busy(older, loadOlder));
  const soon = throttle(() => load(true), 1000);
  const unsubscribe = ctx.live.subscribe((type) => {
    if (type === 'order' || type === 'firearm') soon();
  });
  reload();
  return () => {
    stopped = true;
    unsubscribe();
    soon.cancel();
    if (typing !== null) clearTimeout(typing);
  };
}

/** Whether order `a` comes after `b` in the line's list: older, or as old with a lesser id. */
function isAfter(a, b) {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);
}

// ---- one order ---------------------------------------------------------------------------------

function qaWord(f) {
  const result = f.qa?.result ?? f.qa?.status;
  if (result === 'pass') return chip('pass', { pass: 'passed' });
  if (result === 'fail') return chip('fail', { fail: 'failed' });
  return f.state === 'engraved' ? chip('pending', { pending: 'awaiting QA' }) : '';
}

function firearmDetail(f, ctx) {
  return h(
    'div',
    { class: 'firearm-detail', 'data-test': 'firearm-detail' },
    f.code ? pinFigures(f.serial) : h('p', { class: 'empty' }, 'No code yet: the firearm waits for its pin.'),
    h(
      'div',
      null,
      facts([
        ['Code', f.code ? h('span', { class: 'mono code' }, groupCode(f.code.text)) : 'none yet'],
        ['State', chip(f.state, FIREARM_STATE_WORDS)],
        f.rework ? ['Rework', 'yes: engraved again'] : null,
        f.engravedAt ? ['Engraved', when(f.engravedAt)] : null,
        f.code || f.voided?.length ? ['Registry', registryStatus(f)] : null,
        f.recipe
          ? [
              'Recipe',
              `${f.recipe.power / 10}% · ${f.recipe.frequency} kHz · ${f.recipe.speed} mm/s · ${plural(f.recipe.passes, 'pass', 'passes')}`,
            ]
          : null,
      ]),
      f.voided?.length
        ? [
            h('h4', null, 'Voided codes'),
            h(
              'ul',
              { class: 'plain' },
              f.voided.map((v) =>
                h(
                  'li',
                  null,
                  h('span', { class: 'mono' }, groupCode(v.text)),
                  ` · ${when(v.voidedAt)} · ${v.reason}`,
                  v.pinScrapped ? ' · pin scrapped' : '',
                ),
              ),
            ),
          ]
        : null,
      h('h4', null, 'History'),
      firearmHistory(f.history),
      h(
        'p',
        { class: 'links' },
        h('a', { href: `#/records/${enc(f.serial)}`, 'data-test': 'firearm-record' }, 'Full record'),
        ' ',
        ctx.can('qa.read') && f.state === 'engraved'
          ? h('a', { href: `#/qa/${enc(f.serial)}`, 'data-test': 'firearm-qa' }, 'Enter QA reads')
          : null,
        ' ',
        h(
          'a',
          {
            href: `/certificates/firearms/${enc(f.serial)}`,
            target: '_blank',
            rel: 'noopener',
            'data-test': 'firearm-certificate',
          },
          'Certificate',
        ),
      ),
    ),
  );
}

function mountDetail(root, ctx, id) {
  const errors = errorSlot();
  const head = h('div');
  const filter = h('input', {
    type: 'search',
    'data-test': 'firearms-filter',
    placeholder: 'serial or code',
  });
  const stateSel = h(
    'select',
    { 'data-test': 'firearms-state' },
    h('option', { value: '' }, 'any state'),
    Object.entries(FIREARM_STATE_WORDS).map(([v, t]) => h('option', { value: v }, t)),
  );
  const table = h('div', { class: 'table-wrap' });
  const pager = h('div', { class: 'pager' });
  root.append(
    ...itemHeading({
      listHref: '#/orders',
      listLabel: 'Orders',
      test: 'back-to-orders',
      kind: 'Order',
      name: id,
    }),
    errors.el,
    head,
    h('h2', null, 'Firearms'),
    h('div', { class: 'filters' }, field('Find', filter), field('State', stateSel)),
    table,
    pager,
  );

  let order = null;
  let firearms = [];
  let page = 0;
  const open = new Set();

  function renderHead() {
    const c = countFirearms(firearms);
    replace(
      head,
      h(
        'div',
        { class: 'order-head' },
        facts(
          [
            ['State', chip(order.state)],
            order.reason ? ['Reason', order.reason] : null,
            ['Make and model', `${order.make} ${order.model}`],
            ['Caliber', order.caliber ?? 'not given'],
            ['Destination dealer licence', order.destination ?? 'not given'],
            ['Target', order.target],
            ['Source', order.source],
            ['Created', when(order.createdAt)],
            order.startedAt ? ['Started', when(order.startedAt)] : null,
            order.finishedAt
              ? [order.state === 'aborted' ? 'Aborted' : 'Engraved', when(order.finishedAt)]
              : null,
            order.completedAt ? ['Complete', when(order.completedAt)] : null,
          ],
          { 'data-test': 'order-facts' },
        ),
        h(
          'div',
          { class: 'order-side' },
          orderProgress(order, c),
          orderActions(order, ctx, { done: load, failed: (err) => errors.show(err) }),
          h(
            'p',
            null,
            h(
              'a',
              {
                class: 'button',
                href: `/certificates/orders/${enc(order.id)}`,
                target: '_blank',
                rel: 'noopener',
                'data-test': 'order-certificate',
              },
              'Shipment certificate',
            ),
          ),
        ),
      ),
    );
  }

  function visible() {
    const text = filter.value.trim().toUpperCase().replace(/-/g, '');
    const wanted = stateSel.value;
    return firearms.filter(
      (f) =>
        (!wanted || f.state === wanted) &&
        (!text || f.serial.replace(/-/g, '').includes(text) || (f.code?.text ?? '').includes(text)),
    );
  }

  function renderTable() {
    const rows = visible();
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    page = Math.min(page, pages - 1);
    const shown = rows.slice(page * PAGE, page * PAGE + PAGE);
    replace(
      table,
      shown.length === 0
        ? h('p', { class: 'empty' }, 'No firearm matches.')
        : h(
            'table',
            { class: 'list', 'data-test': 'firearms-table' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['#', 'Serial', 'State', 'Code', 'QA', 'Voided', ''].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            shown.map((f) => {
              const isOpen = open.has(f.serial);
              const toggle = h(
                'button',
                {
                  type: 'button',
                  class: 'quiet',
                  'aria-expanded': String(isOpen),
                  'data-test': 'firearm-toggle',
                  'data-serial': f.serial,
                },
                isOpen ? 'Hide' : 'Show',
              );
              toggle.addEventListener('click', () => {
                if (open.has(f.serial)) open.delete(f.serial);
                else open.add(f.serial);
                renderTable();
                table
                  .querySelector(`[data-test="firearm-toggle"][data-serial="${CSS.escape(f.serial)}"]`)
                  ?.focus();
              });
              return h(
                'tbody',
                { class: 'firearm' },
                h(
                  'tr',
                  { 'data-test': 'firearm-row', 'data-serial': f.serial, 'data-state': f.state },
                  h('td', { class: 'num' }, String(f.seq + 1)),
                  h('td', { class: 'mono serial' }, f.serial),
                  h('td', null, chip(f.state, FIREARM_STATE_WORDS)),
                  h('td', { class: 'mono code serial' }, f.code ? groupCode(f.code.text) : ''),
                  h('td', null, qaWord(f)),
                  h('td', { class: 'num' }, f.voided?.length ? String(f.voided.length) : ''),
                  h('td', null, toggle),
                ),
                isOpen
                  ? h('tr', { class: 'detail-row' }, h('td', { colspan: 7 }, firearmDetail(f, ctx)))
                  : null,
              );
            }),
          ),
    );
    const prev = h(
      'button',
      { type: 'button', 'data-test': 'firearms-prev', disabled: page === 0 },
      'Previous',
    );
    const next = h(
      'button',
      { type: 'button', 'data-test': 'firearms-next', disabled: page >= pages - 1 },
      'Next',
    );
    prev.addEventListener('click', () => {
      page -= 1;
      renderTable();
    });
    next.addEventListener('click', () => {
      page += 1;
      renderTable();
    });
    replace(
      pager,
      pages > 1
        ? [prev, h('span', null, ` Page ${page + 1} of ${pages} (${rows.length} firearms) `), next]
        : null,
    );
  }

  let stopped = false;
  async function load() {
    try {
      const view = await get(`/api/v1/orders/${enc(id)}`);
      if (stopped) return;
      order = view.order;
      firearms = view.firearms ?? [];
      errors.clear();
      renderHead();
      renderTable();
    } catch (err) {
      if (!stopped) errors.show(err, `Order ${id} cannot be read`);
    }
  }

  // Events carry the changed firearm or order; patching them in keeps a large order cheap to follow.
  const reload = throttle(load, 2000);
  const redraw = throttle(() => {
    renderHead();
    renderTable();
  }, 300);
  const unsubscribe = ctx.live.subscribe((type, data) => {
    if (!order) return;
    if (type === 'firearm' && data?.firearm && data.orderId === id) {
      const i = firearms.findIndex((f) => f.serial === data.firearm.serial);
      if (i >= 0) {
        firearms[i] = data.firearm;
        redraw();
      } else reload();
    } else if (type === 'order' && data?.order) {
      if (data.order.id === id) {
        order = data.order;
        redraw();
      }
    } else if (type === 'order' || type === 'firearm' || type === 'qa') {
      reload();
    }
  });
  filter.addEventListener('input', () => {
    page = 0;
    renderTable();
  });
  stateSel.addEventListener('change', () => {
    page = 0;
    renderTable();
  });
  const refreshed = h('button', { type: 'button', class: 'quiet', 'data-test': 'order-refresh' }, 'Refresh');
  refreshed.addEventListener('click', () => busy(refreshed, load));
  head.before(h('div', { class: 'screen-tools' }, refreshed));
  load();
  return () => {
    stopped = true;
    unsubscribe();
    reload.cancel();
    redraw.cancel();
  };
}
