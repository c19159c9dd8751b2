// Integration: the HTTPS admin UI and scripting API (docs/api.md) in a real
// headless Chromium, and the attacks it must stop.
//
// Runs inside a private network namespace (tests/lab/in-netns.sh), TAP output:
//   tests/integration/run-in-lab.sh tests/integration/test-admin.mjs
// anyroomd runs with a fresh state dir: no password, a certificate made on
// this start. Chromium trusts exactly that certificate (its SPKI pin); node
// requests check its SHA-256 fingerprint. A real Janus is there, so an attack
// that got through would really put the room in a meeting.
// Screenshots and logs: $AR_BUILD_DIR/meson-logs/lab/admin/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { startJanus } from '../lab/janus.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd, tail } from '../lab/lab.mjs';
import { certPins, launchAdminBrowserAt, pinnedRequest } from '../lab/admin-browser.mjs';
import { localRequest, stepper } from './common.mjs';

const { step, failed } = stepper({ timeout: 60000 });

const PORT = 8443;
const BASE = `https://127.0.0.1:${PORT}`;
const EVIL_PORT = 8080;
const EVIL = `http://127.0.0.1:${EVIL_PORT}`;
const ROOM_LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const PASSWORD = 'correct horse battery staple';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'admin');
const TMP = mkTemp('ar-it-admin-');
const STATE = path.join(TMP, 'state');
// The board's reboot command in this test: it records that it ran (the
// machine must not reboot).
const REBOOT_MARK = path.join(TMP, 'rebooted');
const FAKE_REBOOT = path.join(TMP, 'fake-reboot.sh');
// ALSA without a sound card: anyroomd's alsa-lib reads $HOME/.asoundrc, where
// a "file" PCM records what the speaker played (the real alsasink path).
const ALSA_HOME = path.join(TMP, 'alsa-home');
const TONE_RAW = path.join(ALSA_HOME, 'tone.raw');
const TURN_SECRET = 'turn-secret-4711';

let janus = null;
let daemon = null;
let browser = null;
let evil = null;
let pins = null;
let apiToken = null;


const req = (opts) => pinnedRequest({ port: PORT, fingerprint256: pins.fingerprint256, ...opts });

// A WebSocket handshake on /api/v1/events from node. Resolves {status} or,
// on 101, {status, st: {data, closed}} (data: the raw frames, as text).
function openEventStream(headers) {
  return new Promise((resolve, reject) => {
    const rq = https.request({
      host: '127.0.0.1', port: PORT, path: '/api/v1/events', agent: false, rejectUnauthorized: false,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), ...headers },
    });
    rq.on('upgrade', (res, socket) => {
      if (socket.getPeerCertificate().fingerprint256 !== pins.fingerprint256) {
        socket.destroy();
        reject(new Error('wrong certificate'));
        return;
      }
      const st = { data: '', closed: false };
      socket.on('data', (d) => { st.data += d.toString('latin1'); });
      socket.on('close', () => { st.closed = true; });
      socket.on('error', () => { st.closed = true; });
      resolve({ status: res.statusCode, st, socket });
    });
    rq.on('response', (res) => { res.resume(); resolve({ status: res.statusCode }); });
    rq.on('error', reject);
    rq.end();
  });
}

async function until(what, fn, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function message(page) {
  return (await page.textContent('#message')) || '';
}

async function waitMessage(page, re, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await message(page);
    if (re.test(last)) return last;
    await sleep(100);
  }
  throw new Error(`page message never matched ${re}; last: "${last}"`);
}

// The room's state from the owner-only socket: the ground truth.
async function assertIdle(what) {
  const s = await daemon.status();
  assert.equal(s.state, 'idle', `${what}: the room must not join (state ${s.state}, link ${s.link})`);
  assert.equal(s.link, null, `${what}: no link`);
}

// The audit log's authenticated stream (audit.log) or, with 'audit-unauth.log',
// what clients without a credential caused (docs/api.md "GET /api/v1/audit").
function auditEvents(file = 'audit.log') {
  const f = path.join(STATE, file);
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function sessionCookie() {
  const cookies = await browser.context.cookies(BASE);
  return cookies.find((c) => c.name === '__Host-ar_session');
}

async function csrfOf(cookieHeader) {
  const r = await req({ path: '/api/v1/session', headers: { Cookie: cookieHeader } });
  return r.json && r.json.csrf_token;
}

// A web site on another origin: the pages a meeting web app (or an ad in
// one) could show in the kiosk browser.
function startEvilSite() {
  const join = JSON.stringify({ link: ROOM_LINK });
  const pages = {
    '/fetch.html': `<!doctype html><title>evil fetch</title><script>
      window.results = {};
      (async () => {
        const u = '${BASE}/api/v1/commands/join';
        try { const r = await fetch(u, {method: 'POST', mode: 'no-cors', credentials: 'include',
          headers: {'Content-Type': 'text/plain'}, body: ${JSON.stringify(join)}});
          window.results.noCors = 'sent:' + r.type; } catch (e) { window.results.noCors = 'error:' + e.message; }
        try { const r = await fetch(u, {method: 'POST', mode: 'cors', credentials: 'include',
          headers: {'Content-Type': 'application/json'}, body: ${JSON.stringify(join)}});
          window.results.cors = 'status:' + r.status; } catch (e) { window.results.cors = 'error:' + e.message; }
        try { const r = await fetch('${BASE}/api/v1/status', {credentials: 'include'});
          window.results.read = 'status:' + r.status + ':' + (await r.text()).slice(0, 40); } catch (e) { window.results.read = 'error:' + e.message; }
        await new Promise((res) => {
          const ws = new WebSocket('wss://127.0.0.1:${PORT}/api/v1/events');
          ws.onopen = () => { window.results.ws = 'open'; ws.close(); res(); };
          ws.onerror = () => { window.results.ws = 'error'; res(); };
          setTimeout(res, 5000);
        });
        window.results.done = true;
      })();
      </script>`,
    '/form.html': `<!doctype html><title>evil form</title>
      <form id=f method=POST action="${BASE}/api/v1/commands/join" enctype="text/plain">
      <input name='{"link":"${ROOM_LINK}","x":"' value='"}'></form>
      <script>document.getElementById('f').submit();</script>`,
    '/form-urlencoded.html': `<!doctype html><title>evil form 2</title>
      <form id=f method=POST action="${BASE}/api/v1/commands/join">
      <input name=link value="${ROOM_LINK}"></form>
      <script>document.getElementById('f').submit();</script>`,
    '/img.html': `<!doctype html><title>evil img</title>
      <img id=i src="${BASE}/api/v1/commands/join?link=${encodeURIComponent(ROOM_LINK)}">
      <img id=j src="${BASE}/api/v1/commands/leave">
      <script>window.loaded = 0; for (const id of ['i','j']) { const el = document.getElementById(id);
        el.onload = el.onerror = () => { window.loaded++; }; }</script>`,
  };
  const server = http.createServer((rq, rs) => {
    const body = pages[rq.url.split('?')[0]];
    rs.writeHead(body ? 200 : 404, { 'Content-Type': 'text/html' });
    rs.end(body || 'not found');
  });
  return new Promise((resolve) => server.listen(EVIL_PORT, '127.0.0.1', () => resolve(server)));
}

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(FAKE_REBOOT, `#!/bin/sh\necho "reboot $*" >> '${REBOOT_MARK}'\n`, { mode: 0o755 });
  fs.mkdirSync(ALSA_HOME, { recursive: true });
  fs.writeFileSync(path.join(ALSA_HOME, '.asoundrc'),
    `pcm.labspeaker {\n type file\n slave.pcm "null"\n file "${TONE_RAW}"\n format "raw"\n}\n`);
  fs.writeFileSync(conf, `[room]\nname=Lab Room\n[admin]\nlisten=127.0.0.1:${PORT}\nhostnames=room.lab.test\n` +
    `login-max-failures=3\nlogin-lockout-minutes=1\n[system]\nreboot-command=${FAKE_REBOOT} --now\n` +
    // No web engine here (test-web-join.mjs has it): a recognized web link is refused with 422.
    '[web]\nenabled=false\n');
  janus = await startJanus({ dir: path.join(TMP, 'janus') });
  daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf, '--state-dir', STATE], env: { HOME: ALSA_HOME } });
  evil = await startEvilSite();
});

after(async () => {
  if (browser) await browser.close();
  if (evil) await new Promise((r) => evil.close(r));
  if (daemon) await daemon.stop(10000);
  if (janus) await janus.stop();
  if (fs.existsSync(path.join(TMP, 'anyroomd.log'))) fs.copyFileSync(path.join(TMP, 'anyroomd.log'), path.join(OUT, 'anyroomd.log'));
  if (failed()) console.log(`# anyroomd log (last 60 lines):\n${tail(path.join(TMP, 'anyroomd.log'), 60).replace(/^/gm, '# ')}`);
  fs.rmSync(TMP, { recursive: true, force: true });
});

step('first start: a self-signed certificate (key 0600), its fingerprint in the log and in status', async () => {
  const certPem = fs.readFileSync(path.join(STATE, 'admin-cert.pem'), 'utf8');
  pins = certPins(certPem);
  for (const f of ['admin-key.pem', 'admin-cert.pem']) {
    const mode = fs.statSync(path.join(STATE, f)).mode & 0o777;
    assert.equal(mode, 0o600, `${f} mode ${mode.toString(8)}`);
  }
  assert.equal(fs.statSync(STATE).mode & 0o777, 0o700, 'state dir 0700');
  const log = fs.readFileSync(daemon.log, 'utf8');
  assert.ok(log.includes(pins.fingerprint256), 'the log shows the certificate fingerprint');
  assert.ok(!log.includes('PRIVATE KEY'), 'the key is never logged');
  const s = await daemon.status();
  assert.equal(s.admin.tls_fingerprint_sha256, pins.fingerprint256, 'status shows the fingerprint');
  assert.equal(s.admin.url, `${BASE}/admin/`);
  // No default password: nothing to log in with until setup.
  const r = await req({ method: 'POST', path: '/api/v1/login', headers: { Origin: BASE }, body: { password: 'admin' } });
  assert.equal(r.status, 409, r.text);
  assert.ok(!fs.existsSync(path.join(STATE, 'admin-password')));
});

step('plain HTTP never serves the API', async () => {
  const r = await new Promise((resolve) => {
    const q = http.get({ host: '127.0.0.1', port: PORT, path: '/api/v1/status', timeout: 5000 }, (res) => resolve(`status ${res.statusCode}`));
    q.on('error', (e) => resolve(`error ${e.code || e.message}`));
    q.on('timeout', () => { q.destroy(); resolve('timeout'); });
  });
  assert.ok(!r.startsWith('status 2'), `plain HTTP got ${r}`);
});

step('first-run setup in Chromium (password rules, then logged in)', async () => {
  browser = await launchAdminBrowserAt({ spki: pins.spki, hostMap: ['evil.example'], url: `${BASE}/admin/`, selector: '#setup:not([hidden])' });
  const page = browser.page;
  const resp = await page.reload();
  assert.equal(resp.status(), 200);
  const h = resp.headers();
  assert.match(h['content-security-policy'], /default-src 'none'/);
  assert.match(h['content-security-policy'], /script-src 'self'/);
  assert.match(h['content-security-policy'], /frame-ancestors 'none'/);
  assert.equal(h['x-frame-options'], 'DENY');
  await page.waitForSelector('#setup:not([hidden])');
  assert.equal(await page.textContent('#fingerprint'), pins.fingerprint256, 'the page shows the fingerprint');
  await shot(page, '01-setup');
  await page.fill('#setup-password', 'too short');
  await page.fill('#setup-password2', 'too short');
  await page.click('#setup-form button');
  await waitMessage(page, /at least 10 characters/);
  await page.fill('#setup-password', PASSWORD);
  await page.fill('#setup-password2', PASSWORD);
  await page.click('#setup-form button');
  await page.waitForSelector('#admin:not([hidden])');
  await page.waitForFunction(() => document.getElementById('room-name').value === 'Lab Room');
  await shot(page, '02-logged-in');
  const mode = fs.statSync(path.join(STATE, 'admin-password')).mode & 0o777;
  assert.equal(mode, 0o600);
  const stored = fs.readFileSync(path.join(STATE, 'admin-password'), 'utf8');
  assert.match(stored, /^pbkdf2-sha256\$250000\$[0-9a-f]{32}\$[0-9a-f]{64}\n$/);
  // Setup is once only.
  const again = await req({ method: 'POST', path: '/api/v1/setup', headers: { Origin: BASE }, body: { password: 'another password 123' } });
  assert.equal(again.status, 409, again.text);
});

step('the session cookie is Secure, HttpOnly, SameSite=Strict, host-only', async () => {
  const c = await sessionCookie();
  assert.ok(c, 'a session cookie');
  assert.equal(c.secure, true);
  assert.equal(c.httpOnly, true);
  assert.equal(c.sameSite, 'Strict');
  assert.equal(c.path, '/');
  assert.equal(c.domain, '127.0.0.1');
  assert.equal(c.expires, -1, 'a session cookie, not a persistent one');
  assert.match(c.value, /^[0-9a-f]{64}$/);
  const hidden = await browser.page.evaluate(() => document.cookie);
  assert.equal(hidden, '', 'scripts cannot read it');
});

step('a change without the CSRF token is refused (the room does not join)', async () => {
  const page = browser.page;
  const res = await page.evaluate(async (link) => {
    const out = {};
    let r = await fetch('/api/v1/commands/join', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ link }) });
    out.join = r.status;
    out.joinBody = await r.text();
    r = await fetch('/api/v1/config', { method: 'PATCH', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'f'.repeat(64) }, body: JSON.stringify({ room: { name: 'Hacked' } }) });
    out.config = r.status;
    r = await fetch('/api/v1/commands/join', { method: 'GET' });
    out.getJoin = r.status;
    return out;
  }, ROOM_LINK);
  assert.equal(res.join, 403, res.joinBody);
  assert.match(res.joinBody, /CSRF/);
  assert.equal(res.config, 403);
  assert.equal(res.getJoin, 405, 'no state change over GET');
  await assertIdle('POST without CSRF');
  assert.equal((await daemon.status()).room_name, 'Lab Room');
});

step('room name: changed in the page, live in status and on the event stream', async () => {
  const page = browser.page;
  await page.evaluate(() => {
    window.__events = [];
    window.__ws = new WebSocket(`wss://${location.host}/api/v1/events`);
    window.__ws.onmessage = (e) => window.__events.push(JSON.parse(e.data));
    return new Promise((res, rej) => { window.__ws.onopen = res; window.__ws.onerror = () => rej(new Error('ws error')); });
  });
  await page.fill('#room-name', 'Board Room 4');
  await page.click('#room-form button');
  await waitMessage(page, /Room name saved/);
  const s = await daemon.status();
  assert.equal(s.room_name, 'Board Room 4', 'status shows the new name without a restart');
  await page.waitForFunction(() => window.__events.some((e) => e.event === 'config' && e.room_name === 'Board Room 4'), null, { timeout: 5000 });
  assert.equal(await page.textContent('#room-title'), 'Board Room 4');
  const saved = fs.readFileSync(path.join(STATE, 'settings.conf'), 'utf8');
  assert.match(saved, /^name=Board Room 4$/m);
  assert.equal(fs.statSync(path.join(STATE, 'settings.conf')).mode & 0o777, 0o600);
  const bad = await page.evaluate(async () => {
    const { csrf_token: csrf } = await (await fetch('/api/v1/session')).json();
    const r = await fetch('/api/v1/config', { method: 'PATCH', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify({ room: { name: 'x'.repeat(65) } }) });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.ok, false);
  assert.match(bad.body.error, /1 to 64/);
});

step('join and leave a real meeting from the page', async () => {
  const page = browser.page;
  await page.fill('#join-link', ROOM_LINK);
  await page.click('#join-form button[type=submit]');
  await waitMessage(page, /^Joined$/, 30000);
  let s = await daemon.status();
  assert.equal(s.state, 'connected');
  await page.waitForFunction(() => document.getElementById('call-state').textContent === 'connected', null, { timeout: 5000 });
  await shot(page, '03-in-meeting');
  await page.click('#leave');
  await waitMessage(page, /Left the meeting/, 20000);
  s = await daemon.status();
  assert.equal(s.state, 'idle');
});

step('API tokens: created in the page, used with Bearer (no cookie, no CSRF), revoked -> 401', async () => {
  const page = browser.page;
  await page.click('#tabs [data-tab=tokens]');
  await page.fill('#token-name', 'room-controller');
  // Scopes: status is ticked by default; this integration drives meetings
  // and sets the room name, nothing more (no media, no update).
  assert.ok(await page.isChecked('#token-scopes input[value=status]'));
  await page.check('#token-scopes input[value=commands]');
  await page.check('#token-scopes input[value=configuration]');
  await page.click('#token-form button[type=submit]');
  await page.waitForSelector('#new-token:not([hidden])');
  apiToken = (await page.textContent('#new-token-value')).trim();
  assert.match(apiToken, /^art_[0-9a-f]{64}$/);
  await page.waitForSelector('button[data-token="room-controller"]');
  assert.equal((await page.textContent('#tokens td.scopes')).trim(), 'status, commands, configuration');
  const tokens = JSON.parse(fs.readFileSync(path.join(STATE, 'tokens.json'), 'utf8'));
  assert.equal(tokens.length, 1);
  assert.deepEqual(tokens[0].scopes, ['status', 'commands', 'configuration']);
  assert.ok(!JSON.stringify(tokens).includes(apiToken.slice(4)), 'stored hashed, never in clear');
  assert.equal(fs.statSync(path.join(STATE, 'tokens.json')).mode & 0o777, 0o600);
  // Blur the secret before the screenshot.
  await page.evaluate(() => { document.getElementById('new-token-value').textContent = 'art_••••••••'; });
  await shot(page, '04-tokens');
  const auth = { Authorization: `Bearer ${apiToken}` };
  let r = await req({ path: '/api/v1/status', headers: auth });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.room_name, 'Board Room 4');
  r = await req({ method: 'PATCH', path: '/api/v1/config', headers: auth, body: { room: { name: 'Scripted Room' } } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await daemon.status()).room_name, 'Scripted Room');
  r = await req({ method: 'POST', path: '/api/v1/commands/join', headers: auth, body: { link: ROOM_LINK } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await daemon.status()).state, 'connected');
  r = await req({ method: 'POST', path: '/api/v1/commands/leave', headers: auth });
  assert.equal(r.status, 200, r.text);
  // Nothing past its scopes: no update, no video (media), no pairing code.
  r = await req({ method: 'POST', path: '/api/v1/commands/update-install', headers: auth, body: { source: 'https://example.org/a.raucb' } });
  assert.equal(r.status, 403, r.text);
  assert.match(r.json.error, /lacks the scope: update/);
  r = await req({ path: '/api/v1/room/info', headers: auth });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.pairing_code, null);
  // Tokens cannot manage tokens or read the audit log.
  r = await req({ path: '/api/v1/tokens', headers: auth });
  assert.equal(r.status, 403);
  r = await req({ path: '/api/v1/audit', headers: auth });
  assert.equal(r.status, 403);
  // A token does not get around the Origin check either.
  r = await req({ method: 'POST', path: '/api/v1/commands/join', headers: { ...auth, Origin: 'https://evil.example' }, body: { link: ROOM_LINK } });
  assert.equal(r.status, 403);
  // Bad requests: JSON errors with 4xx.
  r = await req({ method: 'POST', path: '/api/v1/commands/join', headers: auth, body: '{"link": ' });
  assert.equal(r.status, 400);
  assert.equal(r.json.ok, false);
  r = await req({ method: 'POST', path: '/api/v1/commands/join', headers: auth, body: '['.repeat(5000) + ']'.repeat(5000) });
  assert.equal(r.status, 400);
  r = await req({ method: 'POST', path: '/api/v1/commands/join', headers: auth, body: JSON.stringify({ link: 'x'.repeat(70 * 1024) }) });
  assert.equal(r.status, 413);
  assert.equal(r.json.ok, false);
  r = await req({ path: '/api/v1/nope', headers: auth });
  assert.equal(r.status, 404);
  assert.equal(r.json.ok, false);
  // The event stream with the token; without credentials or from another origin it is refused.
  const noAuth = await openEventStream({ Origin: BASE });
  assert.equal(noAuth.status, 401);
  const foreign = await openEventStream({ ...auth, Origin: EVIL });
  assert.equal(foreign.status, 403);
  const ws = await openEventStream(auth);
  assert.equal(ws.status, 101);
  r = await req({ method: 'PATCH', path: '/api/v1/config', headers: auth, body: { room: { name: 'Scripted Room' } } });
  await until('the config event on the token stream', () => ws.st.data.includes('"room_name":"Scripted Room"'));
  // Revoke in the page: the token and its open event stream end.
  await page.click('button[data-token="room-controller"]');
  await waitMessage(page, /Token room-controller revoked/);
  await until('the revoked token\'s event stream to close', () => ws.st.closed);
  r = await req({ path: '/api/v1/status', headers: auth });
  assert.equal(r.status, 401, r.text);
  assert.equal((await openEventStream(auth)).status, 401);
  r = await req({ method: 'POST', path: '/api/v1/commands/join', headers: auth, body: { link: ROOM_LINK } });
  assert.equal(r.status, 401);
  await assertIdle('revoked token');
});

step('cross-origin page: fetch, form posts, image tags and WebSocket cannot drive the room', async () => {
  const before = auditEvents().filter((e) => e.event === 'join').length;
  const page = await browser.context.newPage();
  await page.goto(`${EVIL}/fetch.html`);
  await page.waitForFunction(() => window.results && window.results.done, null, { timeout: 20000 });
  const results = await page.evaluate(() => window.results);
  console.log(`# evil fetch results: ${JSON.stringify(results)}`);
  assert.match(results.cors, /^error:/, 'a CORS fetch gets nothing back');
  assert.match(results.read, /^error:/, 'status cannot be read cross-origin');
  assert.equal(results.ws, 'error', 'the event WebSocket refuses a foreign Origin');
  await assertIdle('cross-origin fetch');

  for (const form of ['form.html', 'form-urlencoded.html']) {
    const navigated = page.waitForNavigation({ url: `${BASE}/api/v1/commands/join`, timeout: 10000 });
    await page.goto(`${EVIL}/${form}`);
    const resp = await navigated;
    assert.equal(resp.status(), 403, `${form}: ${await resp.text()}`);
    await assertIdle(`cross-origin ${form}`);
  }
  await shot(page, '05-evil-form-refused');

  await page.goto(`${EVIL}/img.html`);
  await page.waitForFunction(() => window.loaded === 2, null, { timeout: 10000 });
  await assertIdle('image tag');
  await page.close();
  assert.equal(auditEvents().filter((e) => e.event === 'join').length, before, 'no join reached the call manager');
});

step('DNS rebinding: a foreign host name that resolves to the room is refused (421)', async () => {
  const cookie = await sessionCookie();
  const cookieHeader = `${cookie.name}=${cookie.value}`;
  const csrf = await csrfOf(cookieHeader);
  assert.match(csrf, /^[0-9a-f]{64}$/);
  // Valid session and CSRF token, only the Host is foreign.
  const rebound = `evil.example:${PORT}`;
  let r = await req({ method: 'POST', path: '/api/v1/commands/join', body: { link: ROOM_LINK },
    headers: { Host: rebound, Origin: `https://${rebound}`, Cookie: cookieHeader, 'X-CSRF-Token': csrf } });
  assert.equal(r.status, 421, r.text);
  assert.equal(r.json.ok, false);
  r = await req({ path: '/api/v1/status', headers: { Host: rebound, Cookie: cookieHeader } });
  assert.equal(r.status, 421);
  // The same through Chromium, which resolves evil.example to 127.0.0.1.
  const page = await browser.context.newPage();
  const resp = await page.goto(`https://${rebound}/admin/`);
  assert.equal(resp.status(), 421);
  const res = await page.evaluate(async (link) => {
    const r2 = await fetch('/api/v1/commands/join', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ link }) });
    return r2.status;
  }, ROOM_LINK);
  assert.equal(res, 421);
  await shot(page, '06-rebound-host-refused');
  await page.close();
  // A configured name works (hostnames=room.lab.test).
  r = await req({ path: '/api/v1/session', headers: { Host: `room.lab.test:${PORT}` } });
  assert.equal(r.status, 200);
  await assertIdle('DNS rebinding');
});

step('wrong password is throttled in the page', async () => {
  const page = browser.page;
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])');
  assert.equal(await sessionCookie(), undefined, 'logout clears the cookie');
  // The event stream opened with that session ends with it.
  await page.waitForFunction(() => window.__ws.readyState === WebSocket.CLOSED, null, { timeout: 5000 });
  await page.fill('#login-password', 'wrong password 1');
  await page.click('#login-form button');
  await waitMessage(page, /^wrong password$/);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-form button');
  await waitMessage(page, /too soon after a failed login/);
  await shot(page, '07-login-throttled');
  await sleep(1200);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-form button');
  await page.waitForSelector('#admin:not([hidden])');
});

step('audit log: who did what, no secrets', async () => {
  const page = browser.page;
  const entries = await page.evaluate(async () => (await (await fetch('/api/v1/audit')).json()).entries);
  const kinds = entries.map((e) => e.event);
  for (const k of ['setup', 'login_failed', 'login', 'logout', 'config', 'token_created', 'token_revoked', 'join', 'leave'])
    assert.ok(kinds.includes(k), `audit has ${k}: ${kinds.join(',')}`);
  assert.ok(entries.some((e) => e.actor === 'token:room-controller' && e.event === 'join'));
  // Two streams: failed logins are the unauthenticated one's, the rest authenticated.
  for (const e of entries)
    assert.equal(e.stream, /^login_failed|^login_refused/.test(e.event) ? 'unauthenticated' : 'authenticated', JSON.stringify(e));
  assert.ok(auditEvents('audit-unauth.log').some((e) => e.event === 'login_failed'));
  assert.ok(!auditEvents().some((e) => e.event === 'login_failed'), 'no failed login in the authenticated stream');
  let raw = '';
  for (const f of ['audit.log', 'audit-unauth.log']) {
    raw += fs.readFileSync(path.join(STATE, f), 'utf8');
    assert.equal(fs.statSync(path.join(STATE, f)).mode & 0o777, 0o600, `${f} is 0600`);
  }
  const cookie = await sessionCookie();
  for (const secret of [PASSWORD, apiToken, cookie.value, 'room=1234'])
    assert.ok(!raw.includes(secret), 'no secret in the audit log');
  const log = fs.readFileSync(daemon.log, 'utf8');
  for (const secret of [PASSWORD, apiToken, cookie.value])
    assert.ok(!log.includes(secret), 'no secret in the daemon log');
});

step('connections do not leak file descriptors (HTTPS and the local socket)', async () => {
  const fds = () => fs.readdirSync(`/proc/${daemon.pid}/fd`).length;
  const before = fds();
  for (let i = 0; i < 40; i++) {
    // keep-alive: the client closes the idle connection, the case libsoup 3.2 leaks.
    await req({ path: '/api/v1/session', headers: { Connection: 'keep-alive' } });
    await req({ path: '/admin/', headers: { Connection: 'keep-alive' } });
  }
  for (let i = 0; i < 20; i++) await daemon.status();
  await sleep(500);
  const grown = fds() - before;
  assert.ok(grown <= 3, `anyroomd has ${grown} more open files after 100 connections`);
});

// A change through the page, as an admin makes it.
async function pageFetch(page, method, url, body) {
  return page.evaluate(async ([m, u, b]) => {
    const { csrf_token: csrf } = await (await fetch('/api/v1/session')).json();
    const r = await fetch(u, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: b === undefined ? undefined : JSON.stringify(b) });
    let json = null;
    try { json = await r.json(); } catch { json = null; }
    return { status: r.status, json };
  }, [method, url, body]);
}

step('devices page: the engine\'s devices, a test tone through the chosen speaker, a live camera preview', async () => {
  const page = browser.page;
  await page.click('#tabs [data-tab=devices]');
  await page.waitForFunction(() => [...document.querySelectorAll('#camera-select option')].some((o) => o.value === 'test'), null, { timeout: 20000 });
  const speakers = await page.$$eval('#speaker-select option', (os) => os.map((o) => o.value));
  assert.ok(speakers.includes('auto') && speakers.includes('none'), `speakers: ${speakers}`);
  // The preview: pictures from the chosen camera, again and again.
  await page.selectOption('#camera-select', 'test');
  await page.waitForFunction(() => {
    const img = document.getElementById('camera-preview');
    return img.complete && img.naturalWidth === 320 && /camera=test&n=[2-9]/.test(img.src);
  }, null, { timeout: 20000 });
  // The test tone through the lab speaker (an ALSA device anyroomd knows by name).
  await page.evaluate(() => {
    const o = document.createElement('option');
    o.value = 'labspeaker';
    o.textContent = 'Lab speaker (ALSA file PCM)';
    document.getElementById('speaker-select').append(o);
  });
  await page.selectOption('#speaker-select', 'labspeaker');
  await page.click('#test-tone');
  await waitMessage(page, /^Test tone played$/, 20000);
  const raw = fs.readFileSync(TONE_RAW);
  let nonzero = 0;
  for (const b of raw) if (b) nonzero++;
  assert.ok(nonzero > 48000, `the tone reached the speaker: ${nonzero} non-zero bytes of ${raw.length}`);
  // A speaker name the config would refuse gets a clear error.
  const bad = await pageFetch(page, 'POST', '/api/v1/commands/test-tone', { speaker: '$(reboot)' });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /device/);
  await page.selectOption('#microphone-select', 'test');
  await page.click('#devices-form button[type=submit]');
  await waitMessage(page, /^Devices saved$/);
  // From the next call, no restart: the engine says what it will use.
  await until('the engine to take the devices', () => /media: camera: videotestsrc .*microphone: audiotestsrc .*speaker: alsasink labspeaker/.test(fs.readFileSync(daemon.log, 'utf8')));
  const saved = fs.readFileSync(path.join(STATE, 'settings.conf'), 'utf8');
  assert.match(saved, /^camera=test$/m);
  assert.match(saved, /^speaker=labspeaker$/m);
  // The microphone's processing: on unless said otherwise; off applies from the next call.
  for (const id of ['#echo-cancellation', '#noise-suppression', '#gain-control']) assert.ok(await page.isChecked(id), `${id} on by default`);
  await page.uncheck('#echo-cancellation');
  await page.click('#audio-form button[type=submit]');
  await waitMessage(page, /^Microphone processing saved$/);
  await until('the engine to take it', () => /media: .*echo cancellation off, noise suppression on, gain control on/.test(fs.readFileSync(daemon.log, 'utf8')));
  assert.match(fs.readFileSync(path.join(STATE, 'settings.conf'), 'utf8'), /^echo-cancellation=false$/m);
  await page.check('#echo-cancellation');
  await page.click('#audio-form button[type=submit]');
  await waitMessage(page, /^Microphone processing saved$/);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, '10-devices');
  assert.ok(auditEvents().some((e) => e.event === 'test_tone'));
  assert.ok(auditEvents().some((e) => e.event === 'camera_preview' && e.actor === 'admin'), 'the preview is audited');
  const previews = auditEvents().filter((e) => e.event === 'camera_preview').length;
  assert.ok(previews <= 2, `audited at most once a minute, not per picture (${previews})`);
});

step('network page: ICE servers apply to the next call, a bad value gets a clear error, the TURN password is write-only', async () => {
  const page = browser.page;
  await page.click('#tabs [data-tab=network]');
  await page.fill('#stun', 'stun:10.99.0.1:3478');
  await page.fill('#turn', 'turn:10.99.0.1:3478?transport=udp\nturn:10.99.0.1:3478?transport=tcp');
  await page.fill('#turn-username', 'labroom');
  await page.fill('#turn-password', TURN_SECRET);
  await page.click('#network-form button[type=submit]');
  await waitMessage(page, /^Network settings saved$/);
  assert.equal(await page.inputValue('#turn-password'), '', 'the password field is emptied');
  assert.match(await page.textContent('#turn-password-state'), /A TURN password is set/);
  await until('the reload in the log', () => /network: now 1 STUN, 2 TURN server\(s\)/.test(fs.readFileSync(daemon.log, 'utf8')));
  const cfg = await pageFetch(page, 'GET', '/api/v1/config');
  assert.equal(cfg.json.network['turn-password-set'], true);
  assert.ok(!JSON.stringify(cfg.json).includes(TURN_SECRET), 'never read back');
  const ctl = await daemon.ctl('config');
  assert.equal(ctl.code, 0);
  assert.ok(!ctl.stdout.includes(TURN_SECRET) && ctl.stdout.includes('"turn-password-set" : true'), ctl.stdout);
  await shot(page, '11-network');
  // Relay-only without TURN: the config file's own rule, in the page.
  await page.fill('#turn', '');
  await page.fill('#turn-username', '');
  await page.check('#relay-only');
  await page.click('#network-form button[type=submit]');
  await waitMessage(page, /relay-only: needs a TURN server/);
  await shot(page, '11-network-error');
  // Back to no ICE servers (the lab meeting is direct); from the local socket.
  const r = await daemon.ctl('config', 'set', 'network.stun=', 'network.turn=', 'network.turn-username=', 'network.turn-password=');
  assert.equal(r.code, 0, r.stderr);
  await until('the page to follow the event', async () => (await page.inputValue('#stun')) === '' && !(await page.isChecked('#relay-only')));
  // Bodies nested deeper than the bounds are refused by both APIs before they are parsed.
  let deep = {};
  for (let i = 0; i < 100; i++) deep = { a: deep };
  // (Built in the page: Playwright does not pass such deep arguments.)
  const deepFetch = (method, url, member) => page.evaluate(async ([m, u, name]) => {
    let d = {};
    for (let i = 0; i < 100; i++) d = { a: d };
    const { csrf_token: csrf } = await (await fetch('/api/v1/session')).json();
    const r = await fetch(u, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ [name]: d }) });
    return { status: r.status, json: await r.json() };
  }, [method, url, member]);
  const deepPatch = await deepFetch('PATCH', '/api/v1/config', 'room');
  assert.equal(deepPatch.status, 400);
  assert.match(deepPatch.json.error, /too deeply nested/);
  const deepJoin = await deepFetch('POST', '/api/v1/commands/join', 'link');
  assert.equal(deepJoin.status, 400);
  assert.match(deepJoin.json.error, /nests deeper than 16 levels/);
  const deepLocal = await localRequest(daemon.socket, 'POST', '/api/v1/commands/join', JSON.stringify({ link: deep }));
  assert.equal(deepLocal.status, 400, deepLocal.text);
  assert.match(deepLocal.text, /nests deeper than 16 levels/);
  assert.equal((await daemon.status()).state, 'idle');
  for (const f of [daemon.log, path.join(STATE, 'audit.log')])
    assert.ok(!fs.readFileSync(f, 'utf8').includes(TURN_SECRET), `no TURN password in ${path.basename(f)}`);
  assert.ok(auditEvents().some((e) => e.event === 'config' && /network.turn-password/.test(e.detail)));
  assert.ok(auditEvents().some((e) => e.event === 'config' && e.client === 'local socket'), 'anyroomctl changes are audited too');
});

step('meeting domains page: a self-hosted Jitsi domain is recognized from the next link', async () => {
  const page = browser.page;
  const link = 'https://meet.lab-jitsi.example/BoardMeeting';
  let r = await pageFetch(page, 'POST', '/api/v1/commands/join', { link });
  assert.equal(r.status, 400, `unknown domain: ${JSON.stringify(r.json)}`);
  await page.click('#tabs [data-tab=domains]');
  await page.fill('#jitsi-domains', 'meet.lab-jitsi.example\n*.jitsi.lab.example');
  await page.click('#domains-form button[type=submit]');
  await waitMessage(page, /^Meeting domains saved$/);
  r = await pageFetch(page, 'POST', '/api/v1/commands/join', { link });
  assert.equal(r.status, 422, `now a Jitsi meeting (this lab's room has its web engine off): ${JSON.stringify(r.json)}`);
  assert.match(r.json.error, /jitsi/i);
  await shot(page, '12-domains');
  await page.fill('#jitsi-domains', 'not a domain');
  await page.click('#domains-form button[type=submit]');
  await page.waitForSelector('#message.error', { timeout: 10000 });
  assert.match(await message(page), /jitsi-domains/);
  await shot(page, '12-domains-error');
  await assertIdle('domains');
});

step('calls page: live graphs of a real call, then the call in the history', async () => {
  const page = browser.page;
  await page.click('#tabs [data-tab=room]');
  await page.fill('#join-link', ROOM_LINK);
  await page.click('#join-form button[type=submit]');
  await waitMessage(page, /^Joined$/, 30000);
  await page.click('#tabs [data-tab=calls]');
  const start = await page.evaluate(() => window.__statsSamples || 0);
  await page.waitForFunction((n) => (window.__statsSamples || 0) >= n + 4, start, { timeout: 20000 });
  // The bitrate graph has a sent line drawn (blue pixels), from real counters.
  const blue = await page.evaluate(() => {
    const c = document.getElementById('graph-bitrate');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 60 && d[i + 2] > 150 && d[i + 3] > 0) n++;
    return n;
  });
  assert.ok(blue > 20, `the sent-bitrate line is drawn (${blue} px)`);
  const s = await daemon.status();
  assert.ok(s.tracks.some((t) => t.direction === 'send' && t.bitrate_bps > 0), 'the room is sending');
  await shot(page, '13-calls-live');
  await page.click('#tabs [data-tab=room]');
  await page.click('#leave');
  await waitMessage(page, /Left the meeting/, 20000);
  await page.click('#tabs [data-tab=calls]');
  await page.waitForFunction(() => /janus/.test(document.querySelector('#history tbody tr')?.textContent || '') &&
    /ended/.test(document.querySelector('#history tbody tr').textContent), null, { timeout: 10000 });
  const hist = JSON.parse(fs.readFileSync(path.join(STATE, 'history.json'), 'utf8'));
  assert.equal(hist[0].provider, 'janus');
  assert.equal(hist[0].result, 'ended');
  assert.ok(hist[0].duration_s > 0, `duration ${hist[0].duration_s}`);
  assert.ok(hist.some((h) => h.result === 'failed' || h.result === 'ended'));
  assert.ok(!JSON.stringify(hist).includes('room=1234'), 'no link in the history');
  assert.equal(fs.statSync(path.join(STATE, 'history.json')).mode & 0o777, 0o600);
  const ctl = await daemon.ctl('history');
  assert.equal(ctl.code, 0, ctl.stderr);
  assert.match(ctl.stdout.split('\n')[0], /^\d{4}-\d\d-\d\dT\S+Z\s+janus\s+\d+\.\d s\s+ended$/, ctl.stdout);
  await shot(page, '13-calls-history');
});

step('logs page: the last lines, a download, no secrets', async () => {
  const page = browser.page;
  await page.click('#tabs [data-tab=logs]');
  await page.waitForFunction(() => /call: /.test(document.getElementById('log-view').textContent), null, { timeout: 10000 });
  await page.waitForSelector('#audit tbody tr');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#logs-download')]);
  const file = path.join(TMP, 'downloaded-log.txt');
  await download.saveAs(file);
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /admin: listening on https:/);
  assert.match(text, /config: changed network\.stun/);
  for (const secret of [TURN_SECRET, PASSWORD, apiToken])
    assert.ok(!text.includes(secret), 'no secret in the downloaded log');
  // Tokens may not read logs.
  const r = await req({ path: '/api/v1/logs', headers: { Authorization: 'Bearer art_' + '0'.repeat(64) } });
  assert.equal(r.status, 401);
  await shot(page, '14-logs');
});

step('system page: the room\'s provisioning file downloads, secrets only as hashes', async () => {
  const page = browser.page;
  // A static TURN password: a secret the room holds in plain, never exported.
  let r = await daemon.ctl('config', 'set', 'network.turn=turn:10.99.0.1:3478', 'network.turn-username=labroom',
    `network.turn-password=${TURN_SECRET}`);
  assert.equal(r.code, 0, r.stderr);
  await page.click('#tabs [data-tab=system]');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#provision-export')]);
  assert.match(download.suggestedFilename(), /^anyroom-provisioning-[A-Za-z0-9._-]+\.json$/);
  const file = path.join(TMP, 'provisioning.json');
  await download.saveAs(file);
  const text = fs.readFileSync(file, 'utf8');
  const p = JSON.parse(text);
  assert.equal(p.format, 1);
  assert.ok(Array.isArray(p.boards) && p.boards.length > 0, text);
  assert.match(p.admin['password-hash'], /^pbkdf2-sha256\$/, 'the password as the room keeps it');
  for (const secret of [TURN_SECRET, PASSWORD]) assert.ok(!text.includes(secret), 'no plain secret in the file');
  assert.ok(!('turn' in (p.settings.network || {})), 'the TURN servers go with their password');
  assert.match(await page.textContent('#provision-omitted'), /Left out .*network\.turn-password/);
  await waitMessage(page, /^Provisioning file downloaded/);
  await shot(page, '15-system-provisioning');
  assert.ok(auditEvents().some((e) => e.event === 'provision_exported' && e.actor === 'admin'));
  r = await daemon.ctl('config', 'set', 'network.turn=', 'network.turn-username=', 'network.turn-password=');
  assert.equal(r.code, 0, r.stderr);
});

step('system page: reboot runs the board\'s reboot command', async () => {
  const page = browser.page;
  await page.click('#tabs [data-tab=system]');
  await page.click('#reboot');
  await page.waitForSelector('#reboot-confirm:visible');
  await shot(page, '15-system');
  await page.click('#reboot-confirm');
  await waitMessage(page, /^Rebooting/);
  await until('the reboot command to run', () => fs.existsSync(REBOOT_MARK));
  assert.equal(fs.readFileSync(REBOOT_MARK, 'utf8').trim(), 'reboot --now');
  assert.ok(auditEvents().some((e) => e.event === 'reboot' && e.actor === 'admin'));
  // Not with GET, not without a session.
  let r = await req({ path: '/api/v1/commands/reboot' });
  assert.equal(r.status, 401);
});

step('lockout after repeated failures, even for the right password', async () => {
  const login = (password) => req({ method: 'POST', path: '/api/v1/login', headers: { Origin: BASE }, body: { password } });
  // Parallel guesses from one address: one is checked, the others wait.
  const burst = await Promise.all([1, 2, 3, 4].map((i) => login(`wrong ${i} wrong ${i}`)));
  const statuses = burst.map((x) => x.status).sort();
  assert.deepEqual(statuses, [401, 429, 429, 429], `parallel guesses: ${statuses}`);
  let r;
  await sleep(1100);
  r = await login('wrong 2 wrong 2');
  assert.equal(r.status, 401);
  await sleep(2100);
  r = await login('wrong 3 wrong 3');
  assert.equal(r.status, 401);
  assert.match(r.json.error, /locked/);
  r = await login(PASSWORD);
  assert.equal(r.status, 429, r.text);
  assert.match(r.json.error, /locked/);
  assert.ok(Number(r.headers['retry-after']) > 50, `Retry-After ${r.headers['retry-after']}`);
  // Login from a cross-origin page is refused before the password is looked at.
  r = await req({ method: 'POST', path: '/api/v1/login', headers: { Origin: EVIL }, body: { password: PASSWORD } });
  assert.equal(r.status, 403);
  await assertIdle('end');
});

step('factory reset: everything erased, back to first-run setup', async () => {
  const page = browser.page;
  await page.click('#tabs [data-tab=system]');
  await page.click('#factory-reset');
  await page.click('#factory-reset-confirm');
  await page.waitForSelector('#setup:not([hidden])', { timeout: 10000 });
  await waitMessage(page, /Factory reset done/);
  await shot(page, '16-factory-reset-setup');
  for (const f of ['admin-password', 'tokens.json', 'settings.conf', 'history.json', 'admin-key.pem', 'admin-cert.pem'])
    assert.ok(!fs.existsSync(path.join(STATE, f)), `${f} erased`);
  assert.deepEqual(auditEvents().map((e) => e.event), ['factory_reset'], 'the audit log starts again');
  assert.deepEqual(auditEvents('audit-unauth.log'), [], 'both streams start again');
  const r = await req({ path: '/api/v1/session' });
  assert.equal(r.json.setup_required, true);
  assert.equal(await sessionCookie(), undefined, 'the session cookie is gone');
  const s = await daemon.status();
  assert.equal(s.room_name, 'Lab Room', 'the config file\'s room name again');
  const cfg = await daemon.ctl('config');
  assert.match(cfg.stdout, /"jitsi-domains" : \[\s*\]/);
  // The old session is dead for the server too.
  const st = await page.evaluate(async () => (await fetch('/api/v1/status')).status);
  assert.equal(st, 401);
});
