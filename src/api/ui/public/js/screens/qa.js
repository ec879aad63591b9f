// The QA station, for a person at a microscope with a hand on the keyboard. Pick the firearm by
// serial or by scanning its code; type the 10 characters seen on the case (`?` for one that
// cannot be read), optionally the gear ring; Enter records the read. The answer comes back at
// once: what the read decodes to, its grade, and the policy's verdict.
//
// The expected code is never shown before a read is entered, since knowing it biases the reader;
// for the same reason the decoded text of the last case is hidden again as soon as the next
// case is being typed.
import { ApiError, enc, get, post, query } from '../api.js';
import { h, replace } from '../dom.js';
import { ALPHABET, asCode, FIREARM_STATE_WORDS, groupCode, plural, sourceOf, when } from '../format.js';
import { busy, checkbox, chip, errorSlot, errorView, facts, field } from '../ui.js';
import { imageReader } from './qa-image.js';

const SERIAL = /^[A-Z0-9-]{1,32}$/;
const TEXT_LENGTH = 10;
const GEAR_LENGTH = 88;
const KEY = {
  brand: 'stampline.qa.brand',
  brands: 'stampline.qa.brands',
  lacquered: 'stampline.qa.lacquered',
  station: 'stampline.qa.station',
};
const VERDICT_WORDS = { pending: 'pending', pass: 'pass', fail: 'fail' };

/**
 * What the reader typed, kept as typed (reads are stored as entered; the decoder applies the
 * spec's normalisations): upper case, spaces and dashes dropped. Letters the code never uses
 * stay too, since codes.md counts them as illegible rather than refusing them; `outside` lists
 * them so the reader is told. `O`, `I` and `L` are not outside: the decoder reads them as 0, 1, 1.
 */
export function cleanText(value) {
  let text = '';
  const outside = [];
  for (const ch of String(value).toUpperCase()) {
    if (ch === ' ' || ch === '-' || /\s/.test(ch)) continue;
    text += ch;
    if (ch !== '?' && !ALPHABET.includes(ch) && !'OIL'.includes(ch)) outside.push(ch);
  }
  return { text: text.slice(0, TEXT_LENGTH), outside, tooLong: text.length > TEXT_LENGTH };
}

export function cleanGear(value) {
  let gear = '';
  const refused = [];
  for (const ch of String(value)) {
    if (ch === '0' || ch === '1' || ch === '?') gear += ch;
    else if (!/\s/.test(ch)) refused.push(ch);
  }
  return { gear: gear.slice(0, GEAR_LENGTH), refused, tooLong: gear.length > GEAR_LENGTH };
}

/** Keeps an input to what `clean` accepts, with the caret where the person was typing. */
function filtered(input, clean, pick, onRefused) {
  input.addEventListener('input', () => {
    const caret = input.selectionStart ?? input.value.length;
    const all = clean(input.value);
    const before = pick(clean(input.value.slice(0, caret)));
    const value = pick(all);
    if (value !== input.value) {
      input.value = value;
      const at = Math.min(before.length, value.length);
      input.setSelectionRange(at, at);
    }
    onRefused(all);
  });
}

function remembered(key, fallback = '') {
  try {
    return localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback;
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // a browser that refuses storage just does not remember
  }
}

/** What the policy still needs from this firearm, for the heading of the read form. */
export function needsOf(policy, verdict) {
  if (policy?.kind === 'ca-4075') {
    const rounds = policy.rounds ?? 100;
    const examined = [1, 2, rounds - 1, rounds];
    const missing = verdict?.missingRounds ?? examined;
    return {
      kind: 'ca-4075',
      rounds,
      examined,
      missing,
      next: missing[0],
      text: `Rounds ${examined.join(', ')} of ${rounds}; still to read: ${missing.length > 0 ? missing.join(', ') : 'none'}`,
    };
  }
  const needed = verdict?.needed ?? policy?.cases ?? 3;
  const done = verdict?.casings ?? 0;
  const next = Math.min(done + 1, needed);
  const rule = policy?.kind === 'pooled' ? 'decoded together' : 'each on its own';
  return {
    kind: policy?.kind ?? 'every-case',
    needed,
    done,
    next,
    text: `Case ${next} of ${needed} (${rule}${policy?.minGrade ? `, ${policy.minGrade} or better` : ''})`,
  };
}

/**
 * What the policy needs of a read, said before it is recorded, in a QA person's words: the
 * grade rules need the gear ring (a read of the text alone grades D at best and never identifies
 * the firearm on its own); ca-4075 asks whether the registry could pick the firearm out.
 */
export function policyNeedsText(policy) {
  if (!policy) return null;
  if (policy.kind === 'ca-4075') {
    const codes = (policy.registry?.issuedCodes ?? 10_000_000).toLocaleString('en-GB');
    const grade = policy.minGrade ? ` and reach grade ${policy.minGrade}` : '';
    return `Each examined case must let the registry pick this firearm out among its ${codes} codes${grade}. All 10 characters read cleanly do that; where some cannot be read, read the gear ring too.${policy.minGrade && policy.minGrade !== 'D' ? ` Grade ${policy.minGrade} needs the gear ring: a text-only read grades D at best.` : ''}`;
  }
  const min = policy.minGrade ?? 'C';
  if (min === 'D')
    return `${policy.kind === 'pooled' ? 'The cases together' : 'Each case'} must identify the firearm: read the gear ring. A text-only read grades D at best and cannot tell the code from others.`;
  return `Grade ${min} needs the gear ring: a text-only read grades D at best, and ${policy.kind === 'pooled' ? 'the cases together must reach' : 'each case must reach'} ${min} or better.`;
}

const AGREEMENT_WORDS = { same: 'agrees', differs: 'differs', illegible: 'not read' };

/** A read beside the firearm's code: each character marked, without the code's own characters. */
export function comparisonView(compared) {
  const parts = [];
  if (compared.chars) {
    parts.push(
      h(
        'p',
        { class: 'compare-text', 'data-test': 'qa-compare-text' },
        'Read: ',
        [...(compared.text ?? '')].map((c, i) =>
          h(
            'span',
            {
              class: `mono compare-${compared.chars[i]}`,
              title: AGREEMENT_WORDS[compared.chars[i]] ?? '',
              'data-agreement': compared.chars[i],
            },
            c,
          ),
        ),
        ` — ${compared.charsSame} of 10 characters agree with the firearm's code, ${compared.charsDiffering} differ, ${10 - compared.charsSame - compared.charsDiffering} not read.`,
      ),
    );
  } else parts.push(h('p', null, 'No characters were read.'));
  if (compared.teethRead !== null && compared.teethRead !== undefined)
    parts.push(
      h(
        'p',
        { 'data-test': 'qa-compare-gear' },
        `Gear ring: ${compared.teethDiffering} of ${compared.teethRead} teeth read differ from the firearm's ring.`,
      ),
    );
  else parts.push(h('p', null, 'The gear ring was not read.'));
  return parts;
}

/** What the read just recorded shows, in words: not in the decoder's terms. */
function identifiesWords(d, verdict, policy) {
  if (!d.ok) return `nothing: it cannot be taken for a code${d.error ? ` (${d.error})` : ''}`;
  if (policy?.kind === 'ca-4075') {
    const codes = (policy.registry?.issuedCodes ?? 10_000_000).toLocaleString('en-GB');
    return verdict.status === 'fail'
      ? `not enough: the registry could not pick this firearm out among its ${codes} codes`
      : `this firearm, among the ${codes} codes at the registry`;
  }
  if (d.matches) return "this firearm's code";
  if (!d.confident)
    return 'not for certain: too little of the code was read to tell it from others (read the gear ring)';
  return 'a different code: not this firearm';
}

export function mount(root, ctx) {
  const errors = errorSlot();
  let policy = null;
  /** the record from GET /api/v1/qa/firearms/:serial */
  let current = null;
  /** the decoded text element of the last result, hidden once the next case is typed */
  let lastDecoded = null;

  // ---- the firearm ----------------------------------------------------------------------------
  const pickInput = h('input', {
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'characters',
    maxlength: 64,
    class: 'scan',
    'data-test': 'qa-firearm',
  });
  const pickButton = h('button', { type: 'submit', 'data-test': 'qa-pick' }, 'Pick');
  // A serial or code the line does not know is said beside the field it was typed in.
  const pickError = h('div', {
    class: 'field-error',
    'data-test': 'qa-pick-error',
    'aria-live': 'assertive',
  });
  pickError.id = 'qa-pick-error';
  const pickForm = h(
    'form',
    { class: 'pick', novalidate: true, 'data-test': 'qa-pick-form' },
    field('Firearm: serial, or scan its code (Alt+F)', pickInput),
    pickError,
    h('div', { class: 'actions' }, pickButton),
  );
  function showPickError(err) {
    replace(pickError, errorView(err, 'No firearm picked'));
    pickInput.setAttribute('aria-invalid', 'true');
    pickInput.setAttribute(
      'aria-describedby',
      [pickInput.getAttribute('aria-describedby'), pickError.id].filter(Boolean).join(' '),
    );
  }
  pickInput.addEventListener('input', () => {
    if (pickError.firstChild) clearPickError();
  });
  function clearPickError() {
    replace(pickError);
    pickInput.removeAttribute('aria-invalid');
    const rest = (pickInput.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .filter((id) => id && id !== pickError.id);
    if (rest.length > 0) pickInput.setAttribute('aria-describedby', rest.join(' '));
    else pickInput.removeAttribute('aria-describedby');
  }
  const panel = h('section', {
    class: 'card',
    'aria-labelledby': 'h-qa-firearm',
    'data-test': 'qa-firearm-panel',
  });

  // ---- the read -------------------------------------------------------------------------------
  const needsEl = h('h2', { id: 'h-qa-read', class: 'needs', 'data-test': 'qa-needs' }, 'Case read');
  const textInput = h('input', {
    class: 'read-text',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'characters',
    inputmode: 'text',
    maxlength: 40,
    'data-test': 'qa-text',
  });
  const textCount = h('span', { class: 'counter', 'data-test': 'qa-text-count' }, `0 of ${TEXT_LENGTH}`);
  const textHint = h('p', { class: 'hint', 'aria-live': 'polite', 'data-test': 'qa-text-hint' });
  const gearInput = h('textarea', {
    class: 'read-gear',
    rows: 2,
    autocomplete: 'off',
    spellcheck: 'false',
    'data-test': 'qa-gear',
  });
  const gearCount = h('span', { class: 'counter', 'data-test': 'qa-gear-count' }, `0 of ${GEAR_LENGTH}`);
  const gearHint = h('p', { class: 'hint', 'aria-live': 'polite' });
  const policyNeedsEl = h('p', { class: 'advice', 'data-test': 'qa-policy-needs' });
  const roundInput = h('input', {
    type: 'number',
    min: 1,
    step: 1,
    inputmode: 'numeric',
    'data-test': 'qa-round',
  });
  const roundField = field('Round of the test fire (Alt+R)', roundInput);
  const brandInput = h('input', {
    autocomplete: 'off',
    maxlength: 64,
    list: 'qa-brands',
    value: remembered(KEY.brand),
    'data-test': 'qa-ammo',
  });
  const brands = h('datalist', { id: 'qa-brands' });
  const lacquer = checkbox('Lacquered (Alt+L)', {
    checked: remembered(KEY.lacquered) === 'true',
    'data-test': 'qa-lacquered',
  });
  const stationInput = h('input', {
    autocomplete: 'off',
    maxlength: 64,
    value: remembered(KEY.station),
    'data-test': 'qa-station',
  });
  const image = imageReader({
    onRead(read) {
      textInput.value = read.text;
      gearInput.value = read.gear;
      textInput.dispatchEvent(new Event('input'));
      gearInput.dispatchEvent(new Event('input'));
    },
    onError(err) {
      errors.show(err, 'The image was not read');
    },
  });
  const submit = h(
    'button',
    { type: 'submit', class: 'primary big', 'data-test': 'qa-submit' },
    'Record the read (Enter)',
  );
  const result = h('section', { class: 'result', 'aria-live': 'polite', 'data-test': 'qa-result' });
  const readForm = h(
    'form',
    { class: 'read card', novalidate: true, 'data-test': 'qa-read-form', 'aria-labelledby': 'h-qa-read' },
    needsEl,
    image.el,
    field(
      h('span', null, 'Text seen on the case (Alt+T) ', textCount),
      textInput,
      '? for a character you cannot read; O counts as 0, I and L as 1; Escape clears.',
    ),
    textHint,
    field(
      h('span', null, 'Gear ring (Alt+G) ', gearCount),
      gearInput,
      '1 tooth, 0 gap, ? unreadable, from any tooth.',
    ),
    gearHint,
    policyNeedsEl,
    roundField,
    h('div', { class: 'form-row' }, field('Ammunition (Alt+B)', brandInput), brands, lacquer.el),
    errors.el,
    h(
      'div',
      { class: 'form-row' },
      field('Station or instrument (optional)', stationInput),
      h('div', { class: 'actions' }, submit),
    ),
  );

  root.append(
    h('h1', { tabindex: -1 }, 'QA station'),
    h(
      'div',
      { class: 'qa' },
      // The answer sits under the firearm, level with the form, so it is in view after Enter.
      h('div', { class: 'qa-left' }, pickForm, result, panel),
      h('div', { class: 'qa-right' }, readForm),
    ),
    h(
      'details',
      { class: 'keys', 'data-test': 'qa-keys' },
      h('summary', null, 'Keys'),
      h(
        'ul',
        { class: 'plain' },
        [
          ['Enter', 'record the read (in any field of the read)'],
          ['Escape', 'clear the field you are in'],
          ['Alt+F', 'firearm'],
          ['Alt+T', 'text read'],
          ['Alt+G', 'gear read'],
          ['Alt+R', 'round'],
          ['Alt+B', 'ammunition brand'],
          ['Alt+L', 'lacquered on or off'],
        ].map(([k, what]) => h('li', null, h('kbd', null, k), ` ${what}`)),
      ),
    ),
  );

  function renderBrands() {
    const list = JSON.parse(remembered(KEY.brands, '[]'));
    replace(
      brands,
      (Array.isArray(list) ? list : []).map((b) => h('option', { value: b })),
    );
  }

  function setReadEnabled(enabled) {
    for (const el of readForm.querySelectorAll('input, textarea, button')) el.disabled = !enabled;
  }

  // ---- input filters --------------------------------------------------------------------------
  filtered(
    textInput,
    cleanText,
    (r) => r.text,
    (r) => {
      textCount.textContent = `${r.text.length} of ${TEXT_LENGTH}`;
      if (r.outside.length > 0)
        textHint.textContent = `${[...new Set(r.outside)].join(' ')}: not a code character, so it counts as illegible, like ?.`;
      else if (r.tooLong) textHint.textContent = 'A code has 10 characters.';
      else textHint.textContent = '';
      if (lastDecoded && r.text.length > 0) {
        lastDecoded.textContent = 'hidden while the next case is read';
        lastDecoded.classList.add('masked');
        lastDecoded = null;
      }
    },
  );
  filtered(
    gearInput,
    cleanGear,
    (r) => r.gear,
    (r) => {
      gearCount.textContent = `${r.gear.length} of ${GEAR_LENGTH}`;
      gearHint.textContent = r.refused.length > 0 ? 'Only 1, 0 and ? belong in a gear read.' : '';
    },
  );

  // ---- the firearm panel ----------------------------------------------------------------------
  /** ca-4075 judges a case as the registry would: a case identifies unless the verdict failed on it. */
  function identifiesCell(r, verdict, needs) {
    if (needs.kind !== 'ca-4075') return r.decode?.matches ? 'yes' : 'no';
    return verdict?.status === 'fail' && verdict.reason?.includes(`(read ${r.id})`) ? 'no' : 'yes';
  }

  function currentReads(rec) {
    const index = rec.firearm?.code?.index;
    return (rec.reads ?? []).filter((r) => index !== undefined && r.code?.index === index);
  }

  function renderPanel() {
    renderPolicyNeeds();
    if (!current) {
      replace(
        panel,
        h('h2', { id: 'h-qa-firearm' }, 'Firearm'),
        h('p', { class: 'empty' }, 'Pick a firearm to start.'),
      );
      needsEl.textContent = 'Case read';
      roundField.hidden = policy?.kind !== 'ca-4075';
      setReadEnabled(false);
      return;
    }
    const { firearm, order, verdict } = current;
    const reads = currentReads(current);
    const engraved = firearm.state === 'engraved' && firearm.code;
    const decided = verdict?.status === 'pass' || verdict?.status === 'fail';
    const needs = needsOf(policy, verdict);
    let blocker = null;
    if (!engraved) {
      blocker = firearm.voided?.length
        ? `Sent to rework: it waits for a new pin (${FIREARM_STATE_WORDS[firearm.state] ?? firearm.state}). Read its cases once the new pin is engraved and test-fired.`
        : `No engraved pin to verify yet (${FIREARM_STATE_WORDS[firearm.state] ?? firearm.state}).`;
    } else if (verdict?.status === 'pass') {
      blocker = 'Verification passed: nothing more to read for this code.';
    }
    replace(
      panel,
      h(
        'h2',
        { id: 'h-qa-firearm' },
        'Firearm ',
        h('span', { class: 'mono', 'data-test': 'qa-serial' }, firearm.serial),
      ),
      facts([
        ['Make and model', `${order.make} ${order.model}`],
        order.caliber ? ['Caliber', order.caliber] : null,
        ['Order', h('a', { href: `#/orders/${enc(order.id)}` }, order.id)],
        ['State', chip(firearm.state, FIREARM_STATE_WORDS)],
        [
          'Verdict',
          h(
            'span',
            { 'data-test': 'qa-verdict-now' },
            verdict ? chip(verdict.status, VERDICT_WORDS) : engraved ? 'no read yet' : 'none: no pin now',
          ),
        ],
        verdict?.reason ? ['Why', verdict.reason] : null,
        ['Policy', policy ? policy.kind : 'not known'],
        firearm.voided?.length ? ['Earlier codes', `${firearm.voided.length} voided`] : null,
      ]),
      blocker
        ? h(
            'p',
            {
              class: `advice ${verdict?.status === 'pass' ? 'ok' : 'warn'}`,
              role: 'status',
              'data-test': 'qa-blocked',
            },
            blocker,
          )
        : null,
      verdict?.status === 'pass'
        ? h(
            'p',
            null,
            h(
              'a',
              {
                href: `/certificates/firearms/${enc(firearm.serial)}`,
                target: '_blank',
                rel: 'noopener',
                'data-test': 'qa-certificate',
              },
              'Certificate',
            ),
          )
        : null,
      reads.length > 0
        ? [
            h('h3', null, `Reads of this pin (${reads.length})`),
            h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'list compact', 'data-test': 'qa-reads' },
                h(
                  'thead',
                  null,
                  h(
                    'tr',
                    null,
                    [
                      '#',
                      needs.kind === 'ca-4075' ? 'Round' : null,
                      'Grade',
                      'Identifies',
                      'Ammunition',
                      'Source',
                      'By',
                    ]
                      .filter(Boolean)
                      .map((t) => h('th', { scope: 'col' }, t)),
                  ),
                ),
                h(
                  'tbody',
                  null,
                  reads.map((r, i) =>
                    h(
                      'tr',
                      null,
                      h('td', { class: 'num' }, String(i + 1)),
                      needs.kind === 'ca-4075' ? h('td', { class: 'num' }, r.round ?? '') : null,
                      h(
                        'td',
                        null,
                        h('span', { class: `grade grade-${r.decode?.grade}` }, r.decode?.grade ?? ''),
                      ),
                      h('td', null, identifiesCell(r, verdict, needs)),
                      h('td', null, `${r.ammo?.brand ?? ''}${r.ammo?.lacquered ? ', lacquered' : ''}`),
                      h('td', { 'data-test': 'qa-read-source' }, sourceOf(r, false)),
                      h('td', null, r.by ?? ''),
                    ),
                  ),
                ),
              ),
            ),
          ]
        : null,
    );
    needsEl.textContent = engraved && !decided ? needs.text : 'Case read';
    const isCa = needs.kind === 'ca-4075';
    roundField.hidden = !isCa;
    if (isCa) {
      roundInput.max = String(needs.rounds);
      if (!roundInput.value || !needs.missing.includes(Number(roundInput.value)))
        roundInput.value = needs.next ?? '';
    }
    setReadEnabled(Boolean(engraved) && verdict?.status !== 'pass');
  }

  async function lookup(raw) {
    const value = raw.trim().toUpperCase();
    if (!value) return null;
    if (SERIAL.test(value)) {
      try {
        return await get(`/api/v1/qa/firearms/${enc(value)}`);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
    }
    const code = asCode(value);
    if (code) {
      const { results } = await get(`/api/v1/records${query({ code })}`);
      const hit = (results ?? []).find((r) => r.firearm?.code?.text === code) ?? results?.[0];
      if (hit) return get(`/api/v1/qa/firearms/${enc(hit.firearm.serial)}`);
    }
    throw new ApiError(404, {
      code: 'QA_UNKNOWN_FIREARM',
      message: `no firearm on this line has the serial or code ${value}`,
    });
  }

  async function pick(raw, { focusRead = true } = {}) {
    errors.clear();
    clearPickError();
    try {
      const rec = await busy(pickButton, () => lookup(raw));
      if (!rec) return;
      current = rec;
      history.replaceState(null, '', `#/qa/${enc(rec.firearm.serial)}`);
      replace(result);
      lastDecoded = null;
      clearRead();
      renderPanel();
      if (focusRead && !textInput.disabled) textInput.focus();
      else pickInput.select();
    } catch (err) {
      current = null;
      renderPanel();
      showPickError(err);
      pickInput.select();
    }
  }

  async function refreshCurrent() {
    if (!current) return;
    try {
      current = await get(`/api/v1/qa/firearms/${enc(current.firearm.serial)}`);
      renderPanel();
    } catch (err) {
      errors.show(err, 'The firearm cannot be read again');
    }
  }

  function clearRead() {
    image.reset();
    textInput.value = '';
    gearInput.value = '';
    textCount.textContent = `0 of ${TEXT_LENGTH}`;
    gearCount.textContent = `0 of ${GEAR_LENGTH}`;
    textHint.textContent = '';
    gearHint.textContent = '';
  }

  // ---- the answer -----------------------------------------------------------------------------
  function renderResult(res) {
    const { read, verdict, outcome } = res;
    const d = read.decode ?? {};
    const decoded = h(
      'span',
      { class: d.ok ? 'mono code big-code' : 'big-code', 'data-test': 'qa-decoded' },
      d.ok ? groupCode(d.text) : 'not decoded',
    );
    const identifies = identifiesWords(d, verdict, policy);
    // Numbered as the firearm's list of reads numbers them (the reads of its pin, from 1), not by
    // the line's own read id, which counts every read of every firearm.
    const earlier =
      current?.firearm?.serial === read.serial
        ? currentReads(current).filter((r) => r.id !== read.id).length
        : 0;
    replace(
      result,
      h(
        'h2',
        { title: `read id ${read.id}` },
        'Read ',
        h('span', { 'data-test': 'qa-read-number' }, String(earlier + 1)),
        ` of ${read.serial ?? 'this firearm'} recorded`,
        read.round ? `, round ${read.round}` : '',
      ),
      h(
        'div',
        { class: 'answer' },
        h(
          'div',
          { class: 'answer-cell' },
          h('p', { class: 'label' }, 'Decodes to'),
          decoded,
          h('p', { 'data-test': 'qa-identifies' }, identifies),
        ),
        h(
          'div',
          { class: 'answer-cell' },
          h('p', { class: 'label' }, 'Grade'),
          h('span', { class: `grade big grade-${d.grade}`, 'data-test': 'qa-grade' }, d.grade ?? 'F'),
          h(
            'p',
            { class: 'hint' },
            `UEC ${typeof d.uec === 'number' ? d.uec.toFixed(2) : '–'} · ${plural(d.errors ?? 0, 'error')} corrected · ${plural(d.erasures ?? 0, 'erasure')} filled`,
          ),
        ),
        h(
          'div',
          { class: 'answer-cell' },
          h('p', { class: 'label' }, 'Verdict'),
          h(
            'span',
            { class: `verdict big verdict-${verdict.status}`, 'data-test': 'qa-verdict' },
            VERDICT_WORDS[verdict.status] ?? verdict.status,
          ),
          h(
            'p',
            { class: 'hint' },
            `${verdict.casings} of ${verdict.needed} cases · ${verdict.policy} · grade ${verdict.grade}`,
          ),
        ),
      ),
      h('p', { class: 'reason', 'data-test': 'qa-reason' }, verdict.reason),
      outcome === 'rework'
        ? h(
            'p',
            { class: 'advice bad', role: 'alert', 'data-test': 'qa-rework' },
            h('strong', null, 'Sent to rework: a new pin will be engraved. '),
            `Code ${groupCode(read.code?.text)} is void; put the pin with the scrap.`,
          )
        : null,
      outcome === 'verified'
        ? h(
            'p',
            { class: 'advice ok', role: 'status', 'data-test': 'qa-verified' },
            h('strong', null, 'Verified. '),
            h(
              'a',
              { href: `/certificates/firearms/${enc(read.serial)}`, target: '_blank', rel: 'noopener' },
              'Certificate',
            ),
          )
        : null,
      h('p', { class: 'hint' }, `${when(read.at)} · ${read.by}`),
    );
    lastDecoded = outcome === 'pending' ? decoded : null;
    // On a small screen the answer may be below the fold: bring it into view, focus stays put.
    result.scrollIntoView({ block: 'nearest' });
  }

  const PROBLEM_FIELDS = {
    text: textInput,
    gear: gearInput,
    round: roundInput,
    'ammo.brand': brandInput,
    ammo: brandInput,
  };

  readForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!current) return;
    errors.clear();
    const text = textInput.value;
    const gear = gearInput.value;
    const brand = brandInput.value.trim();
    const local = [];
    if (!text && !gear)
      local.push({ path: 'text', reason: 'type the text seen on the case, or the gear ring' });
    if (text && text.length !== TEXT_LENGTH)
      local.push({
        path: 'text',
        reason: `${text.length} of 10 characters: type ? for each one you cannot read`,
      });
    if (gear && gear.length !== GEAR_LENGTH)
      local.push({
        path: 'gear',
        reason: `${gear.length} of 88 teeth: type ? for each one you cannot read, or leave the ring empty`,
      });
    if (!brand) local.push({ path: 'ammo.brand', reason: 'name the ammunition brand' });
    const needs = needsOf(policy, current.verdict);
    const round = needs.kind === 'ca-4075' ? Number(roundInput.value) : undefined;
    if (round !== undefined && (!Number.isInteger(round) || round < 1 || round > needs.rounds)) {
      local.push({ path: 'round', reason: `a round from 1 to ${needs.rounds}` });
    }
    if (local.length > 0) {
      errors.show(
        { code: 'QA_INVALID_READ', message: 'the read is not complete', problems: local },
        'Not recorded',
      );
      PROBLEM_FIELDS[local[0].path]?.focus();
      return;
    }
    const body = {
      serial: current.firearm.serial,
      ...(text ? { text } : {}),
      ...(gear ? { gear } : {}),
      ammo: { brand, lacquered: lacquer.input.checked },
      ...(round !== undefined ? { round } : {}),
      ...(stationInput.value.trim() ? { station: stationInput.value.trim() } : {}),
    };
    const imageRead = image.imageRead();
    await record(imageRead ? { ...body, imageRead } : body, true);
  });

  /** Sends the read; `ask`: a read that would fail the firearm comes back for confirmation. */
  async function record(body, ask) {
    try {
      const res = await busy(submit, () =>
        post('/api/v1/qa/reads', ask ? { ...body, askBeforeVoid: true } : body),
      );
      const brand = body.ammo.brand;
      remember(KEY.brand, brand);
      remember(KEY.lacquered, String(lacquer.input.checked));
      remember(KEY.station, stationInput.value.trim());
      const list = JSON.parse(remembered(KEY.brands, '[]'));
      remember(
        KEY.brands,
        JSON.stringify([brand, ...(Array.isArray(list) ? list : []).filter((b) => b !== brand)].slice(0, 10)),
      );
      renderBrands();
      renderResult(res);
      clearRead();
      roundInput.value = '';
      await refreshCurrent();
      if (res.outcome === 'pending') textInput.focus();
      else {
        pickInput.value = '';
        pickInput.focus();
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === 'QA_VOID_UNCONFIRMED') {
        askBeforeVoid(err.context ?? {}, body);
        return;
      }
      errors.show(err, 'Not recorded');
      const first = err?.problems?.[0]?.path;
      (PROBLEM_FIELDS[first] ?? textInput).focus();
    }
  }

  // ---- what the policy needs, and a failing read confirmed before the code is voided -----------
  function renderPolicyNeeds() {
    const words = policyNeedsText(policy);
    policyNeedsEl.textContent = words ?? '';
    policyNeedsEl.hidden = !words;
  }

  /**
   * A read that would fail the firearm is not stored yet: show what it shows beside the code
   * (which characters agree, not the code itself: the person may look at the case again), and let
   * them look again, read another case where the policy allows it, or record it and void the code.
   */
  function askBeforeVoid(context, body) {
    const compared = context.compared ?? {};
    const again = h(
      'button',
      { type: 'button', class: 'primary', 'data-test': 'qa-read-again' },
      'Look at the case again',
    );
    const another = context.anotherCase
      ? h('button', { type: 'button', 'data-test': 'qa-read-another' }, 'Read another case instead')
      : null;
    const confirm = h(
      'button',
      { type: 'button', class: 'danger', 'data-test': 'qa-confirm-fail' },
      'Record it: fail the firearm and void its code',
    );
    replace(
      result,
      h('h2', null, 'Not recorded yet: this read would fail the firearm'),
      h(
        'div',
        { class: 'advice bad', role: 'alert', 'data-test': 'qa-confirm' },
        h('p', { 'data-test': 'qa-confirm-reason' }, context.verdict?.reason ?? 'the policy would fail it'),
        comparisonView(compared),
        h(
          'p',
          null,
          'Recording it sends the firearm to rework: its code is voided and its pin goes to the scrap.',
          context.anotherCase
            ? ' The policy counts the cases recorded, so another case of the test fire may be read instead.'
            : '',
        ),
        h('div', { class: 'actions' }, again, another, confirm),
      ),
    );
    again.addEventListener('click', () => {
      replace(result);
      textInput.focus();
    });
    another?.addEventListener('click', () => {
      replace(result);
      clearRead();
      textInput.focus();
    });
    confirm.addEventListener('click', () => record(body, false));
    again.focus();
    result.scrollIntoView({ block: 'nearest' });
  }

  // Enter records from any field of the read, the check box and the gear ring included.
  readForm.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && (ev.target === gearInput || ev.target === lacquer.input)) {
      ev.preventDefault();
      readForm.requestSubmit();
    }
    if (ev.key === 'Escape' && (ev.target === textInput || ev.target === gearInput)) {
      ev.target.value = '';
      ev.target.dispatchEvent(new Event('input'));
    }
  });

  pickForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    pick(pickInput.value);
  });

  function onKey(ev) {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const targets = { f: pickInput, t: textInput, g: gearInput, r: roundInput, b: brandInput };
    const key = ev.key.toLowerCase();
    if (key === 'l') {
      ev.preventDefault();
      if (!lacquer.input.disabled) lacquer.input.checked = !lacquer.input.checked;
      return;
    }
    const target = targets[key];
    if (target && !target.disabled && !target.closest('[hidden]')) {
      ev.preventDefault();
      target.focus();
      target.select?.();
    }
  }
  document.addEventListener('keydown', onKey);

  // A firearm changed by someone else (another station, the line re-engraving it) is re-read.
  const unsubscribe = ctx.live.subscribe((type, data) => {
    if (!current || (type !== 'qa' && type !== 'firearm')) return;
    const serial = data?.serial ?? data?.firearm?.serial ?? data?.read?.serial;
    if (serial === current.firearm.serial) refreshCurrent();
  });

  renderBrands();
  renderPanel();
  ctx.focused = true;
  get('/api/v1/qa/policy')
    .then((p) => {
      policy = p?.policy ?? p;
      renderPanel();
    })
    .catch((err) => errors.show(err, 'The QA policy cannot be read'))
    .finally(() => {
      if (ctx.params[0]) {
        pickInput.value = ctx.params[0];
        pick(ctx.params[0]);
      } else pickInput.focus();
    });

  return () => {
    document.removeEventListener('keydown', onKey);
    unsubscribe();
  };
}
