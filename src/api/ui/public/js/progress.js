// An order's progress as one bar of three layers: engraved (the pin is marked), verified (QA
// passed its code) and accepted (the registry has every record of it: the firearm is complete).
// A full bar of the lightest layer is an engraved order still waiting for QA and the registry.
import { h } from './dom.js';
import { plural } from './format.js';

/**
 * Whether a firearm, as the API shows it, is complete: engraved, its current code passed QA and
 * every record of it accepted, the verified record of that code among them (the line's rule).
 */
export function firearmComplete(f) {
  if (f.state !== 'engraved' || !f.code || f.qa?.result !== 'pass') return false;
  const registry = f.registry;
  if (registry?.state !== 'accepted') return false;
  const records = registry.records ?? [];
  return (
    records.length === 0 ||
    records.some((r) => r.event === 'verified' && r.code === f.code.text && r.state === 'accepted')
  );
}

/** The counts of a list of firearms, as the API counts an order. */
export function countFirearms(firearms) {
  const c = { queued: 0, inProgress: 0, engraved: 0, verified: 0, accepted: 0, cancelled: 0, voidedCodes: 0 };
  for (const f of firearms) {
    if (f.state === 'queued') c.queued++;
    else if (f.state === 'engraved') {
      c.engraved++;
      if (f.qa?.result === 'pass') {
        c.verified++;
        if (firearmComplete(f)) c.accepted++;
      }
    } else if (f.state === 'cancelled') c.cancelled++;
    else c.inProgress++;
    c.voidedCodes += f.voided?.length ?? 0;
  }
  return c;
}

/** A layer of the bar; its width is set through the style object, which the page policy allows. */
function layer(name, n, of) {
  const el = h('span', { class: `bar-${name}` });
  el.style.width = `${Math.min(100, (100 * n) / Math.max(1, of)).toFixed(2)}%`;
  return el;
}

/** The bar and the counts in words, for an order of `size` firearms. */
export function orderProgress(order, counts) {
  const c = counts ?? {};
  const size = order.size ?? 0;
  const engraved = c.engraved ?? 0;
  const verified = c.verified ?? 0;
  const accepted = c.accepted ?? 0;
  const label = `Order ${order.id}: ${engraved} of ${size} engraved, ${verified} verified by QA, ${accepted} accepted by the registry`;
  return h(
    'div',
    { class: 'progress' },
    h(
      'div',
      {
        class: 'stack-bar',
        role: 'img',
        'aria-label': label,
        title: label,
        'data-test': 'order-progress',
        'data-engraved': String(engraved),
        'data-verified': String(verified),
        'data-accepted': String(accepted),
        'data-size': String(size),
      },
      layer('engraved', engraved + (c.cancelled ?? 0), size),
      layer('verified', verified, size),
      layer('accepted', accepted, size),
    ),
    h(
      'p',
      { class: 'counts', 'data-test': 'order-counts' },
      `${engraved} of ${size} engraved`,
      ` · ${verified} verified`,
      ` · ${accepted} accepted`,
      c.inProgress ? ` · ${c.inProgress} in progress` : '',
      c.queued ? ` · ${c.queued} queued` : '',
      c.cancelled ? ` · ${c.cancelled} cancelled` : '',
      c.voidedCodes ? ` · ${plural(c.voidedCodes, 'code')} voided` : '',
    ),
  );
}
