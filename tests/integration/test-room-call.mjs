// Integration (issue 12, part 3): direct calls to a room from its call link, with no server in
// the middle, in the three-namespace lab (tests/lab/net3.sh):
//   room (caller: anyroomd A) ── middle (coturn; forwards or not) ── meet (called: anyroomd B,
//   and a headless Chromium on B's call page)
// B's administrator makes call links on B's HTTPS API; A calls with `anyroomctl call LINK`; B
// rings (status "incoming"), someone accepts (`anyroomctl accept`) or declines; media both ways,
// asserted on both rooms' decoded frames. Then: a used, revoked or wrong link is refused; a
// link's token reaches no other API; a browser calls B from the link's page (an auto-answer link)
// with media both ways; with only HTTPS passing between the rooms, the call goes through coturn.
// Everything here is real (two anyroomd, Chromium, coturn); nothing is a fixture.
// Run: tests/integration/run-in-net-lab.sh tests/integration/test-room-call.mjs (TAP).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startCoturn } from '../lab/coturn.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd } from '../lab/lab.mjs';
import { launchChromium, waitFor } from '../lab/participant.mjs';
import { loopbackRequest, request, setupAdmin } from './attack-lab.mjs';
import { stepper, tracksOf, waitState } from './common.mjs';
import { NS, net3Mode, startNet3Room, stopNet3Room } from './net3.mjs';

const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'room-call');
const TMP = mkTemp('ar-it-room-call-');
const TURN_IP = process.env.AR_NET3_TURN_ADDR || '10.98.1.1';
const RELAY_IP = process.env.AR_NET3_RELAY_ADDR || '10.98.2.1';
const MEET_IP = process.env.AR_NET3_MEET_ADDR || '10.98.2.2';
const DEVICE = { camera: 'test', microphone: 'test', speaker: 'none', display: 'none' };
let called = null; // anyroomd B (this namespace)
let caller = null; // anyroomd A (the room namespace)
let admin = null;
let turn = null;

const { step, failed } = stepper({
  timeout: 120000,
  onFail: async () => {
    for (const d of [caller, called]) if (d) await d.ctl('leave').catch(() => {});
  },
});

function adminHeaders() {
  return { Cookie: admin.cookie, Origin: admin.origin, 'X-CSRF-Token': admin.csrf };
}

async function makeLink(body) {
  const r = await loopbackRequest(NS.meet, { method: 'POST', path: '/api/v1/call-links', headers: adminHeaders(), body });
  assert.equal(r.status, 201, `POST /api/v1/call-links: ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

async function startCaller(name, network = null) {
  caller = await startNet3Room(TMP, name, {
    device: DEVICE, admin: { listen: 'none' }, web: { enabled: 'false' }, ...(network ? { network } : {}),
  });
}

// Both rooms idle again (the caller leaves; the called room's call ends with it).
async function hangUp() {
  await caller.ctl('leave').catch(() => {});
  await waitState(caller, 'idle', { timeoutMs: 15000 }).catch(() => {});
  await waitFor('the called room to end the call', async () => {
    const s = await called.status();
    if (s.state === 'idle') return true;
    if (s.state === 'failed') await called.ctl('leave');
    return false;
  }, { timeoutMs: 20000 });
}

// A calls @link; B rings and accepts; both connected; video frames decoded on both sides.
// @paths: {caller, called} regexps every track's ICE path must match, or null.
async function callAndCheck(t, link, paths = null) {
  const t0 = Date.now();
  const pending = caller.ctl('call', link, '--timeout', '60');
  const incoming = await waitFor('the called room to ring', async () => (await called.status()).incoming, { timeoutMs: 20000 });
  t.diagnostic(`rings after ${Date.now() - t0} ms: ${JSON.stringify(incoming)}`);
  assert.equal(incoming.caller, 'Room-' + path.basename(path.dirname(caller.log)));
  const acc = await called.ctl('accept');
  assert.equal(acc.code, 0, `accept: ${acc.stderr}`);
  const r = await pending;
  assert.equal(r.code, 0, `call: exit ${r.code}: ${r.stderr.trim()}`);
  t.diagnostic(`the call is connected ${Date.now() - t0} ms after the call command`);
  await waitState(called, 'connected', { timeoutMs: 20000 });
  // Connected comes before the first decoded frame: the snapshots start once both decode.
  const decoding = (d) => waitFor('a decoded frame of the other room', async () => {
    const s = await d.status();
    const v = tracksOf(s, { kind: 'video', direction: 'recv' })[0];
    return v && v.frames > 0 ? s : null;
  }, { timeoutMs: 15000 });
  const a0 = await decoding(caller);
  const b0 = await decoding(called);
  await sleep(3000);
  const a1 = await caller.status();
  const b1 = await called.status();
  for (const [who, s0, s1] of [['caller', a0, a1], ['called', b0, b1]]) {
    const v0 = tracksOf(s0, { kind: 'video', direction: 'recv' })[0];
    const v1 = tracksOf(s1, { kind: 'video', direction: 'recv' })[0];
    const au1 = tracksOf(s1, { kind: 'audio', direction: 'recv' })[0];
    t.diagnostic(`${who}: decoded video ${v0 && v0.frames} -> ${v1 && v1.frames} (${v1 && v1.width}x${v1 && v1.height}); audio packets ${au1 && au1.packets}; paths ${[...new Set(s1.tracks.map((x) => x.ice_path))].join(', ')}`);
    assert.ok(v1 && v0 && v1.frames > v0.frames + 20, `${who} decodes the other room's video`);
    assert.ok(au1 && au1.packets > 50, `${who} receives the other room's audio`);
    if (paths) for (const tr of s1.tracks) assert.match(String(tr.ice_path), paths[who], `${who} ${tr.peer}`);
  }
  assert.equal(b1.engine, 'native');
  assert.equal(a1.provider, 'anyroom');
  return { a1, b1 };
}

before(async () => {
  if (!NS.room || !NS.middle || !NS.meet) throw new Error('run me with tests/integration/run-in-net-lab.sh');
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  net3Mode('direct');
  const dir = path.join(TMP, 'b');
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', 'name=Board Room B',
    '[device]', ...Object.entries(DEVICE).map(([k, v]) => `${k}=${v}`),
    '[admin]', 'listen=0.0.0.0:8443',
    '[web]', 'enabled=false', '',
  ].join('\n'));
  called = await startAnyroomd({ tmp: dir, extraArgs: ['--config', conf] });
  admin = await setupAdmin({ ns: NS.meet });
  await startCaller('a');
});

after(async () => {
  if (caller) await stopNet3Room(caller, OUT);
  if (called) {
    if (failed()) console.error(`# called room's log:\n${called.logTail(80).replace(/^/gm, '# ')}`);
    fs.copyFileSync(called.log, path.join(OUT, 'anyroomd-called.log'));
    await called.stop();
  }
  if (turn) await turn.stop();
  fs.rmSync(TMP, { recursive: true, force: true });
});

let first = null;
let short = null; // a link of 60 s, tried once it expired (the last step)
let shortMadeAt = 0;

// The middle forwards the rooms' HTTPS (signalling to B's port 8443) and nothing else between
// them: no UDP, no ICE-TCP. Media can only go through coturn (TURN over TCP to the middle's own
// address, then relayed from it: input and output, never forwarded).
function signallingOnly() {
  const rules = `table inet arlab {
  chain forward_filter { type filter hook forward priority 0; policy drop;
    ct state established,related accept;
    ip daddr ${MEET_IP} tcp dport 8443 accept; }
}
`;
  let r = spawnSync('ip', ['netns', 'exec', NS.middle, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  spawnSync('ip', ['netns', 'exec', NS.middle, 'nft', 'delete', 'table', 'inet', 'arlab']);
  r = spawnSync('ip', ['netns', 'exec', NS.middle, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
  assert.equal(r.status, 0, `nft: ${r.stderr}`);
}

step('a call link: made by the admin, its token shown once with a QR code, listed without it', async () => {
  short = await makeLink({ name: 'short-lived', uses: 5, expires_in_s: 60 });
  shortMadeAt = Date.now();
  first = await makeLink({ name: 'room-a', uses: 1, expires_in_s: 3600 });
  assert.match(first.token, /^arc_[0-9a-f]{64}$/);
  assert.match(first.link, new RegExp(`^https://${MEET_IP.replace(/\./g, '\\.')}:8443/call#t=arc_[0-9a-f]{64}&fp=[0-9a-f]{64}$`));
  assert.ok(first.links.some((l) => /\.local:8443\/call#/.test(l)), `an mDNS name among ${first.links.length} links`);
  assert.match(first.qr_svg, /^<svg [^>]*viewBox="0 0 \d+ \d+"/);
  const list = await loopbackRequest(NS.meet, { path: '/api/v1/call-links', headers: { Cookie: admin.cookie } });
  assert.equal(list.status, 200);
  assert.equal(list.json.call_links.length, 2);
  assert.ok(!list.text.includes(first.token.slice(4, 20)), 'the list never shows a token');
  const log = fs.readFileSync(called.log, 'utf8');
  assert.ok(!log.includes(first.token.slice(4)), 'the token is not in the log');
});

step('room A calls room B from the link: B rings, someone accepts, media both ways (direct)', async (t) => {
  await callAndCheck(t, first.link, { caller: /^host -> host$/, called: /^host -> host$/ });
  await hangUp();
});

step('a used link is refused, and a link\'s token reaches no other API', async (t) => {
  const r = await caller.ctl('call', first.link, '--timeout', '30');
  t.diagnostic(`the used link: exit ${r.code}: ${r.stderr.trim()}`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /not valid|wrong, used, expired or revoked/);
  await caller.ctl('leave').catch(() => {});
  const fresh = await makeLink({ name: 'probe', uses: 5 });
  const bearer = { Authorization: `Bearer ${fresh.token}` };
  for (const [method, p] of [['GET', '/api/v1/status'], ['GET', '/api/v1/call-links'], ['POST', '/api/v1/commands/leave'],
    ['GET', '/api/v1/config'], ['GET', '/api/v1/call/0123456789abcdef0123456789abcdef']]) {
    const x = await request({ host: MEET_IP, method, path: p, headers: bearer, body: method === 'POST' ? {} : null });
    t.diagnostic(`${method} ${p} with a call token: ${x.status}`);
    assert.ok(x.status === 401 || x.status === 404, `${method} ${p}: ${x.status} ${x.text.slice(0, 200)}`);
  }
  const wrong = await request({ host: MEET_IP, method: 'POST', path: '/api/v1/call', headers: { Authorization: `Bearer arc_${'0'.repeat(64)}` }, body: { offer: 'v=0' } });
  assert.equal(wrong.status, 401, wrong.text);
});

step('a revoked link is refused; a declined call says so', async (t) => {
  const l = await makeLink({ name: 'revoked', uses: 3 });
  const del = await loopbackRequest(NS.meet, { method: 'DELETE', path: `/api/v1/call-links/${l.id}`, headers: adminHeaders() });
  assert.equal(del.status, 200, del.text);
  let r = await caller.ctl('call', l.link, '--timeout', '30');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /wrong, used, expired or revoked/);
  await caller.ctl('leave').catch(() => {});
  const d = await makeLink({ name: 'declined' });
  const pending = caller.ctl('call', d.link, '--timeout', '60');
  await waitFor('the called room to ring', async () => (await called.status()).incoming, { timeoutMs: 20000 });
  const dec = await called.ctl('decline');
  assert.equal(dec.code, 0, dec.stderr);
  r = await pending;
  t.diagnostic(`declined: exit ${r.code}: ${r.stderr.trim()}`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /declined/);
  assert.equal((await called.status()).incoming, null, 'the ringing stopped');
  await caller.ctl('leave').catch(() => {});
});

step('the caller hangs up while it rings: the ringing stops at once', async (t) => {
  const l = await makeLink({ name: 'impatient' });
  const pending = caller.ctl('call', l.link, '--timeout', '60');
  await waitFor('the called room to ring', async () => (await called.status()).incoming, { timeoutMs: 20000 });
  const t0 = Date.now();
  const lr = await caller.ctl('leave');
  assert.equal(lr.code, 0, lr.stderr);
  await waitFor('the ringing to stop', async () => (await called.status()).incoming === null, { timeoutMs: 5000 });
  t.diagnostic(`the ringing stopped ${Date.now() - t0} ms after the caller left`);
  const r = await pending;
  assert.notEqual(r.code, 0);
  assert.equal((await called.status()).state, 'idle');
});

step('the room screen rings with the caller\'s name; Accept on it answers; its share button shows a QR code', async (t) => {
  const secret = fs.readFileSync(path.join(path.dirname(called.log), 'xdg-state', 'anyroom', 'kiosk-secret'), 'utf8').trim();
  const screen = await launchChromium({ name: 'room-screen', logDir: OUT, ignoreHTTPSErrors: true, viewport: { width: 1920, height: 1080 } });
  try {
    await screen.page.goto(`https://127.0.0.1:8443/room/#k=${secret}`);
    await screen.page.waitForSelector('#idle:not([hidden])', { timeout: 20000 });
    const l = await makeLink({ name: 'screen-test' });
    const pending = caller.ctl('call', l.link, '--timeout', '60');
    await screen.page.waitForSelector('#ringing:not([hidden])', { timeout: 20000 });
    assert.equal(await screen.page.textContent('#ringing-who'), 'Room-a');
    await screen.page.screenshot({ path: path.join(OUT, 'room-screen-ringing.png') });
    await screen.page.click('#accept-button');
    const r = await pending;
    assert.equal(r.code, 0, `call: ${r.stderr}`);
    await screen.page.waitForSelector('#call:not([hidden])', { timeout: 20000 });
    assert.ok(await screen.page.isHidden('#ringing'), 'the ringing is gone');
    await hangUp();
    await screen.page.waitForSelector('#idle:not([hidden])', { timeout: 20000 });
    await screen.page.click('#share-button');
    await screen.page.waitForSelector('#share-qr svg', { timeout: 10000 });
    const shown = await screen.page.textContent('#share-link');
    t.diagnostic(`the room screen shares ${shown.replace(/#t=.*/, '#t=…')}`);
    assert.match(shown, /^https:\/\/.*\/call#t=arc_[0-9a-f]{64}&fp=[0-9a-f]{64}$/);
    await screen.page.screenshot({ path: path.join(OUT, 'room-screen-share.png') });
    await screen.page.click('#share-close');
  } finally {
    await screen.close();
  }
});

step('a browser calls the room from its link\'s page (a link that answers by itself): media both ways', async (t) => {
  const l = await makeLink({ name: 'guest', auto_answer: true });
  const b = await launchChromium({ name: 'guest', logDir: OUT, ignoreHTTPSErrors: true });
  try {
    await b.page.goto(l.link);
    await b.page.waitForSelector('#start:not([hidden])', { timeout: 15000 });
    assert.equal(new URL(b.page.url()).hash, '', 'the page took the token out of the address bar');
    await b.page.fill('#name', 'Dana on a laptop');
    await b.page.click('#call');
    await waitState(called, 'connected', { timeoutMs: 30000 });
    await waitFor('the page to say it is in the call', async () => (await b.page.textContent('#state')) === 'In the call', { timeoutMs: 15000 });
    const s0 = await waitFor('the room to decode the browser\'s video', async () => {
      const s = await called.status();
      const v = tracksOf(s, { kind: 'video', direction: 'recv' })[0];
      return v && v.frames > 0 ? s : null;
    }, { timeoutMs: 15000 });
    await sleep(3000);
    const s1 = await called.status();
    const v0 = tracksOf(s0, { kind: 'video', direction: 'recv' })[0];
    const v1 = tracksOf(s1, { kind: 'video', direction: 'recv' })[0];
    assert.ok(v1 && v0 && v1.frames > v0.frames + 20, `the room decodes the browser's video (${v0 && v0.frames} -> ${v1 && v1.frames})`);
    assert.deepEqual(s1.participants.map((p) => p.display), ['Dana on a laptop']);
    const got = await b.page.evaluate(async () => {
      const st = await down.getStats();
      const out = {};
      st.forEach((r) => { if (r.type === 'inbound-rtp') out[r.kind] = r.kind === 'video' ? r.framesDecoded : r.totalAudioEnergy; });
      return out;
    });
    t.diagnostic(`the browser decoded ${got.video} video frames of the room; audio energy ${got.audio}`);
    assert.ok(got.video > 20, 'the browser decodes the room\'s video');
    assert.ok(got.audio > 0, 'the browser hears the room');
    await b.page.screenshot({ path: path.join(OUT, 'call-page.png') });
    await b.page.click('#hangup');
    await waitFor('the room to end the call', async () => ['idle', 'failed'].includes((await called.status()).state), { timeoutMs: 15000 });
    await called.ctl('leave').catch(() => {});
  } finally {
    await b.close();
  }
});

step('only signalling passes between the rooms: the call goes through coturn (TURN over TCP)', async (t) => {
  await stopNet3Room(caller, OUT);
  caller = null;
  turn = await startCoturn({ dir: path.join(TMP, 'coturn'), netns: NS.middle, listenIp: TURN_IP, relayIp: RELAY_IP, allowedPeers: [MEET_IP] });
  const c = turn.restCredentials();
  await startCaller('a-turn', { turn: `turn:${TURN_IP}:3478?transport=tcp`, 'turn-username': c.username, 'turn-password': c.password });
  signallingOnly();
  try {
    const l = await makeLink({ name: 'room-a-turn' });
    // the caller sends through its TURN allocation; the called room sends to that relay
    await callAndCheck(t, l.link, { caller: /^relay\/tcp -> host$/, called: /^host -> relay\/tcp$/ });
    await hangUp();
  } finally {
    net3Mode('direct');
  }
});

step('an expired link is refused', async (t) => {
  const wait = shortMadeAt + 61000 - Date.now();
  t.diagnostic(`waiting ${Math.max(0, wait)} ms for the 60 s link to expire`);
  if (wait > 0) await sleep(wait);
  const r = await request({ host: MEET_IP, method: 'POST', path: '/api/v1/call', headers: { Authorization: `Bearer ${short.token}` }, body: { name: 'late', offer: 'v=0' } });
  assert.equal(r.status, 401, r.text);
  assert.match(r.json.error, /wrong, used, expired or revoked/);
});
