// The high-contrast theme: black on white, thicker rules and outlines, for a panel in bright
// light or a person who needs it. On when the person switched it on in this browser (kept in
// localStorage), off when they switched it off, and until they choose, as the system asks
// (`prefers-contrast: more`).
import { h } from './dom.js';

const KEY = 'stampline.contrast';
const media = window.matchMedia('(prefers-contrast: more)');

function chosen() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null; // storage refused (a locked-down browser): follow the system
  }
}

function isHigh() {
  const c = chosen();
  return c === 'high' ? true : c === 'normal' ? false : media.matches;
}

/** The header's switch, which also sets the theme on the page now and when the system changes. */
export function contrastToggle() {
  const button = h(
    'button',
    { type: 'button', class: 'quiet contrast-toggle', 'data-test': 'contrast-toggle' },
    'High contrast',
  );
  const apply = () => {
    const high = isHigh();
    document.documentElement.dataset.contrast = high ? 'high' : 'normal';
    button.setAttribute('aria-pressed', String(high));
  };
  button.addEventListener('click', () => {
    try {
      localStorage.setItem(KEY, isHigh() ? 'normal' : 'high');
    } catch {
      // not kept; the page still switches for now
      document.documentElement.dataset.contrast = isHigh() ? 'normal' : 'high';
      button.setAttribute('aria-pressed', String(document.documentElement.dataset.contrast === 'high'));
      return;
    }
    apply();
  });
  media.addEventListener('change', apply);
  apply();
  return button;
}
