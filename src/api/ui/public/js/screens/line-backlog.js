// What waits after the engraver, for the Line screen: firearms whose code QA has not passed yet,
// records the registry has not accepted yet with the age of the oldest, and the engraved orders
// not yet complete with their progress. The Line screen draws them again on every live event.
import { enc } from '../api.js';
import { h } from '../dom.js';
import { plural } from '../format.js';
import { orderProgress } from '../progress.js';
import { chip, facts } from '../ui.js';

/** How long ago an ISO time was, in words a person reads at a glance. */
export function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min ago` : `${Math.round(m / 60)} h ago`;
}

/**
 * The card's content: `line` is `GET /api/v1/line` (its `backlog`), `outbox` is
 * `GET /api/v1/outbox` or undefined when it could not be read.
 */
export function backlogView(line, outbox, ctx) {
  const backlog = line.backlog;
  const rejected = outbox?.rejected?.length ?? 0;
  const queued = outbox ? Math.max(0, (outbox.depth ?? 0) - rejected) : undefined;
  const oldest = outbox?.oldestPendingAt ?? null;
  return [
    h('h2', { id: 'h-backlog' }, 'After the engraver'),
    facts([
      [
        'Awaiting QA',
        h(
          'span',
          { class: 'backlog-figure', 'data-test': 'qa-backlog' },
          backlog ? plural(backlog.awaitingQa, 'firearm') : 'not known',
        ),
      ],
      [
        'Queued for the registry',
        h(
          'span',
          { class: 'backlog-figure', 'data-test': 'outbox-queued' },
          queued === undefined ? 'not known' : plural(queued, 'record'),
        ),
      ],
      [
        'Oldest queued',
        oldest
          ? h(
              'span',
              { 'data-test': 'outbox-oldest', 'data-at': oldest, title: oldest },
              `queued ${ago(oldest)}`,
            )
          : h('span', { 'data-test': 'outbox-oldest' }, queued ? 'not known' : 'none waiting'),
      ],
      backlog
        ? [
            'Engraved orders not complete',
            h('span', { 'data-test': 'engraved-total' }, String(backlog.engravedTotal)),
          ]
        : null,
    ]),
    backlog?.awaitingQa && ctx.can('qa.read')
      ? h('p', null, h('a', { href: '#/qa' }, 'Open the QA station'))
      : null,
  ];
}

/**
 * One order as the Line screen lists it: its id (a link to the order), make and model, state,
 * the reason it is paused or faulted, its bar, and whatever `more` the list adds (its actions).
 * @param {string} test the item's `data-test`
 * @param {...(Node | null)} more
 */
export function orderLiveItem(o, test, ...more) {
  return h(
    'li',
    { class: 'order-live', 'data-test': test, 'data-order': o.id },
    h(
      'div',
      { class: 'order-live-head' },
      h('a', { href: `#/orders/${enc(o.id)}`, class: 'order-id' }, o.id),
      ' ',
      h('span', null, `${o.make} ${o.model}`),
      ' ',
      chip(o.state),
    ),
    o.reason ? h('p', { class: 'reason' }, o.reason) : null,
    orderProgress(o, o.counts),
    ...more,
  );
}

/** The engraved orders not yet complete, oldest first, each with its bar; null when there are none. */
export function engravedList(backlog) {
  const orders = backlog?.engravedOrders ?? [];
  if (orders.length === 0) return null;
  const more = (backlog.engravedTotal ?? orders.length) - orders.length;
  return [
    h('h3', null, 'Engraved, waiting for QA and the registry'),
    h(
      'ul',
      { class: 'orders-live' },
      orders.map((o) => orderLiveItem(o, 'engraved-order')),
    ),
    more > 0
      ? h(
          'p',
          { class: 'hint' },
          `${more.toLocaleString()} more engraved orders. `,
          h('a', { href: '#/orders' }, 'See them all in Orders'),
        )
      : null,
  ];
}
