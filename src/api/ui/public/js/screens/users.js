// Users, for admins: add a user with a role, change a role, disable or enable, set a new
// password. The line refuses to disable or demote the last enabled admin and says so.
import { enc, get, patch, post } from '../api.js';
import { h, replace } from '../dom.js';
import { when } from '../format.js';
import { askPassword, busy, chip, confirmDialog, errorSlot, field, notify } from '../ui.js';

const ROLES = ['operator', 'qa', 'supervisor', 'admin'];
const ROLE_WORDS = {
  operator: 'runs orders, resets the engraver, receives firearms',
  qa: 'enters case reads at the QA station',
  supervisor: 'all of the above, dismisses outbox records, reads the audit trail',
  admin: 'everything, and manages users',
};
const RESERVED = new Set(['erp', 'operator', 'qa', 'system', 'cli']);
const NAME = /^[a-z][a-z0-9._-]{0,31}$/;

export function mount(root, ctx) {
  const errors = errorSlot();
  const body = h('div');
  const name = h('input', {
    autocomplete: 'off',
    autocapitalize: 'none',
    spellcheck: 'false',
    maxlength: 32,
    'data-test': 'user-new-name',
  });
  const role = h(
    'select',
    { 'data-test': 'user-new-role' },
    ROLES.map((r) => h('option', { value: r }, r)),
  );
  const password = h('input', {
    type: 'password',
    autocomplete: 'new-password',
    minlength: 12,
    maxlength: 256,
    'data-test': 'user-new-password',
  });
  const add = h('button', { type: 'submit', class: 'primary', 'data-test': 'user-add' }, 'Add the user');
  const roleHint = h('p', { class: 'hint' }, ROLE_WORDS.operator);
  role.addEventListener('change', () => {
    roleHint.textContent = ROLE_WORDS[role.value];
  });
  const form = h(
    'form',
    { class: 'card spaced', novalidate: true, 'data-test': 'user-add-form' },
    h('h2', null, 'Add a user'),
    h(
      'div',
      { class: 'form-grid' },
      field('Name', name, 'Lower case letters, digits, . _ -; starting with a letter.'),
      field('Role', role, roleHint),
      field('Password (12 characters or more)', password),
    ),
    h('div', { class: 'actions' }, add),
  );
  root.append(h('h1', { tabindex: -1 }, 'Users'), errors.el, body, form);

  function row(u) {
    const roleSel = h(
      'select',
      { 'data-test': 'user-role', 'data-user': u.name, 'aria-label': `Role of ${u.name}` },
      ROLES.map((r) => h('option', { value: r, selected: r === u.role }, r)),
    );
    const apply = h(
      'button',
      { type: 'button', 'data-test': 'user-role-apply', 'data-user': u.name, disabled: true },
      'Change role',
    );
    roleSel.addEventListener('change', () => {
      apply.disabled = roleSel.value === u.role;
    });
    apply.addEventListener('click', async () => {
      errors.clear();
      try {
        await busy(apply, () => patch(`/api/v1/users/${enc(u.name)}`, { role: roleSel.value }));
        notify(`${u.name} is now ${roleSel.value}`);
        load();
      } catch (err) {
        errors.show(err, `The role of ${u.name} was not changed`);
      }
    });
    const toggle = h(
      'button',
      {
        type: 'button',
        class: u.disabled ? '' : 'danger',
        'data-test': u.disabled ? 'user-enable' : 'user-disable',
        'data-user': u.name,
      },
      u.disabled ? 'Enable' : 'Disable…',
    );
    toggle.addEventListener('click', async () => {
      if (!u.disabled) {
        const ok = await confirmDialog({
          title: `Disable ${u.name}`,
          message: `${u.name} can no longer log in, and open sessions end. The user and everything they did stay on record.`,
          confirm: 'Disable',
          danger: true,
        });
        if (!ok) return;
      }
      errors.clear();
      try {
        await busy(toggle, () => patch(`/api/v1/users/${enc(u.name)}`, { disabled: !u.disabled }));
        notify(`${u.name} ${u.disabled ? 'enabled' : 'disabled'}`);
        load();
      } catch (err) {
        errors.show(err, `${u.name} was not ${u.disabled ? 'enabled' : 'disabled'}`);
      }
    });
    const reset = h(
      'button',
      { type: 'button', 'data-test': 'user-password', 'data-user': u.name },
      'Set password…',
    );
    reset.addEventListener('click', async () => {
      const pw = await askPassword({ title: `New password for ${u.name}` });
      if (pw === null) return;
      errors.clear();
      try {
        await busy(reset, () => patch(`/api/v1/users/${enc(u.name)}`, { password: pw }));
        notify(`Password of ${u.name} changed`);
        load();
      } catch (err) {
        errors.show(err, `The password of ${u.name} was not changed`);
      }
    });
    return h(
      'tr',
      { 'data-test': 'user-row', 'data-user': u.name, class: u.disabled ? 'disabled-row' : '' },
      h('th', { scope: 'row', class: 'mono' }, u.name, u.name === ctx.identity.name ? ' (you)' : ''),
      h('td', null, h('div', { class: 'inline' }, roleSel, apply)),
      h('td', null, u.disabled ? chip('disabled') : chip('enabled')),
      h('td', null, when(u.createdAt), u.createdBy ? ` by ${u.createdBy}` : ''),
      h('td', null, when(u.passwordChangedAt)),
      h('td', { class: 'row-actions' }, toggle, reset),
    );
  }

  async function load() {
    try {
      const res = await get('/api/v1/users');
      const users = [...(res.users ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      replace(
        body,
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'list', 'data-test': 'users-table' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['Name', 'Role', 'Status', 'Created', 'Password changed', ''].map((t) =>
                  h('th', { scope: 'col' }, t),
                ),
              ),
            ),
            h('tbody', null, users.map(row)),
          ),
        ),
      );
    } catch (err) {
      errors.show(err, 'The users cannot be read');
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errors.clear();
    const n = name.value.trim();
    const problems = [];
    if (!NAME.test(n))
      problems.push({ path: 'name', reason: '1 to 32 of a-z 0-9 . _ -, starting with a letter' });
    else if (RESERVED.has(n))
      problems.push({ path: 'name', reason: `${n} is kept for a machine actor in the audit trail` });
    if (password.value.length < 12 || password.value.length > 256)
      problems.push({ path: 'password', reason: '12 to 256 characters' });
    if (problems.length > 0) {
      errors.show({ code: 'INVALID_INPUT', message: 'the new user is not valid', problems }, 'Not added');
      (problems[0].path === 'name' ? name : password).focus();
      return;
    }
    try {
      await busy(add, () => post('/api/v1/users', { name: n, role: role.value, password: password.value }));
      notify(`${n} added as ${role.value}`);
      name.value = '';
      password.value = '';
      load();
      name.focus();
    } catch (err) {
      errors.show(err, `${n} was not added`);
    }
  });
  load();
}
