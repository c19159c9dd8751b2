// Integration: the kiosk launcher (ui-kiosk/kiosk/anyroom-kiosk) as far as
// this machine allows: the real script starts the real Debian Chromium
// (headless: no display and no cage here) against a real anyroomd, with the
// real managed policy installed in a private mount namespace (never on the
// host, where other tests run Chromium).
//   tests/integration/run-in-lab.sh tests/integration/test-kiosk.mjs
// Not testable here: cage on a real display, systemd restarting the unit on
// a device (the unit is checked with systemd-analyze), touch input.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { buildDir, mkTemp, sleep, startAnyroomd, tail } from '../lab/lab.mjs';
import { connectChromium, waitFor } from '../lab/participant.mjs';
import { stepper } from './common.mjs';

const { step, failed } = stepper({ timeout: 90000 });

const SRC = process.env.AR_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const LAUNCHER = path.join(SRC, 'ui-kiosk', 'kiosk', 'anyroom-kiosk');
const POLICY = path.join(SRC, 'ui-kiosk', 'kiosk', 'chromium-policy.json');
// The test reads the room screen over headless Chromium's DevTools, and --dump-dom needs
// DevTools and Chromium's own chrome:// pages: the production policy turns both off (measured:
// with either, headless Chromium exits at once). The test policy is the same minus
// DeveloperToolsAvailability, RemoteDebuggingAllowed and the chrome://* block.
let TEST_POLICY = null;
const UNIT = path.join(SRC, 'ui-kiosk', 'kiosk', 'anyroom-kiosk.service');
const PORT = 8443;
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'kiosk');
const TMP = mkTemp('ar-it-kiosk-');
const STATE = path.join(TMP, 'state');
const ROOM = 'Kiosk Lab Room';
let daemon = null;
let other = null;

// Starts CMD with the kiosk policy as /etc/chromium/policies/managed, in a
// private mount namespace. Returns {proc, out, done}: out holds what it printed so far, done
// resolves {code, stdout, stderr} when it ended (SIGKILL after timeoutMs).
function spawnWithPolicy(policyFile, cmd, args, env = {}, timeoutMs = 60000) {
  const setup = policyFile
    ? `mount -t tmpfs tmpfs /etc/chromium && mkdir -p /etc/chromium/policies/managed && cp "$AR_POLICY" /etc/chromium/policies/managed/anyroom-kiosk.json && `
    : 'mount -t tmpfs tmpfs /etc/chromium && ';
  const proc = spawn('unshare', ['-m', '--propagation', 'private', 'bash', '-c', `${setup}exec "$@"`, 'bash', cmd, ...args],
    { env: { ...process.env, ...env, AR_POLICY: policyFile || '' } });
  const out = { stdout: '', stderr: '' };
  proc.stdout.on('data', (d) => { out.stdout += d; });
  proc.stderr.on('data', (d) => { out.stderr += d; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const done = new Promise((resolve) => {
    proc.on('close', (code) => { clearTimeout(timer); resolve({ code, ...out }); });
  });
  return { proc, out, done };
}

function withPolicy(policyFile, cmd, args, env = {}, timeoutMs = 60000) {
  return spawnWithPolicy(policyFile, cmd, args, env, timeoutMs).done;
}

const kioskEnv = (env) => ({
  ANYROOM_STATE_DIR: STATE,
  ANYROOM_KIOSK_MODE: 'headless',
  ANYROOM_KIOSK_PROFILE: path.join(TMP, 'profile'),
  ANYROOM_KIOSK_WAIT_S: '20',
  ...env,
});

function kiosk(env, timeoutMs) {
  return withPolicy(TEST_POLICY, LAUNCHER, [], kioskEnv(env), timeoutMs);
}

// How often anyroomd logged the room screen's sign-in.
const signIns = () => (fs.readFileSync(daemon.log, 'utf8').match(/room: the room screen signed in from /g) || []).length;

// The room screen as the display shows it, in real time: the launcher starts headless Chromium
// with a DevTools port, and the test reads the page over it once READY(page) holds. (--dump-dom
// with --virtual-time-budget raced the page: its clock timer lets virtual time run out between
// two of its requests, and CI once got the DOM from before the sign-in.) Returns {page, html,
// stderr, stop}; stop() ends the browser (by its PID if it does not close).
async function kioskLive(env, ready, timeoutMs = 45000) {
  const extra = env.ANYROOM_KIOSK_EXTRA_ARGS ? ` ${env.ANYROOM_KIOSK_EXTRA_ARGS}` : '';
  const before = signIns();
  const run = spawnWithPolicy(TEST_POLICY, LAUNCHER, [],
    kioskEnv({ ...env, ANYROOM_KIOSK_EXTRA_ARGS: `--remote-debugging-port=0${extra}` }), timeoutMs + 15000);
  let browser = null;
  let page = null;
  const stop = async () => {
    if (browser) await Promise.race([browser.close().catch(() => {}), sleep(5000)]);
    if (run.proc.exitCode === null && run.proc.signalCode === null) run.proc.kill('SIGKILL');
    return run.done;
  };
  try {
    // DevTools is read only once anyroomd saw the screen sign in: playwright attaching while the
    // page's first navigation commits can wait forever (seen here under load: the attach found the
    // empty first document and never learnt of the room page).
    await waitFor('anyroomd to see the room screen sign in', () => {
      if (run.proc.exitCode !== null) throw new Error(`the launcher ended: ${run.out.stderr.slice(-1500)}`);
      return signIns() > before;
    }, { timeoutMs });
    const ws = await waitFor('the kiosk browser\'s DevTools address',
      () => (/DevTools listening on (ws:\/\/\S+)/.exec(run.out.stderr) || [])[1] ||
        (run.proc.exitCode !== null ? Promise.reject(new Error(`the launcher ended: ${run.out.stderr.slice(-1500)}`)) : null),
      { timeoutMs });
    browser = await connectChromium(ws, { timeoutMs });
    page = await waitFor('the room page', () => browser.contexts().flatMap((c) => c.pages())
      .find((p) => p.url().includes('/room/')), { timeoutMs });
    await waitFor('the room screen to be ready', () => ready(page).catch(() => false), { timeoutMs });
    return { page, html: await page.content(), stderr: run.out.stderr, stop };
  } catch (e) {
    const dom = page ? await page.content().catch(() => '') : '';
    await stop();
    throw new Error(`${e.message}\nthe page: ${dom.slice(0, 3000)}\nthe launcher: ${run.out.stderr.slice(-1500)}`);
  }
}

const secret = () => fs.readFileSync(path.join(STATE, 'kiosk-secret'), 'utf8').trim();

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const policy = JSON.parse(fs.readFileSync(POLICY, 'utf8'));
  assert.equal(policy.DeveloperToolsAvailability, 2, 'production: no dev tools');
  assert.equal(policy.DownloadRestrictions, 3, 'production: no downloads');
  assert.ok(policy.URLBlocklist.includes('*') && policy.URLBlocklist.includes('chrome://*'), 'production: everything blocked');
  delete policy.DeveloperToolsAvailability;
  delete policy.RemoteDebuggingAllowed;
  policy.URLBlocklist = policy.URLBlocklist.filter((u) => u !== 'chrome://*');
  TEST_POLICY = path.join(TMP, 'test-policy.json');
  fs.writeFileSync(TEST_POLICY, JSON.stringify(policy));
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, `[room]\nname=${ROOM}\n[device]\ncamera=test\nmicrophone=test\nspeaker=none\n[admin]\nlisten=127.0.0.1:${PORT}\n`);
  daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf, '--state-dir', STATE] });
  // A page that is not anyroomd's, to be blocked.
  other = http.createServer((rq, rs) => { rs.writeHead(200, { 'Content-Type': 'text/html' }); rs.end('<title>other</title><p id=x>OTHER SITE CONTENT</p>'); });
  await new Promise((r) => other.listen(8080, '127.0.0.1', r));
});

after(async () => {
  if (other) await new Promise((r) => other.close(r));
  if (daemon) await daemon.stop(10000);
  if (fs.existsSync(path.join(TMP, 'anyroomd.log'))) fs.copyFileSync(path.join(TMP, 'anyroomd.log'), path.join(OUT, 'anyroomd.log'));
  if (failed()) console.log(`# anyroomd log (last 40 lines):\n${tail(path.join(TMP, 'anyroomd.log'), 40).replace(/^/gm, '# ')}`);
  fs.rmSync(TMP, { recursive: true, force: true });
});

// Signed in: anyroomd's room name on the idle screen, which shows (not hidden).
const signedIn = (page) => page.evaluate((room) =>
  document.getElementById('room-name').textContent === room && !document.getElementById('idle').hidden, ROOM);

step('the launcher opens the room screen signed in with the kiosk secret (certificate pinned, policy on)', async () => {
  const k = await kioskLive({}, signedIn);
  let ended = null;
  try {
    assert.match(k.html, new RegExp(`<span id="room-name">${ROOM}</span>`), k.html.slice(0, 3000));
    assert.match(k.html, /<section id="idle">/, 'the idle screen is shown (not hidden)');
    assert.match(k.stderr, /anyroom-kiosk: opening https:\/\/127\.0\.0\.1:8443\/room\/ in headless mode \(certificate SPKI sha256\//);
    // A picture of what the room display (1920x1080) shows.
    const shot = path.join(OUT, 'kiosk-room.png');
    await k.page.setViewportSize({ width: 1920, height: 1080 });
    await k.page.screenshot({ path: shot });
    assert.ok(fs.statSync(shot).size > 5000, 'a screenshot of the room screen');
  } finally {
    ended = await k.stop();
  }
  assert.ok(!ended.stderr.includes(secret()), 'the launcher never prints the secret');
  assert.ok(!fs.readFileSync(daemon.log, 'utf8').includes(secret()), 'anyroomd never logs the secret');
});

step('a room display without 3D (ANYROOM_KIOSK_GPU=off) asks for reduced motion: the room screen stays still', async () => {
  // The page's first act, before any request: --dump-dom sees it (over DevTools, playwright's
  // media emulation would clear the preference).
  const still = await kiosk({ ANYROOM_KIOSK_GPU: 'off', ANYROOM_KIOSK_EXTRA_ARGS: '--dump-dom --virtual-time-budget=15000' });
  assert.equal(still.code, 0, still.stderr.slice(-2000));
  assert.match(still.stdout, /<html[^>]* class="[^"]*\breduced-motion\b/, still.stdout.slice(0, 500));
  // Control: with 3D the spinner turns. The clock, set just after, says the script ran.
  const moving = await kiosk({ ANYROOM_KIOSK_EXTRA_ARGS: '--dump-dom --virtual-time-budget=15000' });
  assert.equal(moving.code, 0, moving.stderr.slice(-2000));
  assert.match(moving.stdout, /<span id="clock">[^<]+<\/span>/, moving.stdout.slice(0, 3000));
  assert.doesNotMatch(moving.stdout, /reduced-motion/);
});

step('the managed policy blocks every page that is not anyroomd\'s (control: without it they load)', async () => {
  const chromium = process.env.AR_CHROMIUM || '/usr/bin/chromium';
  const local = path.join(TMP, 'local.html');
  fs.writeFileSync(local, '<title>local</title><p>LOCAL FILE CONTENT</p>');
  const flags = ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--dump-dom', `--user-data-dir=${path.join(TMP, 'p2')}`];
  for (const [url, want] of [['http://127.0.0.1:8080/', 'OTHER SITE CONTENT'], [`file://${local}`, 'LOCAL FILE CONTENT']]) {
    fs.rmSync(path.join(TMP, 'p2'), { recursive: true, force: true });
    const open = await withPolicy(null, chromium, [...flags, url], {}, 30000);
    assert.ok(open.stdout.includes(want), `control: ${url} loads without the policy`);
    fs.rmSync(path.join(TMP, 'p2'), { recursive: true, force: true });
    // A failed load leaves headless Chromium waiting: bounded, then the verdict from its log.
    const blocked = await withPolicy(TEST_POLICY, chromium, [...flags, url], {}, 15000);
    assert.ok(!blocked.stdout.includes(want), `${url} is blocked by the policy`);
    assert.match(blocked.stderr, /ERR_BLOCKED_BY_ADMINISTRATOR/, blocked.stderr.slice(-800));
  }
});

step('another certificate on the port is refused (the pin is this device\'s key only)', async () => {
  const other = path.join(TMP, 'other-cert.pem');
  const key = path.join(TMP, 'other-key.pem');
  const g = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', other, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  assert.equal(g.status, 0, String(g.stderr));
  const r = await kiosk({ ANYROOM_KIOSK_CERT_FILE: other, ANYROOM_KIOSK_EXTRA_ARGS: '--dump-dom' }, 15000);
  assert.ok(!r.stdout.includes(ROOM), 'the room page does not load with a certificate not pinned');
  assert.match(r.stderr, /ERR_CERT_AUTHORITY_INVALID|ERR_CERT/, r.stderr.slice(-800));
});

step('the launcher refuses to send the secret elsewhere, and waits for anyroomd boundedly', async () => {
  let r = await kiosk({ ANYROOM_KIOSK_URL: 'https://192.0.2.10:8443' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /must be https:\/\/127\.0\.0\.1:PORT/);
  r = await kiosk({ ANYROOM_KIOSK_URL: 'http://127.0.0.1:8443' });
  assert.equal(r.code, 1);
  r = await kiosk({ ANYROOM_KIOSK_SECRET_FILE: path.join(TMP, 'missing'), ANYROOM_KIOSK_WAIT_S: '1' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /anyroomd is not up after 1 s/);
  const bad = path.join(TMP, 'bad-secret');
  fs.writeFileSync(bad, 'not-a-secret\n');
  r = await kiosk({ ANYROOM_KIOSK_SECRET_FILE: bad });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is not a kiosk secret/);
  r = await kiosk({ ANYROOM_KIOSK_MODE: 'cage', ANYROOM_KIOSK_EXTRA_ARGS: '--remote-debugging-port=9222' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /headless tests only/);
  const hasCage = spawnSync('bash', ['-c', 'command -v cage']).status === 0;
  if (!hasCage) {
    r = await kiosk({ ANYROOM_KIOSK_MODE: 'cage' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cage is not installed/);
    console.log('# cage is not installed on this machine: the cage mode was not run (device only)');
  }
});

step('the systemd unit is valid and restarts the kiosk when it dies', async () => {
  const unit = fs.readFileSync(UNIT, 'utf8');
  assert.match(unit, /^Restart=always$/m);
  assert.match(unit, /^LoadCredential=kiosk-secret:/m);
  // systemd-analyze checks the unit with the launcher where the image puts it.
  const dir = path.join(TMP, 'unit');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'anyroom-kiosk.service'), unit.replace(/^ExecStart=.*$/m, `ExecStart=${LAUNCHER}`));
  const v = spawnSync('systemd-analyze', ['verify', path.join(dir, 'anyroom-kiosk.service')], { encoding: 'utf8' });
  const problems = `${v.stdout}${v.stderr}`.split('\n').filter((l) => l.includes('anyroom-kiosk.service') && !/anyroomd\.service|plymouth|not found/.test(l));
  assert.deepEqual(problems, [], `systemd-analyze: ${v.stdout}${v.stderr}`);
});
