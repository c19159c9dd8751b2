// Integration: an administrator adds, replaces and removes web meeting recipes without a
// firmware update (issue 11 part 3): the HTTPS API (GET /api/v1/recipes, PUT and DELETE
// /api/v1/recipes/ID), anyroomctl over the local socket, and the admin page's "Web meetings"
// tab in a real headless Chromium. The real anyroomd runs its web engine (a meeting browser
// over CDP on a pipe; fake devices in the browser, no bridge); the meeting app is the small
// TEST FIXTURE app (tests/lab/webapp/server.mjs) and its recipe the one an administrator
// would write for it (tests/lab/recipes/fixture-app.json).
//
//   a link of the app's host is refused until its recipe is uploaded, then taken by it (lobby);
//   a call in progress keeps its recipe when it is removed meanwhile (admitted -> connected);
//   bad recipe -> 400 naming the field, nothing written; over 64 KiB -> 413; id mismatch ->
//   400; http:// to another host -> 400; built-in -> 409 on DELETE, replaced and restored;
//   no credentials -> 401, a token without the configuration scope -> 403, no CSRF -> 403;
//   every change in the audit log (HTTPS and local socket).
//
// Runs inside a private network namespace (tests/lab/in-netns.sh), TAP output:
//   tests/integration/run-in-lab.sh tests/integration/test-admin-recipes.mjs
// Screenshots and logs: $AR_BUILD_DIR/meson-logs/lab/admin-recipes/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../lab/participant.mjs';
import { LAB, buildDir, mkTemp, sleep, startAnyroomd } from '../lab/lab.mjs';
import { certPins, launchAdminBrowserAt, pinnedRequest } from '../lab/admin-browser.mjs';
import { startWebApp } from '../lab/webapp/server.mjs';
import { ctlFail, stepper, waitState } from './common.mjs';

const PORT = 8443;
const BASE = `https://127.0.0.1:${PORT}`;
const PASSWORD = 'correct horse battery staple';
const ROOM_NAME = 'Recipe Room';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'admin-recipes');
const TMP = mkTemp('ar-it-admin-recipes-');
const STATE = path.join(TMP, 'state');
const ADMIN_DIR = path.join(STATE, 'recipes'); // the default: STATE_DIR/recipes
const FIXTURE = fs.readFileSync(path.join(LAB, 'recipes', 'fixture-app.json'), 'utf8');
const SOURCE = process.env.AR_SOURCE_DIR || path.resolve(LAB, '..', '..');
const JITSI = fs.readFileSync(path.join(SOURCE, 'firmware', 'recipes', 'data', 'jitsi.json'), 'utf8');

let app = null;
let daemon = null;
let browser = null;
let pins = null;
let session = null; // { Cookie, 'X-CSRF-Token', Origin }
let cfgToken = null;
let statusToken = null;
let joinRun = null;

const { step, failed } = stepper({
  timeout: 90000,
  onFail: async () => {
    if (!daemon) return;
    await daemon.ctl('leave').catch(() => {});
    await waitState(daemon, 'idle', { timeoutMs: 20000 }).catch(() => {});
    if (joinRun) await joinRun;
    joinRun = null;
  },
});

const req = (opts) => pinnedRequest({ port: PORT, fingerprint256: pins.fingerprint256, ...opts });
const asAdmin = (method, p, body = null, type = null) => {
  if (!session) throw new Error('no admin session: the setup step failed (see its error)');
  return req({ method, path: p, body, headers: { ...session, ...(type ? { 'Content-Type': type } : {}) } });
};
const asToken = (token, method, p, body = null) => {
  if (!token) throw new Error('no API token: the setup step failed (see its error)');
  return req({ method, path: p, body, headers: { Authorization: `Bearer ${token}` } });
};
const link = (scenario) => `${app.url}/meet?scenario=${scenario}`;
const adminFiles = () => (fs.existsSync(ADMIN_DIR) ? fs.readdirSync(ADMIN_DIR).sort() : []);

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function list() {
  const r = await asAdmin('GET', '/api/v1/recipes');
  assert.equal(r.status, 200, r.text);
  return r.json;
}

function auditEvents() {
  const f = path.join(STATE, 'audit.log');
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  app = await startWebApp();
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', `name=${ROOM_NAME}`,
    '[device]', 'camera=test', 'microphone=test', 'speaker=none', 'display=none',
    '[call]', 'join-timeout=60',
    '[admin]', `listen=127.0.0.1:${PORT}`,
    // No [web] recipes: the administrator's folder is STATE_DIR/recipes, made by the first upload.
    '[web]', 'headless=true', 'bridge=false',
    'browser-flags=--no-sandbox;--disable-gpu;--disable-dev-shm-usage;--use-fake-device-for-media-stream;--use-fake-ui-for-media-stream',
    '',
  ].join('\n'));
  daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf, '--state-dir', STATE] });
  pins = certPins(fs.readFileSync(path.join(STATE, 'admin-cert.pem'), 'utf8'));
});

after(async () => {
  if (failed() && daemon) console.error(`# anyroomd log:\n${daemon.logTail(120).replace(/^/gm, '#   ')}`);
  if (daemon) fs.copyFileSync(daemon.log, path.join(OUT, 'anyroomd.log'));
  if (browser) await browser.close();
  if (daemon) await daemon.stop();
  if (app) await app.close();
  fs.rmSync(TMP, { recursive: true, force: true });
});

step('setup in Chromium; a token with the configuration scope and one without', async () => {
  browser = await launchAdminBrowserAt({ spki: pins.spki, url: `${BASE}/admin/`, selector: '#setup:not([hidden])' });
  const page = browser.page;
  await page.fill('#setup-password', PASSWORD);
  await page.fill('#setup-password2', PASSWORD);
  await page.click('#setup-form button');
  await page.waitForSelector('#admin:not([hidden])');
  const cookie = (await browser.context.cookies(BASE)).find((c) => c.name === '__Host-ar_session');
  const Cookie = `${cookie.name}=${cookie.value}`;
  const s = await req({ path: '/api/v1/session', headers: { Cookie } });
  session = { Cookie, 'X-CSRF-Token': s.json.csrf_token, Origin: BASE };
  let r = await asAdmin('POST', '/api/v1/tokens', { name: 'provisioning', scopes: ['configuration'] });
  assert.equal(r.status, 201, r.text);
  cfgToken = r.json.token;
  r = await asAdmin('POST', '/api/v1/tokens', { name: 'monitor', scopes: ['status', 'commands'] });
  assert.equal(r.status, 201, r.text);
  statusToken = r.json.token;
}, 300000);

step('the list: every built-in recipe, none of the administrator\'s, no errors', async (t) => {
  const l = await list();
  const ids = l.recipes.map((r) => r.id);
  assert.deepEqual(ids, ['generic', 'google-meet', 'jitsi', 'teams', 'webex', 'whereby', 'zoom']);
  for (const r of l.recipes) {
    assert.equal(r.origin, 'built-in');
    assert.equal(r.overrides_built_in, false);
  }
  assert.deepEqual(l.recipes.find((r) => r.id === 'teams').providers, ['teams']);
  assert.equal(l.recipes.find((r) => r.id === 'generic').fallback, true);
  assert.deepEqual(l.errors, []);
  assert.equal(l.admin_folder, ADMIN_DIR);
  assert.equal(l.max_size, 65536);
  assert.equal(l.web_engine, true);
  const c = await daemon.ctl('recipes');
  assert.equal(c.code, 0, ctlFail(c, 'recipes'));
  assert.match(c.stdout, /^teams\s+built-in\s+teams\s+Microsoft Teams$/m);
  t.diagnostic(c.stdout.trim().split('\n').join(' | '));
});

step('who may: no credentials 401, a token without configuration 403, no CSRF 403', async () => {
  let r = await req({ path: '/api/v1/recipes' });
  assert.equal(r.status, 401, r.text);
  r = await req({ method: 'PUT', path: '/api/v1/recipes/fixture-app', body: FIXTURE, headers: { Origin: BASE } });
  assert.equal(r.status, 401, r.text);
  r = await req({ method: 'DELETE', path: '/api/v1/recipes/teams', headers: { Origin: BASE } });
  assert.equal(r.status, 401, r.text);
  r = await asToken(statusToken, 'GET', '/api/v1/recipes');
  assert.equal(r.status, 403, r.text);
  assert.match(r.json.error, /lacks the scope: configuration/);
  r = await asToken(statusToken, 'PUT', '/api/v1/recipes/fixture-app', FIXTURE);
  assert.equal(r.status, 403, r.text);
  r = await req({ method: 'PUT', path: '/api/v1/recipes/fixture-app', body: FIXTURE,
    headers: { Cookie: session.Cookie, Origin: BASE } });
  assert.equal(r.status, 403, `no CSRF token: ${r.text}`);
  r = await req({ method: 'PUT', path: '/api/v1/recipes/fixture-app', body: FIXTURE,
    headers: { ...session, Origin: 'https://evil.example' } });
  assert.equal(r.status, 403, `cross-origin: ${r.text}`);
  r = await asAdmin('POST', '/api/v1/recipes/fixture-app', FIXTURE);
  assert.equal(r.status, 405, r.text);
  assert.deepEqual(adminFiles(), [], 'nothing written');
});

step('before its recipe, a link to the app is refused', async () => {
  const r = await daemon.ctl('join', link('lobby'), '--timeout', '20');
  assert.notEqual(r.code, 0, ctlFail(r, 'join'));
  assert.equal(app.joins.length, 0, 'the app saw no join');
  const s = await daemon.status();
  assert.ok(['idle', 'failed'].includes(s.state), s.state);
});

step('a bad recipe: 400 naming the field, nothing written', async () => {
  const bad = FIXTURE.replace('"#prejoin #name"', '"#prejoin [name"');
  let r = await asToken(cfgToken, 'PUT', '/api/v1/recipes/fixture-app', bad);
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error, /^steps\[0\]\.selectors\[0\]: /);
  // What the built-in rules forbid stays forbidden: http:// only to loopback.
  const wide = FIXTURE.replace('"origins": ["{link}"]', '"origins": ["http://meet.example.org"]');
  assert.notEqual(wide, FIXTURE);
  r = await asToken(cfgToken, 'PUT', '/api/v1/recipes/fixture-app', wide);
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error, /^origins\[0\]: /);
  r = await asToken(cfgToken, 'PUT', '/api/v1/recipes/fixture-app', '{"format": 1,');
  assert.equal(r.status, 400, r.text);
  r = await asToken(cfgToken, 'PUT', '/api/v1/recipes/fixture-app', '');
  assert.equal(r.status, 400, r.text);
  // The id in the address is the recipe's.
  r = await asToken(cfgToken, 'PUT', '/api/v1/recipes/other-app', FIXTURE);
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error, /^id: the recipe's id "fixture-app" is not the id in the address \(other-app\)/);
  r = await asToken(cfgToken, 'PUT', '/api/v1/recipes/Fixture_App', FIXTURE);
  assert.equal(r.status, 400, r.text);
  r = await asToken(cfgToken, 'PUT', '/api/v1/recipes/..%2Fx', FIXTURE);
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(adminFiles(), [], 'nothing written, no temporary file left');
});

step('over 64 KiB: 413 (HTTPS and the local socket)', async () => {
  const big = FIXTURE.replace('"notes": "', `"notes": "${'x'.repeat(70 * 1024)}`);
  const r = await asToken(cfgToken, 'PUT', '/api/v1/recipes/fixture-app', big);
  assert.equal(r.status, 413, r.text);
  const file = path.join(TMP, 'big.json');
  fs.writeFileSync(file, big);
  const c = await daemon.ctl('recipes', 'add', file);
  assert.equal(c.code, 1, ctlFail(c, 'recipes add big.json'));
  assert.match(c.stderr, /larger than 65536 bytes/);
  assert.deepEqual(adminFiles(), []);
});

step('upload (token): 201, listed as the administrator\'s, 0600 in STATE/recipes', async () => {
  const r = await asToken(cfgToken, 'PUT', '/api/v1/recipes/fixture-app', FIXTURE);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.replaced, false);
  assert.deepEqual(r.json.recipe.hosts, ['127.0.0.1']);
  assert.deepEqual(adminFiles(), ['fixture-app.json']);
  const f = path.join(ADMIN_DIR, 'fixture-app.json');
  assert.equal(fs.statSync(f).mode & 0o777, 0o600);
  assert.equal(fs.statSync(ADMIN_DIR).mode & 0o777, 0o700);
  assert.equal(fs.readFileSync(f, 'utf8'), FIXTURE, 'the file is the upload, byte for byte');
  const l = await list();
  const mine = l.recipes.find((x) => x.id === 'fixture-app');
  assert.deepEqual(mine, { id: 'fixture-app', name: 'Fixture meeting app (test lab)', origin: 'admin',
    overrides_built_in: false, hosts: ['127.0.0.1'], providers: [], fallback: false });
});

step('the next join by a link of its host is taken by it (no restart)', async (t) => {
  const t0 = Date.now();
  joinRun = daemon.ctl('join', link('lobby'), '--timeout', '60');
  const s = await waitState(daemon, 'lobby', { timeoutMs: 40000 });
  t.diagnostic(`link -> lobby ${Date.now() - t0} ms: ${s.message}`);
  assert.equal(s.engine, 'web');
  assert.equal(s.provider, 'fixture-app');
  assert.deepEqual(app.joins, [ROOM_NAME], 'the recipe typed the room name');
  const r = await Promise.race([joinRun, sleep(15000).then(() => null)]);
  joinRun = null;
  assert.ok(r, 'anyroomctl join answered at the lobby');
  assert.equal(r.code, 0, ctlFail(r, 'join'));
});

step('removed while the call waits in the lobby: the call keeps its recipe', async (t) => {
  const r = await asAdmin('DELETE', '/api/v1/recipes/fixture-app');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.built_in_restored, false);
  assert.deepEqual(adminFiles(), []);
  await sleep(1500);
  assert.equal((await daemon.status()).state, 'lobby', 'still in the lobby');
  await app.control('admit');
  // The in-call probe and the page's Leave button come from the recipe the call started with.
  const s = await waitState(daemon, 'connected', { timeoutMs: 30000 });
  assert.equal(s.provider, 'fixture-app');
  const leave = await daemon.ctl('leave');
  assert.equal(leave.code, 0, ctlFail(leave, 'leave'));
  await waitState(daemon, 'idle', { timeoutMs: 20000 });
  assert.equal(app.leaves, 1, 'the old recipe pressed the page\'s own Leave');
  t.diagnostic('admitted -> connected -> left with the removed recipe');
});

step('after the removal, a link to the app is refused again', async () => {
  app.joins.length = 0;
  const r = await daemon.ctl('join', link('lobby'), '--timeout', '20');
  assert.notEqual(r.code, 0, ctlFail(r, 'join'));
  assert.equal(app.joins.length, 0);
  assert.ok(!(await list()).recipes.some((x) => x.id === 'fixture-app'));
});

step('an uploaded recipe that names anyroomd\'s own origin does not open it to the page', async (t) => {
  // https:// origins are the loader's to allow; anyroomd's own stays blocked by the engine.
  const wide = FIXTURE.replace('"origins": ["{link}"]',
    `"origins": ["{link}", "https://127.0.0.1:${PORT}", "https://localhost:${PORT}"]`);
  assert.notEqual(wide, FIXTURE);
  let r = await asToken(cfgToken, 'PUT', '/api/v1/recipes/fixture-app', wide);
  assert.equal(r.status, 201, r.text);
  // The admin page polls the API: away from it, so that any request in the log is the page's.
  if (browser) await browser.page.goto('about:blank');
  const logBefore = fs.readFileSync(daemon.log, 'utf8').length;
  app.reports.length = 0;
  // The fixture page tries anyroomd's API (fetch and WebSocket) when given a bait port.
  joinRun = daemon.ctl('join', `${link('direct')}&bait=9`, '--timeout', '60');
  const s = await waitState(daemon, 'connected', { timeoutMs: 40000 });
  assert.equal(s.provider, 'fixture-app');
  const sec = await waitFor('the page\'s security report', async () => app.reports.find((x) => x.event === 'security'),
    { timeoutMs: 15000 });
  for (const x of sec.results) t.diagnostic(`${x.what}: ${x.outcome} (${x.detail})`);
  t.diagnostic(`CSP violations the page saw: ${JSON.stringify(sec.violations)}`);
  for (const x of sec.results.filter((y) => /anyroomd/.test(y.what)))
    assert.notEqual(x.outcome, 'reached', `${x.what} was blocked`);
  // Stopped by the engine's rule (its connect-src leaves blocked origins out even when the
  // recipe names them), not by a TLS failure.
  assert.ok(sec.violations.some((v) => v.directive === 'connect-src' && v.uri.startsWith(`https://127.0.0.1:${PORT}`)),
    `the fetch to anyroomd broke the engine's connect-src: ${JSON.stringify(sec.violations)}`);
  const logAfter = fs.readFileSync(daemon.log, 'utf8').slice(logBefore);
  const api = logAfter.split('\n').filter((l) => /admin: ([A-Z]+ \/\S* from|refused)/.test(l));
  assert.deepEqual(api, [], 'anyroomd\'s HTTPS server saw no request from the page');
  const leave = await daemon.ctl('leave');
  assert.equal(leave.code, 0, ctlFail(leave, 'leave'));
  await waitState(daemon, 'idle', { timeoutMs: 20000 });
  await joinRun;
  joinRun = null;
  r = await asAdmin('DELETE', '/api/v1/recipes/fixture-app');
  assert.equal(r.status, 200, r.text);
});

step('a built-in recipe: DELETE 409; replaced by an administrator\'s; restored on removal', async () => {
  let r = await asAdmin('DELETE', '/api/v1/recipes/teams');
  assert.equal(r.status, 409, r.text);
  assert.match(r.json.error, /built-in recipe: it cannot be removed, only replaced/);
  r = await asAdmin('DELETE', '/api/v1/recipes/no-such-app');
  assert.equal(r.status, 404, r.text);
  const mine = JITSI.replace(/"name": "[^"]*"/, '"name": "Jitsi Meet (our settings)"');
  r = await asAdmin('PUT', '/api/v1/recipes/jitsi', mine);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.recipe.overrides_built_in, true);
  r = await asAdmin('PUT', '/api/v1/recipes/jitsi', mine);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.replaced, true);
  let j = (await list()).recipes.find((x) => x.id === 'jitsi');
  assert.equal(j.origin, 'admin');
  assert.equal(j.overrides_built_in, true);
  assert.equal(j.name, 'Jitsi Meet (our settings)');
  r = await asAdmin('DELETE', '/api/v1/recipes/jitsi');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.built_in_restored, true);
  j = (await list()).recipes.find((x) => x.id === 'jitsi');
  assert.equal(j.origin, 'built-in');
  assert.equal(j.name, 'Jitsi Meet');
});

step('a file that does not load in the folder is listed with its error, and can be removed', async () => {
  fs.mkdirSync(ADMIN_DIR, { recursive: true });
  fs.writeFileSync(path.join(ADMIN_DIR, 'broken.json'), '{"format": 1, "id": "broken"}', { mode: 0o600 });
  const l = await list();
  assert.equal(l.errors.length, 1, JSON.stringify(l.errors));
  assert.equal(l.errors[0].origin, 'admin');
  assert.match(l.errors[0].error, /^broken\.json: /);
  const r = await asAdmin('DELETE', '/api/v1/recipes/broken');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual((await list()).errors, []);
});

step('anyroomctl: recipes add FILE, recipes, recipes remove ID', async () => {
  const file = path.join(TMP, 'my-app.json');
  fs.writeFileSync(file, FIXTURE);
  let c = await daemon.ctl('recipes', 'add', file);
  assert.equal(c.code, 0, ctlFail(c, 'recipes add'));
  assert.match(c.stdout, /^added fixture-app: the next join uses it$/m);
  c = await daemon.ctl('recipes');
  assert.match(c.stdout, /^fixture-app\s+admin\s+hosts 127\.0\.0\.1\s+Fixture meeting app/m);
  const bad = path.join(TMP, 'bad.json');
  fs.writeFileSync(bad, FIXTURE.replace('"#prejoin #name"', '"#prejoin [name"'));
  c = await daemon.ctl('recipes', 'add', bad);
  assert.equal(c.code, 1, ctlFail(c, 'recipes add bad.json'));
  assert.match(c.stderr, /bad\.json refused: steps\[0\]\.selectors\[0\]: /);
  c = await daemon.ctl('recipes', 'remove', 'zoom');
  assert.equal(c.code, 1);
  assert.match(c.stderr, /built-in recipe/);
  c = await daemon.ctl('recipes', 'remove', 'fixture-app');
  assert.equal(c.code, 0, ctlFail(c, 'recipes remove'));
  assert.deepEqual(adminFiles(), []);
});

step('the admin page: list, upload, a refused file in plain words, remove (screenshots)', async () => {
  const page = browser.page;
  await page.goto(`${BASE}/admin/`);
  await page.waitForSelector('#admin:not([hidden])');
  await page.click('#tabs button[data-tab=recipes]');
  await page.waitForSelector('#recipes tbody tr[data-id=teams]');
  const bad = path.join(TMP, 'fixture-app.json');
  fs.writeFileSync(bad, FIXTURE.replace('"#prejoin #name"', '"#prejoin [name"'));
  await page.setInputFiles('#recipe-file', bad);
  await page.click('#recipe-form button');
  await page.waitForSelector('#recipe-result.error');
  assert.match(await page.textContent('#recipe-result'), /fixture-app\.json was refused, nothing was changed: steps\[0\]\.selectors\[0\]: unclosed '\['/);
  await shot(page, '01-refused');
  const good = path.join(TMP, 'upload', 'fixture-app.json');
  fs.mkdirSync(path.dirname(good), { recursive: true });
  fs.writeFileSync(good, FIXTURE);
  await page.setInputFiles('#recipe-file', good);
  await page.click('#recipe-form button');
  await page.waitForSelector('#recipe-result.ok');
  assert.match(await page.textContent('#recipe-result'), /Recipe "fixture-app" added: the next join uses it/);
  await page.waitForSelector('#recipes tbody tr[data-id=fixture-app] button');
  assert.match(await page.textContent('#recipes tbody tr[data-id=fixture-app]'), /links to 127\.0\.0\.1.*yours/);
  assert.equal(await page.$('#recipes tbody tr[data-id=teams] button'), null, 'no remove button for a built-in one');
  await shot(page, '02-uploaded');
  await page.click('#recipes tbody tr[data-id=fixture-app] button');
  await waitFor('the row gone', async () => (await page.$('#recipes tbody tr[data-id=fixture-app]')) === null, { timeoutMs: 5000 });
  assert.match(await page.textContent('#recipe-result'), /Removed "fixture-app"/);
  await shot(page, '03-removed');
  assert.deepEqual(adminFiles(), []);
});

step('the audit log has every change, by whom', async () => {
  const entries = auditEvents().filter((e) => /^recipe_/.test(e.event));
  const seen = entries.map((e) => `${e.event} ${e.detail} ${e.actor}`);
  const has = (event, detail, actor) => assert.ok(
    entries.some((e) => e.event === event && (e.detail || '').startsWith(detail) && (actor === null || e.actor === actor)),
    `audit has ${event} ${detail} ${actor}: ${seen.join(' | ')}`);
  has('recipe_added', 'fixture-app; hosts 127.0.0.1', 'token:provisioning');
  has('recipe_removed', 'fixture-app', 'admin');
  has('recipe_added', 'jitsi (overrides the built-in recipe)', 'admin');
  has('recipe_replaced', 'jitsi', 'admin');
  has('recipe_removed', 'jitsi (the built-in recipe is back)', 'admin');
  has('recipe_removed', 'broken', 'admin');
  has('recipe_added', 'fixture-app', 'owner'); // anyroomctl, local socket
  // Refused changes changed nothing and are not there.
  assert.ok(!entries.some((e) => /other-app|no-such-app|teams/.test(e.detail || '')), seen.join(' | '));
  const r = await asAdmin('GET', '/api/v1/audit');
  assert.equal(r.status, 200);
  assert.ok(r.json.entries.some((e) => e.event === 'recipe_replaced'));
});

step('factory reset: the administrator\'s recipes in the state dir go with the rest', async () => {
  let r = await asAdmin('PUT', '/api/v1/recipes/fixture-app', FIXTURE);
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(adminFiles(), ['fixture-app.json']);
  r = await asAdmin('POST', '/api/v1/factory-reset', { confirm: 'factory-reset' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(adminFiles(), [], 'the folder is empty');
  // The room's own socket still lists: only the built-in recipes, and a link of the app is refused.
  const c = await daemon.ctl('recipes', '--json');
  assert.equal(c.code, 0, ctlFail(c, 'recipes --json'));
  assert.ok(JSON.parse(c.stdout).recipes.every((x) => x.origin === 'built-in'), c.stdout);
  const j = await daemon.ctl('join', link('lobby'), '--timeout', '20');
  assert.notEqual(j.code, 0, ctlFail(j, 'join after the reset'));
});
