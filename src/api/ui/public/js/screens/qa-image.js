// A case image at the QA station: drop or choose a microscope image, the line reads it
// (POST /api/v1/qa/images/read, nothing stored), and the image is shown with what was found
// drawn over it: the stamp's edge circle, the sync, each character's box and each tooth,
// coloured by confidence. The read fills the station's text and gear fields, where the QA
// person can correct a character before recording; the station then records the read as
// coming from an image, with what the person changed of the reader's text (docs/reading.md).
import { ApiError, post } from '../api.js';
import { h } from '../dom.js';

const VIEW = 420;
const SURE = 0.97;

/** @param {number} p */
function colourOf(p) {
  if (p >= SURE) return '#1a7f37';
  if (p >= 0.6) return '#b7791f';
  return '#c62828';
}

/** The file as a data: URL (the page's policy lets images come from data: URLs, not blob: ones). */
/** @param {File} file @returns {Promise<string>} */
function dataUrlOf(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/**
 * Draws the image and the marks found on it.
 * @param {HTMLCanvasElement} canvas
 * @param {HTMLImageElement} img
 * @param {any} read the answer of POST /api/v1/qa/images/read
 */
function drawOverlay(canvas, img, read) {
  const g = read.geometry;
  const k = VIEW / Math.max(g.width, g.height);
  canvas.width = Math.round(g.width * k);
  canvas.height = Math.round(g.height * k);
  const c = canvas.getContext('2d');
  if (!c) return;
  c.drawImage(img, 0, 0, canvas.width, canvas.height);
  c.lineWidth = 1.5;
  c.strokeStyle = '#1565c0';
  c.beginPath();
  c.arc(g.cx * k, g.cy * k, 48.5 * g.scale * k, 0, 2 * Math.PI);
  c.stroke();
  c.strokeStyle = '#6a1b9a';
  c.lineWidth = 3;
  c.beginPath();
  c.moveTo(read.sync[0][0] * k, read.sync[0][1] * k);
  c.lineTo(read.sync[1][0] * k, read.sync[1][1] * k);
  c.stroke();
  for (const t of read.teeth) {
    const p = Math.max(t.p, 1 - t.p);
    c.fillStyle = colourOf(p);
    c.beginPath();
    c.arc(t.x * k, t.y * k, 2.2, 0, 2 * Math.PI);
    c.fill();
  }
  c.lineWidth = 1.5;
  for (const ch of read.chars) {
    c.strokeStyle = colourOf(ch.p);
    c.beginPath();
    ch.box.forEach(([x, y], i) => {
      if (i === 0) c.moveTo(x * k, y * k);
      else c.lineTo(x * k, y * k);
    });
    c.closePath();
    c.stroke();
  }
}

/**
 * The image panel of the read form.
 * @param {{ onRead: (read: { text: string, gear: string }) => void, onError: (err: unknown) => void }} hooks
 */
export function imageReader({ onRead, onError }) {
  /** @type {{ text: string, gear: string } | null} */
  let last = null;
  const status = h(
    'p',
    { class: 'hint', 'aria-live': 'polite', 'data-test': 'qa-image-status' },
    'No image.',
  );
  const canvas = /** @type {HTMLCanvasElement} */ (
    h('canvas', { 'data-test': 'qa-image-overlay', hidden: true })
  );
  const fileInput = /** @type {HTMLInputElement} */ (
    h('input', { type: 'file', accept: 'image/png,image/jpeg,image/tiff', 'data-test': 'qa-image-file' })
  );
  const drop = h(
    'div',
    {
      class: 'image-drop',
      tabindex: 0,
      'data-test': 'qa-image-drop',
    },
    'Drop a case image here, or choose a file: ',
    fileInput,
  );

  /** @param {File} file */
  async function take(file) {
    status.textContent = `Reading ${file.name}…`;
    try {
      const url = await dataUrlOf(file);
      const read = await post('/api/v1/qa/images/read', {
        image: url.slice(url.indexOf(',') + 1),
        name: file.name,
      });
      // the likelihoods go with the read: the line weighs them, not only the hard read shown
      last = { text: read.text, gear: read.gear, soft: read.soft };
      const img = new Image();
      // a TIFF the browser cannot show still leaves its read in the fields
      img.onload = () => {
        drawOverlay(canvas, img, read);
        canvas.hidden = false;
      };
      img.src = url;
      const unsure = [...read.text].filter((ch) => ch === '?').length;
      status.textContent = `Read ${read.text} in ${read.ms} ms${unsure ? `, ${unsure} character${unsure === 1 ? '' : 's'} unsure` : ''}${read.geometry.mirrored ? ', mirrored' : ''}. Correct the text below if you see better.`;
      onRead(last);
    } catch (err) {
      last = null;
      canvas.hidden = true;
      status.textContent = err instanceof ApiError ? err.message : 'The image could not be read.';
      onError(err);
    }
  }

  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) take(file);
  });
  drop.addEventListener('dragover', (ev) => ev.preventDefault());
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    const file = ev.dataTransfer?.files?.[0];
    if (file) take(file);
  });

  return {
    el: h('div', { class: 'qa-image' }, drop, status, canvas),
    /**
     * The reader's read of the image shown, sent with the read so that the line records it as
     * from an image and what the person changed of it as a correction; null when no image was read.
     */
    imageRead() {
      return last ? { ...last } : null;
    },
    reset() {
      last = null;
      canvas.hidden = true;
      fileInput.value = '';
      status.textContent = 'No image.';
    },
  };
}
