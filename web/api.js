// fetch() wrapped for the lyrebird JSON API: sends the CSRF token on every
// request that changes something, turns error answers into ApiError, and
// hands a 401 to whoever registered for it (the inbox sends people to sign in).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when the request never got an answer
    this.code = code;
  }
}

let csrfToken = null;
let unauthorizedHandler = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

// A phone number as a path segment. E.164 is "+" and digits, all of which are
// safe in a path, so keep the "+" as it is rather than %2B.
export function pathNumber(number) {
  return encodeURIComponent(number).replace(/%2B/gi, '+');
}

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function api(path, options = {}) {
  const method = (options.method || 'GET').toUpperCase();
  const headers = new Headers(options.headers || {});
  let body = options.body;
  if (options.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(options.json);
  }
  if (!headers.has('Accept')) headers.set('Accept', 'application/json');
  if (CHANGES.has(method) && csrfToken) headers.set('X-CSRF-Token', csrfToken);
  // A request the page makes by itself (after a live event or a reconnect)
  // does not count as someone using the inbox, so an unattended inbox still
  // signs out when the session idles.
  if (options.background) headers.set('X-Lyrebird-Background', '1');

  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: options.signal,
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Could not reach the gateway. Check the connection and try again.');
  }

  if (res.status === 401 && unauthorizedHandler && !options.allowUnauthorized) {
    unauthorizedHandler();
  }

  let data = null;
  const type = res.headers.get('Content-Type') || '';
  if (res.status !== 204 && type.includes('json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }

  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(
      res.status,
      (e && e.code) || `http_${res.status}`,
      (e && e.message) || `The gateway answered ${res.status} ${res.statusText}`.trim() + '.',
    );
  }
  return data;
}

// A random UUID, also where crypto.randomUUID is missing (plain http on a LAN
// address is not a secure context).
export function newUuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') {
    try {
      return crypto.randomUUID();
    } catch {
      // fall through
    }
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
