// Receiving pistols (the third-party engraver's flow): what they are and which dealer they go
// to, then each serial scanned (a scanner types it and Enter). A bad or repeated serial is flagged
// the moment it is scanned, a serial the line already holds is looked up at once, and the order
// is created with POST /api/v1/orders. The scan list survives a reload of the page.
import { ApiError, enc, get, post, query } from '../api.js';
import { append, h, replace } from '../dom.js';
import { plural } from '../format.js';
import { busy, checkbox, errorSlot, field, notify } from '../ui.js';

const SERIAL = /^[A-Z0-9-]{1,32}$/;
const ORDER_ID = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;
const DRAFT = 'stampline.receive.draft';
const FINISHED = new Set(['engraved', 'complete', 'aborted']);

function newOrderId() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `RCV-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function loadDraft() {
  try {
    return JSON.parse(sessionStorage.getItem(DRAFT) ?? 'null');
  } catch {
    return null;
  }
}

export function mount(root, ctx) {
  const draft = loadDraft();
  const input = (name, attrs = {}) =>
    h('input', {
      name,
      autocomplete: 'off',
      'data-test': `receive-${name}`,
      value: draft?.fields?.[name] ?? '',
      ...attrs,
    });
  const orderId = input('id', { maxlength: 64, required: true });
  if (!orderId.value) orderId.value = newOrderId();
  const make = input('make', { maxlength: 64, required: true });
  const model = input('model', { maxlength: 64, required: true });
  const caliber = input('caliber', { maxlength: 64 });
  const destination = input('destination', { maxlength: 64, required: true, spellcheck: 'false' });
  const scan = h('input', {
    name: 'serial',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'characters',
    maxlength: 64,
    class: 'scan',
    'data-test': 'receive-serial',
  });
  const flag = h('p', { class: 'scan-flag', role: 'alert', 'data-test': 'receive-flag' });
  const list = h('div', { class: 'table-wrap' });
  const countEl = h('p', { class: 'count', 'data-test': 'receive-count', 'aria-live': 'polite' });
  const create = h(
    'button',
    { type: 'submit', class: 'primary big', 'data-test': 'receive-create' },
    'Create the order',
  );
  const clearAll = h(
    'button',
    { type: 'button', class: 'quiet', 'data-test': 'receive-clear' },
    'Clear the list',
  );
  const errors = errorSlot();
  const done = h('div', { 'data-test': 'receive-done' });

  /** @type {Array<{ serial: string, rework: boolean, check: 'pending'|'free'|'held'|'busy'|'unknown', holder?: string }>} */
  let items = (draft?.items ?? []).map((i) => ({
    serial: i.serial,
    rework: i.rework === true,
    check: 'pending',
  }));
  let stopped = false;

  function save() {
    const fields = {
      id: orderId.value,
      make: make.value,
      model: model.value,
      caliber: caliber.value,
      destination: destination.value,
    };
    sessionStorage.setItem(
      DRAFT,
      JSON.stringify({ fields, items: items.map(({ serial, rework }) => ({ serial, rework })) }),
    );
  }

  function showFlag(kind, message) {
    flag.dataset.kind = kind;
    flag.textContent = message;
  }

  /** Asks the line whether it already holds the serial: a held one needs to be marked as rework. */
  async function check(item) {
    try {
      const { results } = await get(`/api/v1/records${query({ serial: item.serial })}`);
      const hits = (results ?? []).filter((r) => r.firearm?.serial === item.serial);
      const unfinished = hits.find((r) => !FINISHED.has(r.order?.state));
      const hit = unfinished ?? hits[hits.length - 1];
      if (!hit) item.check = 'free';
      else {
        item.holder = hit.order?.id ?? hit.firearm?.orderId;
        item.check = unfinished ? 'busy' : 'held';
      }
    } catch (err) {
      item.check = err instanceof ApiError && err.status === 404 ? 'free' : 'unknown';
    }
    if (!stopped) renderList();
  }

  function problemOf(item) {
    if (item.check === 'busy') return `held by unfinished order ${item.holder}: remove it`;
    if (item.check === 'held' && !item.rework)
      return `already engraved in order ${item.holder}: tick rework to engrave it again, or remove it`;
    return '';
  }

  function renderList() {
    countEl.textContent =
      items.length === 0 ? 'No serial scanned yet.' : `${plural(items.length, 'serial')} scanned.`;
    replace(
      list,
      items.length === 0
        ? null
        : h(
            'table',
            { class: 'list scans', 'data-test': 'receive-list' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['#', 'Serial', 'Check', 'Rework', ''].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              null,
              items.map((item, i) => {
                const problem = problemOf(item);
                const remove = h(
                  'button',
                  {
                    type: 'button',
                    class: 'quiet',
                    'data-test': 'receive-remove',
                    'data-serial': item.serial,
                    'aria-label': `Remove ${item.serial}`,
                  },
                  'Remove',
                );
                remove.addEventListener('click', () => {
                  items.splice(items.indexOf(item), 1);
                  save();
                  renderList();
                  scan.focus();
                });
                const rework =
                  item.check === 'held'
                    ? checkbox('engrave again', {
                        checked: item.rework,
                        'data-test': 'receive-rework',
                        'data-serial': item.serial,
                      })
                    : null;
                rework?.input.addEventListener('change', () => {
                  item.rework = rework.input.checked;
                  save();
                  renderList();
                });
                const status =
                  item.check === 'pending'
                    ? 'checking…'
                    : item.check === 'free'
                      ? 'new to the line'
                      : item.check === 'unknown'
                        ? 'could not check'
                        : problem || `engraved before (order ${item.holder}): rework`;
                return h(
                  'tr',
                  { 'data-test': 'receive-row', 'data-serial': item.serial, class: problem ? 'flagged' : '' },
                  h('td', { class: 'num' }, String(i + 1)),
                  h('td', { class: 'mono serial' }, item.serial),
                  h('td', { class: problem ? 'bad-text' : '' }, status),
                  h('td', null, rework?.el ?? ''),
                  h('td', null, remove),
                );
              }),
            ),
          ),
    );
  }

  function addScan() {
    const raw = scan.value;
    scan.value = '';
    const serial = raw.trim().toUpperCase();
    if (!serial) return;
    if (!SERIAL.test(serial)) {
      showFlag('bad', `Not added: "${raw.trim()}" is not a serial (1 to 32 characters of A-Z, 0-9 and -).`);
      return;
    }
    const at = items.findIndex((i) => i.serial === serial);
    if (at >= 0) {
      showFlag('bad', `Not added: ${serial} is already on the list (row ${at + 1}).`);
      return;
    }
    /** @type {(typeof items)[number]} */
    const item = { serial, rework: false, check: 'pending' };
    items.push(item);
    showFlag('ok', `Added ${serial}.`);
    save();
    renderList();
    check(item);
  }

  scan.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      // Scanners end with Enter: take the serial, stay in the field for the next one.
      ev.preventDefault();
      addScan();
    }
  });
  for (const el of [orderId, make, model, caliber, destination]) el.addEventListener('input', save);

  clearAll.addEventListener('click', () => {
    items = [];
    save();
    renderList();
    showFlag('ok', 'The list is empty.');
    scan.focus();
  });

  function problems() {
    const out = [];
    if (!ORDER_ID.test(orderId.value.trim()))
      out.push({ path: 'id', reason: 'the order id must be 1 to 64 printable characters' });
    if (!make.value.trim()) out.push({ path: 'make', reason: 'the make is needed' });
    if (!model.value.trim()) out.push({ path: 'model', reason: 'the model is needed' });
    if (!destination.value.trim())
      out.push({ path: 'destination', reason: "the destination dealer's licence is needed" });
    if (items.length === 0) out.push({ path: 'firearms', reason: 'scan at least one serial' });
    for (const item of items) {
      const problem = problemOf(item);
      if (problem) out.push({ path: item.serial, reason: problem });
    }
    return out;
  }

  const form = h(
    'form',
    { class: 'receive', novalidate: true, 'data-test': 'receive-form' },
    h(
      'fieldset',
      null,
      h('legend', null, 'What arrived, and where it goes'),
      h(
        'div',
        { class: 'form-grid' },
        field('Make', make),
        field('Model', model),
        field('Caliber (optional)', caliber),
        field("Destination dealer's licence", destination),
        field(
          'Order id',
          orderId,
          'Made up from the date; change it to the delivery note number if you have one.',
        ),
      ),
    ),
    h(
      'fieldset',
      null,
      h('legend', null, 'Serials'),
      field('Scan or type a serial, then Enter', scan),
      flag,
      countEl,
      list,
      h('div', { class: 'actions' }, clearAll),
    ),
    errors.el,
    h('div', { class: 'actions' }, create),
    done,
  );

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errors.clear();
    replace(done);
    const found = problems();
    if (found.length > 0) {
      errors.show(
        { code: 'INVALID_INPUT', message: `${plural(found.length, 'thing')} to fix first`, problems: found },
        'Not yet',
      );
      return;
    }
    const body = {
      id: orderId.value.trim(),
      make: make.value.trim(),
      model: model.value.trim(),
      ...(caliber.value.trim() ? { caliber: caliber.value.trim() } : {}),
      target: 'firing-pin',
      destination: destination.value.trim(),
      firearms: items.map((i) => (i.rework ? { serial: i.serial, rework: true } : { serial: i.serial })),
    };
    try {
      const header = await busy(create, () => post('/api/v1/orders', body));
      notify(`Order ${header.id} created with ${plural(header.size, 'firearm')}`);
      items = [];
      orderId.value = newOrderId();
      save();
      renderList();
      showFlag('ok', '');
      replace(
        done,
        h(
          'div',
          { class: 'advice ok', role: 'status' },
          h(
            'p',
            { class: 'advice-title' },
            `Order ${header.id} created: ${plural(header.size, 'firearm')} of ${header.make} ${header.model}.`,
          ),
          h(
            'p',
            null,
            h(
              'a',
              { href: `#/orders/${enc(header.id)}`, 'data-test': 'receive-open-order' },
              'Open the order',
            ),
            ctx.can('orders.control') ? ' to start it.' : '.',
          ),
        ),
      );
    } catch (err) {
      errors.show(err, 'The order was not created');
    }
  });

  // dom.js's append skips the lead a manufacturer's line has none of (the DOM's would write "null")
  append(
    root,
    h('h1', { tabindex: -1 }, 'Receive firearms'),
    ctx.site.issuerKind === 'engraver'
      ? h(
          'p',
          { class: 'lead' },
          'Pistols received from their maker, to be fitted with microstamping pins and shipped to a dealer.',
        )
      : null,
    form,
  );
  renderList();
  for (const item of items) check(item);
  (make.value ? scan : make).focus();
  ctx.focused = true;
  return () => {
    stopped = true;
  };
}
