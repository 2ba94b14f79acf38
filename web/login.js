import { api } from '/static/api.js';
import { showAlert } from '/static/dom.js';

const form = document.getElementById('login-form');
const username = document.getElementById('username');
const password = document.getElementById('password');
const button = document.getElementById('sign-in');
const errorBox = document.getElementById('login-error');

// Only a path on this site: "/inbox", never "//evil.example" or "https://…".
function destination() {
  const next = new URLSearchParams(location.search).get('next');
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/inbox';
  try {
    const url = new URL(next, location.origin);
    if (url.origin !== location.origin) return '/inbox';
    return url.pathname + url.search + url.hash;
  } catch {
    return '/inbox';
  }
}

// Already signed in: straight to the inbox.
api('/api/v1/session')
  .then(() => location.replace('/inbox'))
  .catch(() => {});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (button.disabled) return;
  if (!username.value.trim() || !password.value) {
    showAlert(errorBox, 'Enter your username and password.');
    (username.value.trim() ? password : username).focus();
    return;
  }
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  showAlert(errorBox, '');
  try {
    await api('/api/v1/session', {
      method: 'POST',
      json: { username: username.value.trim(), password: password.value },
    });
    location.assign(destination());
  } catch (err) {
    showAlert(errorBox, err.message || 'Could not sign in.');
    button.disabled = false;
    form.removeAttribute('aria-busy');
    password.select();
    password.focus();
  }
});
