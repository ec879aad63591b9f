// Start, pause, resume and abort an order: the buttons an order's state allows, for those whose
// role allows them, with a reason asked for a pause (optional) and an abort (required). Start and
// resume act at once: a pause undoes them, whereas an abort cannot be undone.
import { enc, post } from './api.js';
import { h } from './dom.js';
import { askReason, busy, notify } from './ui.js';

const ACTIONS = [
  { action: 'start', label: 'Start', from: ['queued'], kind: 'primary' },
  { action: 'pause', label: 'Pause', from: ['running', 'faulted'] },
  { action: 'resume', label: 'Resume', from: ['paused', 'faulted'], kind: 'primary' },
  { action: 'abort', label: 'Abort…', from: ['queued', 'running', 'paused', 'faulted'], kind: 'danger' },
];

async function ask(action, order) {
  if (action === 'pause') {
    return askReason({
      title: `Pause order ${order.id}`,
      message: 'The pin being marked is finished first; no new job starts until the order is resumed.',
      confirm: 'Pause',
    });
  }
  if (action === 'abort') {
    return askReason({
      title: `Abort order ${order.id}`,
      message:
        'Firearms not yet marked are cancelled and their codes retired for good; a pin being marked is finished and recorded. This cannot be undone.',
      required: true,
      confirm: 'Abort the order',
      danger: true,
    });
  }
  return '';
}

/**
 * @param {object} order the order header
 * @param {{ can: (p: string) => boolean }} ctx
 * @param {{ done: (header: object) => void, failed: (err: unknown) => void }} on
 */
export function orderActions(order, ctx, on) {
  if (!ctx.can('orders.control')) return null;
  const buttons = ACTIONS.filter((a) => a.from.includes(order.state)).map((a) => {
    const button = h(
      'button',
      { type: 'button', class: a.kind ?? '', 'data-test': `order-${a.action}`, 'data-order': order.id },
      a.label,
    );
    button.addEventListener('click', async () => {
      const reason = await ask(a.action, order);
      if (reason === null) return;
      try {
        const header = await busy(button, () =>
          post(`/api/v1/orders/${enc(order.id)}/${a.action}`, reason ? { reason } : {}),
        );
        notify(`Order ${order.id}: ${header?.state ?? a.action}`);
        on.done(header);
      } catch (err) {
        on.failed(err);
      }
    });
    return button;
  });
  return buttons.length > 0 ? h('div', { class: 'actions' }, buttons) : null;
}
