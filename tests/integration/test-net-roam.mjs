// Integration: the room's address changes mid-call, and random packet loss,
// in the three-namespace lab (tests/lab/net3.sh), real Janus + Chromium +
// anyroomd, media asserted both ways.
//
//   room (anyroomd, r0 10.98.1.2) ── middle (routes) ── meet (Janus, Chromium)
//
// a: the room's address changes from 10.98.1.2 to 10.98.1.3 mid-call (the old
//    one removed, the new one added, the default route back): anyroomd sees the
//    address go (rtnetlink), rebuilds the call at once (state reconnecting)
//    and media resumes both ways, long before the 6 s dead-peer timeout.
// b: 10 % random loss on every UDP packet the middle forwards, both ways
//    (nftables numgen), for AR_LOSS_SECONDS (default 30): the call continues
//    (connected all along, frames both ways); the test reports freezes of
//    1 s or more on both sides (Chromium: getStats sampled every 100 ms, plus
//    its own freezeCount; anyroomd: its status' freezes/freeze_ms) and the
//    effective frame rates. Figures only: nothing is asserted on them.
//    AR_LOSS_PERCENTS=5,10 runs several loss rates (the bench does).
//
// Signalling crosses namespaces through tests/lab/ns-bridge.py (loopback in
// the room), so the address change and the loss touch the media path only.
//
//   tests/integration/run-in-net-lab.sh tests/integration/test-net-roam.mjs
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep } from '../lab/lab.mjs';
import { NS, startNet3Meeting, startNet3Room, stopNet3Meeting, stopNet3Room } from './net3.mjs';
import { ctlFail, statusSummary, stepper, tracksOf, waitState } from './common.mjs';

const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'net-roam');
const TMP = mkTemp('ar-it-net-roam-');
const ROOM_IP = process.env.AR_NET3_ROOM_ADDR || '10.98.1.2';
const GW_IP = process.env.AR_NET3_TURN_ADDR || '10.98.1.1';
const NEW_ROOM_IP = '10.98.1.3';
const LOSS_SECONDS = Number(process.env.AR_LOSS_SECONDS || 30);
const LOSS_PERCENTS = (process.env.AR_LOSS_PERCENTS || '10').split(',').map(Number);
const ONLY = process.env.AR_ROAM_ONLY || ''; // 'a' or 'b': the bench runs one part

let meeting = null;
let alice = null;
let daemon = null;
const figures = [];

const { step, failed } = stepper({
  timeout: 240000,
  onFail: () => {
    if (daemon) console.error(`# anyroomd log tail:\n${daemon.logTail(80).replace(/^/gm, '# ')}`);
  },
  always: () => stopDaemon(),
});

function sh(args) {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// The room's address: from @from to @to, the default route back.
function renumber(from, to) {
  sh(['ip', '-n', NS.room, 'addr', 'del', `${from}/24`, 'dev', 'r0']);
  sh(['ip', '-n', NS.room, 'addr', 'add', `${to}/24`, 'dev', 'r0']);
  sh(['ip', '-n', NS.room, 'route', 'replace', 'default', 'via', GW_IP]);
}

function roomAddresses() {
  return sh(['ip', '-n', NS.room, '-4', '-o', 'addr', 'show', 'dev', 'r0']).match(/inet [0-9.]+/g) || [];
}

// Random loss of every forwarded UDP packet in the middle (both directions).
function loss(percent) {
  const m = NS.middle;
  spawnSync('ip', ['netns', 'exec', m, 'nft', 'delete', 'table', 'inet', 'arloss']);
  if (!percent) return;
  const rules = `table inet arloss {
  chain lossfwd { type filter hook forward priority -10; policy accept;
    meta l4proto udp numgen random mod 100 < ${percent} counter drop; }
}
`;
  const r = spawnSync('ip', ['netns', 'exec', m, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
  assert.equal(r.status, 0, `nft loss rule: ${r.stderr}`);
}

function lossDropped() {
  const r = spawnSync('ip', ['netns', 'exec', NS.middle, 'nft', 'list', 'table', 'inet', 'arloss'], { encoding: 'utf8' });
  const m = (r.stdout || '').match(/counter packets (\d+)/);
  return m ? Number(m[1]) : 0;
}

async function startRoom(name) {
  daemon = await startNet3Room(TMP, name);
  return daemon;
}

async function stopDaemon() {
  if (!daemon) return;
  const d = daemon;
  daemon = null;
  await stopNet3Room(d, OUT);
}

function figure(t, text) {
  figures.push(text);
  t.diagnostic(`FIGURE ${text}`);
}

const recvVideo = (s) => tracksOf(s, { kind: 'video', direction: 'recv' })[0];
const sendVideo = (s) => tracksOf(s, { kind: 'video', direction: 'send' })[0];
const recvAudio = (s) => tracksOf(s, { kind: 'audio', direction: 'recv' })[0];

// Joins as `display` and waits until media flows both ways.
async function joinWithMedia(display) {
  const r = await daemon.ctl('join', `janus+ws://127.0.0.1:8188/?room=1234&display=${display}`, '--timeout', '30');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl join'));
  await alice.waitForFeed(display, { timeoutMs: 30000 });
  await waitFor('anyroomd to decode video from alice', async () => (recvVideo(await daemon.status())?.frames || 0) > 0,
    { timeoutMs: 30000, intervalMs: 200 });
  // The room's audio may show in alice's stats a moment after its video.
  await waitFor('alice to receive the room\'s audio', async () => (await alice.stats(display))?.audio?.packetsReceived > 0,
    { timeoutMs: 10000, intervalMs: 200 });
}

// Over @ms: alice decodes the room and hears it, the room decodes alice and
// receives her audio. Returns the frame counts.
async function assertMediaBothWays(display, ms = 3000) {
  const a0 = await alice.stats(display);
  const s0 = await daemon.status();
  await sleep(ms);
  const a1 = await alice.stats(display);
  const s1 = await daemon.status();
  assert.equal(s1.state, 'connected', statusSummary(s1));
  const aliceFrames = a1.video.framesDecoded - a0.video.framesDecoded;
  const roomFrames = (recvVideo(s1)?.frames || 0) - (recvVideo(s0)?.frames || 0);
  assert.ok(aliceFrames >= 10, `alice decodes the room's video (${aliceFrames} frames in ${ms} ms)`);
  assert.ok(a1.audio && a1.audio.totalAudioEnergy > a0.audio.totalAudioEnergy, 'alice hears the room');
  assert.ok(roomFrames >= 10, `the room decodes alice's video (${roomFrames} frames in ${ms} ms)`);
  assert.ok((recvAudio(s1)?.packets || 0) > (recvAudio(s0)?.packets || 0), 'the room receives alice\'s audio');
  return { aliceFrames, roomFrames };
}

before(async () => {
  meeting = await startNet3Meeting(TMP, OUT);
  alice = meeting.alice;
});

after(async () => {
  loss(0);
  await stopDaemon();
  await stopNet3Meeting(meeting);
  try { fs.copyFileSync(path.join(TMP, 'janus', 'janus.log'), path.join(OUT, 'janus.log')); } catch { /* missing */ }
  for (const f of figures) console.log(`# FIGURE ${f}`);
  if (failed()) console.log(`# lab output: ${OUT}`);
  fs.rmSync(TMP, { recursive: true, force: true });
});

if (!ONLY || ONLY === 'a') {
  step('a: the room\'s address changes mid-call: rebuilt at once, media resumes both ways', async (t) => {
    await startRoom('roam');
    await joinWithMedia('Room-roam');
    await assertMediaBothWays('Room-roam');
    const seen = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await daemon.status().catch(() => null);
        if (s && seen[seen.length - 1] !== s.state) seen.push(s.state);
        await sleep(100);
      }
    })();
    let back;
    let t0;
    try {
      t0 = Date.now();
      renumber(ROOM_IP, NEW_ROOM_IP);
      t.diagnostic(`room addresses now: ${roomAddresses().join(', ')}`);
      back = await waitFor('anyroomd to be connected again', async () => {
        const s = await daemon.status();
        return (s.state === 'connected' && s.recovery.reconnects >= 1) || s.state === 'failed' ? s : null;
      }, { timeoutMs: 20000, intervalMs: 50 });
    } finally {
      sampling = false;
      await sampler;
      // The 100 ms sampler can miss the last change.
      if (back && seen[seen.length - 1] !== back.state) seen.push(back.state);
    }
    const connectedMs = Date.now() - t0;
    assert.equal(back.state, 'connected', statusSummary(back));
    assert.ok(seen.includes('reconnecting') && !seen.includes('failed'), `states: ${seen}`);
    const log = fs.readFileSync(daemon.log, 'utf8');
    assert.match(log, new RegExp(`connection lost: the room's network address ${ROOM_IP.replace(/\./g, '\\.')} went away`),
      'the loss was noticed from the address change, not from the dead-peer timeout');
    // alice subscribes to the room's new feed; the room to alice again.
    await waitFor('alice to decode the re-published room', async () => {
      const a = await alice.stats('Room-roam').catch(() => null);
      return a && a.video && a.video.framesDecoded > 0;
    }, { timeoutMs: 20000, intervalMs: 50 });
    const aliceMs = Date.now() - t0;
    await waitFor('anyroomd to decode alice again', async () => (recvVideo(await daemon.status())?.frames || 0) > 0,
      { timeoutMs: 20000, intervalMs: 50 });
    const roomMs = Date.now() - t0;
    figure(t, `address change: connected again ${connectedMs} ms after the change (recovery ${Math.round(back.recovery.last_recovery_ms)} ms from the loss), ` +
      `alice decodes the room ${aliceMs} ms and the room decodes alice ${roomMs} ms after it (states ${seen.join(' -> ')})`);
    assert.ok(connectedMs < 6000, `re-established before the dead-peer timeout would even have fired (${connectedMs} ms)`);
    await assertMediaBothWays('Room-roam');
    const s = await daemon.status();
    t.diagnostic(`ICE paths after the change: ${[...new Set(s.tracks.map((x) => `${x.peer}: ${x.ice_path}`))].join('; ')}`);
    assert.equal((await daemon.ctl('leave')).code, 0);
    await waitState(daemon, 'idle', { timeoutMs: 10000, intervalMs: 100 });
    renumber(NEW_ROOM_IP, ROOM_IP);
    await alice.waitFeedGone('Room-roam', { timeoutMs: 10000 }).catch(() => {});
  });
}

if (!ONLY || ONLY === 'b') {
  for (const pct of LOSS_PERCENTS) {
    step(`b: ${pct} % random loss both ways for ${LOSS_SECONDS} s: the call continues; freezes reported`, async (t) => {
      const display = `Room-loss${pct}`;
      await startRoom(`loss${pct}`);
      await joinWithMedia(display);
      await assertMediaBothWays(display);
      const gapId = await alice.gapStart(display);
      const p0 = (await alice.publisherStats()).video;
      const a0 = await alice.stats(display);
      const s0 = await daemon.status();
      const states = new Set();
      const dropped0 = lossDropped();
      loss(pct);
      const t0 = Date.now();
      let a1;
      let s1;
      let gaps;
      let p1;
      try {
        while (Date.now() - t0 < LOSS_SECONDS * 1000) {
          const s = await daemon.status();
          states.add(s.state);
          await sleep(500);
        }
        a1 = await alice.stats(display);
        s1 = await daemon.status();
        gaps = await alice.gapStop(gapId);
        p1 = (await alice.publisherStats()).video;
      } finally {
        const dropped = lossDropped() - dropped0;
        loss(0);
        t.diagnostic(`the middle dropped ${dropped} UDP packets`);
        assert.ok(dropped > 0, 'the loss rule dropped packets');
      }
      const secs = (Date.now() - t0) / 1000;
      const rv0 = recvVideo(s0);
      const rv1 = recvVideo(s1);
      const av0 = a0.video;
      const av1 = a1.video;
      const roomFps = (rv1.frames - rv0.frames) / secs;
      const aliceFps = (av1.framesDecoded - av0.framesDecoded) / secs;
      const sentFps = (sendVideo(s1).frames - sendVideo(s0).frames) / secs;
      const mins = secs / 60;
      const roomFreezes = rv1.freezes - rv0.freezes;
      const roomFreezeMs = rv1.freeze_ms - rv0.freeze_ms;
      figure(t, `${pct}% loss for ${secs.toFixed(0)} s: alice (Chromium) decodes the room at ${aliceFps.toFixed(1)} fps ` +
        `(room encodes ${sentFps.toFixed(1)} fps), ${gaps.freezes} freezes >= 1 s (${(gaps.freezes / mins).toFixed(1)}/min, ${gaps.freezeMs} ms in all, ` +
        `longest gap ${gaps.maxGapMs} ms), Chromium freezeCount +${av1.freezeCount - av0.freezeCount} ` +
        `(${(av1.totalFreezesDuration - av0.totalFreezesDuration).toFixed(1)} s), packetsLost +${av1.packetsLost - av0.packetsLost}, ` +
        `nack +${av1.nackCount - av0.nackCount}, pli +${av1.pliCount - av0.pliCount}; ` +
        `anyroomd decodes alice at ${roomFps.toFixed(1)} fps, ${roomFreezes} freezes >= 1 s (${(roomFreezes / mins).toFixed(1)}/min, ` +
        `${Math.round(roomFreezeMs)} ms in all), packets_lost +${rv1.packets_lost - rv0.packets_lost}; ` +
        `alice's sender: ${((p1.framesEncoded - p0.framesEncoded) / secs).toFixed(1)} fps encoded, key frame requests received PLI +${p1.pliCount - p0.pliCount} FIR +${p1.firCount - p0.firCount}, key frames +${p1.keyFramesEncoded - p0.keyFramesEncoded}`);
      t.diagnostic(`BENCH ${JSON.stringify({ loss: pct, seconds: secs, aliceFps, sentFps, aliceFreezes: gaps.freezes, aliceFreezeMs: gaps.freezeMs, aliceMaxGapMs: gaps.maxGapMs, chromiumFreezeCount: av1.freezeCount - av0.freezeCount, roomFps, roomFreezes, roomFreezeMs })}`);
      // The call continues: connected all along, media both ways under loss
      // and after it.
      assert.deepEqual([...states], ['connected'], `states during the loss: ${[...states]}`);
      assert.ok(av1.framesDecoded > av0.framesDecoded, 'alice decoded the room during the loss');
      assert.ok(rv1.frames > rv0.frames, 'the room decoded alice during the loss');
      await assertMediaBothWays(display);
      assert.equal((await daemon.ctl('leave')).code, 0);
      await waitState(daemon, 'idle', { timeoutMs: 10000, intervalMs: 100 });
      await alice.waitFeedGone(display, { timeoutMs: 10000 }).catch(() => {});
    });
  }
}
