// Staff accounts and settings for admins: list, add, reset a password,
// disable or enable, change a role; the gateway's settings, read-only.

import { api, onUnauthorized, setCsrfToken } from '/static/api.js';
import { h, formatBytes, setText, showAlert } from '/static/dom.js';
import { TemplatesAdmin } from '/static/admin-templates.js';

const $ = (id) => document.getElementById(id);
const els = {
  clinicName: $('clinic-name'),
  clinicNumber: $('clinic-number'),
  userName: $('user-name'),
  signOut: $('sign-out'),
  pageError: $('page-error'),
  loading: $('loading'),
  denied: $('denied'),
  admin: $('admin'),
  announce: $('announce'),
  accountsError: $('accounts-error'),
  resetHandover: $('reset-handover'),
  addHandover: $('add-handover'),
  tableWrap: $('table-wrap'),
  users: $('users'),
  usersEmpty: $('users-empty'),
  addForm: $('add-form'),
  addError: $('add-error'),
  addUsername: $('add-username'),
  addName: $('add-name'),
  addRole: $('add-role'),
  addPassword: $('add-password'),
  addGenerate: $('add-generate'),
  addSubmit: $('add-submit'),
  settings: $('settings'),
  settingsWhere: $('settings-where'),
  settingsError: $('settings-error'),
  resetDialog: $('reset-dialog'),
  resetForm: $('reset-form'),
  resetTitle: $('reset-title'),
  resetAbout: $('reset-about'),
  resetError: $('reset-error'),
  resetPassword: $('reset-password'),
  resetGenerate: $('reset-generate'),
  resetSave: $('reset-save'),
  resetCancel: $('reset-cancel'),
};

let session = null;
let me = ''; // the signed-in admin's username
let dateFormat = null;
let redirecting = false;
const users = new Map(); // username → user object from the API
let resetFor = null; // the username whose password the dialog resets
let resetOpener = null;
const lastGenerated = { add: null, reset: null }; // to know whether a password was generated

onUnauthorized(() => {
  if (redirecting) return;
  redirecting = true;
  location.assign('/login?next=/admin');
});

// ---- small helpers ---------------------------------------------------------

// The API's messages are phrases ("a username starts with …"); show them as
// sentences.
function sentence(msg) {
  const s = String(msg || '').trim();
  if (!s) return 'Something went wrong. Try again.';
  const first = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

function roleWord(role) {
  return role === 'admin' ? 'Admin' : 'Staff';
}

// Says something in the role="status" region. Emptied first so that the
// same words twice in a row are announced twice.
let announceTimer = null;
function announce(text) {
  clearTimeout(announceTimer);
  els.announce.textContent = '';
  announceTimer = setTimeout(() => {
    els.announce.textContent = text;
  }, 50);
}

function makeDateFormat(timeZone) {
  const options = { day: 'numeric', month: 'short', year: 'numeric' };
  try {
    return new Intl.DateTimeFormat('en-AU', { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat('en-AU', options); // an unknown zone name
  }
}

function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : dateFormat.format(d);
}

// A strong password to hand over: 20 characters from an alphabet without
// look-alikes (0/O, 1/l/I), in groups of four so that it can be read out.
// About 116 bits. Rejection sampling keeps every character equally likely.
const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export function generatePassword(length = 20) {
  const limit = 256 - (256 % ALPHABET.length);
  const out = [];
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const b of bytes) {
      if (b < limit && out.length < length) out.push(ALPHABET[b % ALPHABET.length]);
    }
  }
  const groups = [];
  for (let i = 0; i < out.length; i += 4) groups.push(out.slice(i, i + 4).join(''));
  return groups.join('-');
}

function fillGenerated(input, which) {
  const pw = generatePassword();
  input.value = pw;
  input.type = 'text'; // shown, so that it can be handed over
  lastGenerated[which] = pw;
  input.focus();
  input.select();
}

// A generated password stays on screen (under the form that made it) until
// it is hidden, so that it can be handed over.
function showHandover(slot, username, password) {
  hideHandovers();
  const titleId = `${slot.id}-title`;
  const pw = h('code', { class: 'handover-password', text: password });
  const buttons = [];
  if (navigator.clipboard && window.isSecureContext) {
    buttons.push(
      h('button', {
        type: 'button',
        class: 'button button-quiet button-small',
        'aria-label': `Copy the password for ${username}`,
        text: 'Copy',
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(password);
            announce('Password copied.');
          } catch {
            announce('Could not copy. Select the password and copy it by hand.');
          }
        },
      }),
    );
  }
  buttons.push(
    h('button', {
      type: 'button',
      class: 'button button-quiet button-small',
      'aria-label': `Hide the password for ${username}`,
      text: 'Hide',
      onclick: () => {
        const back =
          slot === els.addHandover
            ? els.addUsername
            : els.users.querySelector(`button[data-action="reset"][data-username="${CSS.escape(username)}"]`);
        hideHandovers();
        if (back) back.focus();
      },
    }),
  );
  slot.replaceChildren(
    h(
      'div',
      { class: 'handover', role: 'group', 'aria-labelledby': titleId },
      h('p', { class: 'handover-title', id: titleId, text: `Password for ${username}` }),
      h('div', { class: 'handover-row' }, pw, ...buttons),
      h('p', {
        class: 'subtle',
        text: 'Hand it over in person or by phone. It is not shown again once you hide it or leave this page.',
      }),
    ),
  );
  slot.scrollIntoView({ block: 'nearest' });
}

// After adding someone with a password the admin typed: a visible note by
// the form (the status region above the table says it for screen readers).
function showAdded(username) {
  hideHandovers();
  els.addHandover.replaceChildren(
    h('p', { class: 'added-note', text: `Added ${username}. Give them the password you chose.` }),
  );
}

function hideHandovers() {
  els.resetHandover.replaceChildren();
  els.addHandover.replaceChildren();
}

// ---- start -----------------------------------------------------------------

async function start() {
  try {
    session = await api('/api/v1/session');
  } catch (err) {
    if (err.status !== 401) {
      showAlert(els.pageError, `${sentence(err.message)} Trying again shortly.`);
      setTimeout(start, 5000);
    }
    return;
  }
  showAlert(els.pageError, '');
  setCsrfToken(session.csrf_token);
  const clinic = session.clinic || {};
  const user = session.user || {};
  me = user.username || '';
  dateFormat = makeDateFormat(clinic.timezone);
  setText(els.clinicName, clinic.name || 'Staff accounts');
  setText(els.clinicNumber, clinic.number || '');
  setText(els.userName, user.name || user.username || '');
  document.title = `Staff accounts · ${clinic.name || 'lyrebird'}`;
  wire();
  els.loading.hidden = true;

  if (user.role !== 'admin') {
    els.denied.hidden = false;
    return;
  }
  els.admin.hidden = false;
  await Promise.all([loadUsers(), loadSettings(), new TemplatesAdmin().load()]);
}

// ---- the accounts table ------------------------------------------------------

async function loadUsers() {
  try {
    const data = await api('/api/v1/users');
    users.clear();
    for (const u of (data && data.users) || []) users.set(u.username, u);
    renderUsers();
    showAlert(els.accountsError, '');
  } catch (err) {
    if (err.status !== 401) showAlert(els.accountsError, sentence(err.message));
  }
}

function sortedUsers() {
  return [...users.values()].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
}

function renderUsers() {
  const rows = sortedUsers().map(rowFor);
  els.users.replaceChildren(...rows);
  els.usersEmpty.hidden = rows.length > 0;
  fitTable();
}

// A username with places to break a line after . @ and _ (never inside a word).
function breakable(text) {
  const out = [];
  for (const part of text.match(/[^.@_]*[.@_]?/g).filter(Boolean)) {
    if (out.length) out.push(h('wbr'));
    out.push(part);
  }
  return out;
}

function actionButton(label, name, action, username) {
  return h('button', {
    type: 'button',
    class: 'button button-quiet button-small',
    'aria-label': name,
    'data-action': action,
    'data-username': username,
    text: label,
  });
}

function rowFor(u) {
  const mine = u.username === me;
  const userCell = h(
    'td',
    { class: 'cell-username', 'data-label': 'Username' },
    h('span', { class: 'username' }, breakable(u.username)),
    mine ? h('span', { class: 'badge badge-you', text: 'you' }) : null,
  );
  const nameCell = h(
    'td',
    { 'data-label': 'Name' },
    u.name ? u.name : [h('span', { 'aria-hidden': 'true', class: 'muted', text: '—' }), h('span', { class: 'visually-hidden', text: 'No name' })],
  );
  const roleCell = h('td', { 'data-label': 'Role', text: roleWord(u.role) });
  const statusCell = h(
    'td',
    { 'data-label': 'Status' },
    h('span', { class: u.disabled ? 'badge badge-off' : 'badge badge-on', text: u.disabled ? 'Disabled' : 'Active' }),
  );
  const addedCell = h(
    'td',
    { 'data-label': 'Added' },
    h('time', { datetime: u.created_at, text: formatDate(u.created_at) }),
  );

  const actions = [
    actionButton('Reset password', `Reset password for ${u.username}`, 'reset', u.username),
  ];
  if (!mine) {
    actions.push(
      u.disabled
        ? actionButton('Enable', `Enable ${u.username}`, 'enable', u.username)
        : actionButton('Disable', `Disable ${u.username}`, 'disable', u.username),
      u.role === 'admin'
        ? actionButton('Make staff', `Make staff: ${u.username}`, 'make-staff', u.username)
        : actionButton('Make admin', `Make admin: ${u.username}`, 'make-admin', u.username),
    );
  } else {
    actions.push(h('span', { class: 'own-note', text: 'Your own account' }));
  }
  const actionsCell = h('td', { class: 'cell-actions' }, h('div', { class: 'row-actions' }, actions));

  return h(
    'tr',
    { class: u.disabled ? 'is-disabled' : null, 'data-username': u.username },
    userCell,
    nameCell,
    roleCell,
    statusCell,
    addedCell,
    actionsCell,
  );
}

// Puts a changed user's row in place, and the focus back on the same
// action (which may have changed its words: Disable → Enable).
function replaceRow(u, focusAction) {
  users.set(u.username, u);
  const old = els.users.querySelector(`tr[data-username="${CSS.escape(u.username)}"]`);
  const row = rowFor(u);
  if (old) old.replaceWith(row);
  else renderUsers();
  fitTable();
  if (focusAction) {
    const next = row.querySelector(`[data-action="${focusAction}"]`);
    if (next) next.focus();
  }
}

// The table scrolls sideways inside its box when it does not fit; the box
// is then a focusable region, so that it can be scrolled from the keyboard.
function fitTable() {
  const w = els.tableWrap;
  const scrolls = w.scrollWidth > w.clientWidth + 1;
  if (scrolls) {
    w.setAttribute('tabindex', '0');
    w.setAttribute('role', 'region');
    w.setAttribute('aria-label', 'Staff accounts (scrolls sideways)');
  } else {
    w.removeAttribute('tabindex');
    w.removeAttribute('role');
    w.removeAttribute('aria-label');
  }
}

async function changeUser(username, change, button, after) {
  showAlert(els.accountsError, '');
  button.disabled = true;
  try {
    const u = await api(`/api/v1/users/${encodeURIComponent(username)}`, { method: 'PATCH', json: change });
    replaceRow(u, after.focus);
    announce(after.say(u));
  } catch (err) {
    if (err.status === 401) return;
    button.disabled = false;
    showAlert(els.accountsError, sentence(err.message));
    if (err.status === 404) loadUsers();
  }
}

function onRowAction(e) {
  const button = e.target.closest('button[data-action]');
  if (!button || button.disabled) return;
  const username = button.dataset.username;
  switch (button.dataset.action) {
    case 'reset':
      openReset(username, button);
      break;
    case 'disable':
      changeUser(username, { disabled: true }, button, {
        focus: 'enable',
        say: (u) => `Disabled ${u.username}. They were signed out everywhere and cannot sign in.`,
      });
      break;
    case 'enable':
      changeUser(username, { disabled: false }, button, {
        focus: 'disable',
        say: (u) => `Enabled ${u.username}. They can sign in again.`,
      });
      break;
    case 'make-admin':
      changeUser(username, { role: 'admin' }, button, {
        focus: 'make-staff',
        say: (u) => `${u.username} is now an admin.`,
      });
      break;
    case 'make-staff':
      changeUser(username, { role: 'staff' }, button, {
        focus: 'make-admin',
        say: (u) => `${u.username} is now staff.`,
      });
      break;
    default:
  }
}

// ---- adding an account -------------------------------------------------------

async function addUser() {
  const username = els.addUsername.value.trim();
  const name = els.addName.value.trim();
  const role = els.addRole.value;
  const password = els.addPassword.value;
  if (!username) {
    showAlert(els.addError, 'Enter a username.');
    els.addUsername.focus();
    return;
  }
  if (!password) {
    showAlert(els.addError, 'Enter a password, or press Generate for one.');
    els.addPassword.focus();
    return;
  }
  showAlert(els.addError, '');
  els.addSubmit.disabled = true;
  els.addForm.setAttribute('aria-busy', 'true');
  const body = { username, password, role };
  if (name) body.name = name;
  try {
    const u = await api('/api/v1/users', { method: 'POST', json: body });
    users.set(u.username, u);
    renderUsers();
    const generated = password === lastGenerated.add;
    if (generated) showHandover(els.addHandover, u.username, password);
    else showAdded(u.username);
    els.addForm.reset();
    els.addPassword.type = 'password';
    lastGenerated.add = null;
    announce(`Added ${u.username}.`);
    els.addUsername.focus();
  } catch (err) {
    if (err.status === 401) return;
    showAlert(els.addError, sentence(err.message));
    const field = {
      invalid_username: els.addUsername,
      username_taken: els.addUsername,
      invalid_name: els.addName,
      invalid_role: els.addRole,
      weak_password: els.addPassword,
    }[err.code];
    if (field) field.focus();
  } finally {
    els.addSubmit.disabled = false;
    els.addForm.removeAttribute('aria-busy');
  }
}

// ---- resetting a password ----------------------------------------------------

function openReset(username, opener) {
  resetFor = username;
  resetOpener = opener;
  lastGenerated.reset = null;
  setText(els.resetTitle, `Reset password for ${username}`);
  setText(
    els.resetAbout,
    username === me
      ? 'This is your own account: saving signs you out everywhere, this page too, and you sign in again with the new password.'
      : `Saving signs ${username} out everywhere; they sign in again with the new password.`,
  );
  showAlert(els.resetError, '');
  els.resetPassword.value = '';
  els.resetPassword.type = 'password';
  els.resetSave.disabled = false;
  els.resetDialog.showModal();
  els.resetPassword.focus();
}

function closeReset() {
  if (els.resetDialog.open) els.resetDialog.close();
}

async function saveReset() {
  const username = resetFor;
  const password = els.resetPassword.value;
  if (!username) return;
  if (!password) {
    showAlert(els.resetError, 'Enter a new password, or press Generate for one.');
    els.resetPassword.focus();
    return;
  }
  showAlert(els.resetError, '');
  els.resetSave.disabled = true;
  try {
    const u = await api(`/api/v1/users/${encodeURIComponent(username)}`, {
      method: 'PATCH',
      json: { password },
    });
    if (username === me) {
      // Our own session has just ended with the others.
      redirecting = true;
      location.assign('/login?next=/admin');
      return;
    }
    const generated = password === lastGenerated.reset;
    lastGenerated.reset = null;
    users.set(u.username, u);
    closeReset();
    if (generated) showHandover(els.resetHandover, u.username, password);
    else hideHandovers();
    announce(`New password saved for ${u.username}. They were signed out everywhere.`);
  } catch (err) {
    if (err.status === 401) return;
    els.resetSave.disabled = false;
    showAlert(els.resetError, sentence(err.message));
    els.resetPassword.focus();
  }
}

// ---- settings (read-only) ----------------------------------------------------

function yesNo(v) {
  return v ? 'On' : 'Off';
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function duration(seconds) {
  if (seconds % 3600 === 0 && seconds >= 3600) return plural(seconds / 3600, 'hour', 'hours');
  if (seconds % 60 === 0 && seconds >= 60) return plural(seconds / 60, 'minute', 'minutes');
  return plural(seconds, 'second', 'seconds');
}

// "SMS out, SMS in, MMS in; MMS out: no"
function hostCan(can) {
  const kinds = [
    ['sms_out', 'SMS out'],
    ['sms_in', 'SMS in'],
    ['mms_out', 'MMS out'],
    ['mms_in', 'MMS in'],
  ];
  const yes = kinds.filter(([k]) => can[k]).map(([, w]) => w);
  const no = kinds.filter(([k]) => !can[k]).map(([, w]) => `${w}: no`);
  return [yes.join(', '), no.join('; ')].filter(Boolean).join('; ') || 'Nothing';
}

function group(title, pairs) {
  const id = `settings-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return h(
    'section',
    { class: 'settings-group', 'aria-labelledby': id },
    h('h3', { id, text: title }),
    h(
      'dl',
      {},
      pairs
        .filter(([, v]) => v !== null && v !== undefined && v !== '')
        .map(([k, v]) => h('div', { class: 'settings-item' }, h('dt', { text: k }), h('dd', {}, v))),
    ),
  );
}

function code(text) {
  return h('code', { text });
}

function renderSettings(s) {
  const clinic = s.clinic || {};
  const can = s.host_can || {};
  const web = s.web || {};
  const media = s.media || {};
  const outbox = s.outbox || {};
  const server = s.server || {};
  const sim = s.sim || {};

  els.settings.replaceChildren(
    group('Clinic', [
      ['Name', clinic.name],
      ['Number', clinic.number],
      ['Time zone', clinic.timezone],
      ['Region for local numbers', clinic.region],
    ]),
    group('Host provider', [
      ['Provider', clinic.host],
      ['What it can do', hostCan(can)],
      ['Largest MMS', can.mms_out && can.mms_max_bytes ? formatBytes(can.mms_max_bytes) : null],
    ]),
    group('Sessions and sign-in', [
      [
        'Session ends',
        `after ${plural(web.session_idle_minutes, 'minute', 'minutes')} without use, or ${plural(web.session_max_hours, 'hour', 'hours')} after signing in`,
      ],
      [
        'Account lock',
        `after ${plural(web.login_max_failures, 'failed sign-in', 'failed sign-ins')} in a row, for ${duration(web.login_lockout_seconds)} (doubling, up to 15 minutes)`,
      ],
      [
        'Address block',
        `after ${plural(web.login_ip_max_failures, 'failed sign-in', 'failed sign-ins')} from one address within 15 minutes`,
      ],
    ]),
    group('Pictures and files', [
      ['Largest file', formatBytes(media.max_bytes)],
      ['Files per message', String(media.max_items)],
    ]),
    group('Sending', [
      ['Outbox workers', String(outbox.workers)],
      ['Attempts per message', `up to ${outbox.max_attempts}`],
    ]),
    group('Server', [
      ['Public address', server.public_url],
      ['Phone simulator', yesNo(sim.enabled)],
    ]),
  );

  const where = [];
  if (s.config_file) {
    where.push(
      h(
        'p',
        {},
        'Settings are changed by whoever runs the server, in the configuration file ',
        code(s.config_file),
        '. Check it with ',
        code(`lyrebird check-config --config ${s.config_file}`),
        ', then restart lyrebird.',
      ),
    );
  } else {
    where.push(
      h(
        'p',
        {},
        'This gateway runs without a configuration file (built-in defaults and ',
        code('LYREBIRD_*'),
        ' environment variables). Settings are changed by whoever runs the server: in a configuration file (see ',
        code('lyrebird.example.ini'),
        '), checked with ',
        code('lyrebird check-config --config FILE'),
        ', then a restart with ',
        code('lyrebird serve --config FILE'),
        '.',
      ),
    );
  }
  els.settingsWhere.replaceChildren(h('h3', { text: 'Changing a setting' }), ...where);
}

async function loadSettings() {
  try {
    const s = await api('/api/v1/settings');
    renderSettings(s || {});
    showAlert(els.settingsError, '');
  } catch (err) {
    if (err.status !== 401) showAlert(els.settingsError, sentence(err.message));
  }
}

// ---- wiring ------------------------------------------------------------------

let wired = false;
function wire() {
  if (wired) return;
  wired = true;

  els.users.addEventListener('click', onRowAction);

  els.addGenerate.addEventListener('click', () => fillGenerated(els.addPassword, 'add'));
  els.addForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!els.addSubmit.disabled) addUser();
  });

  els.resetGenerate.addEventListener('click', () => fillGenerated(els.resetPassword, 'reset'));
  els.resetForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!els.resetSave.disabled) saveReset();
  });
  els.resetCancel.addEventListener('click', closeReset);
  els.resetDialog.addEventListener('close', () => {
    els.resetPassword.value = '';
    resetFor = null;
    const opener = resetOpener;
    resetOpener = null;
    if (opener && opener.isConnected) opener.focus();
  });

  if ('ResizeObserver' in window) new ResizeObserver(fitTable).observe(els.tableWrap);

  els.signOut.addEventListener('click', async () => {
    els.signOut.disabled = true;
    try {
      await api('/api/v1/session', { method: 'DELETE' });
    } catch (err) {
      if (err.status === 401) return; // already signed out; on the way to sign-in
      showAlert(els.pageError, sentence(err.message));
      els.signOut.disabled = false;
      return;
    }
    redirecting = true;
    location.assign('/login');
  });
}

start();
