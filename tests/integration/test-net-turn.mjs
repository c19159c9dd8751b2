// Integration: connectivity through TURN in a three-namespace network lab.
//
//   room (anyroomd) ── middle (coturn, does not forward) ── meet (Janus, Chromium)
//
// Each case switches the middle's rules (tests/lab/net3.sh), starts anyroomd
// in the room namespace with a [network] config, joins Janus's room 1234 and
// asserts real media both ways (Chromium decodes the room's video, anyroomd
// decodes Chromium's) and the ICE path anyroomd's status reports
// (tracks[].ice_path, from webrtcbin's selected candidate pair).
// Signalling reaches Janus through tests/lab/ns-bridge.py (a socket carried
// across namespaces, no network path), so the rules decide the media path only.
//
//   tests/integration/run-in-net-lab.sh tests/integration/test-net-turn.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startCoturn } from '../lab/coturn.mjs';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant, waitFor } from '../lab/participant.mjs';
import { LAB, buildDir, mkTemp, sleep, startProcess } from '../lab/lab.mjs';
import { NS, net3Mode, startNet3Room, startSignallingBridge, stopNet3Room } from './net3.mjs';
import { stepper, tracksOf } from './common.mjs';

const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'net-turn');
const TMP = mkTemp('ar-it-net-turn-');
const TURN_IP = process.env.AR_NET3_TURN_ADDR || '10.98.1.1';
const RELAY_IP = process.env.AR_NET3_RELAY_ADDR || '10.98.2.1';
const MEET_IP = process.env.AR_NET3_MEET_ADDR || '10.98.2.2';

let janus = null;
let turn = null;
let bridge = null;
let alice = null;
let daemon = null;
const figures = [];

// Each case starts its own anyroomd; a failing one prints the log tails.
const { step, failed } = stepper({
  timeout: 150000,
  onFail: () => {
    if (daemon) console.error(`# anyroomd log tail:\n${daemon.logTail(60).replace(/^/gm, '# ')}`);
    if (turn) console.error(`# coturn log tail:\n${turn.logTail(30).replace(/^/gm, '# ')}`);
  },
  always: () => stopDaemon(),
});

function nftCounters() {
  const r = spawnSync('ip', ['netns', 'exec', NS.middle, 'nft', 'list', 'table', 'inet', 'arlab'], { encoding: 'utf8' });
  return [...(r.stdout || '').matchAll(/counter packets (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
}

// The TURN REST credentials service (tests/lab/turn-creds-server.py) on the room's loopback, a
// device-local helper: credentials of @ttl seconds from coturn's secret; files TMP/@name.port
// and TMP/@name.log. The caller stops it; port() waits (at most 5 s) until it listens.
function startCredentialsService(name, ttl) {
  const portFile = path.join(TMP, `${name}.port`);
  const creds = startProcess('ip', ['netns', 'exec', NS.room, 'python3', path.join(LAB, 'turn-creds-server.py'),
    '--secret-file', path.join(turn.dir, 'secret'), '--uris', `turn:${TURN_IP}:3478?transport=udp`,
    '--ttl', String(ttl), '--port-file', portFile], { logFile: path.join(TMP, `${name}.log`) });
  creds.port = () => waitFor('the credentials service', async () => fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').trim(), { timeoutMs: 5000 });
  return creds;
}

async function startRoom(name, network, call = {}) {
  daemon = await startNet3Room(TMP, name, { call, network });
  return daemon;
}

async function stopDaemon() {
  if (!daemon) return;
  const d = daemon;
  daemon = null;
  await stopNet3Room(d, OUT);
}

// Join, then: alice decodes the room's video and hears it; the room decodes
// alice's video and receives her audio; every peer's ICE path matches `path`.
async function joinAndCheck(t, name, pathRe) {
  const display = `Room-${name}`;
  const t0 = Date.now();
  const r = await daemon.ctl('join', `janus+ws://127.0.0.1:8188/?room=1234&display=${display}`, '--timeout', '30');
  assert.equal(r.code, 0, `join: exit ${r.code}: ${r.stderr.trim()}`);
  await alice.waitForFeed(display, { timeoutMs: 30000 });
  const firstFrame = (await alice.firstFrameAt(display)) - t0;
  t.diagnostic(`${name}: anyroomctl join returned (connected) in ${Math.round(r.ms)} ms; alice's first room frame ${firstFrame} ms after the command`);
  figures.push({ name, joinMs: Math.round(r.ms), firstFrameMs: firstFrame });

  // The room's subscription to alice comes up on its own schedule (later over
  // TURN): wait, bounded, until it decodes before taking the first sample.
  const subscribed = Date.now();
  while (!(tracksOf(await daemon.status(), { kind: 'video', direction: 'recv' })[0]?.frames > 0)) {
    if (Date.now() - subscribed > 15000) break; // the assertions below say what is missing
    await sleep(200);
  }
  const a0 = await alice.stats(display);
  const s0 = await daemon.status();
  await sleep(4000);
  const a1 = await alice.stats(display);
  const s1 = await daemon.status();
  const frames = a1.video.framesDecoded - a0.video.framesDecoded;
  t.diagnostic(`${name}: alice decoded ${frames} room frames in 4 s (${a1.video.frameWidth}x${a1.video.frameHeight})`);
  assert.ok(frames >= 40, `alice decodes the room's video (${frames} frames in 4 s)`);
  assert.ok(a1.audio && a1.audio.totalAudioEnergy > a0.audio.totalAudioEnergy, 'alice hears the room');

  assert.equal(s1.state, 'connected');
  const rv0 = tracksOf(s0, { kind: 'video', direction: 'recv' })[0];
  const rv1 = tracksOf(s1, { kind: 'video', direction: 'recv' })[0];
  assert.ok(rv1 && rv1.width > 0, 'the room has a decoded video track from alice');
  assert.ok(rv0 && rv1.frames > rv0.frames, `the room decodes alice's video (${rv0 && rv0.frames} -> ${rv1.frames})`);
  const ra1 = tracksOf(s1, { kind: 'audio', direction: 'recv' })[0];
  const ra0 = tracksOf(s0, { kind: 'audio', direction: 'recv' })[0];
  assert.ok(ra1 && ra0 && ra1.packets > ra0.packets, 'the room receives alice\'s audio');
  const sv1 = tracksOf(s1, { kind: 'video', direction: 'send' })[0];
  assert.ok(sv1 && sv1.frames > 0, 'the room sends video');

  const paths = [...new Set((s1.tracks || []).map((x) => `${x.peer}: ${x.ice_path}`))];
  t.diagnostic(`${name}: ICE paths ${JSON.stringify(paths)}`);
  for (const tr of s1.tracks || []) {
    assert.match(String(tr.ice_path), pathRe, `peer ${tr.peer} ICE path ${tr.ice_path}`);
  }
  await alice.screenshot(path.join(OUT, `${name}-alice.png`));
  const lr = await daemon.ctl('leave');
  assert.equal(lr.code, 0, 'leave');
  await alice.waitFeedGone(display, { timeoutMs: 10000 });
  return s1;
}

before(async () => {
  if (!NS.room || !NS.middle || !NS.meet) throw new Error('run me with tests/integration/run-in-net-lab.sh');
  fs.mkdirSync(OUT, { recursive: true });
  turn = await startCoturn({ dir: path.join(TMP, 'coturn'), netns: NS.middle, listenIp: TURN_IP, relayIp: RELAY_IP, allowedPeers: [MEET_IP] });
  janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: MEET_IP });
  bridge = await startSignallingBridge(TMP);
  alice = await launchParticipant({ display: 'alice', logDir: OUT });
  await alice.waitJoined();
});

after(async () => {
  await stopDaemon();
  if (alice) await alice.close().catch(() => {});
  if (bridge) await bridge.stop();
  if (janus) await janus.stop();
  if (turn) await turn.stop();
  for (const [f, n] of [[path.join(TMP, 'janus', 'janus.log'), 'janus.log'], [turn && turn.log, 'turnserver.log']]) {
    try { fs.copyFileSync(f, path.join(OUT, n)); } catch { /* missing */ }
  }
  console.log(`# figures: ${JSON.stringify(figures)}`);
  if (failed()) console.log(`# lab output: ${OUT}`);
  fs.rmSync(TMP, { recursive: true, force: true });
});

step('control: with the middle not forwarding and no TURN server, the join fails', async (t) => {
  net3Mode('isolated');
  await startRoom('no-turn', {}, { 'join-timeout': 8 });
  const r = await daemon.ctl('join', 'janus+ws://127.0.0.1:8188/?room=1234&display=Room-no-turn', '--timeout', '20');
  t.diagnostic(`join without TURN: exit ${r.code} after ${Math.round(r.ms)} ms: ${r.stderr.trim()}`);
  assert.notEqual(r.code, 0, 'no path without the relay');
});

step('direct path: routed middle, STUN/TURN configured, media goes host to host', async (t) => {
  net3Mode('direct');
  const c = turn.restCredentials();
  await startRoom('direct', {
    stun: `stun:${TURN_IP}:3478`, turn: `turn:${TURN_IP}:3478?transport=udp`,
    'turn-username': c.username, 'turn-password': c.password,
  });
  await joinAndCheck(t, 'direct', /^(host|srflx|prflx) -> (host|prflx|srflx)$/);
});

step('TURN/UDP relay-only: isolated middle, credentials from a TURN REST URL', async (t) => {
  net3Mode('isolated');
  // The credentials service runs on the room's loopback (a device-local helper).
  const creds = startCredentialsService('creds', 600);
  try {
    const port = await creds.port();
    await startRoom('relay-udp', { 'turn-credentials-url': `http://127.0.0.1:${port}/turn`, 'relay-only': 'true' });
    await joinAndCheck(t, 'relay-udp', /^relay\/udp -> /);
    const fetches = () => (fs.readFileSync(path.join(TMP, 'creds.log'), 'utf8').match(/credentials for \d+:anyroom/g) || []).length;
    assert.equal(fetches(), 1, 'anyroomd fetched credentials once');
    // A second join within ttl/2 uses the cached credentials.
    const r = await daemon.ctl('join', 'janus+ws://127.0.0.1:8188/?room=1234&display=Room-relay-udp-2', '--timeout', '30');
    assert.equal(r.code, 0, `second join: ${r.stderr.trim()}`);
    await alice.waitForFeed('Room-relay-udp-2', { timeoutMs: 30000 });
    assert.equal(fetches(), 1, 'the second join did not fetch again (cached until ttl/2)');
    assert.equal((await daemon.ctl('leave')).code, 0);
    await alice.waitFeedGone('Room-relay-udp-2', { timeoutMs: 10000 });
    assert.doesNotMatch(fs.readFileSync(daemon.log, 'utf8'), new RegExp(turn.secret), 'the TURN secret is not in the log');
    await stopDaemon();

    // A credentials URL that answers an error fails the join with that reason.
    await startRoom('creds-404', { 'turn-credentials-url': `http://127.0.0.1:${port}/nope`, 'relay-only': 'true' });
    const f = await daemon.ctl('join', 'janus+ws://127.0.0.1:8188/?room=1234&display=Room-creds-404', '--timeout', '20');
    t.diagnostic(`credentials URL answering 404: exit ${f.code} in ${Math.round(f.ms)} ms: ${f.stderr.trim()}`);
    assert.notEqual(f.code, 0, 'the join fails');
    assert.match(f.stderr, /TURN credentials.*HTTP 404/, 'the reason names the credentials URL answer');
    const st = await daemon.status();
    assert.ok(['idle', 'failed'].includes(st.state), `state after the failed join: ${st.state}`);
  } finally {
    await creds.stop();
  }
});

step('UDP blocked between room and meeting: connects through TURN over TCP', async (t) => {
  net3Mode('udp-blocked');
  const before = nftCounters();
  const c = turn.restCredentials();
  await startRoom('udp-blocked', {
    turn: `turn:${TURN_IP}:3478?transport=udp;turn:${TURN_IP}:3478?transport=tcp`,
    'turn-username': c.username, 'turn-password': c.password,
  });
  await joinAndCheck(t, 'udp-blocked', /^relay\/tcp -> /);
  const dropped = nftCounters() - before;
  t.diagnostic(`udp-blocked: the middle dropped ${dropped} UDP packets from the room`);
  assert.ok(dropped > 0, 'the rules did drop UDP from the room');
  // The log has every library's debug output (G_MESSAGES_DEBUG=all), libnice's too.
  assert.ok(!fs.readFileSync(daemon.log, 'utf8').includes(c.password), 'the TURN password is not in the debug log');
});

// Only TCP 443 to the TURN server: turns: on 443. libnice 0.1.21 has no TLS
// client, so anyroomd carries each TURN connection over its own TLS
// (media/ar-turn-tls.c), verified against network.turn-tls-ca: here coturn's
// throwaway self-signed certificate.
step('only TCP 443 to the TURN server open: connects through TURN over TLS (verified)', async (t) => {
  net3Mode('tcp443-only');
  const before = nftCounters();
  const c = turn.restCredentials();
  const logBefore = turn.logText().length;
  await startRoom('tcp443', {
    turn: `turn:${TURN_IP}:3478?transport=udp;turns:${TURN_IP}:443`,
    'turn-username': c.username, 'turn-password': c.password, 'relay-only': 'true',
    'turn-tls-ca': turn.cert,
  });
  await joinAndCheck(t, 'tcp443', /^relay\/tcp -> /);
  t.diagnostic(`tcp443-only: the middle dropped ${nftCounters() - before} packets from the room`);
  // coturn names the transport when a session closes: stop the room first.
  await stopDaemon();
  const tlsLines = await waitFor('coturn to log the closed sessions on 443', async () => {
    const l = turn.logText().slice(logBefore).split('\n')
      .filter((x) => x.includes(`${TURN_IP}:443`) && /TLS|SSL/.test(x));
    return l.length ? l : null;
  }, { timeoutMs: 10000, intervalMs: 250 }).catch(() => []);
  t.diagnostic(`tcp443-only: coturn: ${JSON.stringify(tlsLines.slice(0, 2))}`);
  assert.ok(tlsLines.length > 0, 'coturn saw TLS sessions on port 443');
  assert.ok(!turn.logText().slice(logBefore).split('\n').some((x) => x.includes(`local ${TURN_IP}:443`) && /reason: TCP /.test(x)),
    'no plain-TCP session on port 443');
});

step('TURN over TLS to a server whose certificate is not trusted: no relay, the join fails at once with the reason', async (t) => {
  net3Mode('tcp443-only');
  const c = turn.restCredentials();
  await startRoom('tls-untrusted', {
    turn: `turns:${TURN_IP}:443`, 'turn-username': c.username, 'turn-password': c.password,
    'relay-only': 'true',
  }, { 'join-timeout': 8 });
  const r = await daemon.ctl('join', 'janus+ws://127.0.0.1:8188/?room=1234&display=Room-tls-untrusted', '--timeout', '20');
  t.diagnostic(`untrusted TURN certificate: exit ${r.code} after ${Math.round(r.ms)} ms: ${r.stderr.trim()}`);
  assert.notEqual(r.code, 0, 'the join fails');
  const warn = fs.readFileSync(daemon.log, 'utf8').split('\n').find((l) => /TURN over TLS: .*443/.test(l));
  t.diagnostic(`anyroomd: ${warn}`);
  assert.ok(warn, 'anyroomd says why the TURN server was refused');
  // The reason reaches the call's error (anyroomctl's one line), not only the
  // journal, and long before the 8 s join timeout.
  assert.match(r.stderr, /join failed: .*TURN over TLS: 10\.98\.1\.1:443: .*certificate/i, 'anyroomctl says why');
  assert.ok(r.ms < 4000, `failed fast (${Math.round(r.ms)} ms; the join timeout is 8 s)`);
  const st = await daemon.status();
  assert.match(String(st.error), /TURN over TLS: .*certificate/i, 'the status error says why');
});

// TURN REST credentials in long calls. A credentials URL with a 30 s ttl:
// anyroomd rebuilds a relayed call with fresh credentials when they are due
// (ttl/2), before coturn would refuse the expired user name.
step('TURN REST credentials from a URL, ttl 30 s: the relayed call is rebuilt with fresh ones before they expire', async (t) => {
  net3Mode('isolated');
  const creds = startCredentialsService('creds30', 30);
  try {
    const port = await creds.port();
    await startRoom('renew', { 'turn-credentials-url': `http://127.0.0.1:${port}/turn`, 'relay-only': 'true' });
    const display = 'Room-renew';
    const t0 = Date.now();
    const r = await daemon.ctl('join', `janus+ws://127.0.0.1:8188/?room=1234&display=${display}`, '--timeout', '30');
    assert.equal(r.code, 0, `join: ${r.stderr.trim()}`);
    await alice.waitForFeed(display, { timeoutMs: 30000 });
    const s = await waitFor('the call to be rebuilt with fresh credentials', async () => {
      const st = await daemon.status();
      return st.recovery.reconnects >= 1 && st.state === 'connected' ? st : (st.state === 'failed' ? st : null);
    }, { timeoutMs: 40000, intervalMs: 200 });
    assert.equal(s.state, 'connected', `state ${s.state}: ${s.error}`);
    const log = fs.readFileSync(daemon.log, 'utf8');
    assert.match(log, /connection lost: the TURN credentials expire in 15 s: rebuilding the call with fresh ones/);
    const fetches = (fs.readFileSync(path.join(TMP, 'creds30.log'), 'utf8').match(/credentials for \d+:anyroom/g) || []).length;
    t.diagnostic(`rebuilt ${Math.round((Date.now() - t0) / 1000)} s after the join in ${Math.round(s.recovery.last_recovery_ms)} ms; the credentials URL was asked ${fetches} times`);
    figures.push({ name: 'renew', recoveryMs: Math.round(s.recovery.last_recovery_ms) });
    assert.ok(fetches >= 2, 'fresh credentials were fetched for the rebuild');
    // Media both ways on the rebuilt call, still relayed.
    await waitFor('alice to decode the rebuilt room', async () => (await alice.stats(display).catch(() => null))?.video?.framesDecoded > 0, { timeoutMs: 20000, intervalMs: 100 });
    await waitFor('the room to decode alice again', async () => tracksOf(await daemon.status(), { kind: 'video', direction: 'recv' })[0]?.frames > 0, { timeoutMs: 20000, intervalMs: 100 });
    const a0 = await alice.stats(display);
    const s0 = await daemon.status();
    await sleep(3000);
    const a1 = await alice.stats(display);
    const s1 = await daemon.status();
    assert.ok(a1.video.framesDecoded - a0.video.framesDecoded >= 20, 'alice decodes the room after the rebuild');
    assert.ok(tracksOf(s1, { kind: 'video', direction: 'recv' })[0].frames - tracksOf(s0, { kind: 'video', direction: 'recv' })[0].frames >= 20, 'the room decodes alice after the rebuild');
    for (const tr of s1.tracks) assert.match(String(tr.ice_path), /^relay\/udp -> /, `peer ${tr.peer} ICE path ${tr.ice_path}`);
    assert.equal((await daemon.ctl('leave')).code, 0);
    await alice.waitFeedGone(display, { timeoutMs: 10000 });
  } finally {
    await creds.stop();
  }
});

// What coturn does with an expired TURN REST user name during a call: static
// REST-style credentials valid for 15 s (anyroomd cannot renew those), coturn
// granting allocations of at most 40 s so that libnice refreshes them within
// the test (at half a lifetime under 120 s: 20 s after the allocation, after the
// user name expired; 90 s took 25 s more). Observed (coturn 4.6.1) and asserted: the REFRESH of the existing
// allocation with the expired user name succeeds and the call's media goes on;
// what needs a NEW allocation (here the room's subscription to a participant
// who joins later; also any reconnection) is refused with 401 and fails.
// (docs/network.md "TURN credentials in long calls")
step('static TURN REST credentials that expire mid-call: what coturn does', async (t) => {
  net3Mode('isolated');
  await turn.stop();
  turn = await startCoturn({ dir: path.join(TMP, 'coturn-short'), netns: NS.middle, listenIp: TURN_IP, relayIp: RELAY_IP, allowedPeers: [MEET_IP], extra: ['max-allocate-lifetime=40'] });
  const c = turn.restCredentials(15);
  const expiry = Number(c.username.split(':')[0]) * 1000;
  await startRoom('expire', { turn: `turn:${TURN_IP}:3478?transport=udp`, 'turn-username': c.username, 'turn-password': c.password, 'relay-only': 'true' });
  const display = 'Room-expire';
  const r = await daemon.ctl('join', `janus+ws://127.0.0.1:8188/?room=1234&display=${display}`, '--timeout', '30');
  assert.equal(r.code, 0, `join: ${r.stderr.trim()}`);
  await alice.waitForFeed(display, { timeoutMs: 30000 });
  const userRe = c.username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // libnice refreshes the allocation halfway through its (capped) lifetime (60 s before its end
  // from 120 s on: priv_calc_turn_timeout).
  const refreshed = await waitFor('a REFRESH after the user name expired', async () => Date.now() > expiry &&
    turn.logText().split('\n').find((l) => new RegExp(`user <${userRe}>: incoming packet REFRESH processed`).test(l) &&
      Date.now() > expiry + 1000), { timeoutMs: 120000, intervalMs: 1000 });
  const lateS = Math.round((Date.now() - expiry) / 1000);
  t.diagnostic(`coturn, ${lateS} s after the user name expired: ${refreshed}`);
  assert.match(refreshed, /success/, 'coturn accepts the refresh of an existing allocation with the expired user name');
  // The call's media goes on.
  const a0 = await alice.stats(display);
  const s0 = await daemon.status();
  await sleep(3000);
  const a1 = await alice.stats(display);
  const s1 = await daemon.status();
  assert.equal(s1.state, 'connected');
  assert.ok(a1.video.framesDecoded - a0.video.framesDecoded >= 20, 'alice still decodes the room');
  assert.ok(tracksOf(s1, { kind: 'video', direction: 'recv' })[0].frames > tracksOf(s0, { kind: 'video', direction: 'recv' })[0].frames, 'the room still decodes alice');
  // A participant who joins now: the room's new subscription needs a new
  // allocation, which the expired user name cannot get.
  const logBefore = turn.logText().length;
  const bob = await launchParticipant({ display: 'bob', logDir: OUT });
  try {
    await bob.waitJoined();
    // Until coturn refused the room's new allocation (it was a fixed 15 s), then 3 s more for a
    // picture of bob that should not come.
    const refusedLines = () => turn.logText().slice(logBefore).split('\n')
      .filter((l) => new RegExp(`user <${userRe}>: incoming packet .*error 401`).test(l));
    await waitFor('coturn refusing the new allocation', async () => refusedLines().length > 0,
      { timeoutMs: 20000, intervalMs: 500 }).catch(() => {});
    await sleep(3000);
    const st = await daemon.status();
    const bobId = (st.participants || []).find((p) => p.display === 'bob')?.id;
    const bobVideo = tracksOf(st, { peerId: bobId ? String(bobId) : 'none', kind: 'video', direction: 'recv' })[0];
    const refused = refusedLines();
    t.diagnostic(`bob listed: ${Boolean(bobId)}; room decodes bob: ${bobVideo ? bobVideo.frames : 'no track'}; coturn refused ${refused.length} allocations: ${refused[0] || ''}`);
    figures.push({ name: 'expire', refreshAcceptedSAfterExpiry: lateS, newAllocationsRefused: refused.length });
    assert.ok(bobId, 'the room sees bob in the participant list');
    assert.ok(!bobVideo || bobVideo.frames === 0, 'the room cannot receive bob');
    assert.ok(refused.length > 0, 'coturn refused the new allocation of the expired user name');
  } finally {
    await bob.close().catch(() => {});
  }
  await daemon.ctl('leave');
  await alice.waitFeedGone(display, { timeoutMs: 15000 }).catch(() => {});
}, 240000);
