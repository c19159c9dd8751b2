// Anyroom room screen, shown full-screen by the kiosk browser on the room
// display (1920x1080). It authenticates with the kiosk secret that the
// launcher puts in the URL fragment (#k=...): the fragment never leaves the
// browser; the page removes it at once and trades it for a room session
// (docs/api.md "Room screen and touch panels").
'use strict';

const $ = (id) => document.getElementById(id);
// Only what changed is written: on a room display that renders in software every DOM change is
// repainted by the CPU a call needs, and a text replaced by the same text is a change too (the
// clock ticks every second, the status every 2 s while a call starts).
function setText(el, text) { if (el.textContent !== text) el.textContent = text; }
function setClass(el, cls) { if (el.className !== cls) el.className = cls; }
function setHidden(el, hidden) { if (el.hidden !== hidden) el.hidden = hidden; }
let csrf = sessionStorage.getItem('ar-room-csrf');
// The kiosk secret stays in this tab's sessionStorage (not readable by other
// tabs or origins; the CSP allows only our scripts) so the screen signs in
// again on its own when anyroomd restarted and forgot the room session.
let secret = sessionStorage.getItem('ar-room-k');
let signingIn = null;
let status = null;
let video = null;
let statusTimer = null;
let pending = null;
let joinError = null; // a join refused at once (bad link): shown until the next try
let previewTimer = null;
let lastPreview = null; // the last camera-preview event

async function api(method, path, body, retry = true) {
  const r = await request(method, path, body);
  if (r.status === 401 && retry && secret && path !== '/api/v1/room/session') {
    if (await signIn()) return request(method, path, body);
  }
  return r;
}

async function request(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await r.json(); } catch { data = null; }
  return { status: r.status, ok: r.ok, data: data || {} };
}

function fatal(text) {
  $('fatal').textContent = text;
  $('fatal').hidden = false;
  for (const id of ['idle', 'joining', 'call', 'failed']) $(id).hidden = true;
}

// One sign-in at a time; TRUE when the room session is (again) there.
function signIn() {
  if (!signingIn) {
    signingIn = (async () => {
      const r = await request('POST', '/api/v1/room/session', { kiosk_secret: secret });
      if (r.ok) {
        csrf = r.data.csrf_token;
        sessionStorage.setItem('ar-room-csrf', csrf);
      }
      signingIn = null;
      return r.ok;
    })();
  }
  return signingIn;
}

async function authenticate() {
  const m = /^#k=([0-9a-f]{64})$/.exec(location.hash);
  if (m) {
    history.replaceState(null, '', location.pathname);
    secret = m[1];
    sessionStorage.setItem('ar-room-k', secret);
    if (!(await signIn())) return fatal('This screen could not open the room: wrong kiosk secret.');
  }
  const info = await api('GET', '/api/v1/room/info');
  if (info.status === 401 || info.status === 403) {
    return fatal('This page is the room screen: the kiosk opens it with the room\'s secret.');
  }
  return info.ok ? info.data : null;
}

// ---- clock (anyroomd's: the calendar's times are the room's) ----
function tick() {
  const c = AR_AGENDA.clock();
  setText($('clock'), c.time);
  setText($('big-clock'), c.time);
  setText($('big-date'), c.date);
}

// ---- info: name, admin address, pairing and setup codes ----
function showInfo(info) {
  if (!info) return;
  setText($('room-name'), info.room_name || 'Anyroom');
  document.title = info.room_name || 'Anyroom';
  setText($('admin-url'), info.admin_url || 'no network yet');
  setText($('fingerprint'), info.tls_fingerprint_sha256 || '');
  setHidden($('pairing'), !info.pairing_code);
  setText($('pairing-code'), info.pairing_code || '');
  setHidden($('setup'), !info.setup_code);
  // Ten digits, read off in two groups of five.
  const code = info.setup_code || '';
  setText($('setup-code'), code.length === 10 ? `${code.slice(0, 5)} ${code.slice(5)}` : code);
  // Too many wrong codes from the network: remote setup waits (the server
  // refuses it); say so, and look again when the wait is over.
  const paused = info.setup_code ? (info.setup_paused_s || 0) : 0;
  setHidden($('setup-paused'), paused <= 0);
  setText($('setup-paused'), paused > 0
    ? `Too many wrong setup codes were tried from the network. Setup from another computer is paused for ${Math.ceil(paused / 60)} min.`
    : '');
  clearTimeout(showInfo.pauseTimer);
  if (paused > 0) showInfo.pauseTimer = setTimeout(refreshInfo, Math.max(5, paused) * 1000);
}

async function refreshInfo() {
  const r = await api('GET', '/api/v1/room/info');
  if (r.ok) showInfo(r.data);
}

// ---- status ----
function participantName(track) {
  if (!status) return track;
  const id = track.startsWith('feed-') ? track.slice(5) : track;
  const p = (status.participants || []).find((x) => String(x.id) === id);
  return p && p.display ? p.display : 'Participant';
}

function quality(tracks) {
  let loss = 0;
  let rtt = -1;
  for (const t of tracks) {
    if (t.direction === 'recv' && t.packets > 0) loss = Math.max(loss, t.packets_lost / (t.packets + t.packets_lost));
    if (t.direction === 'send' && t.rtt_ms >= 0) rtt = Math.max(rtt, t.rtt_ms);
  }
  if (loss > 0.05 || rtt > 400) return 'poor';
  if (loss > 0.01 || rtt > 200) return 'fair';
  return 'good';
}

function render() {
  if (!status) return;
  const st = status.state;
  // reconnecting: the call goes on while anyroomd rebuilds a broken connection.
  const inCall = st === 'connected' || st === 'leaving' || st === 'reconnecting';
  setHidden($('idle'), !(st === 'idle' || st === 'failed'));
  // lobby, needs-attention: still on the way in; the message says what is awaited (a host, or a
  // person to finish on this screen: the meeting page is shown above it on the device).
  const waiting = st === 'joining' || st === 'lobby' || st === 'needs-attention';
  setHidden($('joining'), !waiting);
  setText($('joining-text'), st === 'lobby' ? (status.message || 'Waiting for a host to let the room in…')
    : st === 'needs-attention' ? (status.message || 'Finish joining on the room screen')
      : 'Joining the meeting…');
  setHidden($('call'), !inCall);
  setHidden($('failed'), true);
  if (waiting || inCall) joinError = null;
  const err = $('join-error');
  const why = joinError || (st === 'failed' && status.error ? `Could not join: ${status.error}` : null);
  setHidden(err, !why);
  setText(err, why || '');
  if (status.room_name) setText($('room-name'), status.room_name);
  // A call to the room rings here until someone answers (docs/room-calls.md).
  const inc = status.incoming;
  setHidden($('ringing'), !inc);
  if (inc) {
    setText($('ringing-who'), inc.caller);
    setText($('ringing-link'), `With the call link "${inc.link}"`);
  }

  const c = status.controls || {};
  const live = waiting || inCall;
  const mic = $('mic-state');
  setHidden(mic, !live);
  setText(mic, c.microphone_live ? 'Microphone on' : 'Microphone muted');
  setClass(mic, `badge ${c.microphone_live ? 'live' : 'off'}`);
  const cam = $('camera-state');
  setHidden(cam, !live);
  setText(cam, c.camera_live ? 'Camera on' : 'Camera off');
  setClass(cam, `badge ${c.camera_live ? 'live' : 'off'}`);
  setText($('mute-button'), c.microphone_muted ? 'Unmute' : 'Mute');
  setClass($('mute-button'), c.microphone_muted ? 'off' : '');
  setText($('camera-button'), c.camera_enabled ? 'Camera off' : 'Camera on');
  setClass($('camera-button'), c.camera_enabled ? '' : 'off');

  const meeting = $('meeting');
  setHidden(meeting, !live || !status.provider);
  setText(meeting, status.provider ? `${status.provider}${status.room ? ` · ${status.room}` : ''}` : '');
  const q = $('quality');
  setHidden(q, !inCall);
  const ql = st === 'reconnecting' ? 'poor' : quality(status.tracks || []);
  setText(q, st === 'reconnecting' ? 'Reconnecting…' : `Quality: ${ql}`);
  setClass(q, ql);
  layoutTiles();
}

async function refreshStatus() {
  const r = await api('GET', '/api/v1/status');
  if (r.ok) { status = r.data; render(); }
}

function refreshSoon() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refreshStatus(); }, 80);
}

// ---- tiles ----
function makeCanvas(track, local) {
  if (local) return $('self-canvas');
  const tile = document.createElement('div');
  tile.className = 'tile';
  tile.dataset.track = track;
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  const name = document.createElement('span');
  name.className = 'name';
  const stats = document.createElement('span');
  stats.className = 'stats';
  tile.append(canvas, name, stats);
  $('tiles').append(tile);
  return canvas;
}

function dropCanvas(track) {
  const tile = document.querySelector(`.tile[data-track="${CSS.escape(track)}"]`);
  if (tile) tile.remove();
}

function layoutTiles() {
  const tiles = [...document.querySelectorAll('.tile')];
  const tracks = (status && status.tracks) || [];
  let speaker = null;
  let loudest = -50;
  for (const t of tracks) {
    if (t.kind === 'audio' && t.direction === 'recv' && t.audio_level > loudest) { loudest = t.audio_level; speaker = t.peer; }
  }
  const many = tiles.length > 3;
  const n = tiles.length + (many ? 3 : 0);
  $('tiles').style.setProperty('--cols', String(Math.max(1, Math.ceil(Math.sqrt(n)))));
  for (const tile of tiles) {
    const name = tile.dataset.track;
    setText(tile.querySelector('.name'), participantName(name));
    tile.classList.toggle('large', many && name === speaker);
    const v = tracks.find((t) => t.peer === name && t.kind === 'video');
    setText(tile.querySelector('.stats'), v
      ? `${v.width}×${v.height} · ${Math.round(v.framerate)} fps · ${Math.round(v.bitrate_bps / 1000)} kb/s`
      : '');
  }
  setHidden($('waiting'), tiles.length > 0);
  const c = (status && status.controls) || {};
  setHidden($('self'), !(c.self_view && video && [...video.tracks.values()].some((t) => t.local)));
}

// ---- the admin's camera preview ----
// The camera is on outside a call while an admin looks at the preview:
// anyroomd says so when it starts, every 5 s while it runs and when it ends.
// Without news for 20 s (a lost end event) the badge goes too.
function cameraPreview(m) {
  lastPreview = m;
  clearTimeout(previewTimer);
  const on = m.active !== false;
  $('preview-state').hidden = !on;
  if (on) previewTimer = setTimeout(() => { $('preview-state').hidden = true; }, 20000);
}

// ---- the room's meetings (docs/calendar.md) ----
let meetings = null;
async function refreshMeetings() {
  const r = await api('GET', '/api/v1/meetings');
  if (!r.ok) return;
  meetings = r.data;
  AR_AGENDA.render($('agenda-list'), meetings, { max: 4, onJoin: joinMeeting });
  showAutoJoin(meetings.auto_join);
  tick();
}

async function joinMeeting(m, button) {
  if (button) button.disabled = true;
  joinError = null;
  $('join-error').hidden = true;
  const r = await command('join', { meeting: m.id });
  if (!r.ok) {
    joinError = `Could not join: ${r.data.error || `HTTP ${r.status}`}`;
    render();
  }
  if (button) button.disabled = false;
}

// The countdown before an auto-join: the meeting, the seconds left, Join now and Cancel.
let autoJoin = null;
function showAutoJoin(aj) {
  autoJoin = aj || null;
  setHidden($('auto-join'), !autoJoin);
  if (!autoJoin) return AR_AGENDA.startCountdown(null);
  $('auto-join-title').textContent = AR_AGENDA.title(autoJoin);
  AR_AGENDA.startCountdown(autoJoin, (left) => { $('auto-join-s').textContent = String(left); });
}

// ---- events ----
function openEvents() {
  const ws = new WebSocket(`wss://${location.host}/api/v1/events`);
  // (Re)connected: what happened meanwhile is in the status and the info.
  ws.onopen = () => { refreshSoon(); refreshInfo(); refreshMeetings(); };
  ws.onmessage = (ev) => {
    let m = null;
    try { m = JSON.parse(ev.data); } catch { return; }
    if (m.event === 'config' || m.event === 'pairing' || m.event === 'setup') refreshInfo();
    if (m.event === 'config' && m.room_name) $('room-name').textContent = m.room_name;
    if (m.event === 'camera-preview') return cameraPreview(m);
    if (m.event === 'meetings') return refreshMeetings();
    if (m.event === 'auto-join') { showAutoJoin(m.auto_join); return refreshSoon(); }
    refreshSoon();
  };
  ws.onclose = () => setTimeout(openEvents, 2000);
}

// ---- a call link for a phone or laptop: one call, within an hour ----
async function shareLink() {
  const r = await api('POST', '/api/v1/call-links', { name: 'room-screen', uses: 1, expires_in_s: 3600 });
  $('share').hidden = false;
  $('share-error').hidden = r.ok;
  $('share-qr').replaceChildren();
  $('share-link').textContent = '';
  if (!r.ok) {
    $('share-error').textContent = `No call link: ${r.data.error || `HTTP ${r.status}`}`;
    return;
  }
  // The room's own SVG, parsed as XML (never as HTML): a path, nothing active.
  const doc = new DOMParser().parseFromString(r.data.qr_svg || '', 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg && svg.nodeName === 'svg') $('share-qr').append(document.importNode(svg, true));
  $('share-link').textContent = r.data.link;
}

// ---- commands ----
async function command(name, body) {
  const r = await api('POST', `/api/v1/commands/${name}`, body);
  if (!r.ok && name !== 'join') console.warn(`${name}: ${r.data.error || r.status}`);
  refreshSoon();
  return r;
}

function wire() {
  $('join-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const link = $('join-link').value.trim();
    if (!link) return;
    joinError = null;
    $('join-error').hidden = true;
    $('joining-text').textContent = 'Joining the meeting…';
    const r = await command('join', { link });
    if (!r.ok) {
      joinError = `Could not join: ${r.data.error || `HTTP ${r.status}`}`;
      render();
    } else {
      $('join-link').value = '';
    }
  });
  $('auto-join-cancel').addEventListener('click', () => { showAutoJoin(null); command('cancel-auto-join'); });
  $('auto-join-now').addEventListener('click', () => {
    const m = autoJoin;
    showAutoJoin(null);
    if (m) joinMeeting(m);
  });
  $('accept-button').addEventListener('click', () => command('accept'));
  $('decline-button').addEventListener('click', () => command('decline'));
  $('share-button').addEventListener('click', shareLink);
  $('share-close').addEventListener('click', () => { $('share').hidden = true; $('share-qr').replaceChildren(); });
  $('cancel-button').addEventListener('click', () => command('leave'));
  $('leave-button').addEventListener('click', () => command('leave'));
  $('back-button').addEventListener('click', () => command('leave'));
  $('mute-button').addEventListener('click', () =>
    command(status && status.controls && status.controls.microphone_muted ? 'unmute' : 'mute'));
  $('camera-button').addEventListener('click', () =>
    command('camera', { on: !(status && status.controls && status.controls.camera_enabled) }));
}

// A room display without 3D (the board's kiosk-gpu=off) asks for reduced motion
// (ui-kiosk/kiosk/anyroom-kiosk): there every animation frame is drawn by the CPU
// the call needs, so the screen stays still (room.css).
function followMotionPreference() {
  const reduce = matchMedia('(prefers-reduced-motion: reduce)');
  const apply = () => document.documentElement.classList.toggle('reduced-motion', reduce.matches);
  apply();
  reduce.addEventListener('change', apply);
}

async function main() {
  followMotionPreference();
  tick();
  setInterval(tick, 1000);
  const info = await authenticate();
  if (!info) return;
  showInfo(info);
  wire();
  await refreshStatus();
  openEvents();
  video = AR_VIDEO.connect({
    url: `wss://${location.host}/api/v1/video`, makeCanvas, dropCanvas, onChange: layoutTiles,
  });
  // Quality indicators and tile statistics move with the call.
  statusTimer = setInterval(() => { if (status && status.state !== 'idle') refreshStatus(); }, 2000);
  setInterval(refreshInfo, 5000);
  // "In 5 min", "In progress": the list moves with the clock even without events.
  setInterval(refreshMeetings, 30000);
  // For tests and diagnostics.
  window.arRoom = {
    video: () => video.stats(), status: () => status, preview: () => lastPreview, meetings: () => meetings,
  };
}

main();

// The room screen is looked at, not pointed at: the pointer hides after 3 s without moving.
let pointerTimer = null;
function wakePointer() {
  document.documentElement.classList.remove('no-pointer');
  clearTimeout(pointerTimer);
  pointerTimer = setTimeout(() => document.documentElement.classList.add('no-pointer'), 3000);
}
addEventListener('pointermove', wakePointer);
wakePointer();
