// Integration: the web engine joins a real third-party web meeting app, the Janus VideoRoom
// demo page from Debian's janus-demos (videoroomtest.html, served as Debian ships it; only its
// settings.js is ours, pointing at the lab's Janus), through the recipe an administrator would
// add for it (tests/lab/recipes/janus-videoroom.json). anyroomd starts its own meeting browser
// (Chromium over CDP on a pipe), its media environment (PipeWire camera, PulseAudio microphone
// and speaker) and the bridge that feeds them from the room's capture graph.
//
// A real Chromium participant (alice, the lab's participant page, a fixture) in the same Janus
// room checks what the meeting gets: the room's camera by content (the test pattern's dark
// blue; black when the camera is off), its microphone by audio energy (none when muted); and the
// room's statistics show alice's media arriving in the meeting page. Leave closes the browser
// (no process, no profile, no PipeWire left), and a second join works.
//
// Runs inside a private network namespace (tests/lab/in-netns.sh), TAP output:
//   tests/integration/run-in-lab.sh tests/integration/test-web-join.mjs
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startJanus } from '../lab/janus.mjs';
import { serveJanusDemos } from '../lab/janus-demos.mjs';
import { launchParticipant, waitFor } from '../lab/participant.mjs';
import { buildDir, descendants, mkTemp, run, sleep, startWebAnyroomd } from '../lab/lab.mjs';
import { ctlFail, stepper, waitState } from './common.mjs';

const { step, failed } = stepper({ timeout: 180000 });

const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'web-join');
const TMP = mkTemp('ar-it-web-join-');
const ENFORCE = process.env.AR_NETNS_ADDR1 || '10.97.0.1';
const LINK = 'http://127.0.0.1:8000/videoroomtest.html?room=1234';
// The recipe keeps letters and digits of the room's name.
const ROOM_NAME = 'Web Room';
const SEEN_AS = 'WebRoom';

let janus = null;
let demoServer = null;
let daemon = null;
let alice = null;

async function join() {
  const r = await daemon.ctl('join', LINK, '--timeout', '60');
  assert.equal(r.code, 0, ctlFail(r, `anyroomctl join ${LINK}`));
}

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: ENFORCE });
  // The demo pages as Debian ships them, with a settings.js of ours (Debian's lacks the
  // variables the page reads; the lab's Janus listens on 8188 with no STUN).
  demoServer = await serveJanusDemos({ dir: path.join(TMP, 'demos'), logFile: path.join(TMP, 'demos-http.log') });
  daemon = await startWebAnyroomd({ tmp: TMP, roomName: ROOM_NAME, recipe: 'janus-videoroom.json' });
  alice = await launchParticipant({ display: 'alice', logDir: OUT });
  await alice.waitJoined();
});

after(async () => {
  if (failed()) {
    const st = daemon ? await daemon.status().catch((e) => ({ error: e.message })) : null;
    console.log(`# anyroomd status: ${JSON.stringify(st)}`);
    console.error(`# anyroomd log:\n${daemon ? daemon.logTail(150).replace(/^/gm, '#   ') : ''}`);
    if (alice) await alice.screenshot(path.join(OUT, 'alice-failed.png')).catch(() => {});
  }
  if (daemon) fs.copyFileSync(daemon.log, path.join(OUT, 'anyroomd.log'));
  // The engine's failure screenshots and page URLs, for whoever reads the logs.
  const failures = path.join(TMP, 'xdg-state', 'anyroom', 'web-failures');
  if (fs.existsSync(failures)) fs.cpSync(failures, path.join(OUT, 'web-failures'), { recursive: true });
  if (alice) await alice.close().catch(() => {});
  if (daemon) await daemon.stop();
  if (demoServer) await demoServer.stop();
  if (janus) await janus.stop();
  fs.rmSync(TMP, { recursive: true, force: true });
});

step('join: link -> connected through the recipe', async (t) => {
  const t0 = Date.now();
  await join();
  t.diagnostic(`link -> connected: ${Date.now() - t0} ms`);
  const s = await daemon.status();
  assert.equal(s.state, 'connected');
  assert.equal(s.engine, 'web');
  assert.equal(s.provider, 'janus-videoroom');
});

step('the far end decodes the room camera, by content', async (t) => {
  await alice.waitForFeed(SEEN_AS, { timeoutMs: 30000 });
  // videotestsrc "ball" on a dark blue background (0x1f3a5f): blue over red.
  const c = await waitFor('a dark blue frame', async () => {
    const v = await alice.frameColor(SEEN_AS);
    return v && v.b > v.r + 20 ? v : null;
  }, { timeoutMs: 15000 });
  t.diagnostic(`alice sees the room as rgb(${c.r}, ${c.g}, ${c.b})`);
});

step('the far end hears the room microphone', async (t) => {
  // The sound comes through the room's PulseAudio feed a moment after the picture: wait
  // (bounded, 15 s) until half a second of it carries clearly more than digital silence (muted:
  // ~1e-9). That is the assertion: the page's own noise suppression then wears the room's steady
  // test tone down (seen: +8e-8 over 2 s at low load), so the later window is only printed.
  await waitFor('sound from the room', async () => {
    const x = await alice.stats(SEEN_AS);
    await sleep(500);
    const y = await alice.stats(SEEN_AS);
    return y.audio && x.audio && y.audio.totalAudioEnergy > x.audio.totalAudioEnergy + 1e-5;
  }, { timeoutMs: 15000, intervalMs: 100 });
  const a = await alice.stats(SEEN_AS);
  await sleep(2000);
  const b = await alice.stats(SEEN_AS);
  t.diagnostic(`room audio energy ${a.audio?.totalAudioEnergy} -> ${b.audio?.totalAudioEnergy}`);
  assert.ok(b.audio && b.audio.totalAudioEnergy > a.audio.totalAudioEnergy, 'the room sends sound');
  const fps = (b.video.framesDecoded - a.video.framesDecoded) / 2;
  t.diagnostic(`alice decodes ${fps} frames/s of the room (${b.video.frameWidth}x${b.video.frameHeight})`);
});

step('the meeting page receives alice (page statistics in status)', async (t) => {
  const got = await waitFor('a received video track with frames', async () => {
    const st = await daemon.status();
    const tr = (st.tracks || []).find((x) => x.direction === 'recv' && x.kind === 'video' && x.frames > 0);
    return tr || null;
  }, { timeoutMs: 20000, intervalMs: 500 });
  t.diagnostic(`room <- alice: ${JSON.stringify(got)}`);
});

step('the room lists alice from the page (status participants)', async (t) => {
  const st = await waitFor('alice among the participants', async () => {
    const s = await daemon.status();
    return (s.participants || []).some((p) => p.display === 'alice') ? s : null;
  }, { timeoutMs: 10000, intervalMs: 500 });
  t.diagnostic(`participants: ${JSON.stringify(st.participants)}`);
  assert.ok(!st.participants.some((p) => p.display === SEEN_AS), 'the room itself is not listed');
});

step('camera off: the far end sees black', async (t) => {
  const r = await daemon.ctl('camera', 'off');
  assert.equal(r.code, 0, ctlFail(r, 'camera off'));
  const c = await waitFor('a black frame', async () => {
    const v = await alice.frameColor(SEEN_AS);
    return v && v.r + v.g + v.b < 30 ? v : null;
  }, { timeoutMs: 10000 });
  t.diagnostic(`camera off: alice sees rgb(${c.r}, ${c.g}, ${c.b})`);
});

step('mute: the far end hears silence', async (t) => {
  const r = await daemon.ctl('mute');
  assert.equal(r.code, 0, ctlFail(r, 'mute'));
  await sleep(1500);
  const a = await alice.stats(SEEN_AS);
  await sleep(2000);
  const b = await alice.stats(SEEN_AS);
  const d = b.audio.totalAudioEnergy - a.audio.totalAudioEnergy;
  t.diagnostic(`muted: room audio energy grew by ${d}`);
  assert.ok(d < 1e-5, `no sound while muted (energy +${d})`);
});

step('camera on and unmute again', async () => {
  assert.equal((await daemon.ctl('camera', 'on')).code, 0);
  assert.equal((await daemon.ctl('unmute')).code, 0);
  await waitFor('the room camera again', async () => {
    const v = await alice.frameColor(SEEN_AS);
    return v && v.b > v.r + 20;
  }, { timeoutMs: 10000 });
});

// No DevTools port (CDP runs on a pipe) and no other TCP server: a page on the LAN can never
// drive the room's browser. (UDP sockets are the call's own media and mDNS candidates.)
step('the meeting browser and its media environment listen on no TCP port', async (t) => {
  const kids = descendants(daemon.pid);
  const pids = new Set(kids.map((k) => k.pid));
  t.diagnostic(`anyroomd children: ${kids.map((k) => k.comm).join(', ')}`);
  assert.ok(kids.some((k) => /chrom/.test(k.comm)), 'a Chromium runs under anyroomd');
  const ss = await run('ss', ['-H', '-ltnp']);
  const listening = ss.stdout.split('\n').filter((l) => [...l.matchAll(/pid=(\d+)/g)].some((m) => pids.has(m[1])));
  assert.deepEqual(listening, [], `no socket of the browser or the media environment listens:\n${listening.join('\n')}`);
});

step('leave closes the browser and frees the devices', async (t) => {
  const kids = descendants(daemon.pid);
  const r = await daemon.ctl('leave');
  assert.equal(r.code, 0, ctlFail(r, 'leave'));
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
  await waitFor('no child process of anyroomd', async () => descendants(daemon.pid).length === 0, { timeoutMs: 10000 });
  t.diagnostic(`ended with the call: ${kids.map((k) => k.comm).join(', ')}`);
  await alice.waitFeedGone(SEEN_AS, { timeoutMs: 15000 });
});

step('a second join works', async (t) => {
  await join();
  try {
    await alice.waitForFeed(SEEN_AS, { timeoutMs: 30000 });
  } catch (e) {
    const st = await daemon.status();
    t.diagnostic(`second call's page tracks: ${JSON.stringify(st.tracks)}`);
    throw e;
  }
  const r = await daemon.ctl('leave');
  assert.equal(r.code, 0, ctlFail(r, 'leave'));
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
  const hist = await daemon.ctl('history', '--json');
  t.diagnostic(`history: ${hist.stdout.trim().slice(0, 300)}`);
});
