// Attack lab (issue 10, holes 5 and 6): what a credential reaches, and how
// many streams one may hold. The real anyroomd listens on every address of
// its own network namespace; this process is a LAN attacker holding one
// credential at a time (an API token, a paired panel), with the room screen
// on the room's loopback (docs/api.md "Token scopes", "Room screen and touch
// panels", the stream limits; docs/decisions.md).
//
//   AR_BUILD_DIR=build AR_SOURCE_DIR=. bash tests/integration/run-in-lab.sh \
//     tests/integration/test-attack-creds.mjs
//
// Each hole is reproduced as the attacker did it and must be closed; after
// each step the daemon answers on both APIs and its fd count is back near
// where it started.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {
  PORT, ROOM_ADDR, assertHealthy, attackerAddr, createRoomNetns, fdCount, loopbackRequest, request,
  rssKiB, setupAdmin, startRoom, until,
} from './attack-lab.mjs';
import { run, sleep, startAnyroomd } from '../lab/lab.mjs';
import { stepper } from './common.mjs';

let lab = null;
let room = null;
let admin = null;
let roomCookie = null; // the room screen's session
let fd0 = 0;
let rss0 = 0;
const streams = []; // every WebSocket this test opened, closed in after()
const LAN_ORIGIN = `https://${ROOM_ADDR}:${PORT}`;
const figures = {};

const { step, failed } = stepper({
  timeout: 90000,
  onFail: async () => { if (room) console.error(`anyroomd log:\n${room.logTail(60).replace(/^/gm, '# ')}`); },
});

// ---- helpers ----

// A request from loopback with the response headers (curl -D): the room
// screen's sign-in and anything whose Set-Cookie matters.
async function loopbackWithHeaders({ method = 'GET', path: p, headers = {}, body = null }) {
  const args = ['netns', 'exec', room.ns, 'curl', '-sk', '-m', '10', '-D', '-', '-X', method];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (body !== null) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
  args.push(`https://127.0.0.1:${PORT}${p}`);
  const r = await run('ip', args, { timeoutMs: 20000 });
  const split = r.stdout.indexOf('\r\n\r\n');
  const head = r.stdout.slice(0, split);
  const text = r.stdout.slice(split + 4);
  const status = Number((/^HTTP\/\S+ (\d+)/.exec(head) || [])[1] || 0);
  let json = null;
  try { json = JSON.parse(text); } catch { json = null; }
  return { status, head, json, text };
}

// The admin's requests, from loopback with the session and its CSRF token.
function adminRequest(method, p, body = null) {
  return loopbackRequest(room.ns, {
    method, path: p, body,
    headers: { Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf, Origin: admin.origin },
  });
}

async function createToken(name, scopes) {
  const r = await adminRequest('POST', '/api/v1/tokens', scopes === undefined ? { name } : { name, scopes });
  assert.equal(r.status, 201, `token ${name}: ${r.status} ${r.text}`);
  assert.deepEqual(r.json.scopes, scopes);
  return { name, auth: { Authorization: `Bearer ${r.json.token}` } };
}

// The room screen's own session (the kiosk secret, from loopback).
async function roomSignIn() {
  const secret = fs.readFileSync(path.join(room.state, 'kiosk-secret'), 'utf8').trim();
  const r = await loopbackWithHeaders({ method: 'POST', path: '/api/v1/room/session', headers: { Origin: admin.origin }, body: { kiosk_secret: secret } });
  assert.equal(r.status, 200, `room session: ${r.status} ${r.text}`);
  const m = /set-cookie:\s*(__Host-ar_room=[0-9a-f]{64})/i.exec(r.head);
  assert.ok(m, `room session cookie: ${r.head}`);
  return m[1];
}

async function roomCode() {
  const r = await loopbackRequest(room.ns, { path: '/api/v1/room/info', headers: { Cookie: roomCookie } });
  assert.equal(r.status, 200, r.text);
  return r.json.pairing_code;
}

// Pairs a panel from attacker address @from: starts a pairing, reads the code
// the room screen shows (as a person in the room would) and answers it,
// with @headers (a token) when given. Returns {status, cookie, setCookie, json}.
async function pairPanel(from, name, headers = {}) {
  const start = await request({ from, method: 'POST', path: '/api/v1/panel/pair/start', headers: { Origin: LAN_ORIGIN } });
  assert.equal(start.status, 200, `pair/start: ${start.status} ${start.text}`);
  const code = await roomCode();
  assert.match(code, /^\d{6}$/);
  const h = Object.keys(headers).length ? headers : { Origin: LAN_ORIGIN };
  const r = await request({ from, method: 'POST', path: '/api/v1/panel/pair', headers: h, body: { pairing_id: start.json.pairing_id, code, name } });
  const sc = [].concat(r.headers['set-cookie'] || []).join('\n');
  const m = /(__Host-ar_panel=[0-9a-f]{64})/.exec(sc);
  return { status: r.status, json: r.json, text: r.text, cookie: m ? m[1] : null, setCookie: sc, start };
}

// A WebSocket client from @from (a minimal RFC 6455 reader: text messages
// and the close frame; it answers a close and then ends). Resolves {status}
// for a refused handshake, or {status: 101, st, close()}.
function openStream({ from, path: p = '/api/v1/events', headers = {} }) {
  return new Promise((resolve, reject) => {
    const rq = https.request({
      host: ROOM_ADDR, port: PORT, path: p, agent: false, rejectUnauthorized: false, localAddress: from,
      headers: { Host: `${ROOM_ADDR}:${PORT}`, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), ...headers },
      timeout: 10000,
    });
    rq.on('upgrade', (res, socket, head) => {
      if (socket.getPeerCertificate().fingerprint256 !== room.fingerprint256) {
        socket.destroy();
        reject(new Error('not the room\'s certificate'));
        return;
      }
      const st = { texts: [], binary: 0, closeCode: null, closeReason: null, ended: false };
      let buf = Buffer.alloc(0);
      const parse = () => {
        for (;;) {
          if (buf.length < 2) return;
          const op = buf[0] & 0x0f;
          let len = buf[1] & 0x7f;
          let off = 2;
          if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
          else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
          if (buf.length < off + len) return;
          const payload = buf.subarray(off, off + len);
          buf = buf.subarray(off + len);
          if (op === 1) st.texts.push(payload.toString('utf8'));
          else if (op === 2) st.binary++;
          else if (op === 8) {
            st.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
            st.closeReason = payload.subarray(2).toString('utf8');
            // Our close, masked (a client must mask), then the end.
            const mask = crypto.randomBytes(4);
            const body = Buffer.from(payload.subarray(0, 2));
            for (let i = 0; i < body.length; i++) body[i] ^= mask[i % 4];
            try { socket.end(Buffer.concat([Buffer.from([0x88, 0x80 | body.length]), mask, body])); } catch { /* gone */ }
          }
        }
      };
      socket.on('data', (d) => { buf = Buffer.concat([buf, d]); parse(); });
      socket.on('close', () => { st.ended = true; });
      socket.on('error', () => { st.ended = true; });
      if (head && head.length) { buf = Buffer.concat([buf, head]); parse(); }
      const s = { status: res.statusCode, st, close: () => socket.destroy(), open: () => st.closeCode === null && !st.ended };
      streams.push(s);
      resolve(s);
    });
    rq.on('response', (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    rq.on('timeout', () => rq.destroy(new Error(`WebSocket ${p} from ${from}: timed out`)));
    rq.on('error', reject);
    rq.end();
  });
}

function closeAll() {
  while (streams.length) streams.pop().close();
}

// Healthy on both APIs, and the fd count back near its start once this
// step's connections are gone.
async function healthyAndFdsBack(what) {
  closeAll();
  await assertHealthy(room, what);
  const fds = await until(`${what}: fds back near ${fd0}`, () => {
    const n = fdCount(room.pid);
    return n <= fd0 + 4 ? n : null;
  }, 15000, 200);
  figures[what] = { fds, rssKiB: rssKiB(room.pid) };
  console.log(`${what}: fds ${fd0} at start -> ${fds}; RSS ${rssKiB(room.pid)} KiB (${rss0} at start)`);
}

function panelsList() {
  return adminRequest('GET', '/api/v1/panels');
}

function auditEntries() {
  const f = path.join(room.state, 'audit.log');
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

// ---- the lab ----

before(async () => {
  lab = createRoomNetns({ addresses: 64 });
  room = await startRoom({ ns: lab.ns });
  admin = await setupAdmin(room);
  roomCookie = await roomSignIn();
  await assertHealthy(room, 'start');
  fd0 = fdCount(room.pid);
  rss0 = rssKiB(room.pid);
  console.log(`anyroomd ${room.pid}: ${fd0} fds, ${rss0} KiB at the start`);
});

after(async () => {
  closeAll();
  if (room) {
    if (failed()) console.error(`anyroomd log:\n${room.logTail(120).replace(/^/gm, '# ')}`);
    await room.stop();
    fs.rmSync(room.tmp, { recursive: true, force: true });
  }
  if (lab) lab.close();
  console.log(`figures: ${JSON.stringify(figures)}`);
});

// ---- hole 5: what a token reaches ----

step('tokens have the scopes chosen at creation, enforced on every route', async () => {
  // No silent default for a new token.
  let r = await adminRequest('POST', '/api/v1/tokens', { name: 'noscopes' });
  assert.equal(r.status, 400, r.text);
  r = await adminRequest('POST', '/api/v1/tokens', { name: 'bad', scopes: ['status', 'admin'] });
  assert.equal(r.status, 400, r.text);
  const status = await createToken('dashboard', ['status']);
  const from = attackerAddr(1);
  r = await request({ from, path: '/api/v1/status', headers: status.auth });
  assert.equal(r.status, 200, r.text);
  r = await request({ from, path: '/api/v1/history', headers: status.auth });
  assert.equal(r.status, 200, r.text);
  for (const [method, p, body] of [
    ['POST', '/api/v1/commands/mute', null],
    ['POST', '/api/v1/commands/join', { link: 'janus+ws://10.98.0.9:8188/?room=1' }],
    ['GET', '/api/v1/config', null],
    ['PATCH', '/api/v1/config', { room: { name: 'Owned' } }],
    ['GET', '/api/v1/devices', null],
    ['POST', '/api/v1/commands/update-install', { source: 'https://example.org/x.raucb' }],
  ]) {
    r = await request({ from, method, path: p, headers: status.auth, body });
    assert.equal(r.status, 403, `${method} ${p} with a status-only token: ${r.status} ${r.text}`);
    assert.match(r.json.error, /lacks the scope/);
  }
  // Routes with no scope are closed to every token, whatever it holds.
  const all = await createToken('everything', ['status', 'commands', 'configuration', 'media', 'update']);
  for (const p of ['/api/v1/tokens', '/api/v1/audit', '/api/v1/logs', '/api/v1/panels', '/api/v1/camera/snapshot']) {
    r = await request({ from, path: p, headers: all.auth });
    assert.equal(r.status, 403, `${p} with an all-scopes token: ${r.status}`);
  }
  r = await request({ from, path: '/api/v1/config', headers: all.auth });
  assert.equal(r.status, 200, r.text);
  const list = await adminRequest('GET', '/api/v1/tokens');
  assert.deepEqual(list.json.tokens.map((t) => [t.name, t.scopes]),
    [['dashboard', ['status']], ['everything', ['status', 'commands', 'configuration', 'media', 'update']]]);
  assert.equal((await adminRequest('DELETE', '/api/v1/tokens/everything')).status, 200);
  // A revoked token is refused on public routes too.
  r = await request({ from, path: '/api/v1/session', headers: all.auth });
  assert.equal(r.status, 401, r.text);
  await healthyAndFdsBack('scopes');
});

step('hole 5: a token (or an admin session) no longer reads the live pairing code; the room screen does', async () => {
  const token = await createToken('crestron', ['status', 'commands']);
  const from = attackerAddr(2);
  const start = await request({ from, method: 'POST', path: '/api/v1/panel/pair/start', headers: { Origin: LAN_ORIGIN } });
  assert.equal(start.status, 200, start.text);
  // The attacker's read: everything but the code.
  let r = await request({ from, path: '/api/v1/room/info', headers: token.auth });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.pairing_code, null, `a token read the pairing code: ${r.text}`);
  assert.equal(r.json.setup_code, null);
  assert.ok(r.json.pairing_expires_in_s > 0, 'the other fields stay');
  assert.equal(r.json.room_name, 'Attack Lab');
  r = await adminRequest('GET', '/api/v1/room/info');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.pairing_code, null, 'an admin session reads no code either');
  // The room screen sees it.
  assert.match(await roomCode(), /^\d{6}$/);
  // A token without the status scope does not even get the rest.
  const cfg = await createToken('cfg-only', ['configuration']);
  r = await request({ from, path: '/api/v1/room/info', headers: cfg.auth });
  assert.equal(r.status, 403, r.text);
  assert.equal((await adminRequest('DELETE', '/api/v1/tokens/cfg-only')).status, 200);
  assert.equal((await adminRequest('DELETE', '/api/v1/tokens/crestron')).status, 200);
  await healthyAndFdsBack('pairing code');
});

step('hole 5: a panel paired with a token is revoked with it, its event stream closed', async () => {
  const from = attackerAddr(3);
  // A token that could not drive the room cannot mint a panel that can.
  const weak = await createToken('weak', ['status']);
  let p = await pairPanel(from, 'Weak panel', weak.auth);
  assert.equal(p.status, 403, `pairing with a status-only token: ${p.status} ${p.text}`);
  assert.equal(p.cookie, null);
  assert.equal((await adminRequest('DELETE', '/api/v1/tokens/weak')).status, 200);
  // Pairing with a room controller's token (status + commands), the code
  // read off the room screen.
  const token = await createToken('crestron', ['status', 'commands']);
  p = await pairPanel(from, 'Token panel', token.auth);
  assert.equal(p.status, 200, `pairing with the token: ${p.status} ${p.text}`);
  assert.ok(p.cookie, 'a panel credential');
  // Bounded life: 30 days, not 10 years.
  assert.match(p.setCookie, /Max-Age=2592000(;|$)/, p.setCookie);
  const panelId = p.json.panel_id;
  let r = await panelsList();
  const entry = r.json.panels.find((x) => x.id === panelId);
  assert.ok(entry && entry.paired_with_token === true && entry.expired === false, JSON.stringify(r.json));
  const now = Date.now() / 1000;
  assert.ok(Math.abs(entry.expires - (now + 30 * 86400)) < 120, `expires ${entry.expires}`);
  const stored = JSON.parse(fs.readFileSync(path.join(room.state, 'panels.json'), 'utf8')).find((x) => x.id === panelId);
  assert.match(stored.parent, /^token:[0-9a-f]{64}$/);
  // The panel works, with an event stream.
  const panelHeaders = { Cookie: p.cookie };
  r = await request({ from, path: '/api/v1/status', headers: panelHeaders });
  assert.equal(r.status, 200, r.text);
  const ws = await openStream({ from, headers: { ...panelHeaders, Origin: LAN_ORIGIN } });
  assert.equal(ws.status, 101);
  // An anonymous panel (paired by a person with the code) is no child of the token.
  const anon = await pairPanel(attackerAddr(4), 'Table panel');
  assert.equal(anon.status, 200, anon.text);
  // Revoke the token: its panel goes with it.
  r = await adminRequest('DELETE', '/api/v1/tokens/crestron');
  assert.equal(r.status, 200, r.text);
  await until('the panel\'s event stream to close', () => !ws.open(), 5000);
  assert.equal(ws.st.closeCode, 1008, `close code ${ws.st.closeCode} ${ws.st.closeReason}`);
  r = await request({ from, path: '/api/v1/status', headers: panelHeaders });
  assert.equal(r.status, 401, `the token's panel after the revocation: ${r.status} ${r.text}`);
  r = await request({ from, method: 'POST', path: '/api/v1/commands/mute', headers: { ...panelHeaders, Origin: LAN_ORIGIN, 'X-CSRF-Token': p.json.csrf_token } });
  assert.equal(r.status, 401, r.text);
  assert.equal((await openStream({ from, headers: { ...panelHeaders, Origin: LAN_ORIGIN } })).status, 401);
  r = await panelsList();
  assert.ok(!r.json.panels.some((x) => x.id === panelId), 'gone from the list');
  assert.ok(r.json.panels.some((x) => x.id === anon.json.panel_id && !x.paired_with_token), 'the anonymous panel stays');
  r = await request({ from: attackerAddr(4), path: '/api/v1/status', headers: { Cookie: anon.cookie } });
  assert.equal(r.status, 200);
  assert.ok(auditEntries().some((e) => e.event === 'panel-revoked' && e.detail.startsWith(panelId)), 'audited');
  await healthyAndFdsBack('token panel revoked');
});

step('hole 5: a token opens the video WebSocket only with the media scope', async () => {
  const from = attackerAddr(5);
  const tok = await createToken('no-media', ['status', 'commands', 'configuration', 'update']);
  const ws = await openStream({ from, path: '/api/v1/video', headers: tok.auth });
  assert.equal(ws.status, 403, `the video with a token without media: ${ws.status}`);
  const media = await createToken('recorder', ['media']);
  const ok = await openStream({ from, path: '/api/v1/video', headers: media.auth });
  assert.equal(ok.status, 101);
  // Revoking the token closes its video stream.
  assert.equal((await adminRequest('DELETE', '/api/v1/tokens/recorder')).status, 200);
  await until('the revoked token\'s video stream to close', () => !ok.open(), 5000);
  assert.equal((await adminRequest('DELETE', '/api/v1/tokens/no-media')).status, 200);
  // An admin session's video stream ends at its logout (a second session).
  const login = await loopbackWithHeaders({ method: 'POST', path: '/api/v1/login', headers: { Origin: admin.origin }, body: { password: 'correct horse battery staple' } });
  const second = /set-cookie:\s*(__Host-ar_session=[0-9a-f]{64})/i.exec(login.head)[1];
  const adminVideo = await openStream({ from, path: '/api/v1/video', headers: { Cookie: second, Origin: LAN_ORIGIN } });
  assert.equal(adminVideo.status, 101);
  const se = await loopbackRequest(room.ns, { path: '/api/v1/session', headers: { Cookie: second } });
  const out = await loopbackRequest(room.ns, { method: 'POST', path: '/api/v1/logout', headers: { Cookie: second, 'X-CSRF-Token': se.json.csrf_token, Origin: admin.origin } });
  assert.equal(out.status, 200, out.text);
  await until('the logged-out session\'s video stream to close', () => !adminVideo.open(), 5000);
  await healthyAndFdsBack('video scope');
});

// ---- hole 6: stream slots per credential ----

step('hole 6: one panel opens 31 event streams; it keeps 4 and the room screen gets in', async () => {
  const from = attackerAddr(6);
  const p = await pairPanel(from, 'Greedy panel');
  assert.equal(p.status, 200, p.text);
  // The admin page's own stream is open, as in the attack: 1 + 31 = 32.
  const adminWs = await openStream({ from: attackerAddr(13), headers: { Cookie: admin.cookie, Origin: LAN_ORIGIN } });
  assert.equal(adminWs.status, 101);
  const h = { Cookie: p.cookie, Origin: LAN_ORIGIN };
  const mine = [];
  // From four addresses: the server keeps at most 16 connections from one
  // address (attack-conn), and the closed streams' TCP connections linger
  // until this client closes them.
  for (let i = 0; i < 31; i++) {
    const s = await openStream({ from: i % 4 === 0 ? from : attackerAddr(20 + (i % 4)), headers: h });
    assert.equal(s.status, 101, `stream ${i}: ${s.status} ${s.text || ''}`);
    mine.push(s);
  }
  // The room screen's stream (the panel's 31 were there first): open and fed.
  const roomWs = await openStream({ from: attackerAddr(7), headers: { Cookie: roomCookie, Origin: LAN_ORIGIN } });
  assert.equal(roomWs.status, 101);
  let r = await adminRequest('PATCH', '/api/v1/config', { room: { name: 'Slots Room' } });
  assert.equal(r.status, 200, r.text);
  await until('the config event on the room screen\'s stream', () => roomWs.st.texts.some((t) => t.includes('Slots Room')), 5000);
  assert.ok(roomWs.open(), 'the room screen\'s stream stays open');
  assert.ok(adminWs.open(), 'the admin page\'s stream too (another credential)');
  await sleep(500);
  const open = mine.filter((s) => s.open());
  figures.panelStreamsHeld = open.length;
  figures.fdsWithPanelStreams = fdCount(room.pid);
  console.log(`one panel opened 31 event streams: ${open.length} stay open`);
  assert.equal(open.length, 4, `streams the panel holds: ${open.length}`);
  assert.deepEqual(open, mine.slice(27), 'its newest four');
  assert.ok(mine.slice(0, 27).every((s) => s.st.closeCode === 1008), 'the older ones closed (1008)');
  // Many credentials: past the 24 unreserved slots others are refused
  // before the handshake; the room screen still is not.
  // (Open now: the panel's 4 and the admin's 1.)
  const tokens = [];
  for (let i = 0; i < 5; i++) tokens.push(await createToken(`t${i}`, ['status']));
  let opened = 0;
  // Each token from an address of its own (16 connections per address).
  for (const [k, t] of tokens.entries())
    for (let i = 0; i < 4 && opened < 19; i++, opened++) {
      const s = await openStream({ from: attackerAddr(30 + k), headers: t.auth });
      assert.equal(s.status, 101, `${t.name} stream ${i}`);
    }
  const extra = await createToken('t5', ['status']);
  const refused = await openStream({ from: attackerAddr(35), headers: extra.auth });
  assert.equal(refused.status, 503, `the 25th LAN stream: ${refused.status}`);
  assert.equal(refused.headers['retry-after'], '10');
  const room2 = await openStream({ from: attackerAddr(7), headers: { Cookie: roomCookie, Origin: LAN_ORIGIN } });
  assert.equal(room2.status, 101, 'the room screen is never refused');
  await sleep(300);
  assert.ok(room2.open() && roomWs.open());
  for (const t of [...tokens, extra]) assert.equal((await adminRequest('DELETE', `/api/v1/tokens/${t.name}`)).status, 200);
  r = await adminRequest('PATCH', '/api/v1/config', { room: { name: 'Attack Lab' } });
  assert.equal(r.status, 200);
  await healthyAndFdsBack('event streams');
});

step('hole 6: six video streams from one token leave two; the room screen reconnects', async () => {
  const from = attackerAddr(9);
  const tok = await createToken('video-hog', ['media']);
  const mine = [];
  for (let i = 0; i < 6; i++) {
    const s = await openStream({ from, path: '/api/v1/video', headers: tok.auth });
    assert.equal(s.status, 101, `video stream ${i}: ${s.status}`);
    mine.push(s);
  }
  await sleep(500);
  const open = mine.filter((s) => s.open());
  figures.tokenVideoStreamsHeld = open.length;
  figures.fdsWithVideoStreams = fdCount(room.pid);
  console.log(`one token opened 6 video streams: ${open.length} stay open`);
  assert.equal(open.length, 2);
  // Another LAN credential is refused (the slots open to all are taken)...
  const other = await createToken('video-2', ['media']);
  const refused = await openStream({ from, path: '/api/v1/video', headers: other.auth });
  assert.equal(refused.status, 503);
  // ...and the room screen's reconnects are not, twice.
  for (let i = 0; i < 2; i++) {
    const v = await openStream({ from: attackerAddr(7), path: '/api/v1/video', headers: { Cookie: roomCookie, Origin: LAN_ORIGIN } });
    assert.equal(v.status, 101, `the room screen's video reconnect ${i}`);
    await sleep(300);
    assert.ok(v.open(), 'stays open');
  }
  assert.equal((await adminRequest('DELETE', '/api/v1/tokens/video-hog')).status, 200);
  assert.equal((await adminRequest('DELETE', '/api/v1/tokens/video-2')).status, 200);
  await healthyAndFdsBack('video streams');
});

// ---- hole 5: a bounded life for panels; tokens from before scopes ----

step('panels expire after 30 days unused and renew when used past half; old tokens get status only', async () => {
  // Two panels and the dates moved in panels.json while anyroomd is stopped.
  const a = await pairPanel(attackerAddr(10), 'Drawer panel');
  const b = await pairPanel(attackerAddr(11), 'Wall panel');
  const c = await pairPanel(attackerAddr(14), 'Old panel');
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.equal(c.status, 200);
  await room.stop();
  const file = path.join(room.state, 'panels.json');
  const now = Math.floor(Date.now() / 1000);
  const panels = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const x of panels) {
    if (x.id === a.json.panel_id) x.expires = now - 60;
    if (x.id === b.json.panel_id) x.expires = now + 10 * 86400; // 20 of 30 days spent
    if (x.id === c.json.panel_id) delete x.expires; // paired before panels expired
  }
  fs.writeFileSync(file, JSON.stringify(panels), { mode: 0o600 });
  // A token from before scopes (no "scopes" in tokens.json).
  const legacySecret = `art_${crypto.randomBytes(32).toString('hex')}`;
  const tfile = path.join(room.state, 'tokens.json');
  const tokens = JSON.parse(fs.readFileSync(tfile, 'utf8'));
  tokens.push({ name: 'legacy', sha256: crypto.createHash('sha256').update(legacySecret).digest('hex'), created: now - 86400 });
  fs.writeFileSync(tfile, JSON.stringify(tokens), { mode: 0o600 });
  const d = await startAnyroomd({ tmp: room.tmp, netns: room.ns, extraArgs: ['--config', room.conf, '--state-dir', room.state], log: 'anyroomd-2.log' });
  Object.assign(room, { pid: d.pid, stop: d.stop, status: d.status, logTail: d.logTail, child: d.child });
  admin = await (async () => {
    const r = await loopbackWithHeaders({ method: 'POST', path: '/api/v1/login', headers: { Origin: admin.origin }, body: { password: 'correct horse battery staple' } });
    const m = /set-cookie:\s*(__Host-ar_session=[0-9a-f]{64})/i.exec(r.head);
    assert.ok(m, r.head);
    const se = await loopbackRequest(room.ns, { path: '/api/v1/session', headers: { Cookie: m[1] } });
    return { cookie: m[1], csrf: se.json.csrf_token, origin: admin.origin };
  })();
  roomCookie = await roomSignIn();
  fd0 = fdCount(room.pid);
  // The panel from before gets 30 days from this start, saved at once (before
  // any other change to panels.json).
  const ec = JSON.parse(fs.readFileSync(file, 'utf8')).find((x) => x.id === c.json.panel_id);
  assert.ok(ec.expires && Math.abs(ec.expires - (now + 30 * 86400)) < 120, `migrated to ${ec.expires}`);
  let r = await request({ from: attackerAddr(14), path: '/api/v1/status', headers: { Cookie: c.cookie } });
  assert.equal(r.status, 200);
  // The expired panel is refused and shown as expired.
  r = await request({ from: attackerAddr(10), path: '/api/v1/status', headers: { Cookie: a.cookie } });
  assert.equal(r.status, 401, r.text);
  assert.match(r.json.error, /expired/);
  r = await request({ from: attackerAddr(10), path: '/api/v1/panel/session', headers: { Cookie: a.cookie } });
  assert.equal(r.json.paired, false);
  assert.equal(r.json.expired, true);
  const ws = await openStream({ from: attackerAddr(10), headers: { Cookie: a.cookie, Origin: LAN_ORIGIN } });
  assert.equal(ws.status, 401);
  r = await panelsList();
  const ea = r.json.panels.find((x) => x.id === a.json.panel_id);
  assert.equal(ea.expired, true, JSON.stringify(r.json));
  // The half-spent one is renewed by its next request: a new cookie life and
  // a new stored expiry.
  r = await request({ from: attackerAddr(11), path: '/api/v1/status', headers: { Cookie: b.cookie } });
  assert.equal(r.status, 200, r.text);
  const sc = [].concat(r.headers['set-cookie'] || []).join('\n');
  assert.ok(sc.includes(b.cookie) && /Max-Age=2592000/.test(sc), `renewal cookie: ${sc}`);
  const eb = JSON.parse(fs.readFileSync(file, 'utf8')).find((x) => x.id === b.json.panel_id);
  assert.ok(Math.abs(eb.expires - (now + 30 * 86400)) < 120, `renewed to ${eb.expires}`);
  // Renewed once: the next request sets no cookie.
  r = await request({ from: attackerAddr(11), path: '/api/v1/status', headers: { Cookie: b.cookie } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['set-cookie'], undefined);
  // The legacy token: status, nothing more.
  const legacy = { Authorization: `Bearer ${legacySecret}` };
  r = await request({ from: attackerAddr(12), path: '/api/v1/status', headers: legacy });
  assert.equal(r.status, 200, r.text);
  r = await request({ from: attackerAddr(12), method: 'POST', path: '/api/v1/commands/mute', headers: legacy });
  assert.equal(r.status, 403, r.text);
  r = await adminRequest('GET', '/api/v1/tokens');
  assert.deepEqual(r.json.tokens.find((t) => t.name === 'legacy').scopes, ['status']);
  await healthyAndFdsBack('panel life');
});
