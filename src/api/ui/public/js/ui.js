// Pieces every screen uses: the error box that shows what the line said, state chips, labelled
// fields, fact lists, a firearm's pins and history, the reason and confirmation dialogs, and short
// notices.
import { enc } from './api.js';
import { append, h, replace } from './dom.js';
import { FIREARM_STATE_WORDS, groupCode, when } from './format.js';

let fieldCount = 0;

/** A fresh id for a label's `for`. */
export function uid(prefix = 'f') {
  fieldCount += 1;
  return `${prefix}-${fieldCount}`;
}

/** The line's error as people need it: what failed, its code, and each field it names. */
export function errorView(err, title) {
  const code = err?.code ?? 'ERROR';
  const message = err?.message ?? String(err);
  const problems = Array.isArray(err?.problems) ? err.problems : [];
  return h(
    'div',
    { class: 'error', role: 'alert', 'data-test': 'error' },
    h(
      'p',
      { class: 'error-title' },
      title ?? 'The line refused this',
      ': ',
      h('span', { 'data-test': 'error-message' }, message),
    ),
    h('p', { class: 'error-code' }, 'Code ', h('code', { 'data-test': 'error-code' }, code)),
    problems.length > 0
      ? h(
          'ul',
          { class: 'problems', 'data-test': 'error-problems' },
          problems.map((p) =>
            h('li', null, p.path ? h('code', null, p.path) : null, p.path ? ': ' : '', p.reason ?? ''),
          ),
        )
      : null,
  );
}

/** An area that shows an error, or nothing; `show(err)` and `clear()`. */
export function errorSlot() {
  const el = h('div', { class: 'error-slot' });
  return {
    el,
    show(err, title) {
      replace(el, errorView(err, title));
    },
    clear() {
      replace(el);
    },
  };
}

/** A state as a chip: the word is always there, colour only helps. */
export function chip(state, words) {
  const text = words?.[state] ?? state ?? 'unknown';
  return h(
    'span',
    { class: `chip state-${String(state).replace(/[^a-z0-9-]/gi, '')}`, 'data-state': state },
    text,
  );
}

export function facts(pairs, attrs = {}) {
  return h(
    'dl',
    { class: 'facts', ...attrs },
    pairs.filter(Boolean).map(([term, value]) => [h('dt', null, term), h('dd', null, value ?? '–')]),
  );
}

/**
 * A labelled control. `input` is an element; the label points at it, and a hint (if any) is
 * tied to it with aria-describedby.
 */
export function field(label, input, hint) {
  if (!input.id) input.id = uid();
  const wrap = h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
  if (hint) {
    const hintEl = hint instanceof Node ? hint : h('p', { class: 'hint' }, hint);
    if (!hintEl.id) hintEl.id = uid('hint');
    input.setAttribute('aria-describedby', hintEl.id);
    wrap.append(hintEl);
  }
  return wrap;
}

/** A check box with its label to its right, as one large target. */
export function checkbox(label, attrs) {
  const input = h('input', { type: 'checkbox', ...attrs });
  return { input, el: h('label', { class: 'check' }, input, h('span', null, label)) };
}

/** Runs an action from a button: the button waits while the line answers. */
export async function busy(button, fn) {
  const was = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = was;
    button.removeAttribute('aria-busy');
  }
}

/** The pin face (mirrored, as engraved) and the case impression of a firearm's current code. */
export function pinFigures(serial) {
  const src = (view) => `/api/v1/firearms/${enc(serial)}/pin.svg?view=${view}`;
  return h(
    'div',
    { class: 'pins' },
    h(
      'figure',
      { class: 'pin' },
      h('img', {
        src: src('pin'),
        alt: `Pin face of ${serial}, mirrored as engraved`,
        width: 200,
        height: 200,
        loading: 'lazy',
        'data-test': 'pin-face',
      }),
      h('figcaption', null, 'Pin face (as engraved, mirrored)'),
    ),
    h(
      'figure',
      { class: 'pin' },
      h('img', {
        src: src('case'),
        alt: `Case impression of ${serial}`,
        width: 200,
        height: 200,
        loading: 'lazy',
        'data-test': 'pin-case',
      }),
      h('figcaption', null, 'Case impression (as it reads)'),
    ),
  );
}

/**
 * The heading of one item's screen: the crumbs back to its list (`test` names that link), and the
 * title naming the item, which takes focus when the screen opens.
 */
export function itemHeading({ listHref, listLabel, test, kind, name }) {
  return [
    h('p', { class: 'crumbs' }, h('a', { href: listHref, 'data-test': test }, listLabel), ' / ', name),
    h('h1', { tabindex: -1 }, `${kind} `, h('span', { class: 'mono' }, name)),
  ];
}

/** A firearm's history, oldest first: when, the state it came to, and the note if any. */
export function firearmHistory(history, attrs = {}) {
  return h(
    'ol',
    { class: 'history', ...attrs },
    (history ?? []).map((e) =>
      h(
        'li',
        null,
        h('time', { datetime: e.at }, when(e.at)),
        ' ',
        FIREARM_STATE_WORDS[e.state] ?? e.state,
        e.note ? ` · ${e.note}` : '',
      ),
    ),
  );
}

// ---- notices ---------------------------------------------------------------------------------

/** A short notice that an action worked; errors stay in the screen's error box instead. */
export function notify(message) {
  const area = document.getElementById('notices');
  if (!area) return;
  const item = h('p', { class: 'notice', 'data-test': 'notice' }, message);
  area.append(item);
  setTimeout(() => item.remove(), 6000);
}

// ---- dialogs -----------------------------------------------------------------------------------

/**
 * A modal dialog with a form. Enter confirms, Escape cancels, focus returns to where it was.
 * `build(form)` adds the fields and returns a function that reads them (or throws a message).
 */
/**
 * @param {{ title: string, message?: string, confirm: string, danger?: boolean, test?: string,
 *   build?: (form: HTMLFormElement) => () => unknown }} options
 */
function modal({ title, message, confirm, danger, build, test }) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    const dialog = h('dialog', {
      class: 'dialog',
      'aria-labelledby': 'dialog-title',
      'data-test': test ?? 'dialog',
    });
    const problem = h('p', { class: 'dialog-problem', role: 'alert' });
    const form = h('form', { method: 'dialog', novalidate: true });
    const readValue = build ? build(form) : () => true;
    const cancel = h('button', { type: 'button', 'data-test': 'dialog-cancel' }, 'Cancel');
    const ok = h(
      'button',
      { type: 'submit', class: danger ? 'danger' : 'primary', 'data-test': 'dialog-confirm' },
      confirm,
    );
    append(
      dialog,
      h('h2', { id: 'dialog-title' }, title),
      message ? h('p', null, message) : null,
      append(form, problem, h('div', { class: 'actions' }, cancel, ok)),
    );
    let result = null;
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      try {
        result = readValue();
      } catch (e) {
        problem.textContent = e.message;
        return;
      }
      dialog.close();
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (previous instanceof HTMLElement) previous.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    (form.querySelector('input, textarea, select') ?? ok).focus();
  });
}

/** Asks why (pause, abort, dismiss): resolves to the reason, or null when cancelled. */
export function askReason({
  title,
  message,
  label = 'Reason',
  required = false,
  confirm = 'Confirm',
  danger = false,
}) {
  return modal({
    title,
    message,
    confirm,
    danger,
    test: 'reason-dialog',
    build(form) {
      const input = h('textarea', { rows: 3, maxlength: 500, 'data-test': 'dialog-reason', required });
      input.addEventListener('keydown', (ev) => {
        // Enter confirms, as in every other field; Shift+Enter keeps a new line.
        if (ev.key === 'Enter' && !ev.shiftKey) {
          ev.preventDefault();
          form.requestSubmit();
        }
      });
      form.append(field(required ? label : `${label} (optional)`, input));
      return () => {
        const reason = input.value.trim();
        if (required && !reason) throw new Error('A reason is needed.');
        return reason;
      };
    },
  });
}

/** Resolves true when confirmed. */
export async function confirmDialog({ title, message, confirm = 'Confirm', danger = false }) {
  return (await modal({ title, message, confirm, danger, test: 'confirm-dialog' })) === true;
}

/**
 * Asks for a new password twice.
 * @param {{ title: string, message?: string }} options
 */
export function askPassword({ title, message }) {
  return modal({
    title,
    message,
    confirm: 'Set password',
    test: 'password-dialog',
    build(form) {
      const one = h('input', {
        type: 'password',
        autocomplete: 'new-password',
        minlength: 12,
        'data-test': 'dialog-password',
      });
      const two = h('input', {
        type: 'password',
        autocomplete: 'new-password',
        'data-test': 'dialog-password-again',
      });
      form.append(field('New password (12 characters or more)', one), field('The same again', two));
      return () => {
        if (one.value.length < 12) throw new Error('The password needs 12 characters or more.');
        if (one.value.length > 256) throw new Error('The password may have at most 256 characters.');
        if (one.value !== two.value) throw new Error('The two passwords differ.');
        return one.value;
      };
    },
  });
}

const REGISTRY_WORDS = {
  none: 'no record yet',
  queued: 'queued for the registry',
  rejected: 'rejected by the registry',
  accepted: 'accepted by the registry',
  dismissed: 'dismissed by an operator',
};

const RECORD_WORDS = { engraved: 'Engraved record', verified: 'Verification record', voided: 'Void record' };

/** One record's standing at the registry, in a line a person reads. */
function recordLine(r) {
  if (r.state === 'queued') return `queued since ${when(r.since)}: waits for the registry's answer`;
  if (r.state === 'rejected')
    return `rejected ${when(r.at)}: ${r.reason}. Retry or dismiss it on the Line screen.`;
  if (r.state === 'dismissed')
    return `dismissed ${when(r.at)}${r.by ? ` by ${r.by}` : ''}: ${r.reason ?? ''}`;
  return `accepted ${when(r.at)}${r.ack === 'duplicate' ? ' (the registry had it already)' : ''}`;
}

/**
 * What the registry made of a firearm's records: the firearm's standing as a chip, then each
 * record (code, event) with when it was queued, accepted or rejected and why.
 */
export function registryStatus(f) {
  const reg = f.registry ?? { state: f.reported ? 'accepted' : 'none', records: [] };
  return h(
    'div',
    { class: 'registry-status', 'data-test': 'registry-status', 'data-state': reg.state },
    chip(reg.state, REGISTRY_WORDS),
    reg.records.length > 0
      ? h(
          'ul',
          { class: 'plain' },
          reg.records.map((r) =>
            h(
              'li',
              { 'data-test': 'registry-record', 'data-state': r.state },
              `${RECORD_WORDS[r.event] ?? r.event} of ${groupCode(r.code)}: ${recordLine(r)}`,
            ),
          ),
        )
      : null,
  );
}
