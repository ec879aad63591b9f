// Log in with a user name and password. After repeated failures the line makes people wait;
// the screen counts the wait down and keeps the button off until it is over.
import { ApiError, post } from '../api.js';
import { h } from '../dom.js';
import { errorSlot, field } from '../ui.js';

export function mount(root, ctx) {
  const user = h('input', {
    name: 'username',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
    maxlength: 32,
    'data-test': 'login-user',
  });
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
    maxlength: 256,
    'data-test': 'login-password',
  });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'login-submit' }, 'Log in');
  const wait = h('p', { class: 'wait', role: 'status', 'data-test': 'login-wait' });
  const errors = errorSlot();
  let timer = null;

  function throttled(seconds) {
    let left = seconds;
    submit.disabled = true;
    const tick = () => {
      if (left <= 0) {
        clearInterval(timer);
        timer = null;
        wait.textContent = 'You may try again now.';
        submit.disabled = false;
        return;
      }
      wait.textContent = `Too many failed logins: wait ${left} s before the next try.`;
      left -= 1;
    };
    tick();
    timer = setInterval(tick, 1000);
  }

  const form = h(
    'form',
    { class: 'login card', 'data-test': 'login-form', novalidate: true },
    h('h1', { tabindex: -1 }, 'Log in'),
    ctx.loginNote ? h('p', { class: 'note', 'data-test': 'login-note' }, ctx.loginNote) : null,
    field('User name', user),
    field('Password', password),
    errors.el,
    wait,
    h('div', { class: 'actions' }, submit),
  );

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errors.clear();
    const username = user.value.trim();
    if (!username || !password.value) {
      errors.show({ code: 'INVALID_INPUT', message: 'enter your user name and password' }, 'Cannot log in');
      (username ? password : user).focus();
      return;
    }
    submit.disabled = true;
    try {
      await post('/api/v1/session', { username, password: password.value }, { quiet401: true });
      password.value = '';
      await ctx.loggedIn(ctx.query.get('next') ?? '');
    } catch (err) {
      submit.disabled = false;
      password.value = '';
      errors.show(err, 'Cannot log in');
      if (err instanceof ApiError && err.status === 429) {
        const fromContext = Number(err.context.retryAfterSeconds);
        throttled(err.retryAfter ?? (Number.isFinite(fromContext) ? Math.ceil(fromContext) : 30));
      }
      password.focus();
    }
  });

  root.append(h('div', { class: 'login-wrap' }, form));
  user.focus();
  ctx.focused = true;
  return () => {
    if (timer) clearInterval(timer);
  };
}
