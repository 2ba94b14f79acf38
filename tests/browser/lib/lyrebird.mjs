// Starts and stops a real `lyrebird demo` for the browser tests, and talks to
// its API with the API key.
//
//   const srv = await startLyrebird({ name: 'login', env: { LYREBIRD_X: '1' } });
//   await srv.api('GET', '/api/v1/conversations');
//   await srv.stop();   // SIGTERM; throws unless it exits 0 within 15 s
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.resolve(TEST_DIR, process.env.LYREBIRD_BIN || '../../build/lyrebird');

export const API_KEY = 'browser-test-api-key-0123456789abcdefghijkl'; // 44 chars
export const PASSWORD = 'browser-test-password-2468';
export const USERNAME = 'reception'; // the demo's staff user
export const CLINIC = '+61488868772';
export const JORDAN = '+61491570156'; // seeded patient "Jordan Lee"
export const PRIYA = '+61491570157'; // seeded patient "Priya Sharma"

const STARTUP_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
const SANITIZER_MARKERS = ['AddressSanitizer', 'LeakSanitizer', 'runtime error:'];

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The caller's environment without any LYREBIRD_* variable, plus extra. */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('LYREBIRD_')) env[k] = v;
  }
  return { ...env, ...extra };
}

export function tail(file, n = 6000) {
  try {
    const data = fs.readFileSync(file);
    return data.subarray(Math.max(0, data.length - n)).toString('utf8');
  } catch {
    return `<no ${file}>`;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Lyrebird {
  constructor({ name = 'lyrebird', env = {} } = {}) {
    this.name = name;
    this.workdir = fs.mkdtempSync(path.join(os.tmpdir(), `lyrebird-browser-${name}-`));
    this.data = path.join(this.workdir, 'data');
    fs.mkdirSync(this.data);
    this.stderrPath = path.join(this.workdir, 'stderr.log');
    this.stdoutPath = path.join(this.workdir, 'stdout.log');
    this.env = {
      LYREBIRD_DEMO_PASSWORD: PASSWORD,
      LYREBIRD_API_KEY: API_KEY,
      LYREBIRD_SIM_DR_DELAY_MS: '50',
      // Pages from disk instead of the binary's copies (docs/web.md), for
      // working on web/ without rebuilding.
      ...(process.env.LYREBIRD_BROWSER_WEB_DIR
        ? { LYREBIRD_WEB_DIR: path.resolve(process.env.LYREBIRD_BROWSER_WEB_DIR) }
        : {}),
      ...env,
    };
    this.proc = null;
    this.exit = null; // {code, signal} once it has exited
    this.keep = false; // keep workdir after a clean stop
  }

  async start() {
    if (this.proc) throw new Error('already running');
    try {
      fs.accessSync(BIN, fs.constants.X_OK);
    } catch {
      throw new Error(`no lyrebird binary at ${BIN} (set LYREBIRD_BIN)`);
    }
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    const out = fs.openSync(this.stdoutPath, 'a');
    const err = fs.openSync(this.stderrPath, 'a');
    const args = ['demo', '--port', String(this.port), '--data', this.data];
    this.proc = spawn(BIN, args, { env: cleanEnv(this.env), stdio: ['ignore', out, err] });
    fs.closeSync(out);
    fs.closeSync(err);
    this.exit = null;
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.exit) {
        this.proc = null;
        throw new Error(
          `lyrebird exited (${JSON.stringify(this.exit)}) during startup: ${BIN} ${args.join(' ')}\n` +
            `stderr:\n${tail(this.stderrPath)}`,
        );
      }
      try {
        const r = await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(1000) });
        const body = await r.text();
        last = `${r.status} ${body.slice(0, 200)}`;
        if (r.status === 200) return this;
      } catch (e) {
        last = String(e && e.cause ? e.cause : e);
      }
      await sleep(50);
    }
    await this.kill();
    throw new Error(
      `lyrebird not ready within ${STARTUP_TIMEOUT_MS / 1000} s (last /healthz: ${last})\n` +
        `stderr:\n${tail(this.stderrPath)}`,
    );
  }

  async kill() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    if (!this.exit) p.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM; throws unless it exits with 0 within 15 s and reports no sanitizer error. */
  async stop() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    if (this.exit) {
      throw new Error(
        `lyrebird had already exited (${JSON.stringify(this.exit)}) before the end of the tests\n` +
          `stderr:\n${tail(this.stderrPath)}`,
      );
    }
    p.kill('SIGTERM');
    let timer;
    const res = await Promise.race([
      this.exited,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!res) {
      p.kill('SIGKILL');
      await this.exited;
      throw new Error(
        `lyrebird did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM\nstderr:\n${tail(this.stderrPath)}`,
      );
    }
    const err = tail(this.stderrPath, 10 ** 7);
    const hits = SANITIZER_MARKERS.filter((m) => err.includes(m));
    if (hits.length) {
      throw new Error(`lyrebird: sanitizer report (${hits.join(', ')}):\n${err.slice(-8000)}`);
    }
    if (res.code !== 0) {
      throw new Error(
        `lyrebird exited ${JSON.stringify(res)} after SIGTERM (want code 0)\nstderr:\n${err.slice(-6000)}`,
      );
    }
    // A clean run leaves nothing behind; a failed one keeps its logs and data.
    if (!this.keep) fs.rmSync(this.workdir, { recursive: true, force: true });
  }

  stderrTail(n = 4000) {
    return tail(this.stderrPath, n);
  }

  url(p) {
    return new URL(p, this.base + '/').toString();
  }

  /** A request with Authorization: Bearer <key>. body: object (sent as JSON), Buffer or undefined. */
  async api(method, p, body, headers = {}) {
    const h = { Authorization: `Bearer ${API_KEY}`, ...headers };
    return this.raw(method, p, body, h);
  }

  /** A request without the API key. Returns {status, headers, text, json}. */
  async raw(method, p, body, headers = {}) {
    const h = { ...headers };
    let payload;
    if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
      payload = body;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['Content-Type'] ??= 'application/json';
    }
    const r = await fetch(this.url(p), {
      method,
      headers: h,
      body: payload,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await r.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: r.status, headers: r.headers, text, json };
  }

  async apiOk(method, p, body, want = 200) {
    const r = await this.api(method, p, body);
    const wants = Array.isArray(want) ? want : [want];
    if (!wants.includes(r.status)) {
      throw new Error(`${method} ${p} -> ${r.status} ${r.text.slice(0, 500)} (want ${wants.join('/')})`);
    }
    return r.json;
  }

  // -- API shortcuts --------------------------------------------------------
  async message(id) {
    return this.apiOk('GET', `/api/v1/messages/${id}`);
  }

  async convMessages(patient, limit = 200) {
    const j = await this.apiOk('GET', `/api/v1/conversations/${encodeURIComponent(patient)}/messages?limit=${limit}`);
    return j.messages;
  }

  async conversation(patient) {
    const j = await this.apiOk('GET', '/api/v1/conversations?limit=200');
    return j.conversations.find((c) => c.patient === patient) || null;
  }

  /** Stored messages of the conversation whose text is exactly `text`. */
  async messagesWithText(patient, text) {
    return (await this.convMessages(patient)).filter((m) => m.text === text);
  }

  async upload(bytes, contentType = 'image/png') {
    return this.apiOk('POST', '/api/v1/media', Buffer.from(bytes), 201).then((j) => j);
  }

  /** Sends through the API (not the UI); media: array of Buffers (PNG). */
  async send(to, text, media = []) {
    const ids = [];
    for (const m of media) ids.push((await this.upload(m)).id);
    const body = { to };
    if (text != null) body.text = text;
    if (ids.length) body.media = ids;
    return this.apiOk('POST', '/api/v1/messages', body, 202);
  }

  /** The handset sends to the clinic (through the simulated carrier). */
  async handsetSend(e164, text, media = []) {
    const body = { text };
    if (media.length) {
      body.media = media.map((m) => ({ content_type: m.contentType || 'image/png', data: Buffer.from(m.data || m).toString('base64') }));
    }
    const r = await this.raw('POST', `/sim/handsets/${encodeURIComponent(e164)}/send`, body);
    if (r.status !== 202) throw new Error(`handset send -> ${r.status} ${r.text.slice(0, 500)}`);
    return r.json;
  }

  async waitStatus(id, want, timeoutMs = 10_000) {
    const wants = Array.isArray(want) ? want : [want];
    const deadline = Date.now() + timeoutMs;
    let m;
    for (;;) {
      m = await this.message(id);
      if (wants.includes(m.status)) return m;
      if (Date.now() > deadline) {
        throw new Error(`message ${id} did not reach ${wants.join('/')} within ${timeoutMs} ms: ${JSON.stringify(m)}`);
      }
      await sleep(50);
    }
  }
}

export async function startLyrebird(opts) {
  const srv = new Lyrebird(opts);
  await srv.start();
  return srv;
}

/**
 * A demo on a port the test chooses up front (e.g. with freePort()), for a
 * set-up that must know the server's own address before it starts, such as
 * LYREBIRD_SERVER_PUBLIC_URL:
 *
 *   const port = await freePort();
 *   const srv = new LyrebirdOnPort({ name, port, env: { LYREBIRD_SERVER_PUBLIC_URL: `http://127.0.0.1:${port}` } });
 *   await srv.start();
 */
export class LyrebirdOnPort extends Lyrebird {
  constructor({ port, ...opts } = {}) {
    super(opts);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`LyrebirdOnPort: bad port ${port}`);
    this.chosenPort = port;
  }

  get port() {
    return this.chosenPort;
  }

  // start() assigns a free port of its own; this server keeps the chosen one.
  set port(_ignored) {}
}
