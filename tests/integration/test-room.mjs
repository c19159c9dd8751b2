// Integration: the room screen (ui-kiosk/room/) and the touch panel
// (ui-kiosk/panel/) in a real headless Chromium, with a real Janus meeting and
// a real Chromium participant (alice).
//
// Runs inside a private network namespace (tests/lab/in-netns.sh), TAP output:
//   tests/integration/run-in-lab.sh tests/integration/test-room.mjs
// Screenshots and logs: $AR_BUILD_DIR/meson-logs/lab/room/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd, tail } from '../lab/lab.mjs';
import { certPins, launchAdminBrowser, pinnedRequest } from '../lab/admin-browser.mjs';
import { statusSummary, stepper, until, waitState } from './common.mjs';

const { step, failed } = stepper({ timeout: 90000 });

const PORT = 8443;
const BASE = `https://127.0.0.1:${PORT}`;
const EVIL_PORT = 8081;
const EVIL = `http://127.0.0.1:${EVIL_PORT}`;
const ROOM_LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const PASSWORD = 'correct horse battery staple';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'room');
const TMP = mkTemp('ar-it-room-');
const STATE = path.join(TMP, 'state');
const ENFORCE = process.env.AR_NETNS_ADDR1 || '10.97.0.1';
// The LAN side of the room: a client here is not on the device (not loopback).
const LAN = `https://${ENFORCE}:${PORT}`;

let janus = null;
let daemon = null;
let alice = null;
let browser = null; // the kiosk's Chromium: the room screen (and, in a tab, a hostile page)
let panelBrowser = null; // another device: the touch panel
let room = null;
let panel = null;
let evil = null;
let pins = null;
let adminCookie = null;
let adminCsrf = null;
let adminPage = null; // the admin page from the LAN (after anyroomd's restart)

const req = (opts) => pinnedRequest({ port: PORT, fingerprint256: pins.fingerprint256, ...opts });
const lanReq = (opts) => req({ host: ENFORCE, ...opts, headers: { Origin: LAN, ...(opts.headers || {}) } });

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
}

const text = async (page, sel) => ((await page.textContent(sel)) || '').trim();
const visible = (page, sel) => page.isVisible(sel);

// A page of another origin, as a web meeting app could show in the kiosk.
function startEvilSite() {
  const page = `<!doctype html><title>evil</title><script>
    window.results = {};
    (async () => {
      const post = async (name, p, body) => {
        try {
          const r = await fetch('${BASE}' + p, { method: 'POST', mode: 'no-cors', credentials: 'include',
            headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(body) });
          window.results[name] = 'sent:' + r.type;
        } catch (e) { window.results[name] = 'error:' + e.message; }
      };
      await post('mute', '/api/v1/commands/mute', {});
      await post('join', '/api/v1/commands/join', { link: ${JSON.stringify(ROOM_LINK)} });
      await post('pair', '/api/v1/panel/pair/start', {});
      await post('session', '/api/v1/room/session', { kiosk_secret: 'x' });
      try {
        const r = await fetch('${BASE}/api/v1/room/info', { credentials: 'include' });
        window.results.read = 'status:' + r.status;
      } catch (e) { window.results.read = 'error:' + e.message; }
      await new Promise((res) => {
        const ws = new WebSocket('wss://127.0.0.1:${PORT}/api/v1/video');
        ws.onopen = () => { window.results.video = 'open'; res(); };
        ws.onerror = () => { window.results.video = 'refused'; res(); };
      });
      window.results.done = true;
    })();
  </script>`;
  const srv = http.createServer((q, r) => {
    r.setHeader('Content-Type', 'text/html');
    r.end(page);
  });
  return new Promise((res) => srv.listen(EVIL_PORT, '127.0.0.1', () => res(srv)));
}

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, `[room]\nname=Lab Room\n[admin]\nlisten=0.0.0.0:${PORT}\nhostnames=${ENFORCE}\n`);
  janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: ENFORCE });
  daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf, '--state-dir', STATE] });
  pins = certPins(fs.readFileSync(path.join(STATE, 'admin-cert.pem'), 'utf8'));
  alice = await launchParticipant({ display: 'alice', logDir: OUT });
  await alice.waitJoined();
  browser = await launchAdminBrowser({ spki: pins.spki, viewport: { width: 1920, height: 1080 } });
  evil = await startEvilSite();
});

after(async () => {
  const closing = [];
  if (alice) closing.push(alice.close().catch(() => {}));
  if (browser) closing.push(browser.close().catch(() => {}));
  if (panelBrowser) closing.push(panelBrowser.close().catch(() => {}));
  await Promise.all(closing);
  if (evil) await new Promise((r) => evil.close(r));
  if (daemon) await daemon.stop(10000);
  if (janus) await janus.stop();
  for (const [f, name] of [[path.join(TMP, 'anyroomd.log'), 'anyroomd.log'], [path.join(TMP, 'janus', 'janus.log'), 'janus.log']]) {
    try { fs.copyFileSync(f, path.join(OUT, name)); } catch { /* missing */ }
  }
  if (failed()) console.log(`# anyroomd log (last 80 lines):\n${tail(path.join(TMP, 'anyroomd.log'), 80).replace(/^/gm, '# ')}`);
  fs.rmSync(TMP, { recursive: true, force: true });
});

step('the kiosk secret is a private file; the wrong one, or one from the network, opens nothing', async () => {
  const f = path.join(STATE, 'kiosk-secret');
  assert.equal(fs.statSync(f).mode & 0o777, 0o600, 'kiosk-secret is 0600');
  const wrong = await req({ method: 'POST', path: '/api/v1/room/session', headers: { Origin: BASE },
    body: { kiosk_secret: '0'.repeat(64) } });
  assert.equal(wrong.status, 403, wrong.text);
  const info = await req({ path: '/api/v1/room/info' });
  assert.equal(info.status, 401, 'room info needs the room session');
  const video = await req({ path: '/api/v1/video', headers: { Origin: BASE } });
  assert.ok(video.status === 401 || video.status === 400, `video without a session: ${video.status}`);
});

step('the room screen opens with the secret in the fragment and shows the idle screen', async () => {
  const secret = fs.readFileSync(path.join(STATE, 'kiosk-secret'), 'utf8').trim();
  room = browser.page;
  await room.goto(`${BASE}/room/#k=${secret}`);
  await until('the idle screen', () => visible(room, '#join-link'));
  assert.equal(new URL(room.url()).hash, '', 'the page drops the secret from its address');
  assert.equal(await text(room, '#room-name'), 'Lab Room');
  assert.equal(await text(room, '#fingerprint'), pins.fingerprint256, 'the certificate fingerprint is shown');
  // Listening on every address: the screen names the LAN address people can type.
  const addrs = [ENFORCE, process.env.AR_NETNS_ADDR2 || '10.97.0.2'];
  const shown = await text(room, '#admin-url');
  assert.ok(addrs.some((a) => shown === `https://${a}:${PORT}/admin/`), `admin URL on screen: ${shown}`);
  assert.match(await text(room, '#agenda'), /No calendar is connected/);
  // No admin password yet: the setup code for a remote setup is on screen.
  const code = await text(room, '#setup-code');
  assert.match(code, /^\d{5} \d{5}$/, `setup code "${code}" (ten digits in two groups)`);
  assert.ok(!(await visible(room, '#mic-state')), 'no live badge while idle');
  await shot(room, 'room-idle');
});

step('an idle room screen leaves its page alone while nothing changes (software rendering repaints every change)', async () => {
  // The clock ticks every second and the room's info is read every 5 s: only what changed is
  // written. The agenda (re-read every 30 s) is not counted; a minute turning may change the
  // two clocks.
  const changes = await room.evaluate(() => new Promise((resolve) => {
    const seen = [];
    const where = (n) => { for (let e = n; e; e = e.parentNode) if (e.id) return e.id; return n.nodeName; };
    const mo = new MutationObserver((records) => {
      for (const r of records) if (!document.getElementById('agenda-list').contains(r.target)) seen.push(where(r.target));
    });
    mo.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    setTimeout(() => { mo.disconnect(); resolve(seen); }, 6000);
  }));
  console.log(`# changes to the idle room screen in 6 s: ${changes.length} (${changes.join(', ')})`);
  assert.ok(changes.length <= 3, `the idle room screen was rewritten ${changes.length} times in 6 s: ${changes.join(', ')}`);
});

step('first-run setup from the LAN needs the code on the room screen; then a rename shows on the screen', async () => {
  const first = await text(room, '#setup-code');
  const none = await lanReq({ method: 'POST', path: '/api/v1/setup', body: { password: PASSWORD } });
  assert.equal(none.status, 403, `setup from the LAN without the code: ${none.text}`);
  // Every refused try burns the code: the screen shows a new one.
  const now = await until('a new setup code', async () => {
    const c = await text(room, '#setup-code');
    return /^\d{5} \d{5}$/.test(c) && c !== first ? c : null;
  }, 10000);
  const wrong = now === '00000 00000' ? '1111111111' : '0000000000';
  const bad = await lanReq({ method: 'POST', path: '/api/v1/setup', body: { password: PASSWORD, setup_code: wrong } });
  assert.equal(bad.status, 403, `setup with a wrong code: ${bad.text}`);
  const fresh = await until('a new setup code on the screen', async () => {
    const c = await text(room, '#setup-code');
    return /^\d{5} \d{5}$/.test(c) && c !== now ? c : null;
  }, 10000);
  assert.ok(fs.existsSync(path.join(STATE, 'admin-password')) === false, 'no password was set');
  // The admin page opened from the LAN asks for the code and sets the password with it.
  const adm = await browser.context.newPage();
  try {
    await adm.goto(`${LAN}/admin/`);
    await until('the setup form with its code field', () => visible(adm, '#setup-code'), 10000);
    await adm.fill('#setup-code', fresh);
    await adm.fill('#setup-password', PASSWORD);
    await adm.fill('#setup-password2', PASSWORD);
    await adm.click('#setup-form button[type=submit]');
    await until('logged in on the admin page', () => visible(adm, '#logout'), 15000);
    await shot(adm, 'admin-setup-from-lan');
    const jar = await browser.context.cookies(LAN);
    const c = jar.find((k) => k.name.startsWith('__Host-'));
    assert.ok(c, `a session cookie for ${LAN}: ${jar.map((k) => k.name)}`);
    adminCookie = `${c.name}=${c.value}`;
  } finally {
    await adm.close();
  }
  const se = await lanReq({ path: '/api/v1/session', headers: { Cookie: adminCookie } });
  assert.equal(se.status, 200, se.text);
  assert.equal(se.json.logged_in, true, se.text);
  adminCsrf = se.json.csrf_token;
  await until('the setup code to go away', async () => !(await visible(room, '#setup')), 10000);
  const put = await lanReq({ method: 'PATCH', path: '/api/v1/config', headers: { Cookie: adminCookie, 'X-CSRF-Token': adminCsrf },
    body: { room: { name: 'Board Room 7' } } });
  assert.equal(put.status, 200, put.text);
  await until('the new name on the room screen', async () => (await text(room, '#room-name')) === 'Board Room 7', 10000);
});

step('pairing is bounded: five wrong codes end it, the right code is then refused', async () => {
  const start = await lanReq({ method: 'POST', path: '/api/v1/panel/pair/start', body: {} });
  assert.equal(start.status, 200, start.text);
  const code = await until('the code on the room screen', async () => {
    const c = await text(room, '#pairing-code');
    return /^\d{6}$/.test(c) ? c : null;
  }, 10000);
  const id = start.json.pairing_id;
  let last = null;
  for (let i = 0; i < 5; i++) {
    const wrong = String((Number(code) + 1 + i) % 1000000).padStart(6, '0');
    last = await lanReq({ method: 'POST', path: '/api/v1/panel/pair', body: { pairing_id: id, code: wrong } });
    assert.equal(last.status, 403, last.text);
  }
  assert.match(last.json.error, /too many/);
  const right = await lanReq({ method: 'POST', path: '/api/v1/panel/pair', body: { pairing_id: id, code } });
  assert.equal(right.status, 410, `the right code after five wrong ones: ${right.text}`);
  await until('the code to leave the room screen', async () => !(await visible(room, '#pairing')), 10000);
});

step('pairing a touch panel: a wrong code is refused, the code on the room screen works', async () => {
  panelBrowser = await launchAdminBrowser({ spki: pins.spki, viewport: { width: 1280, height: 800 } });
  panel = panelBrowser.page;
  await panel.goto(`${LAN}/panel/`); // a tablet on the LAN
  await until('the pairing view', () => visible(panel, '#pair-start'));
  // Not paired: the panel may not drive the room.
  const st = await panel.evaluate(async () => (await fetch('/api/v1/status')).status);
  assert.equal(st, 401, 'an unpaired panel gets no status');
  await panel.click('#pair-start');
  await until('the code on the room screen', async () => /^\d{6}$/.test(await text(room, '#pairing-code')), 10000);
  const code = await text(room, '#pairing-code');
  await shot(room, 'room-pairing-code');
  const wrong = code === '000000' ? '111111' : '000000';
  await panel.fill('#pair-code', wrong);
  await panel.click('#pair-submit');
  await until('"wrong code"', async () => /wrong code/i.test(await text(panel, '#pair-message')), 10000);
  await shot(panel, 'panel-pairing');
  assert.ok(await visible(panel, '#pair-form'), 'still pairing after a wrong code');
  await panel.fill('#pair-code', code);
  await panel.fill('#pair-name', 'Table panel');
  await panel.click('#pair-submit');
  await until('the panel controls', () => visible(panel, '#controls'), 10000);
  await until('the code to leave the room screen', async () => !(await visible(room, '#pairing')), 10000);
  const list = await req({ path: '/api/v1/panels', headers: { Cookie: adminCookie } });
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.panels.length, 1, 'the admin sees one paired panel');
});

step('join errors are shown plainly on the room screen', async () => {
  await room.fill('#join-link', 'https://example.com/not-a-meeting');
  await room.click('#join-button');
  const e1 = await until('an error for a link that is no meeting', async () => {
    const v = await visible(room, '#join-error');
    return v ? text(room, '#join-error') : null;
  }, 10000);
  assert.match(e1, /^Could not join: /);
  await room.fill('#join-link', 'janus+ws://127.0.0.1:8188/?room=999999&display=Room');
  await room.click('#join-button');
  const e2 = await until('an error for a meeting that does not exist', async () => {
    const t = (await visible(room, '#join-error')) ? await text(room, '#join-error') : '';
    return t && t !== e1 ? t : null;
  }, 30000);
  assert.match(e2, /^Could not join: .*(room|exist)/i);
  await shot(room, 'room-join-error');
  assert.ok(await visible(room, '#join-link'), 'the join field stays there to try again');
});

step('join from the room screen: a playing remote video tile of alice, camera and microphone shown live', async (t) => {
  await room.fill('#join-link', ROOM_LINK);
  const t0 = Date.now();
  await room.click('#join-button');
  await waitState(daemon, 'connected', { timeoutMs: 30000 });
  await until('a remote tile', async () => (await room.$$('.tile')).length >= 1, 30000);
  await until('a first decoded frame in the tile', async () => {
    const v = await room.evaluate(() => window.arRoom.video());
    return v.some((t) => !t.local && t.frames >= 1);
  }, 30000, 20);
  t.diagnostic(`join click -> first remote frame drawn on the room screen: ${Date.now() - t0} ms`);
  await until('decoded frames in the tile', async () => {
    const v = await room.evaluate(() => window.arRoom.video());
    return v.some((t) => !t.local && t.frames >= 30);
  }, 30000);
  // Pixels that change: the fake camera of alice moves.
  const sample = () => room.evaluate(() => {
    const c = document.querySelector('.tile canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4 * 97) { sum = (sum * 31 + d[i] + d[i + 1] * 3 + d[i + 2] * 7) >>> 0; if (d[i] + d[i + 1] + d[i + 2] > 60) lit++; }
    return { sum, lit, w: c.width, h: c.height };
  });
  const a = await sample();
  assert.ok(a.lit > 100, `the tile is not black (${a.lit} lit samples)`);
  // A playing video: the picture changes (bounded wait: a loaded machine may
  // deliver alice's frames slowly).
  await until('the remote picture to change', async () => (await sample()).sum !== a.sum, 15000, 200);
  assert.ok(a.w >= 320 && a.h >= 180, `decoded size ${a.w}x${a.h}`);
  assert.equal(await text(room, '#mic-state'), 'Microphone on');
  assert.equal(await text(room, '#camera-state'), 'Camera on');
  assert.match(await text(room, '#meeting'), /janus/);
  assert.match(await text(room, '.tile .name'), /alice/);
  await until('the self view', () => visible(room, '#self'), 15000);
  // Quality indicators: the tile's statistics come from anyroomd's status.
  await until('a frame rate and bit rate on the tile', async () =>
    /^\d+×\d+ · [1-9]\d* fps · [1-9]\d* kb\/s$/.test(await text(room, '.tile .stats')), 15000, 250);
  assert.match(await text(room, '#quality'), /^Quality: (good|fair|poor)$/);
  await shot(room, 'room-call');
});

step('a room screen that reloads mid-call shows the video again at once (cache from the last key frame)', async (t) => {
  const t0 = Date.now();
  await room.reload();
  await until('the call view after the reload', () => visible(room, '#call'), 15000);
  await until('a decoded frame after the reload', async () => {
    const v = await room.evaluate(() => (window.arRoom ? window.arRoom.video() : []));
    return v.some((x) => !x.local && x.frames >= 1);
  }, 15000, 20);
  t.diagnostic(`reload -> first remote frame drawn: ${Date.now() - t0} ms`);
  await until('30 frames after the reload', async () => {
    const v = await room.evaluate(() => window.arRoom.video());
    return v.some((x) => !x.local && x.frames >= 30);
  }, 45000);
});

step('a second participant gets a second playing tile in the grid; his tile goes when he leaves', async () => {
  const bob = await launchParticipant({ display: 'bob', logDir: OUT });
  try {
    await bob.waitJoined();
    await until('two playing remote tiles', async () => {
      const v = await room.evaluate(() => window.arRoom.video());
      return v.filter((x) => !x.local && x.frames >= 10).length >= 2;
    }, 45000);
    await until('both names on the tiles', async () => {
      const names = await room.$$eval('.tile .name', (els) => els.map((e) => e.textContent).sort());
      return names.join(',') === 'alice,bob';
    }, 10000);
    const cols = await room.$eval('#tiles', (e) => getComputedStyle(e).getPropertyValue('--cols').trim());
    assert.equal(cols, '2', 'two tiles side by side');
    await shot(room, 'room-call-two');
  } finally {
    await bob.close();
  }
  await until('bob\'s tile to go', async () => (await room.$$('.tile')).length === 1, 30000);
  assert.match(await text(room, '.tile .name'), /alice/);
});

step('layout (synthetic tiles and levels): past 3 tiles the loudest participant\'s tile is large', async () => {
  // Four more tiles and audio levels injected into the page: the layout code
  // alone, without four more Chromium participants.
  const r = await room.evaluate(() => {
    const fakes = ['feed-f1', 'feed-f2', 'feed-f3', 'feed-f4'];
    for (const f of fakes) makeCanvas(f, false);
    const saved = status.tracks;
    status.tracks = saved.concat([
      { peer: 'feed-f1', kind: 'audio', direction: 'recv', audio_level: -40 },
      { peer: 'feed-f2', kind: 'audio', direction: 'recv', audio_level: -0.5 },
      { peer: 'feed-f3', kind: 'audio', direction: 'recv', audio_level: -70 },
    ]);
    layoutTiles();
    const large = [...document.querySelectorAll('.tile.large')].map((t) => t.dataset.track);
    const cols = document.getElementById('tiles').style.getPropertyValue('--cols');
    status.tracks = saved;
    for (const f of fakes) dropCanvas(f);
    layoutTiles();
    const after = document.querySelectorAll('.tile.large').length;
    return { large, cols, after };
  });
  assert.deepEqual(r.large, ['feed-f2'], 'the loudest is large');
  assert.equal(r.cols, '3', '5 tiles + a 2x2 speaker in a 3-column grid');
  assert.equal(r.after, 0, 'one tile again: nobody is large');
});

step('mute from the panel: the room screen says so and alice stops receiving audio energy', async () => {
  const energy = async () => (await alice.stats('Room')).audio.totalAudioEnergy;
  const e0 = await energy();
  await sleep(1500);
  const e1 = await energy();
  assert.ok(e1 > e0, `before mute the room's audio carries energy (${e0} -> ${e1})`);
  await until('live state on the panel', async () => (await text(panel, '#mute')) === 'Mute', 10000);
  await panel.click('#mute');
  await until('"Microphone muted" on the room screen', async () => (await text(room, '#mic-state')) === 'Microphone muted', 10000);
  await until('"Unmute" on the panel', async () => (await text(panel, '#mute')) === 'Unmute', 10000);
  await shot(panel, 'panel');
  await sleep(1500); // what was in flight arrives
  const m0 = await energy();
  await sleep(3000);
  const m1 = await energy();
  assert.ok(m1 - m0 < (e1 - e0) / 50, `muted: alice's received energy stops growing (${m0} -> ${m1}; unmuted it grew ${e1 - e0} in 1.5 s)`);
  await panel.click('#mute');
  await until('"Microphone on" again', async () => (await text(room, '#mic-state')) === 'Microphone on', 10000);
  await sleep(1500);
  const u0 = await energy();
  await sleep(1500);
  const u1 = await energy();
  assert.ok(u1 > u0, `unmuted: energy grows again (${u0} -> ${u1})`);
});

step('camera off from the panel: the screen says so; volume and self view follow the panel', async () => {
  const selfBrightness = () => room.evaluate(() => {
    const c = document.getElementById('self-canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < d.length; i += 4 * 31) { sum += d[i] + d[i + 1] + d[i + 2]; n++; }
    return sum / n / 3;
  });
  const lit = await selfBrightness();
  assert.ok(lit > 25, `the self view shows the camera before (mean ${lit.toFixed(1)})`);
  await panel.click('#camera');
  await until('"Camera off" on the room screen', async () => (await text(room, '#camera-state')) === 'Camera off', 10000);
  // The self view shows what the meeting gets: black, not the camera.
  await until('a black self view', async () => (await selfBrightness()) < 3, 10000);
  await panel.click('#self-view');
  await until('the self view to hide', async () => !(await visible(room, '#self')), 10000);
  await panel.click('#volume-down');
  const s = await until('a lower volume', async () => {
    const st = await daemon.status();
    return st.controls.speaker_volume < 70 ? st : null;
  }, 10000);
  assert.equal(s.controls.camera_enabled, false);
  assert.equal(s.controls.self_view, false);
  await panel.click('#camera');
  await panel.click('#self-view');
  await until('"Camera on" again', async () => (await text(room, '#camera-state')) === 'Camera on', 10000);
});

step('anyroomctl drives the same controls: the room screen and the panel follow', async () => {
  let r = await daemon.ctl('mute');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /microphone muted/);
  await until('"Microphone muted" on the room screen', async () => (await text(room, '#mic-state')) === 'Microphone muted', 10000);
  await until('"Unmute" on the panel', async () => (await text(panel, '#mute')) === 'Unmute', 10000);
  r = await daemon.ctl('volume', '35');
  assert.equal(r.code, 0, r.stderr);
  await until('volume 35 on the panel', async () => (await text(panel, '#volume-value')) === '35', 10000);
  r = await daemon.ctl('volume', '101');
  assert.notEqual(r.code, 0, 'volume 101 is refused');
  r = await daemon.ctl('unmute');
  assert.equal(r.code, 0, r.stderr);
  await until('"Microphone on" on the room screen', async () => (await text(room, '#mic-state')) === 'Microphone on', 10000);
});

step('leave from the panel returns the room screen to idle', async () => {
  await panel.click('#leave');
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
  await until('the idle screen', () => visible(room, '#join-link'), 10000);
  await until('the tiles to go', async () => (await room.$$('.tile')).length === 0, 10000);
  assert.ok(!(await visible(room, '#mic-state')), 'no live badge after the call');
});

step('a page of another origin in the same browser cannot use the room or panel endpoints', async () => {
  const p = await browser.context.newPage();
  await p.goto(`${EVIL}/`);
  const results = await until('the evil page to finish', () => p.evaluate(() => (window.results.done ? window.results : null)), 20000);
  await p.close();
  assert.notEqual(results.read, 'status:200', `cross-origin read of room info: ${results.read}`);
  assert.equal(results.video, 'refused', 'the video WebSocket refuses another origin');
  const s = await daemon.status();
  assert.equal(s.state, 'idle', `the room did not join: ${statusSummary(s)}`);
  assert.equal(s.controls.microphone_muted, false, 'the room was not muted');
  const info = await room.evaluate(async () => (await fetch('/api/v1/room/info')).json());
  assert.equal(info.pairing_code, null, 'no pairing was started');
});

step('anyroomd restarts: the room screen signs in again by itself, the panel stays paired', async () => {
  await daemon.stop(10000);
  const conf = path.join(TMP, 'anyroom.conf');
  daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf, '--state-dir', STATE], log: 'anyroomd-2.log' });
  // The screen finds out (its next request is refused), signs in again with
  // the secret of its tab and shows the room; the video socket comes back.
  await until('the room screen back with the room name', async () => {
    const r = await room.evaluate(async () => (await fetch('/api/v1/status')).status);
    return r === 200 && (await text(room, '#room-name')) === 'Board Room 7';
  }, 30000, 500);
  const st = await until('the paired panel accepted again', async () => {
    const r = await panel.evaluate(async () => (await fetch('/api/v1/status')).status);
    return r === 200 ? r : null;
  }, 15000, 500);
  assert.equal(st, 200);
  // Join by link from the panel this time.
  await panel.fill('#join-link', ROOM_LINK);
  await panel.click('#join');
  await waitState(daemon, 'connected', { timeoutMs: 30000 });
  await until('a playing tile after the restart', async () => {
    const v = await room.evaluate(() => window.arRoom.video());
    return v.some((x) => !x.local && x.frames >= 10);
  }, 30000);
  await panel.click('#leave');
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
});

step('the admin\'s camera preview: the room screen shows the camera on while it runs, and not after', async () => {
  // The admin page from the LAN, logged in through its form (admin sessions
  // do not outlive anyroomd's restart above).
  adminPage = await browser.context.newPage();
  await adminPage.setViewportSize({ width: 1100, height: 820 });
  await adminPage.goto(`${LAN}/admin/`);
  await until('the login form', () => visible(adminPage, '#login-password'), 15000);
  await adminPage.fill('#login-password', PASSWORD);
  await adminPage.click('#login-form button[type=submit]');
  await until('logged in on the admin page', () => visible(adminPage, '#logout'), 15000);
  assert.ok(!(await visible(room, '#preview-state')), 'no camera badge before the preview');
  await adminPage.click('#tabs [data-tab=devices]');
  await until('the test camera in the list', () => adminPage.evaluate(() =>
    [...document.querySelectorAll('#camera-select option')].some((o) => o.value === 'test')), 20000);
  await adminPage.selectOption('#camera-select', 'test');
  await until('pictures in the preview', () => adminPage.evaluate(() => {
    const img = document.getElementById('camera-preview');
    return img.complete && img.naturalWidth === 320 && /camera=test&n=[1-9]/.test(img.src);
  }), 20000);
  await until('the camera badge on the room screen', () => visible(room, '#preview-state'), 15000);
  assert.equal(await text(room, '#preview-state'), 'Camera on: admin preview');
  assert.ok(!(await visible(room, '#camera-state')), 'not the call\'s badge: no call');
  await shot(room, 'room-camera-preview');
  // Still there while the preview runs (anyroomd says so again every 5 s).
  await sleep(7000);
  assert.ok(await visible(room, '#preview-state'), 'the badge stays while the preview runs');
  // Another tab: the page stops asking for pictures, anyroomd says the
  // preview ended and the badge goes.
  await adminPage.click('#tabs [data-tab=room]');
  await until('the camera badge to go', async () => !(await visible(room, '#preview-state')), 30000, 200);
  const last = await room.evaluate(() => window.arRoom.preview());
  assert.equal(last && last.active, false, `the badge went on anyroomd's end event: ${JSON.stringify(last)}`);
});

step('the admin revokes the panel on the admin page: it can no longer drive the room; audited', async () => {
  const row = '#panels tbody tr';
  await until('the paired panel in the list', async () => (await adminPage.$$(row)).length === 1, 15000);
  const cells = await adminPage.$$eval(`${row} td`, (tds) => tds.map((td) => td.textContent));
  assert.equal(cells[0], 'Table panel', `the panel's name: ${cells}`);
  assert.match(cells[1], /^[0-9a-f]{16}$/, `the panel's id: ${cells}`);
  assert.ok(cells[2].length > 0, 'when it was paired');
  assert.ok(!(await visible(adminPage, '#panels-none')));
  await adminPage.evaluate(() => document.getElementById('panels').scrollIntoView());
  await shot(adminPage, 'admin-panels');
  assert.equal(await panel.evaluate(async () => (await fetch('/api/v1/status')).status), 200, 'paired before');
  await adminPage.click(`${row} button`);
  await until('"revoked"', async () => /^Touch panel Table panel \([0-9a-f]{16}\) revoked$/.test(await text(adminPage, '#message')), 10000);
  await until('the empty list', () => visible(adminPage, '#panels-none'), 10000);
  assert.equal((await adminPage.$$(row)).length, 0);
  const st = await panel.evaluate(async () => (await fetch('/api/v1/status')).status);
  assert.equal(st, 401, 'a revoked panel gets no status');
  const audit = fs.readFileSync(path.join(STATE, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(audit.some((e) => e.event === 'panel-revoked' && e.actor === 'admin' && e.detail === cells[1]),
    'the revocation is in the audit log, by the admin');
  await adminPage.close();
  adminPage = null;
});

step('wrong pairing codes are budgeted: past 10 an hour, pairing pauses', async () => {
  // The budget counts from anyroomd's start (it restarted above).
  let locked = null;
  for (let i = 0; i < 12 && !locked; i++) {
    const start = await lanReq({ method: 'POST', path: '/api/v1/panel/pair/start', body: {} });
    if (start.status === 429) { locked = start; break; }
    assert.equal(start.status, 200, start.text);
    const code = await until('the code on the room screen', async () => {
      const c = await text(room, '#pairing-code');
      return /^\d{6}$/.test(c) ? c : null;
    }, 10000);
    const wrong = code === '000000' ? '111111' : '000000';
    const r = await lanReq({ method: 'POST', path: '/api/v1/panel/pair', body: { pairing_id: start.json.pairing_id, code: wrong } });
    if (r.status === 429) { locked = r; break; }
    assert.equal(r.status, 403, r.text);
  }
  assert.ok(locked, 'pairing pauses after the hour\'s budget of wrong codes');
  assert.ok(Number(locked.headers['retry-after']) > 0, 'with a Retry-After');
  const again = await lanReq({ method: 'POST', path: '/api/v1/panel/pair/start', body: {} });
  assert.equal(again.status, 429, again.text);
});
