// Integration: liveness of a call (docs/network.md "Liveness").
//   a: Janus killed with SIGKILL mid-call (WebSocket, then HTTP long poll):
//      the call goes `reconnecting`, its bounded retries (backoff) find no
//      server, and it is failed with a clear error within 10 s; the daemon
//      stays healthy and joins again once Janus is back. a3: Janus frozen
//      (SIGSTOP, no TCP close): dead-peer detection, one retry that gets no
//      answer, failed within 10 s. a4: Janus killed and started again at once:
//      the call comes back by itself (new session), media both ways.
//   b: a total 3 s blackout (nftables drops all UDP in the namespace): the
//      call stays connected and media resumes both ways by itself.
//   c: a 10 s blackout (longer than the 6 s dead-peer timeout): the call is
//      re-established by itself with new peer connections, media both ways.
//   d: a 30 s blackout: Janus answers every retry but no media gets through;
//      the call fails with a clear reason once the 20 s budget is spent.
//   Every case starts from a ready lab (ensureIdle): a case that fails before
//   its own clean-up (Janus left dead, alice on a dead Janus) does not fail
//   the ones after it; the repair is logged as a TAP diagnostic.
//
// Runs inside a private network namespace (tests/lab/in-netns.sh), TAP output:
//   AR_BUILD_DIR=$PWD/build tests/integration/run-in-lab.sh tests/integration/test-net-failures.mjs
// Logs: $AR_BUILD_DIR/meson-logs/lab/net-failures/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { janusInfo, startJanus } from '../lab/janus.mjs';
import { launchParticipant, waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, run, sleep, startAnyroomd, tail } from '../lab/lab.mjs';
import { ctlFail, participantId, statusSummary, stepper, waitState } from './common.mjs';

const { step, failed } = stepper({ timeout: 180000 });

const WS_LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const HTTP_LINK = 'janus+http://127.0.0.1:8088/janus?room=1234&display=Room';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'net-failures');
const TMP = mkTemp('ar-it-net-failures-');
const ENFORCE = process.env.AR_NETNS_ADDR1 || '10.97.0.1';
const NFT_TABLE = 'ar_lab_blackout';

let janus = null;
let janusRuns = 0;
let daemon = null;
let alice = null;
let aliceJanusRun = 0; // the Janus run alice joined: her session dies with it
const figures = [];


function figure(t, text) {
  figures.push(text);
  t.diagnostic(`FIGURE ${text}`);
}



function recvVideo(status, display) {
  const id = participantId(status, display);
  return id ? (status.tracks || []).find((tr) => tr.kind === 'video' && tr.direction === 'recv' && String(tr.peer).includes(id)) : null;
}

function sendVideo(status) {
  return (status.tracks || []).find((tr) => tr.kind === 'video' && tr.direction === 'send');
}



// Samples anyroomd's state every 100 ms until stop() is called; returns the
// distinct states in order.
function stateSampler() {
  const seen = [];
  let on = true;
  const done = (async () => {
    while (on) {
      const s = await daemon.status().catch(() => null);
      if (s && seen[seen.length - 1] !== s.state) seen.push(s.state);
      await sleep(100);
    }
  })();
  // stop(last): @last is the state the caller saw last (a 100 ms sampler can
  // miss the final change).
  const stop = async (last = null) => {
    on = false;
    await done;
    if (last && seen[seen.length - 1] !== last) seen.push(last);
    return seen;
  };
  return { seen, stop };
}

async function nft(...args) {
  const r = await run('nft', args, { timeoutMs: 10000 });
  assert.equal(r.code, 0, `nft ${args.join(' ')}: ${r.stderr.trim()}`);
}

// Every UDP packet of the namespace is dropped (media of anyroomd, Janus and
// Chromium; signalling is TCP on 127.0.0.1 and goes on).
async function blackout(on) {
  if (on) {
    await nft('add table inet ' + NFT_TABLE + '; add chain inet ' + NFT_TABLE +
      ' out { type filter hook output priority 0; policy accept; }; add rule inet ' + NFT_TABLE +
      ' out meta l4proto udp drop');
  } else {
    await nft('delete table inet ' + NFT_TABLE);
  }
}

async function newJanus() {
  janusRuns++;
  janus = await startJanus({ dir: path.join(TMP, `janus-${janusRuns}`), iceEnforce: ENFORCE });
}

async function newAlice() {
  if (alice) await alice.close().catch(() => {});
  alice = null;
  alice = await launchParticipant({ display: 'alice', logDir: OUT });
  aliceJanusRun = janusRuns;
  await alice.waitJoined();
}

function janusRunning() {
  return janus !== null && janus.child.exitCode === null && janus.child.signalCode === null;
}

// Janus runs and answers /janus/info (a few tries: a loaded machine is slow).
async function janusAlive() {
  for (let i = 0; i < 5 && janusRunning(); i++) {
    if (await janusInfo()) return true;
    await sleep(500);
  }
  return false;
}

function within(ms, promise) {
  let timer;
  const late = new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// alice is in the room of the running Janus and her publisher still sends.
async function aliceAlive() {
  if (!alice || alice.closed || aliceJanusRun !== janusRuns) return false;
  try {
    const s = await within(10000, alice.page.evaluate(() => window.lab &&
      { joined: window.lab.joined, webrtcup: window.lab.webrtcup, error: window.lab.error }));
    if (!s || !s.joined || !s.webrtcup || s.error) return false;
    const p0 = await within(10000, alice.publisherStats());
    await sleep(1000);
    const p1 = await within(10000, alice.publisherStats());
    return Boolean(p0 && p0.video && p1 && p1.video && p1.video.packetsSent > p0.video.packetsSent);
  } catch {
    return false;
  }
}

// Puts back what an earlier case may have left broken when it failed (or hit
// its timeout) before its own clean-up: a dead or frozen Janus is replaced,
// and alice joins again when her Janus is gone or she stopped sending.
// Without this, one failed case (say a4, with Janus killed and alice still
// attached to it) fails every later one too.
async function ensureLab(t) {
  if (!(await janusAlive())) {
    t.diagnostic(`Janus is ${janusRunning() ? 'not answering' : 'gone'} (an earlier case failed?); starting a new one`);
    if (janusRunning()) janus.child.kill('SIGKILL');
    for (let i = 0; i < 50 && janusRunning(); i++) await sleep(100);
    await newJanus();
  }
  if (!(await aliceAlive())) {
    t.diagnostic('alice is not in the room of this Janus or stopped sending (an earlier case failed?); she joins again');
    await newAlice();
  }
}

// The daemon idle (or failed) and the lab ready: a live Janus and a joined alice.
async function ensureIdle(t) {
  const s = await daemon.status();
  if (s.state !== 'idle' && s.state !== 'failed') {
    t.diagnostic(`previous case left the daemon ${s.state}; leaving first`);
    await daemon.ctl('leave');
    await waitState(daemon, 'idle', { timeoutMs: 10000, intervalMs: 100 }).catch(() => {});
  }
  await ensureLab(t);
}

// Joins and waits until media flows both ways: alice decodes the room, the
// room decodes alice.
async function joinWithMedia(t, link) {
  const r = await daemon.ctl('join', link, '--timeout', '30');
  assert.equal(r.code, 0, ctlFail(r, `anyroomctl join ${link}`));
  await alice.waitForFeed('Room', { timeoutMs: 30000 });
  await waitFor('anyroomd to decode video from alice', async () => {
    const v = recvVideo(await daemon.status(), 'alice');
    return v && v.frames > 0;
  }, { timeoutMs: 30000, intervalMs: 200 });
  const s0 = await daemon.status();
  const a0 = await alice.stats('Room');
  await sleep(2000);
  const s1 = await daemon.status();
  const a1 = await alice.stats('Room');
  assert.equal(s1.state, 'connected', statusSummary(s1));
  assert.ok(recvVideo(s1, 'alice').frames > recvVideo(s0, 'alice').frames, 'the room decodes alice');
  assert.ok(sendVideo(s1).frames > sendVideo(s0).frames, 'the room encodes');
  assert.ok(a1.video.framesDecoded > a0.video.framesDecoded, 'alice decodes the room');
}

// Over 2 s, the room decodes at least @min frames more from alice and alice
// at least @min more from the room (@again names a resumed flow).
async function mediaBothWays(min, again = '') {
  const s0 = await daemon.status();
  const a0 = await alice.stats('Room');
  await sleep(2000);
  const s1 = await daemon.status();
  const a1 = await alice.stats('Room');
  assert.ok(recvVideo(s1, 'alice').frames - recvVideo(s0, 'alice').frames >= min, `the room decodes alice${again}`);
  assert.ok(a1.video.framesDecoded - a0.video.framesDecoded >= min, `alice decodes the room${again}`);
}

async function leaveToIdle() {
  const r = await daemon.ctl('leave');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl leave'));
  await waitState(daemon, 'idle', { timeoutMs: 10000, intervalMs: 100 });
}

async function daemonHealthy(t) {
  assert.equal(daemon.exited, null, `anyroomd exited: ${JSON.stringify(daemon.exited)}`);
  const r = await daemon.ctl('status');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl status'));
  t.diagnostic(`anyroomctl status: ${r.stdout.trim().split('\n').join(' | ')}`);
}

// The media engine's liveness lines logged since the last call (GStreamer
// log lines; each appears once).
let liveSeen = 0;
function liveLines() {
  let text = '';
  try { text = fs.readFileSync(daemon.log, 'utf8'); } catch { return []; }
  const all = text.split('\n').filter((l) => /armedia .*(longest silence|heard again|nothing from the remote)/.test(l))
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').replace(/^.*ar_peer_\w+:\s*/, ''));
  const fresh = all.slice(liveSeen);
  liveSeen = all.length;
  return fresh;
}

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  fs.mkdirSync(OUT, { recursive: true });
  // The media engine logs each peer's longest silence (measured below).
  process.env.GST_DEBUG = 'armedia:4';
  await newJanus();
  daemon = await startAnyroomd({ tmp: TMP });
  await newAlice();
});

after(async () => {
  await run('nft', ['delete', 'table', 'inet', NFT_TABLE], { timeoutMs: 10000 }).catch(() => {});
  const janusTail = janus ? janus.logTail(60) : '(none)';
  if (alice) await alice.close().catch(() => {});
  if (daemon) {
    const ex = await daemon.stop(10000);
    if (ex && ex.sig === 'SIGKILL') console.log('# anyroomd did not stop on SIGTERM within 10 s; killed');
  }
  if (janus) await janus.stop();
  try { fs.copyFileSync(path.join(TMP, 'anyroomd.log'), path.join(OUT, 'anyroomd.log')); } catch { /* missing */ }
  for (const f of figures) console.log(`# FIGURE ${f}`);
  if (failed() || process.exitCode) {
    const text = tail(path.join(OUT, 'anyroomd.log'), 4000).split('\n')
      .filter((l) => !/(?:libnice|libnice-stun|libsoup|dconf|GLib-GIO|GLib-Net)-DEBUG/.test(l));
    console.log(`anyroomd log without library debug noise (last 300 lines; full: ${path.join(OUT, 'anyroomd.log')}):`);
    console.log(text.slice(-300).join('\n'));
    console.log('Janus log tail:');
    console.log(janusTail);
  }
  fs.rmSync(TMP, { recursive: true, force: true });
  console.log(`lab output: ${OUT}`);
});

for (const [name, link] of [['WebSocket', WS_LINK], ['HTTP long poll', HTTP_LINK]]) {
  step(`a: Janus killed with SIGKILL mid-call (${name}): failed within 10 s, the daemon joins again after`, async (t) => {
    await ensureIdle(t);
    await joinWithMedia(t, link);
    const t0 = Date.now();
    const states = stateSampler();
    process.kill(janus.pid, 'SIGKILL');
    let s;
    try {
      s = await waitState(daemon, 'failed', { timeoutMs: 15000, intervalMs: 100 });
    } finally {
      await states.stop(s && s.state);
    }
    const ms = Date.now() - t0;
    figure(t, `${name}: Janus SIGKILL -> anyroomd state failed in ${ms} ms after retries (states ${states.seen.join(' -> ')}): ${s.error}`);
    assert.ok(ms <= 10000, `the call ended ${ms} ms after Janus died (want <= 10000)`);
    assert.ok(states.seen.includes('reconnecting'), `the call tried to reconnect: ${states.seen}`);
    assert.ok(s.error && s.error.length > 0, 'status has an error');
    assert.match(s.error, /could not be re-established \((\d+) attempt/, 'the error says it retried');
    assert.ok(Number(s.error.match(/\((\d+) attempt/)[1]) >= 2, `more than one attempt: ${s.error}`);
    assert.match(s.error, /Janus|connection|closed|reach/, 'the error says the meeting server went');
    assert.equal((s.tracks || []).length, 0, 'no tracks left after the failure');
    await daemonHealthy(t);
    // Janus comes back: a new join works with media both ways.
    for (let i = 0; i < 50 && janus.child.exitCode === null && janus.child.signalCode === null; i++) await sleep(100);
    await newJanus();
    await newAlice();
    await joinWithMedia(t, WS_LINK);
    await leaveToIdle();
  });
}

step('a3: Janus frozen (SIGSTOP) mid-call, its TCP connection stays open: failed within 10 s by dead-peer detection', async (t) => {
  await ensureIdle(t);
  await joinWithMedia(t, WS_LINK);
  const t0 = Date.now();
  const states = stateSampler();
  process.kill(janus.pid, 'SIGSTOP');
  let s;
  let ms;
  try {
    s = await waitState(daemon, 'failed', { timeoutMs: 12000, intervalMs: 100 });
    ms = Date.now() - t0;
  } finally {
    process.kill(janus.pid, 'SIGKILL');
    process.kill(janus.pid, 'SIGCONT');
    await states.stop(s && s.state);
  }
  figure(t, `Janus frozen -> anyroomd state failed in ${ms} ms (states ${states.seen.join(' -> ')}): ${s.error}`);
  assert.ok(ms <= 10000, `the call ended ${ms} ms after Janus froze (want <= 10000)`);
  assert.ok(states.seen.includes('reconnecting'), `the call tried to reconnect: ${states.seen}`);
  assert.match(s.error, /No media or RTCP from the remote peer for 6 s/);
  await daemonHealthy(t);
  for (let i = 0; i < 50 && janus.child.exitCode === null && janus.child.signalCode === null; i++) await sleep(100);
  await newJanus();
  await newAlice();
});

step('a4: Janus killed and started again mid-call: the call comes back by itself, media both ways', async (t) => {
  await ensureIdle(t);
  await joinWithMedia(t, WS_LINK);
  const states = stateSampler();
  const t0 = Date.now();
  process.kill(janus.pid, 'SIGKILL');
  let s;
  try {
    for (let i = 0; i < 50 && janus.child.exitCode === null && janus.child.signalCode === null; i++) await sleep(50);
    await newJanus();
    t.diagnostic(`Janus back ${Date.now() - t0} ms after the kill`);
    s = await waitFor('anyroomd to reconnect', async () => {
      const st = await daemon.status();
      return st.state === 'connected' && st.recovery.reconnects >= 1 ? st : (st.state === 'failed' ? st : null);
    }, { timeoutMs: 15000, intervalMs: 100 });
  } finally {
    await states.stop(s && s.state);
  }
  assert.equal(s.state, 'connected', statusSummary(s));
  figure(t, `Janus killed and restarted: connected again ${Date.now() - t0} ms after the kill, last_recovery_ms ${Math.round(s.recovery.last_recovery_ms)} (states ${states.seen.join(' -> ')})`);
  assert.ok(states.seen.includes('reconnecting') && !states.seen.includes('failed') &&
    states.seen[states.seen.length - 1] === 'connected', `states: ${states.seen}`);
  // alice's Janus session died with Janus: she joins again and both sides
  // must get media (the room re-published and re-subscribes on its own).
  await newAlice();
  await alice.waitForFeed('Room', { timeoutMs: 30000 });
  await waitFor('anyroomd to decode video from alice', async () => {
    const v = recvVideo(await daemon.status(), 'alice');
    return v && v.frames > 0;
  }, { timeoutMs: 30000, intervalMs: 200 });
  await mediaBothWays(20);
  await leaveToIdle();
});

step('b: a 3 s blackout of all UDP: the call stays connected, media resumes both ways', async (t) => {
  await ensureIdle(t);
  await joinWithMedia(t, WS_LINK);
  const states = new Set();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = await daemon.status().catch(() => null);
      if (s) states.add(s.error ? `${s.state}: ${s.error}` : s.state);
      await sleep(200);
    }
  })();
  try {
    await blackout(true);
    await sleep(3000);
    const d0 = recvVideo(await daemon.status(), 'alice').frames;
    const a0 = (await alice.stats('Room')).video.framesDecoded;
    await blackout(false);
    const t0 = Date.now();
    let roomMs = null;
    let aliceMs = null;
    await waitFor('new frames on both sides after the blackout', async () => {
      if (roomMs === null) {
        const v = recvVideo(await daemon.status(), 'alice');
        if (v && v.frames > d0) roomMs = Date.now() - t0;
      }
      if (aliceMs === null) {
        const a = await alice.stats('Room');
        if (a.video && a.video.framesDecoded > a0) aliceMs = Date.now() - t0;
      }
      return roomMs !== null && aliceMs !== null;
    }, { timeoutMs: 15000, intervalMs: 50 });
    figure(t, `3 s blackout: first new frame ${roomMs} ms (anyroomd decodes alice) and ${aliceMs} ms (alice decodes the room) after the rule was removed`);
    // Past the dead-peer timeout counted from the start of the blackout.
    await sleep(5000);
  } finally {
    sampling = false;
    await sampler;
    await run('nft', ['delete', 'table', 'inet', NFT_TABLE], { timeoutMs: 10000 });
  }
  t.diagnostic(`states seen: ${[...states].join(', ')}`);
  assert.deepEqual([...states], ['connected'], 'connected all along');
  await mediaBothWays(20, ' again');
  await leaveToIdle();
  for (const l of liveLines()) t.diagnostic(`media engine: ${l}`);
});

step('c: a 10 s blackout: dead peer at 6 s, the call is re-established by itself (new peer connections), media both ways', async (t) => {
  await ensureIdle(t);
  await joinWithMedia(t, WS_LINK);
  const states = stateSampler();
  let s;
  let back;
  try {
    await blackout(true);
    await sleep(10000);
    await blackout(false);
    back = Date.now();
    s = await waitFor('anyroomd to be connected again', async () => {
      const st = await daemon.status();
      return (st.state === 'connected' && st.recovery.reconnects >= 1) || st.state === 'failed' ? st : null;
    }, { timeoutMs: 15000, intervalMs: 100 });
  } finally {
    await run('nft', ['delete', 'table', 'inet', NFT_TABLE], { timeoutMs: 10000 }).catch(() => {});
    await states.stop(s && s.state);
  }
  assert.equal(s.state, 'connected', statusSummary(s));
  assert.ok(states.seen.includes('reconnecting') && !states.seen.includes('failed') &&
    states.seen[states.seen.length - 1] === 'connected', `states: ${states.seen}`);
  // The room's old feed left; alice subscribes to the new one by herself.
  const t1 = Date.now();
  await waitFor('alice to decode the re-published room', async () => {
    const a = await alice.stats('Room').catch(() => null);
    return a && a.video && a.video.framesDecoded > 0;
  }, { timeoutMs: 20000, intervalMs: 100 });
  await waitFor('anyroomd to decode video from alice again', async () => {
    const v = recvVideo(await daemon.status(), 'alice');
    return v && v.frames > 0;
  }, { timeoutMs: 20000, intervalMs: 100 });
  figure(t, `10 s blackout: connected again ${Math.round(s.recovery.last_recovery_ms)} ms after the loss was noticed, ` +
    `${t1 - back} ms after the path returned; both sides decoding ${Date.now() - back} ms after it returned`);
  await mediaBothWays(20, ' again');
  await leaveToIdle();
});

step('d: a 30 s blackout: the call fails with a clear reason once its bounded retries are spent', async (t) => {
  await ensureIdle(t);
  await joinWithMedia(t, WS_LINK);
  let s;
  let ms;
  const states = stateSampler();
  try {
    await blackout(true);
    const t0 = Date.now();
    s = await waitState(daemon, 'failed', { timeoutMs: 40000, intervalMs: 100 });
    ms = Date.now() - t0;
  } finally {
    await run('nft', ['delete', 'table', 'inet', NFT_TABLE], { timeoutMs: 10000 }).catch(() => {});
    await states.stop(s && s.state);
  }
  figure(t, `long blackout: anyroomd state failed ${ms} ms after all UDP was dropped (states ${states.seen.join(' -> ')}): ${s.error}`);
  assert.match(s.error, /No media or RTCP from the remote peer for 6 s/);
  assert.match(s.error, /could not be re-established \((\d+) attempt/);
  assert.ok(Number(s.error.match(/\((\d+) attempt/)[1]) >= 2, `more than one attempt: ${s.error}`);
  assert.deepEqual(states.seen.filter((x) => x !== 'connected'), ['reconnecting', 'failed']);
  // dead-peer timeout (6 s, ticks of 0.5 s) + the 20 s budget of a reachable server
  assert.ok(ms >= 20000 && ms <= 30000, `failed after ${ms} ms (want 6 s + 20 s budget)`);
  assert.equal((s.tracks || []).length, 0, 'no tracks left after the failure');
  await daemonHealthy(t);
  // The network is back: a new join works (alice's own connection died in
  // the blackout too: Chromium's consent freshness gives up after 30 s).
  await newAlice();
  await joinWithMedia(t, WS_LINK);
  await leaveToIdle();
  for (const l of liveLines()) t.diagnostic(`media engine: ${l}`);
});

step('e: over Janus\'s HTTP transport, a 10 s blackout: rebuilt by itself, and the room\'s old feed leaves at once', async (t) => {
  await ensureIdle(t);
  await newAlice();
  await joinWithMedia(t, HTTP_LINK);
  const roomFeeds = () => alice.page.evaluate(() => Object.values(window.lab.feeds).filter((f) => f.display === 'Room').length);
  let s;
  try {
    await blackout(true);
    await sleep(10000);
    await blackout(false);
    s = await waitFor('anyroomd to be connected again', async () => {
      const st = await daemon.status();
      return (st.state === 'connected' && st.recovery.reconnects >= 1) || st.state === 'failed' ? st : null;
    }, { timeoutMs: 15000, intervalMs: 100 });
  } finally {
    await run('nft', ['delete', 'table', 'inet', NFT_TABLE], { timeoutMs: 10000 }).catch(() => {});
  }
  assert.equal(s.state, 'connected', statusSummary(s));
  // The old session was destroyed (a goodbye that outlives the old transport):
  // alice sees one "Room" feed, not the old one too until Janus's 60 s session timeout.
  await waitFor('one "Room" feed for alice', async () => (await roomFeeds()) === 1 &&
    (await alice.stats('Room').catch(() => null))?.video?.framesDecoded > 0, { timeoutMs: 15000, intervalMs: 200 });
  await sleep(3000);
  assert.equal(await roomFeeds(), 1, 'no lingering old feed');
  await leaveToIdle();
});
