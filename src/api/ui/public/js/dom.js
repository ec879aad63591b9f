// Building the page from data: text always goes in as text nodes, never as markup, so nothing
// the line stores (a serial, a reason typed by someone) can turn into script or layout.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Properties rather than attributes, so the live state of a control is what is set. */
const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'indeterminate']);

function apply(el, attrs) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class')
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else if (key === 'style') throw new Error('inline style attributes are refused by the page policy');
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** Appends children: nodes as they are, arrays flattened, null/false skipped, anything else as text. */
export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h('button', { class: 'primary', onclick }, 'Start') */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  return append(el, ...children);
}

/** The same for SVG elements (charts). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  return append(el, ...children);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, ...children);
}
