// The shell of the page: who is logged in, which screens their role may open, the hash routes
// (`#/orders/A-17`), and the live events every screen shares.
import { alarmBanner } from './alarm-banner.js';
import { ApiError, del, get, LiveEvents, setUnauthorizedHandler } from './api.js';
import { contrastToggle } from './contrast.js';
import { h, replace } from './dom.js';
import { errorView } from './ui.js';

/** Screens in the order of the menu, with the permission that shows each. */
const SCREENS = [
  { id: 'line', title: 'Line', permission: 'view', load: () => import('./screens/line.js') },
  { id: 'orders', title: 'Orders', permission: 'view', load: () => import('./screens/orders.js') },
  {
    id: 'receive',
    title: 'Receive',
    permission: 'orders.submit',
    load: () => import('./screens/receive.js'),
  },
  { id: 'qa', title: 'QA station', permission: 'qa.read', load: () => import('./screens/qa.js') },
  { id: 'records', title: 'Records', permission: 'view', load: () => import('./screens/records.js') },
  { id: 'stats', title: 'Statistics', permission: 'view', load: () => import('./screens/stats.js') },
  { id: 'alarms', title: 'Alarms', permission: 'view', load: () => import('./screens/alarms.js') },
  { id: 'audit', title: 'Audit', permission: 'audit.read', load: () => import('./screens/audit.js') },
  { id: 'users', title: 'Users', permission: 'users.manage', load: () => import('./screens/users.js') },
];
const LOGIN = { id: 'login', title: 'Log in', load: () => import('./screens/login.js') };

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const liveEl = document.getElementById('live');
const lineEl = document.getElementById('line-id');

const state = {
  site: { lineId: '', issuerKind: 'manufacturer', permissions: { user: {}, token: {} } },
  identity: null,
  /** why the login screen is shown, when it is not the first visit */
  loginNote: '',
  cleanup: null,
  renderId: 0,
};

const LIVE_WORDS = { live: 'Live', connecting: 'Reconnecting…', closed: 'Not live' };
const live = new LiveEvents((s) => {
  liveEl.dataset.state = s;
  liveEl.textContent = LIVE_WORDS[s] ?? s;
  // Alarms raised or cleared while the stream was away are read again when it is back.
  if (s === 'live') banner.refresh();
});

// The alarm banner, on every screen: in the header, so that no screen's content replaces it.
const bannerEl = h('section', {
  id: 'alarm-banner',
  class: 'alarm-banner',
  'aria-labelledby': 'alarm-banner-title',
  'aria-live': 'polite',
  'data-test': 'alarm-banner',
  hidden: true,
});
who.before(contrastToggle());
document.querySelector('header.top')?.append(bannerEl);
const banner = alarmBanner(bannerEl, { can, live });

function can(permission) {
  const id = state.identity;
  if (!id) return false;
  return (state.site.permissions[id.kind]?.[id.role] ?? []).includes(permission);
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, search = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { screen: parts[0] ?? '', params: parts.slice(1), query: new URLSearchParams(search) };
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function landing() {
  if (can('qa.read') && state.identity?.role === 'qa') return '#/qa';
  return '#/line';
}

function renderNav(current) {
  if (!state.identity) {
    replace(nav);
    replace(who);
    nav.hidden = true;
    return;
  }
  nav.hidden = false;
  replace(
    nav,
    h(
      'ul',
      null,
      SCREENS.filter((s) => can(s.permission)).map((s) =>
        h(
          'li',
          null,
          h(
            'a',
            {
              href: `#/${s.id}`,
              'data-test': `nav-${s.id}`,
              'aria-current': s.id === current ? 'page' : false,
            },
            s.title,
          ),
        ),
      ),
    ),
  );
  const id = state.identity;
  replace(
    who,
    h(
      'span',
      { class: 'who-name', 'data-test': 'whoami' },
      id.name,
      ' ',
      h('span', { class: 'role' }, id.role),
    ),
    id.kind === 'user'
      ? h('button', { type: 'button', class: 'quiet', 'data-test': 'logout', onclick: logout }, 'Log out')
      : null,
  );
}

async function logout() {
  try {
    await del('/api/v1/session', { quiet401: true });
  } catch {
    // the session may already be gone; logging out locally is what matters
  }
  state.identity = null;
  state.loginNote = 'You are logged out.';
  banner.hide();
  live.close();
  navigate('#/login');
}

async function loadSession() {
  try {
    const session = await get('/api/v1/session', { quiet401: true });
    state.identity = session.identity;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) state.identity = null;
    else throw err;
  }
}

/** Called by the login screen once the session cookie is set. */
async function loggedIn(next) {
  await loadSession();
  state.loginNote = '';
  live.open();
  banner.show();
  // Only paths of this page or its certificates: never a link to another site.
  if (next?.startsWith('/certificates/')) location.assign(next);
  else navigate(next?.startsWith('#/') && !next.startsWith('#/login') ? next : landing());
}

setUnauthorizedHandler(() => {
  if (!state.identity) return;
  state.identity = null;
  state.loginNote = 'Your session has ended. Log in again to go on.';
  banner.hide();
  live.close();
  const back = location.hash;
  navigate(`#/login?next=${encodeURIComponent(back)}`);
});

async function render() {
  const renderId = ++state.renderId;
  state.cleanup?.();
  state.cleanup = null;
  const route = parseHash();
  let screen;
  if (!state.identity) {
    if (route.screen !== 'login') {
      // Keep where the person was going, to return there after logging in.
      const next = route.screen ? `?next=${encodeURIComponent(location.hash)}` : '';
      navigate(`#/login${next}`);
      return;
    }
    screen = LOGIN;
  } else if (route.screen === 'login' || route.screen === '') {
    navigate(landing());
    return;
  } else {
    screen = SCREENS.find((s) => s.id === route.screen);
  }
  renderNav(screen?.id);
  if (!screen) {
    replace(
      main,
      h('h1', { tabindex: -1 }, 'No such screen'),
      h('p', null, h('a', { href: landing() }, 'Go to the start')),
    );
    main.querySelector('h1').focus();
    return;
  }
  if (screen !== LOGIN && !can(screen.permission)) {
    replace(
      main,
      h('h1', { tabindex: -1 }, screen.title),
      errorView(
        {
          code: 'AUTH_FORBIDDEN',
          message: `${state.identity.name} (${state.identity.role}) may not open ${screen.title}; it needs ${screen.permission}`,
        },
        'Not for your role',
      ),
    );
    main.querySelector('h1').focus();
    return;
  }
  document.title = `${screen.title} · stampline ${state.site.lineId}`;
  try {
    const module = await screen.load();
    if (renderId !== state.renderId) return;
    replace(main);
    const ctx = {
      identity: state.identity,
      site: state.site,
      can,
      live,
      navigate,
      params: route.params,
      query: route.query,
      loginNote: state.loginNote,
      loggedIn,
      /** a screen that puts the focus somewhere itself sets this */
      focused: false,
    };
    /** @type {void | (() => void)} */
    const cleanup = await module.mount(main, ctx);
    if (renderId !== state.renderId) {
      if (cleanup) cleanup();
      return;
    }
    state.cleanup = cleanup ?? null;
    if (!ctx.focused) main.querySelector('h1')?.focus();
  } catch (err) {
    if (renderId !== state.renderId) return;
    replace(main, h('h1', { tabindex: -1 }, screen.title), errorView(err, 'This screen could not load'));
  }
}

async function boot() {
  try {
    state.site = await get('/ui/site.json');
    lineEl.textContent = state.site.lineId ? `line ${state.site.lineId}` : '';
    await loadSession();
  } catch (err) {
    replace(
      main,
      h('h1', { tabindex: -1 }, 'The line cannot be reached'),
      errorView(err, 'Starting the page failed'),
    );
    return;
  }
  if (state.identity) {
    live.open();
    banner.show();
  }
  window.addEventListener('hashchange', render);
  await render();
}

boot();
