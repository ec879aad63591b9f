/**
 * The print-ready certificate pages: one for a firearm (its code, the pin face, the QA verdict,
 * who certifies it and for which dealer) and one for a shipment (an order's firearms to one
 * dealer). Pure functions from records to HTML; every value from a record is escaped by the
 * `html` template, and only the pin SVG that the code library drew is inserted as markup.
 *
 * A page is also rendered for a firearm that has not passed (or has no pin yet), because people
 * look it up, but it then says in its title and in a banner that it is not a certificate.
 */
import { formatText, type Grade, renderPinSvg } from '../../codes/index.js';
import type { OrderHeader } from '../../line/model.js';
import type { FirearmRecord, VerdictStatus } from '../../qa/types.js';
import { type Html, html, raw } from './html.js';

export interface Certifier {
  /** the registry-assigned issuer number */
  number: number;
  kind: 'manufacturer' | 'engraver';
  licence: string;
}

export type Paper = 'a4' | 'letter';
export const PAPERS: readonly Paper[] = ['a4', 'letter'];

export interface PageContext {
  issuer: Certifier;
  lineId: string;
  paper: Paper;
  /** when the page is issued */
  now: Date;
}

/**
 * The firearm's standing at the state registry, for the page: accepted only when the registry
 * has accepted every record of it, with the time of the last answer.
 */
function registryLine(f: FirearmRecord['firearm']): string {
  const reg = f.registry;
  if (!reg || reg.state === 'none') return f.reported ? 'accepted' : 'not reported yet';
  const times = reg.records.map((r) => r.at ?? r.since).filter((t): t is string => t !== undefined);
  const last = times.sort().at(-1);
  const words = {
    queued: 'queued, not yet accepted, since',
    rejected: 'rejected, an operator must act; last answer',
    accepted: 'accepted',
    dismissed: 'dismissed by an operator',
  }[reg.state];
  return last ? `${words} ${formatWhen(last)}` : words;
}

/** What a firearm amounts to on a certificate. */
export type Standing = 'passed' | 'failed' | 'awaiting-qa' | 'awaiting-engraving' | 'cancelled';

const STANDING_WORDS: Record<Standing, string> = {
  passed: 'passed',
  failed: 'failed',
  'awaiting-qa': 'awaiting QA',
  'awaiting-engraving': 'awaiting engraving',
  cancelled: 'cancelled',
};

const KIND_WORDS: Record<Certifier['kind'], string> = {
  manufacturer: 'Manufacturer',
  engraver: 'Licensed engraver (third-party installer)',
};

export function standingOf(r: FirearmRecord): Standing {
  const f = r.firearm;
  if (f.state === 'cancelled') return 'cancelled';
  if (f.state !== 'engraved' || !f.code) return 'awaiting-engraving';
  const status: VerdictStatus | undefined = r.verdict?.status ?? f.qa?.result;
  if (status === 'pass') return 'passed';
  if (status === 'fail') return 'failed';
  return 'awaiting-qa';
}

/** UTC, to the minute, in a form no reader mistakes for another day. */
export function formatWhen(iso: string | Date | undefined): string {
  if (iso === undefined) return '';
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function groupedCode(text: string | undefined): string {
  if (!text) return '';
  try {
    return formatText(text);
  } catch {
    return text;
  }
}

/** When the current code's verification was decided: QA's own stamp, else its last read. */
function verifiedAt(r: FirearmRecord): string | undefined {
  if (r.firearm.qa?.at) return r.firearm.qa.at;
  const code = r.firearm.code;
  if (!code) return undefined;
  const reads = r.reads.filter((x) => x.code.index === code.index);
  return reads.length > 0 ? reads[reads.length - 1]!.at : undefined;
}

function policyOf(r: FirearmRecord): string | undefined {
  return r.verdict?.policy ?? r.firearm.qa?.policy;
}

function gradeOf(r: FirearmRecord): Grade | undefined {
  return r.verdict?.grade ?? r.firearm.qa?.grade;
}

function pinFigure(code: { text: string; gear: string }, mirror: boolean, caption: string): Html {
  let svg: string;
  try {
    svg = renderPinSvg(code, { mirror, size: 200 });
  } catch {
    return html``;
  }
  return html`<figure class="pin">${raw(svg)}<figcaption>${caption}</figcaption></figure>`;
}

/** The start of every page here, up to its body: the sheet's style and what `extra` adds. */
function documentHead(title: string, extra: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/ui/css/certificate.css">
${extra}
</head>`;
}

function page(ctx: PageContext, title: string, backHref: string, body: Html): string {
  const paperLink = (p: Paper, label: string) =>
    p === ctx.paper
      ? html`<span class="current" aria-current="true">${label}</span>`
      : html`<a href="?paper=${p}" data-test="cert-paper-${p}">${label}</a>`;
  return html`${documentHead(
    title,
    html`<link rel="stylesheet" href="/ui/css/paper-${ctx.paper}.css">
<script type="module" src="/ui/js/certificate.js"></script>`,
  )}
<body>
<nav class="toolbar no-print" aria-label="Certificate tools">
<button type="button" id="print" data-test="cert-print">Print</button>
<span class="paper">Paper: ${paperLink('a4', 'A4')} ${paperLink('letter', 'Letter')}</span>
<a href="${backHref}" data-test="cert-back">Back to the line</a>
</nav>
<main class="sheet">
${body}
</main>
</body>
</html>
`.value;
}

function certifierBlock(ctx: PageContext): Html {
  return html`<dl class="facts certifier">
<dt>Certified by</dt><dd>${KIND_WORDS[ctx.issuer.kind]}</dd>
<dt>Licence</dt><dd class="mono" data-test="cert-licence">${ctx.issuer.licence}</dd>
<dt>Issuer number</dt><dd class="mono">${ctx.issuer.number}</dd>
<dt>Line</dt><dd class="mono">${ctx.lineId}</dd>
<dt>Issued</dt><dd>${formatWhen(ctx.now)}</dd>
</dl>`;
}

export function firearmCertificate(r: FirearmRecord, ctx: PageContext): string {
  const f = r.firearm;
  const o = r.order;
  const standing = standingOf(r);
  const certified = standing === 'passed';
  const title = certified
    ? `Microstamp certificate ${f.serial}`
    : `Verification status ${f.serial} (not a certificate)`;
  const code = f.code;
  const verdict = r.verdict;
  const grade = gradeOf(r);
  const casings = verdict ? `${verdict.casings} of ${verdict.needed}` : f.qa?.casings;
  const voided = f.voided.filter((v) => v.text);
  const body = html`<header class="head">
<p class="kicker">${certified ? 'Certificate of microstamp verification' : 'Verification status'}</p>
<h1>${o.make} ${o.model}, serial <span class="mono">${f.serial}</span></h1>
</header>
${
  certified
    ? ''
    : html`<p class="banner" role="status" data-test="cert-not-certified">This firearm has not passed verification (${STANDING_WORDS[standing]}). This page is not a certificate.</p>`
}
<section class="grid">
<dl class="facts firearm">
<dt>Make</dt><dd data-test="cert-make">${o.make}</dd>
<dt>Model</dt><dd data-test="cert-model">${o.model}</dd>
<dt>Caliber</dt><dd>${o.caliber ?? 'not given'}</dd>
<dt>Serial</dt><dd class="mono" data-test="cert-serial">${f.serial}</dd>
<dt>Code</dt><dd class="mono code" data-test="cert-code">${code ? groupedCode(code.text) : 'none yet'}</dd>
<dt>Order</dt><dd class="mono">${o.id}</dd>
<dt>Destination dealer licence</dt><dd class="mono" data-test="cert-destination">${o.destination ?? 'not given'}</dd>
<dt>Engraved</dt><dd>${f.engravedAt ? formatWhen(f.engravedAt) : 'not yet'}</dd>
<dt>State registry</dt><dd data-test="cert-registry">${registryLine(f)}</dd>
</dl>
<div class="pins">
${code ? pinFigure(code, true, 'Pin face, as engraved (mirrored)') : ''}
${code ? pinFigure(code, false, 'Case impression, as it reads') : ''}
</div>
</section>
<section>
<h2>Verification</h2>
<dl class="facts qa">
<dt>Verdict</dt><dd class="verdict verdict-${standing}" data-test="cert-verdict">${STANDING_WORDS[standing]}</dd>
<dt>Policy</dt><dd data-test="cert-policy">${policyOf(r) ?? 'not yet applied'}</dd>
<dt>Grade</dt><dd data-test="cert-grade">${grade ?? 'none'}</dd>
<dt>Cases examined</dt><dd>${casings ?? 0}</dd>
<dt>Decided</dt><dd>${certified || standing === 'failed' ? formatWhen(verifiedAt(r)) : 'not yet'}</dd>
${verdict?.reason ? html`<dt>Reason</dt><dd>${verdict.reason}</dd>` : ''}
</dl>
</section>
${
  voided.length > 0
    ? html`<section>
<h2>Earlier codes, voided</h2>
<table class="list">
<thead><tr><th scope="col">Code</th><th scope="col">Voided</th><th scope="col">Reason</th><th scope="col">Pin</th></tr></thead>
<tbody>${voided.map(
        (v) =>
          html`<tr><td class="mono">${groupedCode(v.text)}</td><td>${formatWhen(v.voidedAt)}</td><td>${v.reason}</td><td>${v.pinScrapped ? 'scrapped' : 'not marked'}</td></tr>`,
      )}</tbody>
</table>
</section>`
    : ''
}
<section>
<h2>Certifier</h2>
${certifierBlock(ctx)}
${certified ? html`<p class="signature">Signature <span class="line"></span> Date <span class="line short"></span></p>` : ''}
</section>`;
  return page(ctx, title, `/#/records/${encodeURIComponent(f.serial)}`, body);
}

export interface OrderTotals {
  firearms: number;
  passed: number;
  failed: number;
  awaitingQa: number;
  awaitingEngraving: number;
  cancelled: number;
}

export function orderTotals(firearms: FirearmRecord[]): OrderTotals {
  const t: OrderTotals = {
    firearms: firearms.length,
    passed: 0,
    failed: 0,
    awaitingQa: 0,
    awaitingEngraving: 0,
    cancelled: 0,
  };
  for (const r of firearms) {
    const s = standingOf(r);
    if (s === 'passed') t.passed++;
    else if (s === 'failed') t.failed++;
    else if (s === 'awaiting-qa') t.awaitingQa++;
    else if (s === 'awaiting-engraving') t.awaitingEngraving++;
    else t.cancelled++;
  }
  return t;
}

export function orderCertificate(
  data: { order: OrderHeader; firearms: FirearmRecord[] },
  ctx: PageContext,
): string {
  const o = data.order;
  const t = orderTotals(data.firearms);
  const shipping = t.firearms - t.cancelled;
  const complete = shipping > 0 && t.passed === shipping;
  const title = complete ? `Shipment certificate ${o.id}` : `Shipment status ${o.id} (not a certificate)`;
  const rows = data.firearms.map((r, i) => {
    const s = standingOf(r);
    return html`<tr class="standing-${s}"><td class="num">${i + 1}</td><td class="mono">${r.firearm.serial}</td><td class="mono">${groupedCode(r.firearm.code?.text)}</td><td>${STANDING_WORDS[s]}</td><td>${s === 'passed' || s === 'failed' ? (gradeOf(r) ?? '') : ''}</td><td>${s === 'passed' ? formatWhen(verifiedAt(r)) : ''}</td></tr>`;
  });
  const body = html`<header class="head">
<p class="kicker">${complete ? 'Shipment certificate: microstamped firearms' : 'Shipment status'}</p>
<h1>Order <span class="mono">${o.id}</span>: ${o.make} ${o.model}</h1>
</header>
${
  complete
    ? ''
    : html`<p class="banner" role="status" data-test="cert-not-certified">${
        shipping === 0
          ? 'Every firearm of this order was cancelled. This page is not a certificate.'
          : `${shipping - t.passed} of ${shipping} firearm(s) have not passed verification. This page is not a certificate.`
      }</p>`
}
${o.destination ? '' : html`<p class="banner" role="status">The order names no destination dealer licence.</p>`}
<section class="grid">
<dl class="facts shipment">
<dt>Destination dealer licence</dt><dd class="mono" data-test="cert-destination">${o.destination ?? 'not given'}</dd>
<dt>Make</dt><dd>${o.make}</dd>
<dt>Model</dt><dd>${o.model}</dd>
<dt>Caliber</dt><dd>${o.caliber ?? 'not given'}</dd>
<dt>Order state</dt><dd>${o.state}</dd>
</dl>
<dl class="facts totals" data-test="cert-totals">
<dt>Firearms in the order</dt><dd>${t.firearms}</dd>
<dt>Passed verification</dt><dd>${t.passed}</dd>
${t.awaitingQa ? html`<dt>Awaiting QA</dt><dd>${t.awaitingQa}</dd>` : ''}
${t.awaitingEngraving ? html`<dt>Awaiting engraving (incl. rework)</dt><dd>${t.awaitingEngraving}</dd>` : ''}
${t.failed ? html`<dt>Failed</dt><dd>${t.failed}</dd>` : ''}
${t.cancelled ? html`<dt>Cancelled, not shipped</dt><dd>${t.cancelled}</dd>` : ''}
</dl>
</section>
<section>
<h2>Firearms</h2>
<table class="list" data-test="cert-firearms">
<thead><tr><th scope="col">#</th><th scope="col">Serial</th><th scope="col">Code</th><th scope="col">Verdict</th><th scope="col">Grade</th><th scope="col">Verified</th></tr></thead>
<tbody>${rows}</tbody>
</table>
</section>
<section>
<h2>Certifier</h2>
${certifierBlock(ctx)}
${complete ? html`<p class="signature">Signature <span class="line"></span> Date <span class="line short"></span></p>` : ''}
</section>`;
  return page(ctx, title, `/#/orders/${encodeURIComponent(o.id)}`, body);
}

/** A refusal or a missing record, for a person who opened a certificate link in a browser. */
export function errorPage(status: number, code: string, message: string, next: string): string {
  const login = status === 401;
  return html`${documentHead(code, html``)}
<body>
<main class="sheet">
<h1>${login ? 'Log in to see this certificate' : 'No certificate here'}</h1>
<p class="banner" role="alert" data-test="cert-error"><span class="mono">${code}</span>: ${message}</p>
<p>${login ? html`<a href="${`/#/login?next=${encodeURIComponent(next)}`}" data-test="cert-login">Log in</a>` : html`<a href="/" data-test="cert-back">Back to the line</a>`}</p>
</main>
</body>
</html>
`.value;
}
