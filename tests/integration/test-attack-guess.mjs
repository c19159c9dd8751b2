// Attack suite, guessable secrets (issue 10, holes 2 and 3): the remote
// setup code and the admin password, guessed from a thousand LAN addresses at
// once. The real anyroomd listens on every address in the attack lab
// (attack-lab.mjs); the guesses are real HTTPS requests from 1,100 source
// addresses. The room screen is a real headless Chromium inside the room's
// namespace (attack-screen.mjs), reading what the page shows.
//   tests/integration/run-in-lab.sh tests/integration/test-attack-guess.mjs
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  PASSWORD, ROOM_ADDR, PORT, assertHealthy, attackerAddr, createRoomNetns, fdCount, loopbackRequest,
  pool, request, rssKiB, setupAdmin, startRoom,
} from './attack-lab.mjs';
import { buildDir, run } from '../lab/lab.mjs';
import { stepper } from './common.mjs';

const { step } = stepper({ timeout: 180000 });
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'attack-guess');
const LAN_ORIGIN = `https://${ROOM_ADDR}:${PORT}`;
let lab = null;
let room = null;
let base = null;
const figures = {};

before(async () => {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  lab = createRoomNetns({ addresses: 1200 });
  room = await startRoom({ ns: lab.ns });
  base = { fds: fdCount(room.pid), rss: rssKiB(room.pid) };
});

after(async () => {
  if (room) {
    await room.stop(10000).catch(() => {});
    fs.copyFileSync(room.log, path.join(OUT, 'anyroomd.log'));
    fs.rmSync(room.tmp, { recursive: true, force: true });
  }
  if (lab) lab.close();
  console.log(`# figures: ${JSON.stringify(figures)}`);
});

// The room screen's session (kiosk secret, from the room's loopback).
async function roomScreenCookie() {
  const secret = fs.readFileSync(path.join(room.state, 'kiosk-secret'), 'utf8').trim();
  const args = ['netns', 'exec', room.ns, 'curl', '-sk', '-m', '10', '-D', '-', '-o', '/dev/null', '-X', 'POST',
    '-H', `Origin: https://127.0.0.1:${PORT}`, '-H', 'Content-Type: application/json',
    '--data-binary', JSON.stringify({ kiosk_secret: secret }), `https://127.0.0.1:${PORT}/api/v1/room/session`];
  const r = await run('ip', args, { timeoutMs: 15000 });
  const m = /set-cookie:\s*(__Host-ar_room=[0-9a-f]{64})/i.exec(r.stdout);
  assert.ok(m, `the room screen signs in: ${r.stdout}`);
  return m[1];
}

async function roomInfo(cookie) {
  const r = await loopbackRequest(room.ns, { path: '/api/v1/room/info', headers: { Cookie: cookie } });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// Ten random digits (never the code on screen: the code changes with every
// wrong try anyway).
const randomCode = () => Array.from({ length: 10 }, () => Math.floor(Math.random() * 10)).join('');

function tally(results) {
  const t = {};
  for (const x of results) {
    const k = x.ok ? String(x.value.status) : 'error';
    t[k] = (t[k] || 0) + 1;
  }
  return t;
}

step('hole 2: setup codes guessed from 300 addresses: 10 wrong codes, then remote setup waits for everyone', async () => {
  const cookie = await roomScreenCookie();
  let info = await roomInfo(cookie);
  assert.match(info.setup_code, /^\d{10}$/, 'a ten-digit setup code');
  assert.equal(info.setup_paused_s, 0);
  const t0 = Date.now();
  const res = await pool(300, 50, (i) => request({
    from: attackerAddr(i), method: 'POST', path: '/api/v1/setup', fingerprint256: room.fingerprint256,
    headers: { Origin: LAN_ORIGIN }, body: { password: 'attacker-password-1', setup_code: randomCode() },
  }));
  const t = tally(res);
  figures.setupGuesses = t;
  const paused = res.find((x) => x.ok && x.value.status === 429);
  assert.ok(paused, `remote setup pauses (${JSON.stringify(t)})`);
  const retry = Number(paused.value.headers['retry-after']);
  console.log(`# 300 setup-code guesses from 300 addresses in ${Date.now() - t0} ms: ${JSON.stringify(t)}; Retry-After ${retry} s`);
  assert.ok((t['403'] || 0) <= 10, `at most the burst of 10 codes was checked (${t['403']})`);
  assert.ok(retry >= 120 && retry <= 200, `the next code is checked in about 3 min (20 an hour): ${retry} s`);
  figures.setupGuessesPerHourNow = 20;
  // While paused, even the right code from the network is refused.
  info = await roomInfo(cookie);
  assert.ok(info.setup_paused_s > 0, 'the room screen is told remote setup waits');
  assert.match(info.setup_code, /^\d{10}$/, 'the code is still shown for the room itself');
  const right = await request({
    from: attackerAddr(1100), method: 'POST', path: '/api/v1/setup', fingerprint256: room.fingerprint256,
    headers: { Origin: LAN_ORIGIN }, body: { password: 'attacker-password-1', setup_code: info.setup_code },
  });
  assert.equal(right.status, 429, `the right code is refused while paused: ${right.text}`);
  assert.ok(!fs.existsSync(path.join(room.state, 'admin-password')), 'no password was set');
  // The room screen (a real Chromium on the room's loopback) says why.
  const secret = fs.readFileSync(path.join(room.state, 'kiosk-secret'), 'utf8').trim();
  const shot = path.join(OUT, 'room-setup-paused.png');
  try {
    const scr = await run('ip', ['netns', 'exec', room.ns, process.execPath, path.join(path.dirname(new URL(import.meta.url).pathname), 'attack-screen.mjs'),
      `https://127.0.0.1:${PORT}/room/#k=${secret}`, '#setup-paused', shot], { timeoutMs: 150000 });
    assert.equal(scr.code, 0, `the room screen in Chromium: ${scr.stdout.slice(-500)} ${scr.stderr.slice(-1500)}`);
    assert.match(scr.stdout, /Too many wrong setup codes were tried from the network/, scr.stdout);
    console.log(`# the room screen says: ${scr.stdout.trim()}`);
  } finally {
    // The device itself still sets up (the local path is not budgeted);
    // the next steps need the password.
    await setupAdmin(room);
  }
  await assertHealthy(room, 'after the setup-code attack');
});

let deviceCookie = null;

step('hole 3: a browser that logged in before gets a device cookie', async () => {
  const r = await request({
    from: attackerAddr(1150), method: 'POST', path: '/api/v1/login', fingerprint256: room.fingerprint256,
    headers: { Origin: LAN_ORIGIN }, body: { password: PASSWORD },
  });
  assert.equal(r.status, 200, r.text);
  const cookies = [].concat(r.headers['set-cookie'] || []);
  const dev = cookies.map((c) => /^(__Host-ar_device=[0-9a-f]{64});/.exec(c)).find(Boolean);
  assert.ok(dev, `a device cookie: ${cookies}`);
  assert.match(cookies.find((c) => c.startsWith('__Host-ar_device')), /Secure; HttpOnly; SameSite=Strict; Max-Age=\d+/);
  deviceCookie = dev[1];
});

step('hole 3: one wrong password from each of 1,100 addresses: 10 checked, the rest wait; loopback, the room screen and a known browser still log in', async () => {
  const t0 = Date.now();
  const res = await pool(1100, 50, (i) => request({
    from: attackerAddr(i), method: 'POST', path: '/api/v1/login', fingerprint256: room.fingerprint256,
    headers: { Origin: LAN_ORIGIN }, body: { password: `wrong guess ${i}` }, timeoutMs: 20000,
  }));
  const t = tally(res);
  figures.loginGuesses = t;
  const ms = Date.now() - t0;
  const limited = res.find((x) => x.ok && x.value.status === 429 && /from the network/.test(x.value.text));
  assert.ok(limited, `remote logins wait (${JSON.stringify(t)})`);
  const retry = Number(limited.value.headers['retry-after']);
  console.log(`# 1,100 wrong passwords from 1,100 addresses in ${ms} ms: ${JSON.stringify(t)}; Retry-After ${retry} s`);
  // 10 at once plus the checks already running (at most 4) when it ran out.
  assert.ok((t['401'] || 0) <= 14, `at most the burst was checked (${t['401']} wrong passwords checked)`);
  figures.loginGuessesPerHourNow = 20;
  // The table of addresses was filled past 1,024: nobody is locked out by it.
  const local = await loopbackRequest(room.ns, { method: 'POST', path: '/api/v1/login', headers: { Origin: 'https://127.0.0.1:8443' }, body: { password: PASSWORD } });
  assert.equal(local.status, 200, `login on the room itself: ${local.text}`);
  const screen = await roomScreenCookie();
  assert.ok(screen, 'the room screen signs in');
  const known = await request({
    from: attackerAddr(1151), method: 'POST', path: '/api/v1/login', fingerprint256: room.fingerprint256,
    headers: { Origin: LAN_ORIGIN, Cookie: deviceCookie }, body: { password: PASSWORD },
  });
  assert.equal(known.status, 200, `a browser that logged in before: ${known.text}`);
  // A new browser on the network waits like the attacker (said plainly).
  const fresh = await request({
    from: attackerAddr(1152), method: 'POST', path: '/api/v1/login', fingerprint256: room.fingerprint256,
    headers: { Origin: LAN_ORIGIN }, body: { password: PASSWORD },
  });
  assert.equal(fresh.status, 429, fresh.text);
  assert.match(fresh.json.error, /logins from the network wait \d+ s/);
  await assertHealthy(room, 'after the password attack');
});

step('hole 3: a stolen device cookie gives 5 guesses, then it is forgotten', async () => {
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    const r = await request({
      from: attackerAddr(1160 + i), method: 'POST', path: '/api/v1/login', fingerprint256: room.fingerprint256,
      headers: { Origin: LAN_ORIGIN, Cookie: deviceCookie }, body: { password: `stolen cookie guess ${i}` },
    });
    statuses.push(r.status);
  }
  console.log(`# a device cookie's wrong guesses: ${statuses.join(' ')}`);
  assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
  assert.equal(statuses[5], 429, 'the sixth meets the global budget: the cookie is forgotten');
});

step('the daemon is healthy; descriptors and memory back near their start', async () => {
  await assertHealthy(room, 'at the end');
  const fds = fdCount(room.pid);
  const rss = rssKiB(room.pid);
  figures.fds = `${base.fds} -> ${fds}`;
  figures.rssKiB = `${base.rss} -> ${rss}`;
  assert.ok(fds <= base.fds + 4, `descriptors ${base.fds} -> ${fds}`);
  assert.ok(rss < base.rss + 64 * 1024, `memory ${base.rss} -> ${rss} KiB`);
});
