// Attack lab, issue 10 hole 4: "anyone can flush the audit log". The real
// anyroomd listens on every address of its own namespace; this process is
// the LAN (tests/integration/attack-lab.mjs). The admin creates a token and
// changes the configuration, a few wrong passwords come from the LAN, then
// hundreds of unauthenticated pairing starts from 40 addresses. The admin's
// entries and the failed logins must still be listed, the flood must be
// visible as summary lines, every pairing start must be accounted for
// (written or counted), and all of it must survive a restart.
//   tests/integration/run-in-lab.sh tests/integration/test-attack-audit.mjs
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildDir, run, startAnyroomd } from '../lab/lab.mjs';
import { certPins, launchAdminBrowser } from '../lab/admin-browser.mjs';
import {
  PASSWORD, PORT, ROOM_ADDR, assertHealthy, createRoomNetns, fdCount, loopbackRequest, pool,
  request, rssKiB, setupAdmin, startRoom,
} from './attack-lab.mjs';
import { stepper } from './common.mjs';

const { step, failed } = stepper({ timeout: 120000 });
const ORIGIN = `https://${ROOM_ADDR}:${PORT}`;
const FLOOD_ADDRESSES = 40;
const FLOOD = 600; // 15 per address: far under the server's 50/s, burst 200
const WRONG_LOGINS = 5;
const PER_MINUTE = 20; // AR_AUDIT_KIND_PER_MINUTE
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'attack-audit');

let lab = null;
let room = null;
let admin = null;
let token = null;
let base = null; // fd count and RSS before the attacks
const started = { pairing: 0 }; // pairing starts the server answered 200

before(() => {
  lab = createRoomNetns({ addresses: 64 });
});

after(async () => {
  if (failed() && room) console.error(`# anyroomd log tail:\n${room.logTail(60).replace(/^/gm, '# ')}`);
  if (room) await room.stop();
  if (lab) lab.close();
  if (room) fs.rmSync(room.tmp, { recursive: true, force: true });
});

function adminHeaders(extra = {}) {
  return { Cookie: admin.cookie, Origin: admin.origin, 'X-CSRF-Token': admin.csrf, ...extra };
}

async function listAudit() {
  const r = await loopbackRequest(room.ns, { path: '/api/v1/audit', headers: { Cookie: admin.cookie } });
  assert.equal(r.status, 200, `GET /api/v1/audit: ${r.status} ${r.text.slice(0, 300)}`);
  return r.json.entries;
}

// A login from the room's loopback (after a restart, sessions are gone).
async function login() {
  const args = ['netns', 'exec', room.ns, 'curl', '-sk', '-m', '20', '-D', '-', '-o', '/dev/null', '-X', 'POST',
    '-H', `Origin: ${admin.origin}`, '-H', 'Content-Type: application/json',
    '--data-binary', JSON.stringify({ password: PASSWORD }), `https://127.0.0.1:${PORT}/api/v1/login`];
  const lr = await run('ip', args, { timeoutMs: 30000 });
  const m = /set-cookie:\s*(__Host-ar_session=[0-9a-f]{64})/i.exec(lr.stdout);
  assert.ok(m, `login gave no session cookie: ${lr.stdout}`);
  const r = await loopbackRequest(room.ns, { path: '/api/v1/session', headers: { Cookie: m[1] } });
  admin = { ...admin, cookie: m[1], csrf: r.json.csrf_token };
}

function files() {
  const out = {};
  for (const f of fs.readdirSync(room.state).filter((n) => n.startsWith('audit')).sort())
    out[f] = fs.statSync(path.join(room.state, f)).size;
  return out;
}

function linesOf(name) {
  const f = path.join(room.state, name);
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function flood(n, firstAddr) {
  const t0 = Date.now();
  const res = await pool(n, 40, (i) => request({
    from: lab.addrs[firstAddr + (i % FLOOD_ADDRESSES)], method: 'POST', path: '/api/v1/panel/pair/start',
    headers: { Origin: ORIGIN }, body: {}, fingerprint256: room.fingerprint256,
  }));
  const ok = res.filter((r) => r.ok && r.value.status === 200).length;
  const other = {};
  for (const r of res) {
    const k = r.ok ? r.value.status : r.error.message.slice(0, 60);
    if (k !== 200) other[k] = (other[k] || 0) + 1;
  }
  started.pairing += ok;
  return { ok, other, ms: Date.now() - t0 };
}

// "event (stream) xN, ..." for failure messages.
function kinds(entries) {
  const n = {};
  for (const e of entries) n[`${e.event} (${e.stream})`] = (n[`${e.event} (${e.stream})`] || 0) + 1;
  return Object.entries(n).map(([k, v]) => `${k} x${v}`).join(', ');
}

// Every pairing start is either a line or counted in a summary line.
function pairingAccount(entries) {
  const written = entries.filter((e) => e.event === 'pairing-started');
  const sums = entries.filter((e) => e.event === 'suppressed' && e.suppressed_event === 'pairing-started');
  return { written: written.length, suppressed: sums.reduce((a, e) => a + e.count, 0), summaries: sums };
}

step('the room starts; the admin sets up, creates a token and changes the configuration', async () => {
  room = await startRoom({ ns: lab.ns });
  admin = await setupAdmin(room);
  let r = await loopbackRequest(room.ns, { method: 'POST', path: '/api/v1/tokens', headers: adminHeaders(), body: { name: 'crestron', scopes: ['status', 'commands'] } });
  assert.equal(r.status, 201, r.text);
  token = r.json.token;
  r = await loopbackRequest(room.ns, { method: 'PATCH', path: '/api/v1/config', headers: adminHeaders(), body: { room: { name: 'Board Room 4' } } });
  assert.equal(r.status, 200, r.text);
  await assertHealthy(room, 'after setup');
  base = { fds: fdCount(room.pid), rss: rssKiB(room.pid) };
});

step(`${WRONG_LOGINS} wrong passwords from the LAN are audited (unauthenticated stream)`, async () => {
  for (let i = 0; i < WRONG_LOGINS; i++) {
    const r = await request({ from: lab.addrs[50 + i], method: 'POST', path: '/api/v1/login', headers: { Origin: ORIGIN },
      body: { password: `wrong guess ${i}` }, fingerprint256: room.fingerprint256, timeoutMs: 20000 });
    assert.equal(r.status, 401, `wrong login ${i}: ${r.status} ${r.text}`);
  }
  const e = await listAudit();
  assert.equal(e.filter((x) => x.event === 'login_failed' && x.stream === 'unauthenticated').length, WRONG_LOGINS);
});

step(`${FLOOD} unauthenticated pairing starts from ${FLOOD_ADDRESSES} addresses flush nothing`, async () => {
  const f = await flood(FLOOD, 0);
  console.log(`# flood 1: ${f.ok} pairing starts answered 200 in ${f.ms} ms; others: ${JSON.stringify(f.other)}`);
  // The flood must be real: many times the budget reached the audit code.
  assert.ok(f.ok >= PER_MINUTE * 10, `pairing starts that reached the audit code: ${f.ok}`);
  await assertHealthy(room, 'after the flood');
  const entries = await listAudit();
  const ev = (name, stream) => entries.filter((x) => x.event === name && (!stream || x.stream === stream));
  // The admin's entries: all there, in the authenticated stream.
  for (const k of ['setup', 'login', 'token_created', 'config'])
    assert.equal(ev(k, 'authenticated').length, 1, `${k} still listed: ${kinds(entries)}`);
  assert.equal(ev('token_created')[0].actor, 'admin');
  assert.match(ev('config')[0].detail, /room\.name/);
  // The failed logins: all there, from their addresses.
  const failedLogins = ev('login_failed', 'unauthenticated');
  assert.equal(failedLogins.length, WRONG_LOGINS, 'every failed login still listed');
  assert.deepEqual(failedLogins.map((x) => x.client).sort(), lab.addrs.slice(50, 50 + WRONG_LOGINS).sort());
  // The flood: its budget written in full, the rest counted in summary lines.
  const acc = pairingAccount(entries);
  console.log(`# flood 1 in the audit log: ${acc.written} written, ${acc.suppressed} suppressed in ${acc.summaries.length} summary line(s): ${acc.summaries.map((s) => s.detail).join(' | ')}`);
  assert.equal(acc.written, PER_MINUTE, 'a minute\'s budget of pairing starts is written');
  assert.ok(acc.summaries.length >= 1, 'the flood is visible as a summary line');
  assert.equal(acc.written + acc.suppressed, started.pairing, 'every pairing start is written or counted');
  for (const s of acc.summaries) {
    assert.equal(s.stream, 'unauthenticated');
    assert.match(s.detail, /^\d+ pairing-started from \d+ addresses suppressed in \d+ s$/);
  }
  assert.ok(acc.summaries.some((s) => s.addresses >= 30), `the summary counts the addresses: ${acc.summaries.map((s) => s.addresses)}`);
  // Files: the flood never reached the authenticated stream; sizes stay small.
  const onDisk = linesOf('audit.log');
  assert.equal(onDisk.filter((x) => /pairing|login_failed/.test(x.event)).length, 0, 'no unauthenticated line in audit.log');
  const sizes = files();
  console.log(`# files after flood 1: ${JSON.stringify(sizes)}`);
  assert.ok(sizes['audit-unauth.log'] < 16 * 1024, `the flood wrote ${sizes['audit-unauth.log']} bytes`);
  for (const f of Object.keys(sizes))
    assert.equal(fs.statSync(path.join(room.state, f)).mode & 0o777, 0o600, `${f} is 0600`);
  const raw = Object.keys(sizes).map((f) => fs.readFileSync(path.join(room.state, f), 'utf8')).join('');
  for (const secret of [PASSWORD, token, admin.cookie.split('=')[1], 'wrong guess'])
    assert.ok(!raw.includes(secret), 'no secret in the audit files');
  // The daemon's log is not flooded either (suppressed entries are not logged one by one).
  const logLines = fs.readFileSync(room.log, 'utf8').split('\n').filter((l) => /admin: audit pairing-started from \S+$/.test(l)).length;
  assert.ok(logLines <= PER_MINUTE, `${logLines} "audit pairing-started" log lines`);
  const fds = fdCount(room.pid);
  const rss = rssKiB(room.pid);
  console.log(`# fds ${base.fds} -> ${fds}, RSS ${base.rss} -> ${rss} KiB`);
  assert.ok(fds <= base.fds + 4, `fd count back near its start (${base.fds} -> ${fds})`);
  assert.ok(rss < base.rss + 20 * 1024, `RSS near its start (${base.rss} -> ${rss} KiB)`);
});

step('a second flood, then a restart: the log and the counts survive', async () => {
  const f = await flood(FLOOD / 2, 10);
  console.log(`# flood 2: ${f.ok} pairing starts answered 200 in ${f.ms} ms; others: ${JSON.stringify(f.other)}`);
  await assertHealthy(room, 'after the second flood');
  // Stop anyroomd: what was suppressed since the last listing is written as it stops.
  const exited = await room.stop();
  assert.equal(exited.code, 0, `anyroomd stopped cleanly: ${JSON.stringify(exited)}`);
  const disk = linesOf('audit-unauth.log');
  assert.equal(pairingAccount(disk).written + pairingAccount(disk).suppressed, started.pairing,
    'on disk after the stop: every pairing start is written or counted');
  const sizes = files();
  console.log(`# files after the stop: ${JSON.stringify(sizes)}`);
  // Start it again on the same state dir.
  const d = await startAnyroomd({ tmp: room.tmp, netns: room.ns, extraArgs: ['--config', room.conf, '--state-dir', room.state], log: 'anyroomd-2.log' });
  Object.assign(room, { ...d, tmp: room.tmp, state: room.state, conf: room.conf, ns: room.ns, fingerprint256: room.fingerprint256 });
  await assertHealthy(room, 'after the restart');
  await login();
  const entries = await listAudit();
  const ev = (name, stream) => entries.filter((x) => x.event === name && x.stream === stream);
  for (const k of ['setup', 'token_created', 'config'])
    assert.equal(ev(k, 'authenticated').length, 1, `${k} listed after the restart`);
  assert.equal(ev('login', 'authenticated').length, 2, 'both logins');
  assert.equal(ev('login_failed', 'unauthenticated').length, WRONG_LOGINS, 'the failed logins, after the restart');
  const acc = pairingAccount(entries);
  console.log(`# after the restart: ${acc.written} pairing starts written, ${acc.suppressed} suppressed (${started.pairing} answered 200 in all)`);
  assert.equal(acc.written + acc.suppressed, started.pairing, 'every pairing start of both floods is accounted for');
  const times = entries.map((x) => x.time);
  assert.deepEqual(times, times.slice().sort(), 'oldest first');
});

step('a flood after the restart still cannot hide a failed login that follows it', async () => {
  const f = await flood(FLOOD / 2, 20);
  const r = await request({ from: lab.addrs[60], method: 'POST', path: '/api/v1/login', headers: { Origin: ORIGIN },
    body: { password: 'one more wrong guess' }, fingerprint256: room.fingerprint256, timeoutMs: 20000 });
  assert.equal(r.status, 401);
  const entries = await listAudit();
  assert.ok(entries.some((x) => x.event === 'login_failed' && x.client === lab.addrs[60]), 'the last failed login is listed');
  assert.equal(entries.filter((x) => x.event === 'login_failed').length, WRONG_LOGINS + 1);
  const acc = pairingAccount(entries);
  assert.equal(acc.written + acc.suppressed, started.pairing, `all ${started.pairing} pairing starts accounted for (flood 3: ${f.ok})`);
  await assertHealthy(room, 'at the end');
  console.log(`# files at the end: ${JSON.stringify(files())}`);
});

step('the admin page shows the streams apart and the flood as summary rows (screenshot)', async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const pins = certPins(fs.readFileSync(path.join(room.state, 'admin-cert.pem'), 'utf8'));
  const b = await launchAdminBrowser({ spki: pins.spki, viewport: { width: 1100, height: 1400 } });
  try {
    const page = await b.context.newPage();
    await page.goto(`${ORIGIN}/admin/`);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-form button');
    await page.waitForSelector('#admin:not([hidden])');
    await page.click('#tabs [data-tab=logs]');
    await page.waitForSelector('#audit tbody tr.summary');
    const rows = await page.$$eval('#audit tbody tr', (trs) => trs.map((tr) => ({
      cls: tr.className, cells: [...tr.children].map((td) => td.textContent),
    })));
    const summary = rows.find((r) => r.cls.includes('summary'));
    assert.match(summary.cells[1], /^pairing-started \u00d7\d+$/);
    assert.match(summary.cells[3], /^\d+ addresses$/);
    assert.ok(rows.some((r) => r.cells[1] === 'token_created' && r.cells[2] === 'admin' && !r.cls.includes('unauth')));
    assert.ok(rows.some((r) => r.cells[1] === 'login_failed' && r.cls.includes('unauth') && r.cells[2] === 'not signed in'));
    await page.screenshot({ path: path.join(OUT, 'audit-page.png'), fullPage: true });
    // Unticked: only what credential holders did.
    await page.uncheck('#audit-unauth');
    await page.waitForFunction(() => !document.querySelector('#audit tbody tr.unauth'));
    assert.ok(await page.$('#audit tbody tr'), 'the authenticated rows stay');
    await page.screenshot({ path: path.join(OUT, 'audit-page-authenticated.png'), fullPage: true });
  } finally {
    await b.close();
  }
  await assertHealthy(room, 'after the admin page');
});
