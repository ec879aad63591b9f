// Talking to the line: JSON over fetch with the session cookie, and the server-sent events.
// Every failure becomes an ApiError that carries the line's own code, message and problems, so
// the screens can show exactly what the line said.

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the line did not answer
   * @param {{ code?: string, message?: string, context?: object }} error
   * @param {Array<{ path?: string, reason?: string }>} problems
   * @param {number | null} retryAfter seconds, from Retry-After
   */
  constructor(status, error, problems = [], retryAfter = null) {
    super(error.message ?? `the line answered ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = error.code ?? `HTTP_${status}`;
    this.context = error.context ?? {};
    this.problems = Array.isArray(problems) ? problems : [];
    this.retryAfter = retryAfter;
  }
}

/** @type {(err: ApiError) => void} */
let onUnauthorized = () => {};

/** Called when a request made while logged in comes back 401: the session has expired. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function retryAfterOf(res) {
  const value = res.headers.get('retry-after');
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * @param {'GET'|'POST'|'PATCH'|'DELETE'} method
 * @param {string} path
 * @param {unknown} [body] sent as JSON; mutating requests always send JSON (the line's CSRF guard)
 * @param {{ quiet401?: boolean }} [options]
 */
export async function request(method, path, body, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  /** @type {RequestInit} */
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, {
      code: 'NETWORK',
      message: 'the line did not answer: check the network, or that the stampline daemon is running',
    });
  }
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (res.ok) return data;
  const error =
    data && typeof data === 'object' && data.error ? data.error : { message: String(data || res.statusText) };
  const err = new ApiError(res.status, error, data?.problems, retryAfterOf(res));
  if (res.status === 401 && !options.quiet401) onUnauthorized(err);
  throw err;
}

export const get = (path, options) => request('GET', path, undefined, options);
export const post = (path, body, options) => request('POST', path, body, options);
export const patch = (path, body) => request('PATCH', path, body);
export const del = (path, options) => request('DELETE', path, undefined, options);

/** Builds a query string from the fields that have a value. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

export const enc = encodeURIComponent;

export const EVENT_TYPES = ['line', 'order', 'firearm', 'engraver', 'outbox', 'qa', 'alarm'];

/**
 * The line's server-sent events, shared by every screen. A screen subscribes for as long as it
 * is shown; the browser reconnects by itself, and the header shows whether updates are live.
 */
export class LiveEvents {
  constructor(onState) {
    this.source = null;
    this.listeners = new Set();
    this.onState = onState;
  }

  open() {
    if (this.source) return;
    const source = new EventSource('/api/v1/events');
    this.source = source;
    this.onState('connecting');
    source.onopen = () => this.onState('live');
    source.onerror = () => this.onState(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (ev) => {
        let data = null;
        try {
          data = JSON.parse(ev.data);
        } catch {
          // an event without JSON still says that something changed
        }
        for (const fn of this.listeners) fn(type, data);
      });
    }
  }

  close() {
    this.source?.close();
    this.source = null;
    this.onState('closed');
  }

  /** @returns {() => void} unsubscribe */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** Runs fn at most once per `ms`, and once more after a burst, so a fast line does not flood the page. */
export function throttle(fn, ms) {
  let timer = null;
  let pending = false;
  const run = () => {
    timer = null;
    if (pending) {
      pending = false;
      fn();
      timer = setTimeout(run, ms);
    }
  };
  const call = () => {
    pending = true;
    if (timer === null) run();
  };
  call.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    pending = false;
  };
  return call;
}
