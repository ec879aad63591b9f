// Identify a case, on the Records screen: what one or more cases fired from one gun show, weighed
// against every code this line issued (voided ones too), and the firearm or the candidates.
import { enc, post } from '../api.js';
import { h, replace } from '../dom.js';
import { FIREARM_STATE_WORDS, groupCode, plural, when } from '../format.js';
import { busy, chip, errorSlot, facts, field } from '../ui.js';

const GEAR_TEETH = 88;

function table(headers, rows, attrs = {}) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'list', ...attrs },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          headers.map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h('tbody', null, rows),
    ),
  );
}

/**
 * One case a line: the characters seen (`?` for one that cannot be read), and after a `/` the
 * gear ring's 88 teeth; a line of 0, 1 and ? alone is a ring without text. Blank lines are skipped.
 */
export function parseCaseLines(value) {
  const reads = [];
  const problems = [];
  String(value)
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (!line) return;
      const slash = line.indexOf('/');
      let text = slash < 0 ? line : line.slice(0, slash).trim();
      let gear = slash < 0 ? '' : line.slice(slash + 1).replace(/\s/g, '');
      if (slash < 0 && /^[01?\s]+$/.test(line) && line.replace(/\s/g, '').length > 10) {
        gear = line.replace(/\s/g, '');
        text = '';
      }
      const symbols = text.replace(/[\s-]/g, '');
      if (symbols.length > 10)
        problems.push(
          `line ${i + 1}: ${symbols.length} characters; a code has 10 (? for one you cannot read)`,
        );
      if (gear && (gear.length !== GEAR_TEETH || !/^[01?]+$/.test(gear)))
        problems.push(
          `line ${i + 1}: the ring after / must be ${GEAR_TEETH} of 0, 1 and ?, not ${gear.length}`,
        );
      reads.push({ ...(symbols ? { text: symbols } : {}), ...(gear ? { gear } : {}) });
    });
  if (reads.length === 0) problems.push('type what one or more cases show, one case a line');
  return { reads, problems };
}

const OUTCOME_WORDS = {
  identified: 'Identified',
  candidates: 'Not identified: several codes fit',
  none: 'Not identified',
};

function identifiedFirearm(f) {
  return h(
    'div',
    { class: 'identified', 'data-test': 'identify-firearm' },
    facts([
      [
        'Serial',
        h(
          'a',
          { href: `#/records/${enc(f.serial)}`, class: 'mono', 'data-test': 'identify-serial' },
          f.serial,
        ),
      ],
      ['Make and model', `${f.make} ${f.model}${f.caliber ? `, ${f.caliber}` : ''}`],
      ['Order', h('a', { href: `#/orders/${enc(f.order)}`, class: 'mono' }, f.order)],
      f.destination ? ['Destination', f.destination] : null,
      ['State now', chip(f.state, FIREARM_STATE_WORDS)],
      f.engravedAt ? ['Engraved', when(f.engravedAt)] : null,
      [
        'Code',
        h(
          'span',
          { 'data-test': 'identify-code' },
          h('span', { class: 'mono code' }, groupCode(f.code.text)),
          f.code.status === 'voided' ? ' (voided)' : ' (its current code)',
        ),
      ],
    ]),
    f.code.status === 'voided' && f.voided
      ? h(
          'p',
          { class: 'advice warn', 'data-test': 'identify-voided' },
          h('strong', null, 'A voided code. '),
          `It was voided ${when(f.voided.at)} (${f.voided.reason})${f.voided.pinScrapped ? '; its pin went to the scrap' : ''}. A case fired with that pin is still evidence of this firearm.`,
        )
      : null,
  );
}

function identifyAnswer(a) {
  const d = a.decode ?? {};
  const figures = d.ok
    ? `Decodes to ${groupCode(d.text)}, grade ${d.grade} (${plural(d.errors ?? 0, 'error')} corrected, ${plural(d.erasures ?? 0, 'erasure')} filled)${typeof d.miscorrectionRisk === 'number' ? `; chance another issued code fits as well: ${d.miscorrectionRisk.toExponential(1)}` : ''}.`
    : `The reads do not decode${d.warning ? `: ${d.warning}` : ''}.`;
  let lead;
  if (a.outcome === 'identified') lead = 'The reads single out one code this line issued.';
  else if (a.outcome === 'candidates')
    lead = `${plural(a.candidates.length, 'code')} this line issued fit the reads about equally: read more of the case, its gear ring, or another case from the same gun.`;
  else
    lead = `No code this line issued fits the reads. The case may come from another line or maker, or too little of it was read.`;
  return [
    h(
      'h3',
      { 'data-test': 'identify-outcome', 'data-outcome': a.outcome },
      OUTCOME_WORDS[a.outcome] ?? a.outcome,
    ),
    h('p', null, lead),
    a.firearm ? identifiedFirearm(a.firearm) : null,
    a.outcome !== 'identified' && a.candidates.length > 0
      ? table(
          ['Code', 'Fit against the best', 'Firearm', 'Code status'],
          a.candidates.map((c) =>
            h(
              'tr',
              { 'data-test': 'identify-candidate' },
              h('td', { class: 'mono code' }, groupCode(c.text)),
              h(
                'td',
                { class: 'num' },
                c.weightRatio >= 0.01 ? c.weightRatio.toFixed(2) : c.weightRatio.toExponential(1),
              ),
              h(
                'td',
                null,
                c.firearms.length
                  ? c.firearms.map((f) =>
                      h('a', { href: `#/records/${enc(f.serial)}`, class: 'mono' }, `${f.serial} `),
                    )
                  : 'none found',
              ),
              h('td', null, c.firearms.map((f) => f.code.status).join(', ')),
            ),
          ),
          { 'data-test': 'identify-candidates' },
        )
      : null,
    h(
      'p',
      { class: 'hint', 'data-test': 'identify-figures' },
      `${figures} Weighed against ${a.issuedCodes.toLocaleString('en-GB')} codes issued by this line, voided ones included.`,
    ),
  ];
}

export function identifyPanel() {
  const errors = errorSlot();
  const input = h('textarea', {
    rows: 4,
    autocomplete: 'off',
    spellcheck: 'false',
    class: 'read-gear',
    'data-test': 'identify-reads',
  });
  const submit = h(
    'button',
    { type: 'submit', class: 'primary', 'data-test': 'identify-submit' },
    'Identify',
  );
  const answer = h('div', { 'aria-live': 'polite', 'data-test': 'identify-answer' });
  const form = h(
    'form',
    { novalidate: true, 'data-test': 'identify-form' },
    field(
      'What the cases show, one case a line',
      input,
      'The 10 characters in order, ? for one you cannot read; after a / the gear ring, 88 of 1 (tooth), 0 (gap) and ? from any tooth. Cases of one gun are weighed together.',
    ),
    errors.el,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errors.clear();
    const { reads, problems } = parseCaseLines(input.value);
    if (problems.length > 0) {
      errors.show(
        {
          code: 'IDENTIFY_INVALID_READS',
          message: 'the reads are not complete',
          problems: problems.map((reason) => ({ path: 'reads', reason })),
        },
        'Not identified',
      );
      input.focus();
      return;
    }
    try {
      const res = await busy(submit, () => post('/api/v1/identify', { reads }));
      replace(answer, identifyAnswer(res));
    } catch (err) {
      replace(answer);
      errors.show(err, 'Not identified');
    }
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'h-identify', 'data-test': 'identify-panel' },
    h('h2', { id: 'h-identify' }, 'Identify a case'),
    h(
      'p',
      { class: 'hint' },
      'Which firearm of this line fired a case? The reads are weighed against every code the line issued, voided ones too.',
    ),
    form,
    answer,
  );
}
