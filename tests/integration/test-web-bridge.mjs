// Integration (issue 11, part 5): the room's devices in a real meeting browser.
//   AR_BUILD_DIR=$PWD/build tests/integration/run-in-lab.sh tests/integration/test-web-bridge.mjs
// The product's per-call media environment (ArWebMedia: private session bus, PipeWire +
// WirePlumber, xdg-desktop-portal + permission store, the room's Access backend, a private
// PulseAudio) and ArBridge run in the test program ar-webdev, fed by a known picture
// (videotestsrc solid colour) and a tone (audiotestsrc). Debian's Chromium runs headless with
// NO fake device or fake UI flag: camera through the PipeWire camera portal, microphone and
// speaker through PulseAudio; the page's permission comes from CDP (Browser.grantPermissions).
// The page is a fixture (tests/lab/webdev/). Asserted: the colour the page sees, and its change;
// camera off (the bridge's gate) is black; microphone energy with the tone and near zero with
// silence or mute; the page's own tone reaches the room's speaker sink (and its volume applies);
// the camera is denied when the Access backend says no call is active; after the bridge stops no
// frame reaches the page and the camera cannot be opened again; once the devices are released
// at leave both tracks end; a path that does not stop is left behind without holding the stop.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { buildDir, mkTemp, sleep } from '../lab/lab.mjs';
import { serveStatic } from '../lab/participant/server.mjs';
import { launchWebBrowser, startWebDev } from '../lab/webdev.mjs';
import { stepper } from './common.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const FIXTURE = path.resolve(HERE, '..', 'lab', 'webdev');
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'web-bridge');
const TMP = mkTemp('ar-it-webbridge-');
let dev = null;
let server = null;
let browser = null;

const { step, failed } = stepper({
  timeout: 60000,
  onFail: async () => {
    fs.mkdirSync(OUT, { recursive: true });
    if (dev) fs.writeFileSync(path.join(OUT, 'ar-webdev.log'), dev.log());
    if (browser) fs.writeFileSync(path.join(OUT, 'page-console.log'), browser.logLines.join('\n') + '\n');
  },
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
  if (dev) await dev.stop();
  try {
    if (failed()) {
      fs.mkdirSync(OUT, { recursive: true });
      // Logs and configs only (the sockets cannot be copied).
      fs.cpSync(TMP, path.join(OUT, 'tmp'), {
        recursive: true,
        filter: (src) => { try { const st = fs.lstatSync(src); return st.isDirectory() || st.isFile(); } catch { return false; } },
      });
    }
  } finally {
    fs.rmSync(TMP, { recursive: true, force: true });
  }
});

const near = (c, want, tol = 40) => c.every((v, i) => Math.abs(v - want[i]) <= tol);
const ev = (fn, arg) => browser.page.evaluate(fn, arg);

// Waits until the browser lists the room's camera (the portal's grant and PipeWire's node
// list arrive asynchronously after launch); returns the ms it took.
async function waitCamera(timeoutMs = 10000) {
  const t0 = Date.now();
  for (;;) {
    const cams = await ev(async () => (await navigator.mediaDevices.enumerateDevices())
      .filter((d) => d.kind === 'videoinput').map((d) => d.label));
    if (cams.length > 0) return { ms: Date.now() - t0, cams };
    if (Date.now() - t0 > timeoutMs) return { ms: null, cams };
    await sleep(100);
  }
}

async function openPage() {
  browser = await launchWebBrowser({ env: dev.env, name: 'meeting', logDir: OUT });
  await browser.context.grantPermissions(['camera', 'microphone'], { origin: server.url.replace(/\/$/, '') });
  await browser.page.goto(server.url);
}

async function closePage() {
  if (browser) await browser.close();
  browser = null;
}

step('the web call media environment starts (ArWebMedia + ArBridge)', async (t) => {
  server = await serveStatic(FIXTURE);
  const t0 = Date.now();
  dev = await startWebDev({ tmp: TMP });
  const up = dev.lines.find((l) => l.includes('media environment up'));
  t.diagnostic(`${up ? up.replace(/^# /, '') : ''}; ar-webdev ready after ${Date.now() - t0} ms`);
  assert.ok(dev.env.DBUS_SESSION_BUS_ADDRESS && dev.env.PULSE_SERVER, JSON.stringify(dev.env));
});

step('the camera is denied while no web call is active', async (t) => {
  await dev.cmd('call off');
  await dev.cmd('start'); // the node exists: only the Access backend stands in the way
  await openPage();
  // Measured with Chromium 156: after the portal's "no", getUserMedia and enumerateDevices
  // never settle (no camera, no error). Either way the page must get no camera.
  const r = await Promise.race([
    ev(() => fx.open({ video: true, audio: false })),
    sleep(6000).then(() => ({ ok: false, error: 'no answer within 6 s' })),
  ]);
  const portal = await dev.portal();
  t.diagnostic(`getUserMedia outside a call: ${r.error}; access requests ${portal.requests}, granted ${portal.granted}`);
  assert.equal(r.ok, false, 'the page got a camera outside a call');
  assert.ok(portal.requests >= 1, 'the portal never asked the Access backend');
  assert.equal(portal.granted, 0);
  await closePage();
  await dev.cmd('stop');
  await dev.cmd('revoke'); // the portal stored the "no"; the next call asks again
});

step('in a call the page gets the room camera and microphone, first frame and frame rate', async (t) => {
  await dev.cmd('call on');
  await dev.cmd('color 0xff0000');
  await dev.cmd('tone on');
  await dev.cmd('start');
  const t0 = Date.now();
  await openPage();
  const cam = await waitCamera();
  t.diagnostic(`browser launch + page load ${Date.now() - t0 - (cam.ms || 0)} ms; camera listed ${cam.ms} ms later: ${JSON.stringify(cam.cams)}`);
  assert.ok(cam.ms !== null, 'the browser never listed a camera');
  const r = await ev(() => fx.open());
  assert.ok(r.ok, `getUserMedia failed: ${r.error}`);
  assert.equal(r.labels.video, 'Anyroom camera');
  t.diagnostic(`getUserMedia ${r.gumMs.toFixed(0)} ms; getUserMedia to first frame ${r.firstFrameMs.toFixed(0)} ms; microphone "${r.labels.audio}"`);
  const fps = await ev(() => fx.frameRate(2000));
  t.diagnostic(`frame rate in the page: ${fps.toFixed(1)} fps (bridge offers 640x480 at 30)`);
  assert.ok(fps >= 20, `frame rate ${fps}`);
  const portal = await dev.portal();
  assert.ok(portal.granted >= 1, JSON.stringify(portal));
});

step('the page sees the colour fed to the bridge, and its change; camera off is black', async (t) => {
  const red = await ev(() => fx.color());
  assert.ok(near(red, [255, 0, 0]), `expected red, saw ${red}`);
  await dev.cmd('color 0x0000ff');
  await sleep(400);
  const blue = await ev(() => fx.color());
  assert.ok(near(blue, [0, 0, 255]), `expected blue, saw ${blue}`);
  await dev.cmd('camera-off on');
  await sleep(400);
  const black = await ev(() => fx.color());
  assert.ok(near(black, [0, 0, 0], 24), `expected black with the camera off, saw ${black}`);
  await dev.cmd('camera-off off');
  await sleep(400);
  const back = await ev(() => fx.color());
  assert.ok(near(back, [0, 0, 255]), `expected blue again, saw ${back}`);
  t.diagnostic(`colours seen: red ${red}, blue ${blue}, camera off ${black}, on again ${back}`);
});

step('microphone energy: the tone is heard, silence and mute are near zero', async (t) => {
  const tone = await ev(() => fx.micLevel(600));
  await dev.cmd('tone off');
  await sleep(300);
  const silence = await ev(() => fx.micLevel(600));
  await dev.cmd('tone on');
  await dev.cmd('mute on');
  await sleep(300);
  const muted = await ev(() => fx.micLevel(600));
  await dev.cmd('mute off');
  await sleep(300);
  const again = await ev(() => fx.micLevel(600));
  t.diagnostic(`microphone RMS: tone ${tone.toFixed(1)} dBFS, silence ${silence.toFixed(1)}, muted ${muted.toFixed(1)}, unmuted ${again.toFixed(1)}`);
  assert.ok(tone > -30, `tone ${tone} dBFS`);
  assert.ok(silence < -60, `silence ${silence} dBFS`);
  assert.ok(muted < -60, `muted ${muted} dBFS`);
  assert.ok(again > -30, `unmuted ${again} dBFS`);
});

step("the page's own audio reaches the room's speaker sink, at the room's volume", async (t) => {
  await dev.speaker(); // reset the meter
  await sleep(400);
  const before = await dev.speaker();
  const state = await ev(() => fx.playTone(true));
  await sleep(300);
  await dev.speaker();
  await sleep(1000);
  const tone = await dev.speaker();
  await dev.cmd('volume 0');
  await sleep(300);
  await dev.speaker();
  await sleep(400);
  const zero = await dev.speaker();
  await dev.cmd('volume 1');
  await ev(() => fx.playTone(false));
  t.diagnostic(`room speaker RMS: before ${before.rms} dBFS, page tone ${tone.rms} (peak ${tone.peak}, ${tone.samples} samples in 1 s, AudioContext ${state}), volume 0 ${zero.rms}`);
  assert.ok(before.rms < -60, `speaker not silent before the tone: ${before.rms}`);
  assert.ok(tone.rms > -30 && tone.samples > 9600, `page tone at the speaker: ${JSON.stringify(tone)}`);
  assert.ok(zero.rms < -60, `volume 0 still heard: ${zero.rms}`);
});

step('after the bridge stops no frame reaches the page and the camera cannot be opened again', async (t) => {
  const t0 = Date.now();
  await dev.cmd('stop');
  const stopMs = Date.now() - t0;
  await sleep(500);
  const f0 = await ev(() => fx.frames);
  await sleep(1000);
  const f1 = await ev(() => fx.frames);
  const states = await ev(() => fx.trackStates());
  const again = await ev(async () => {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: true });
      const label = s.getVideoTracks()[0].label;
      s.getTracks().forEach((x) => x.stop());
      return { ok: true, label };
    } catch (e) { return { ok: false, error: `${e.name}: ${e.message}` }; }
  });
  t.diagnostic(`stop answered after ${stopMs} ms; after it: ${f1 - f0} frames in 1 s; tracks ${JSON.stringify(states.states)}; a new getUserMedia: ${again.ok ? 'got ' + again.label : again.error}`);
  assert.equal(f1 - f0, 0, 'frames still arrive after the bridge stopped');
  assert.equal(again.ok, false, 'the page opened a camera after the bridge stopped');
});

step("at leave the page's tracks end (devices released before the browser closes)", async (t) => {
  const t0 = Date.now();
  await dev.cmd('release');
  let s = null;
  for (let i = 0; i < 50; i++) {
    s = await ev(() => fx.trackStates());
    if (s.states.audio === 'ended' && s.states.video === 'ended') break;
    await sleep(100);
  }
  t.diagnostic(`after release (${Date.now() - t0} ms): ${JSON.stringify(s)}`);
  assert.equal(s.states.audio, 'ended');
  assert.equal(s.ended.audio, true, 'no ended event (audio)');
  // Measured: Chromium ends the camera track too once PulseAudio goes (it enumerates devices
  // again and finds the camera node gone); the bridge's stop alone only stops the frames.
  assert.equal(s.states.video, 'ended');
  assert.equal(s.ended.video, true, 'no ended event (video)');
  await closePage(); // the browser goes before the environment: it aborts without its bus
  await dev.cmd('leave');
  await dev.stop();
  dev = null;
});

step('a second call gets a fresh environment and bridge, and the page sees the camera again', async (t) => {
  const t0 = Date.now();
  dev = await startWebDev({ tmp: TMP });
  await dev.cmd('call on');
  await dev.cmd('color 0x00ff00');
  await dev.cmd('start');
  await openPage();
  const cam = await waitCamera();
  assert.ok(cam.ms !== null, 'the browser never listed a camera in the second call');
  const r = await ev(() => fx.open({ video: true, audio: true }));
  assert.ok(r.ok, `getUserMedia failed in the second call: ${r.error}`);
  const green = await ev(() => fx.color());
  t.diagnostic(`second call: camera in the page ${Date.now() - t0} ms after the environment started; colour ${green}`);
  assert.ok(near(green, [0, 255, 0]), `expected green, saw ${green}`);
});

// A path whose element does not return (seen once in CI: the camera pipeline's stop hung, and
// with it the caller's main loop). The fault is a fixture: ar-webdev holds the camera source's
// streaming thread in a pad probe, so the camera pipeline cannot reach NULL.
step('a path that does not stop is left behind: the stop returns, the page gets nothing more', async (t) => {
  await dev.cmd('stall');
  const t0 = Date.now();
  await dev.cmd('stop');
  const stopMs = Date.now() - t0;
  const left = await dev.cmd('stopping');
  // The main loop answers while the path is still stuck.
  const state = await dev.cmd('state');
  const f0 = await ev(() => fx.frames);
  await sleep(1000);
  const f1 = await ev(() => fx.frames);
  await dev.cmd('unstall');
  let now = null;
  for (let i = 0; i < 100; i++) {
    now = await dev.cmd('stopping');
    if (/ now=0$/.test(now)) break;
    await sleep(100);
  }
  t.diagnostic(`stop answered after ${stopMs} ms; ${left}; ${state}; ${f1 - f0} frames in 1 s after it; after unstall: ${now}`);
  assert.equal(left, 'stopping left=1 now=1', 'the stuck camera path was not left behind');
  assert.equal(state, 'state none');
  assert.equal(f1 - f0, 0, 'frames still arrive after the bridge stopped');
  assert.equal(now, 'stopping left=1 now=0', 'the left path did not stop once its element returned');
  assert.match(dev.log(), /the camera path did not stop within \d+ ms/);
  assert.match(dev.log(), /the camera path stopped after all/);
  await dev.cmd('release');
  await closePage();
  await dev.cmd('leave');
});
