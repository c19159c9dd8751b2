// Integration: anyroomd joins a real Janus VideoRoom and a real Chromium
// participant sees and hears the room (and the room receives the participant).
//
// Runs inside a private network namespace (tests/lab/in-netns.sh), TAP output:
//   tests/integration/run-in-lab.sh tests/integration/test-janus-join.mjs
// Environment: AR_BUILD_DIR (anyroomd, anyroomctl in $AR_BUILD_DIR/firmware),
// AR_SOURCE_DIR. Screenshots and logs: $AR_BUILD_DIR/meson-logs/lab/janus-join/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant, waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd, startTamperProxy, tail } from '../lab/lab.mjs';
import { ctlFail, participantId, statusSummary, stepper, tracksOf, waitState } from './common.mjs';

// A failing step makes after() print the logs.
const { step, failed } = stepper({ timeout: 120000 });

const ROOM_LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'janus-join');
const TMP = mkTemp('ar-it-janus-join-');
const ENFORCE = process.env.AR_NETNS_ADDR1 || '10.97.0.1';

let janus = null;
let daemon = null;
let alice = null;
const extra = [];



async function join(link, timeoutS = 30) {
  const r = await daemon.ctl('join', link, '--timeout', String(timeoutS));
  assert.equal(r.code, 0, ctlFail(r, `anyroomctl join ${link}`));
  return r;
}

async function leave() {
  const r = await daemon.ctl('leave');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl leave'));
  return r;
}





// Each case starts from an idle daemon, whatever the previous case left.
async function ensureIdle(t) {
  const s = await daemon.status();
  if (s.state === 'idle' || s.state === 'failed') return;
  t.diagnostic(`previous case left the daemon ${s.state}; leaving first`);
  await daemon.ctl('leave');
  await waitState(daemon, 'idle', { timeoutMs: 10000 }).catch(() => {});
  await alice.waitFeedGone('Room', { timeoutMs: 10000 }).catch(() => {});
}

// The room's video and audio reach alice: frames keep coming for windowMs.
async function checkRoomMedia(t, display, { windowMs = 5000, minFrames = 60, width = 1280, height = 720 } = {}) {
  const s0 = await alice.stats(display);
  await sleep(windowMs);
  const s1 = await alice.stats(display);
  t.diagnostic(`alice <- ${display} video ${JSON.stringify(s1.video)}`);
  t.diagnostic(`alice <- ${display} audio ${JSON.stringify(s1.audio)}`);
  assert.ok(s0.video && s1.video, 'alice has an inbound video stream from the room');
  const frames = s1.video.framesDecoded - s0.video.framesDecoded;
  assert.ok(frames >= minFrames, `alice decoded ${frames} room frames in ${windowMs} ms (want >= ${minFrames})`);
  assert.equal(`${s1.video.frameWidth}x${s1.video.frameHeight}`, `${width}x${height}`, 'room video resolution as sent');
  assert.ok(s1.audio, 'alice has an inbound audio stream from the room');
  assert.ok(s1.audio.packetsReceived > 0, 'room audio packets arrive');
  assert.ok(s1.audio.totalAudioEnergy > s0.audio.totalAudioEnergy,
    `room audio carries sound (totalAudioEnergy ${s0.audio.totalAudioEnergy} -> ${s1.audio.totalAudioEnergy})`);
  return { s0, s1 };
}

// anyroomd receives alice and sends 1280x720 H264: counters move over windowMs.
async function checkDaemonMedia(t, { windowMs = 3000, from = ['alice'] } = {}) {
  // Subscriptions come up on their own schedule: wait (bounded) until each one
  // decodes before the first sample; the assertions below say what is missing.
  const t0 = Date.now();
  for (;;) {
    const st = await daemon.status();
    const ready = from.every((who) => {
      const id = participantId(st, who);
      const v = id && tracksOf(st, { peerId: id, kind: 'video', direction: 'recv' })[0];
      return v && v.frames > 0;
    });
    if (ready || Date.now() - t0 > 15000) break;
    await sleep(200);
  }
  const st0 = await daemon.status();
  await sleep(windowMs);
  const st1 = await daemon.status();
  t.diagnostic(statusSummary(st1));
  assert.equal(st1.state, 'connected');
  for (const who of from) {
    const id = participantId(st1, who);
    assert.ok(id, `status lists participant ${who}`);
    const v0 = tracksOf(st0, { peerId: id, kind: 'video', direction: 'recv' })[0];
    const v1 = tracksOf(st1, { peerId: id, kind: 'video', direction: 'recv' })[0];
    assert.ok(v1, `status has a recv video track from ${who}`);
    assert.ok(v1.width > 0 && v1.height > 0, `recv video from ${who} has a size (${v1.width}x${v1.height})`);
    assert.ok(v0 && v1.frames > v0.frames, `recv video frames from ${who} increase (${v0 && v0.frames} -> ${v1.frames})`);
    const a0 = tracksOf(st0, { peerId: id, kind: 'audio', direction: 'recv' })[0];
    const a1 = tracksOf(st1, { peerId: id, kind: 'audio', direction: 'recv' })[0];
    assert.ok(a1, `status has a recv audio track from ${who}`);
    assert.ok(a0 && a1.packets > a0.packets, `recv audio packets from ${who} increase (${a0 && a0.packets} -> ${a1.packets})`);
  }
  const sv0 = tracksOf(st0, { kind: 'video', direction: 'send' })[0];
  const sv1 = tracksOf(st1, { kind: 'video', direction: 'send' })[0];
  assert.ok(sv1, 'status has a send video track');
  assert.equal(String(sv1.codec).toUpperCase(), 'H264', 'send video codec');
  // The configured size, unless the bandwidth controller made it smaller and
  // says why (a loaded host can lose packets; docs/bandwidth.md).
  const size = `${sv1.width}x${sv1.height}`;
  if (size !== '1280x720') {
    t.diagnostic(`send video ${size}, limited by ${sv1.limited_by}, target ${sv1.target_kbps} kbit/s`);
    assert.ok(['loss', 'delay', 'remb', 'ramp'].includes(sv1.limited_by) && ['640x360', '640x368'].includes(size),
      `send video size ${size} (limited by ${sv1.limited_by})`);
  } else {
    assert.equal(size, '1280x720', 'send video size');
  }
  assert.ok(sv0 && sv1.frames > sv0.frames, `send video frames increase (${sv0 && sv0.frames} -> ${sv1.frames})`);
  return st1;
}

// A join that must fail: non-zero exit, one line on stderr naming the cause,
// and the daemon still answers status afterwards.
async function expectJoinFails(t, link, cause, timeoutS = 20) {
  const r = await daemon.ctl('join', link, '--timeout', String(timeoutS));
  t.diagnostic(`join ${link}: exit ${r.code} in ${Math.round(r.ms)} ms, stderr: ${r.stderr.trim()}`);
  assert.ok(!r.timedOut, ctlFail(r, `anyroomctl join ${link} did not return`));
  assert.notEqual(r.code, 0, ctlFail(r, `anyroomctl join ${link} should fail`));
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `exactly one line on stderr, got ${JSON.stringify(lines)}`);
  assert.match(lines[0], cause, 'the line names the cause');
  const s = await daemon.status();
  assert.notEqual(s.state, 'connected', 'not connected after a failed join');
  assert.ok(['idle', 'failed'].includes(s.state), `state after a failed join is idle or failed, not ${s.state}`);
  return { r, s };
}

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  fs.mkdirSync(OUT, { recursive: true });
  janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: ENFORCE });
  daemon = await startAnyroomd({ tmp: TMP });
  alice = await launchParticipant({ display: 'alice', logDir: OUT });
  await alice.waitJoined();
});

after(async () => {
  // Janus's log as it was when things went wrong, before shutdown noise.
  const janusTail = janus ? janus.logTail(80) : '(none)';
  const closing = [];
  if (alice) closing.push(alice.close().catch(() => {}));
  for (const p of extra) closing.push(p.close().catch(() => {}));
  await Promise.all(closing);
  if (daemon) {
    const ex = await daemon.stop(10000);
    if (ex && ex.sig === 'SIGKILL') console.log('# anyroomd did not stop on SIGTERM within 10 s; killed');
  }
  if (janus) await janus.stop();
  for (const [f, name] of [[path.join(TMP, 'anyroomd.log'), 'anyroomd.log'], [path.join(TMP, 'janus', 'janus.log'), 'janus.log']]) {
    try { fs.copyFileSync(f, path.join(OUT, name)); } catch { /* missing */ }
  }
  if (failed() || process.exitCode) {
    const dlog = path.join(OUT, 'anyroomd.log');
    let text = '';
    try { text = fs.readFileSync(dlog, 'utf8'); } catch { /* none */ }
    // libnice/libsoup/GIO debug lines drown the daemon's own messages: leave
    // them to the full log.
    const all = text.split('\n');
    const lines = all.filter((l) => !/\((?:libnice|libnice-stun|libsoup|dconf|GLib-GIO|GLib-Net)-DEBUG\)|(?:libnice|libnice-stun|libsoup|dconf|GLib-GIO|GLib-Net)-DEBUG:/.test(l));
    const shown = lines.length > 400 ? lines.slice(-400) : lines;
    console.log(`anyroomd log without library debug noise (${lines.length} of ${all.length} lines${lines.length > 400 ? ', last 400' : ''}; full: ${dlog}):`);
    console.log(shown.join('\n'));
    console.log(`Janus log tail before shutdown (full: ${path.join(OUT, 'janus.log')}):`);
    console.log(janusTail);
    console.log(`alice's page log tail (full: ${path.join(OUT, 'chromium-alice.log')}):`);
    console.log(tail(path.join(OUT, 'chromium-alice.log'), 30));
  }
  fs.rmSync(TMP, { recursive: true, force: true });
  console.log(`lab output (screenshots, logs): ${OUT}`);
});

step('anyroomd runs without transparent huge pages (RSS: docs/decisions.md)', async () => {
  const status = fs.readFileSync(`/proc/${daemon.pid}/status`, 'utf8');
  const m = status.match(/^THP_enabled:\s+(\d)/m);
  if (m) assert.equal(m[1], '0', 'THP_enabled in /proc/PID/status');
});

step('a: join over WebSocket; alice sees and hears the room, the room receives alice', async (t) => {
  await ensureIdle(t);
  const t0 = Date.now();
  const r = await join(ROOM_LINK);
  t.diagnostic(`anyroomctl join exit 0 in ${Math.round(r.ms)} ms`);
  await alice.waitForFeed('Room', { timeoutMs: 30000 });
  t.diagnostic(`alice decoded the room's first frame ${(await alice.firstFrameAt('Room')) - t0} ms after the join command`);
  await checkRoomMedia(t, 'Room', { windowMs: 5000, minFrames: 60 });
  await alice.screenshot(path.join(OUT, 'a-alice-sees-room.png'));
  const st = await checkDaemonMedia(t, { windowMs: 3000 });
  t.diagnostic(`timing ${JSON.stringify(st.timing)} encoder ${st.encoder}`);
  assert.equal(st.provider, 'janus');
  assert.equal(String(st.room), '1234');
});

step("the join's freed heap is given back once the call is connected (RSS: docs/decisions.md)", async (t) => {
  const log = path.join(TMP, 'anyroomd.log');
  let line = null;
  await waitFor('anyroomd to trim its heap after connecting', async () => {
    line = fs.readFileSync(log, 'utf8').match(/call: heap trimmed after connecting: RSS ([\d.]+) -> ([\d.]+) MB/);
    return line !== null;
  }, { timeoutMs: 15000, intervalMs: 500 });
  t.diagnostic(line[0]);
});

step('b: bob joins later, the room subscribes to him; he leaves, his tracks go', async (t) => {
  const bob = await launchParticipant({ display: 'bob', logDir: OUT });
  extra.push(bob);
  await bob.waitJoined();
  await waitFor('anyroomd to receive video from bob', async () => {
    const s = await daemon.status();
    const id = participantId(s, 'bob');
    const v = id && tracksOf(s, { peerId: id, kind: 'video', direction: 'recv' })[0];
    return v && v.frames > 0;
  }, { timeoutMs: 30000, intervalMs: 250 });
  await checkDaemonMedia(t, { windowMs: 3000, from: ['alice', 'bob'] });
  await bob.screenshot(path.join(OUT, 'b-bob.png'));

  const before = await daemon.status();
  const bobId = participantId(before, 'bob');
  await bob.close();
  extra.splice(extra.indexOf(bob), 1);
  const t0 = Date.now();
  let last = null;
  try {
    await waitFor("bob's tracks to disappear from status", async () => {
      last = await daemon.status();
      return tracksOf(last, { peerId: bobId, kind: 'video', direction: 'recv' }).length === 0 &&
        tracksOf(last, { peerId: bobId, kind: 'audio', direction: 'recv' }).length === 0;
    }, { timeoutMs: 10000, intervalMs: 250 });
  } catch (e) {
    throw new Error(`${e.message}; last status: ${last && statusSummary(last)}`);
  }
  t.diagnostic(`bob's tracks left status ${Date.now() - t0} ms after he closed`);
  assert.equal(last.state, 'connected', 'still connected after bob left');
  assert.ok(!participantId(last, 'bob'), 'bob is no longer listed as a participant');
  await checkDaemonMedia(t, { windowMs: 2000, from: ['alice'] });
});

step('c: leave; alice sees the room go, status is idle', async (t) => {
  const r = await leave();
  t.diagnostic(`anyroomctl leave exit 0 in ${Math.round(r.ms)} ms`);
  await alice.waitFeedGone('Room', { timeoutMs: 10000 });
  const s = await waitState(daemon, 'idle', { timeoutMs: 5000 });
  assert.equal((s.tracks || []).length, 0, 'no tracks when idle');
});

step('d: a second join by the same daemon works', async (t) => {
  await ensureIdle(t);
  const t0 = Date.now();
  await join(ROOM_LINK);
  await alice.waitForFeed('Room', { timeoutMs: 30000 });
  t.diagnostic(`first room frame at alice ${(await alice.firstFrameAt('Room')) - t0} ms after the join command`);
  await checkRoomMedia(t, 'Room', { windowMs: 2000, minFrames: 20 });
  await checkDaemonMedia(t, { windowMs: 2000 });
  await leave();
  await alice.waitFeedGone('Room', { timeoutMs: 10000 });
  await waitState(daemon, 'idle', { timeoutMs: 5000 });
});

step('e1: Janus unreachable', async (t) => {
  await ensureIdle(t);
  await expectJoinFails(t, 'janus+ws://127.0.0.1:9/?room=1234', /connect|unreachable|refused|reach|127\.0\.0\.1:9/i);
});

step('e2: room missing', async (t) => {
  await ensureIdle(t);
  await expectJoinFails(t, 'janus+ws://127.0.0.1:8188/?room=999999', /room|999999|no such/i);
});

step('e3: wrong pin', async (t) => {
  await ensureIdle(t);
  await expectJoinFails(t, 'janus+ws://127.0.0.1:8188/?room=4321&pin=wrong', /pin|unauthori[sz]ed|forbidden|denied/i);
});

step('e4: malformed link: empty room', async (t) => {
  await ensureIdle(t);
  await expectJoinFails(t, 'janus+ws://127.0.0.1:8188/?room=', /room|link|invalid|malformed/i);
});

step('e5: malformed link: notalink', async (t) => {
  await ensureIdle(t);
  await expectJoinFails(t, 'notalink', /link|url|invalid|malformed|unsupported|not a/i);
});

step('e6: HTTP transport joins', async (t) => {
  await ensureIdle(t);
  const r = await join('janus+http://127.0.0.1:8088/janus?room=1234');
  t.diagnostic(`join over HTTP: exit 0 in ${Math.round(r.ms)} ms`);
  const feed = await alice.waitForAnyFeed({ exclude: ['bob'], timeoutMs: 30000 });
  t.diagnostic(`the room appears to alice as "${feed.display}"`);
  await checkRoomMedia(t, feed.display, { windowMs: 2000, minFrames: 20 });
  await checkDaemonMedia(t, { windowMs: 2000 });
  await leave();
  await alice.waitFeedGone(feed.display, { timeoutMs: 10000 });
  await waitState(daemon, 'idle', { timeoutMs: 5000 });
});

step('f1: control: the proxy without tampering lets the join through', async (t) => {
  await ensureIdle(t);
  const control = await startTamperProxy({ tmp: TMP, tamper: false });
  try {
    await join(`janus+http://127.0.0.1:${control.port}/janus?room=1234&display=ViaProxy`);
    const s = await waitState(daemon, 'connected', { timeoutMs: 5000 });
    t.diagnostic(`via the pass-through proxy: ${statusSummary(s)}`);
    await alice.waitForFeed('ViaProxy', { timeoutMs: 30000 });
    t.diagnostic('alice decodes the room joined through the pass-through proxy');
  } finally {
    await daemon.ctl('leave');
    await control.stop();
  }
  await alice.waitFeedGone('ViaProxy', { timeoutMs: 10000 });
  await waitState(daemon, 'idle', { timeoutMs: 5000 });
});

step('f2: tampered DTLS fingerprint fails the call, the daemon stays healthy', async (t) => {
  await ensureIdle(t);
  const proxy = await startTamperProxy({ tmp: TMP, tamper: true });
  try {
    await expectJoinFails(t, `janus+http://127.0.0.1:${proxy.port}/janus?room=1234&display=Tampered`, /fingerprint/i, 30);
    assert.match(proxy.logText(), /flipped \d+ fingerprint/, 'the proxy did rewrite fingerprints');
    // Informational: whether any media from the unauthenticated call reached alice
    // (a few frames may pass before the check ends the call).
    await sleep(1000);
    const st = await alice.state();
    const tampered = Object.values(st.feeds).filter((f) => f.display === 'Tampered');
    t.diagnostic(`Tampered feed at alice after the failed join: ${JSON.stringify(tampered.map((f) => f.stats && f.stats.video))}`);
  } finally {
    await proxy.stop();
  }
}, 180000);

step('g: after all that, a normal join still works', async (t) => {
  await ensureIdle(t);
  const s = await daemon.status();
  t.diagnostic(`status before: ${statusSummary(s)}`);
  await join(ROOM_LINK);
  await alice.waitForFeed('Room', { timeoutMs: 30000 });
  await checkRoomMedia(t, 'Room', { windowMs: 2000, minFrames: 20 });
  await checkDaemonMedia(t, { windowMs: 2000 });
  await alice.screenshot(path.join(OUT, 'g-alice-sees-room-again.png'));
  await leave();
  await alice.waitFeedGone('Room', { timeoutMs: 10000 });
  await waitState(daemon, 'idle', { timeoutMs: 5000 });
});
