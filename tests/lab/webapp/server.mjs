// TEST FIXTURE (not product code): a small web meeting app written for the web engine's
// state tests (tests/integration/test-web-states.mjs). A node HTTP server on 127.0.0.1 serves
// one meeting page and a control API the test drives, standing in for the meeting's host and
// for a person at the room screen. Plain http on loopback: the engine allows it for loopback.
//
//   GET  /meet?scenario=NAME[&...]  the meeting page (scenario "noname": no name field;
//                                   video=hd|WxH, loopback=1, degradation=PREF: see videoAsk)
//   GET  /api/state                 what the page shows now (the page polls it)
//   POST /api/join {name}           the page's Join button; the scenario decides what follows
//   POST /api/leave                 the page's Leave button
//   POST /api/report {...}          the page reports media and security outcomes here
//   POST /control/ACTION            the test: admit | deny | remove | end | solve | reset |
//                                   reconnect (the page makes its loopback pair again)
//   POST /control/participants {list: [{id, name}], count}
//                                   who else the in-call page lists (names are shown as given,
//                                   control characters and all), and its "People (N)" counter
//                                   (default: the list and the room)
//   GET  /control/reports           everything the page reported, in order
//
// Scenarios after Join: lobby (waits for admit or deny), captcha (waits for solve), direct (in
// the call at once), unknown (a page no probe knows), noname (the pre-join form has no name).
import http from 'node:http';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fixture Meeting</title>
<style>body{font-family:sans-serif;background:#eee} .hide{display:none} video{width:320px;height:180px;background:#000}</style>
</head><body>
<h1>Fixture Meeting (test app)</h1>
<div id="view"></div>
<script>
// TEST FIXTURE page script.
const params = new URLSearchParams(location.search);
const scenario = params.get('scenario') || 'lobby';
let shown = null;
let stream = null;
const report = (o) => fetch('/api/report', {method: 'POST', headers: {'content-type': 'application/json'},
                                            body: JSON.stringify(o), keepalive: true}).catch(() => {});
const post = (p, o) => fetch(p, {method: 'POST', headers: {'content-type': 'application/json'},
                                 body: JSON.stringify(o || {})});
const view = document.getElementById('view');

function render(state) {
  if (state === shown) return;
  shown = state;
  if (state === 'pre-join') {
    view.innerHTML = scenario === 'noname'
      ? '<div id="prejoin"><p>Ready to join?</p><button id="join">Join</button></div>'
      : '<div id="prejoin"><label>Your name <input id="name" autocomplete="off"></label> <button id="join">Join</button></div>';
    document.getElementById('join').onclick = () => {
      const n = document.getElementById('name');
      post('/api/join', {name: n ? n.value : null});
    };
  } else if (state === 'lobby') {
    view.innerHTML = '<div id="lobby"><p>Waiting for the host to let you in</p></div>';
  } else if (state === 'captcha') {
    view.innerHTML = '<div id="captcha"><p>Please prove you are a person</p><button id="solve">I am a person</button></div>';
    document.getElementById('solve').onclick = () => post('/control/solve');
  } else if (state === 'denied') {
    view.innerHTML = '<div id="denied"><p>The host declined your request to join</p></div>';
  } else if (state === 'removed') {
    view.innerHTML = '<div id="removed"><p>You were removed from the meeting</p></div>';
  } else if (state === 'ended') {
    view.innerHTML = '<div id="ended"><p>This meeting has ended for everyone</p></div>';
  } else if (state === 'unknown') {
    view.innerHTML = '<div id="elsewhere"><p>Something unexpected happened here</p></div>';
  } else if (state === 'in-call') {
    view.innerHTML = '<div id="incall"><video id="self" autoplay muted playsinline></video>' +
                     '<button id="leave">Leave</button>' +
                     '<div id="roster"><span id="people-count"></span><ul id="people"></ul></div></div>';
    document.getElementById('leave').onclick = () => post('/api/leave');
    startMedia();
  }
}

// TEST FIXTURE (issue 11, part 6): video=hd (or WxH) asks for 1080p30 (WxH at 30) as a service
// that takes it would (otherwise the page asks nothing: video:true); loopback=1 sends the camera
// through a local RTCPeerConnection pair so that the page has outbound statistics for the engine
// to read; degradation=PREF is that sender's degradationPreference (default: Chromium's own).
const [askW, askH] = (params.get('video') === 'hd' ? '1920x1080' : params.get('video') || '').split('x').map(Number);
const videoAsk = askW > 0 && askH > 0
  ? {width: {ideal: askW}, height: {ideal: askH}, frameRate: {ideal: 30}} : true;
let loopback = null;
async function startLoopback(track) {
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  loopback = [a, b];
  a.onicecandidate = (e) => { if (e.candidate) b.addIceCandidate(e.candidate).catch(() => {}); };
  b.onicecandidate = (e) => { if (e.candidate) a.addIceCandidate(e.candidate).catch(() => {}); };
  const sender = a.addTrack(track);
  // The preference is set before the encoder starts (set after negotiation, the first frames
  // could already be scaled down by Chromium's start-up frame dropper), and again after it.
  const pref = params.get('degradation');
  const setPref = async () => {
    if (!pref) return;
    const p = sender.getParameters();
    p.degradationPreference = pref;
    await sender.setParameters(p);
  };
  await setPref().catch(() => {});
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  await setPref();
  report({event: 'loopback', degradation: sender.getParameters().degradationPreference || null});
  // When its sender has encoded nothing after 8 s the pair starts again, at most twice, and says
  // so; it reports what it encoded by then and where frames stopped. (Runs of web-hd that read 0
  // frames for 40 s were first taken for a pair that never connected; the report showed a
  // connected pair and a camera that had stopped after 11 frames: the bridge's camera node,
  // docs/decisions.md, "The camera node follows PipeWire's driver".)
  setTimeout(async () => {
    if (loopback?.[0] !== a) return;
    let frames = 0, source = null;
    try {
      (await a.getStats()).forEach((r) => {
        if (r.type === 'outbound-rtp') frames += r.framesEncoded || 0;
        if (r.type === 'media-source' && r.kind === 'video') source = {frames: r.frames, fps: r.framesPerSecond, w: r.width};
      });
    } catch (e) { /* closed meanwhile */ }
    // Where frames stop, when they do: the sender's source, the track's own counters (Chromium
    // 120+), the page's <video>.
    const v = document.getElementById('self');
    const ts = track.stats ? {delivered: track.stats.deliveredFrames, discarded: track.stats.discardedFrames, total: track.stats.totalFrames} : null;
    report({event: 'loopback-frames', frames, source, track: ts,
            video: v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : null});
    if (frames > 0 || loopbackRetries >= 2) return;
    loopbackRetries++;
    report({event: 'loopback-retry', state: a.connectionState, ice: a.iceConnectionState,
            track: track.readyState, muted: track.muted, capture: window.__arCapture || null});
    a.close();
    b.close();
    startLoopback(track).catch((e) => report({event: 'loopback-error', error: String(e)}));
  }, 8000);
}
let loopbackRetries = 0;
// /control/reconnect: the page drops its loopback pair and makes a new one with the track
// object getUserMedia gave it, as a meeting app does when it reconnects (a new peer connection,
// addTrack(track) again).
let reconnects = null;
let camera = null; // the video track object getUserMedia gave, kept like an app keeps it
function reconnect(n) {
  if (reconnects === null || n === reconnects) { reconnects = n; return; }
  reconnects = n;
  if (!loopback || !camera) return;
  for (const pc of loopback) pc.close();
  loopback = null;
  const track = camera;
  report({event: 'loopback-reconnect', track: track.readyState});
  startLoopback(track).catch((e) => report({event: 'loopback-error', error: String(e)}));
}

// The room's camera and microphone through the browser, so their presence is real.
async function startMedia() {
  try {
    stream = await navigator.mediaDevices.getUserMedia({video: videoAsk, audio: true});
    camera = stream.getVideoTracks()[0];
    if (params.get('loopback')) startLoopback(camera).catch((e) => report({event: 'loopback-error', error: String(e)}));
  } catch (e) {
    report({event: 'media-error', error: String(e)});
    return;
  }
  const v = document.getElementById('self');
  v.srcObject = stream;
  // The room closes the browser right after it takes its devices back: the report goes out
  // at once (a synchronous request holds the page until the server has it).
  for (const t of stream.getTracks())
    t.addEventListener('ended', () => {
      const x = new XMLHttpRequest();
      x.open('POST', '/api/report', false);
      x.setRequestHeader('content-type', 'application/json');
      try { x.send(JSON.stringify({event: 'track-ended', kind: t.kind, label: t.label})); } catch (e) { /* closing */ }
    });
  const check = () => {
    if (v.videoWidth > 0) {
      document.getElementById('incall').dataset.media = 'live';
      report({event: 'media', width: v.videoWidth, height: v.videoHeight, asked: videoAsk,
              settings: stream.getVideoTracks()[0].getSettings(),
              tracks: stream.getTracks().map((t) => ({kind: t.kind, label: t.label, state: t.readyState}))});
    } else {
      setTimeout(check, 100);
    }
  };
  check();
  // With the frames the page's <video> has shown of the camera: a picture that moves, not one
  // that froze (the qemu test's web call reads it).
  setInterval(() => report({event: 'tracks', tracks: stream.getTracks().map((t) => ({kind: t.kind, state: t.readyState})),
                            shown: v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : null}), 500);
}

// Security probes: the page tries to reach anyroomd's API and another loopback port that its
// recipe does not name, and tells its own server what happened.
const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push({uri: e.blockedURI, directive: e.violatedDirective}));
function attempt(what, fn) {
  return new Promise((resolve) => {
    const done = (outcome, detail) => resolve({what, outcome, detail: String(detail || '')});
    setTimeout(() => done('no-answer', 'timeout'), 4000);
    try { fn(done); } catch (e) { done('blocked', e); }
  });
}
async function probeSecurity(bait) {
  const results = await Promise.all([
    attempt('fetch anyroomd api', (done) => fetch('https://127.0.0.1:8443/api/v1/status')
      .then((r) => done('reached', r.status), (e) => done('blocked', e))),
    attempt('websocket anyroomd api', (done) => {
      const ws = new WebSocket('wss://127.0.0.1:8443/api/v1/events');
      ws.onopen = () => done('reached', 'open'); ws.onerror = () => done('blocked', 'error');
    }),
    attempt('fetch other loopback port', (done) => fetch('http://127.0.0.1:' + bait + '/fetch')
      .then((r) => done('reached', r.status), (e) => done('blocked', e))),
    attempt('websocket other loopback port', (done) => {
      const ws = new WebSocket('ws://127.0.0.1:' + bait + '/ws');
      ws.onopen = () => done('reached', 'open'); ws.onerror = () => done('blocked', 'error');
    }),
    attempt('image from other loopback port', (done) => {
      const i = new Image(); i.onload = () => done('reached', 'load'); i.onerror = () => done('blocked', 'error');
      i.src = 'http://127.0.0.1:' + bait + '/img.png';
    }),
  ]);
  await new Promise((r) => setTimeout(r, 200));
  report({event: 'security', results, violations});
}
if (params.get('bait')) probeSecurity(params.get('bait'));

// The roster: the room's own entry first (marked data-self), then the others, names as text.
let shownPeople = null;
function renderPeople(list, count) {
  const ul = document.getElementById('people');
  const key = JSON.stringify([list, count]);
  if (!ul || key === shownPeople) return;
  shownPeople = key;
  const li = (pid, name, self) => {
    const e = document.createElement('li');
    e.className = 'person';
    e.dataset.pid = pid;
    if (self) e.dataset.self = '1';
    const n = document.createElement('span');
    n.className = 'name';
    n.textContent = name;
    e.appendChild(n);
    return e;
  };
  ul.replaceChildren(li('me', 'You', true), ...list.map((p) => li(p.id, p.name, false)));
  document.getElementById('people-count').textContent = 'People (' + count + ')';
}

async function poll() {
  try {
    const r = await fetch('/api/state', {cache: 'no-store'});
    const j = await r.json();
    render(j.state);
    if (j.state === 'in-call') renderPeople(j.participants, j.count);
    else shownPeople = null;
    reconnect(j.reconnects);
  } catch (e) { /* the server comes back */ }
  setTimeout(poll, 200);
}
poll();
</script></body></html>`;

export async function startWebApp({ port = 0, host = '127.0.0.1' } = {}) {
  const app = { state: 'pre-join', scenario: 'lobby', reports: [], joins: [], leaves: 0,
                participants: [{ id: 'u-ada', name: 'Ada' }], count: null, reconnects: 0 };
  const readBody = (req) => new Promise((resolve) => {
    let b = '';
    req.on('data', (d) => { if (b.length < 65536) b += d; });
    req.on('end', () => { try { resolve(b ? JSON.parse(b) : {}); } catch { resolve({}); } });
  });
  const send = (res, code, obj, type = 'application/json') => {
    res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(typeof obj === 'string' ? obj : JSON.stringify(obj));
  };
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    if (req.method === 'GET' && u.pathname === '/meet') {
      app.scenario = u.searchParams.get('scenario') || 'lobby';
      app.state = 'pre-join';
      return send(res, 200, PAGE, 'text/html; charset=utf-8');
    }
    if (req.method === 'GET' && u.pathname === '/api/state') {
      return send(res, 200, { state: app.state, participants: app.participants,
                              count: app.count ?? app.participants.length + 1, reconnects: app.reconnects });
    }
    if (req.method === 'GET' && u.pathname === '/control/reports') return send(res, 200, app.reports);
    if (req.method !== 'POST') return send(res, 404, { error: 'not found' });
    const body = await readBody(req);
    switch (u.pathname) {
      case '/api/join':
        app.joins.push(body.name);
        app.joinedAt = Date.now();
        app.state = { lobby: 'lobby', captcha: 'captcha', unknown: 'unknown' }[app.scenario] || 'in-call';
        return send(res, 200, { ok: true });
      case '/api/leave': app.leaves++; app.state = 'left'; return send(res, 200, { ok: true });
      case '/api/report': app.reports.push({ t: Date.now(), ...body }); return send(res, 200, { ok: true });
      case '/control/admit': app.state = 'in-call'; return send(res, 200, { ok: true });
      case '/control/deny': app.state = 'denied'; return send(res, 200, { ok: true });
      case '/control/remove': app.state = 'removed'; return send(res, 200, { ok: true });
      case '/control/end': app.state = 'ended'; return send(res, 200, { ok: true });
      case '/control/solve': app.state = 'in-call'; return send(res, 200, { ok: true });
      case '/control/reconnect': app.reconnects++; return send(res, 200, { ok: true });
      case '/control/participants':
        app.participants = Array.isArray(body.list) ? body.list : [];
        app.count = Number.isInteger(body.count) ? body.count : null;
        return send(res, 200, { ok: true });
      case '/control/reset': app.state = 'pre-join'; app.reports = []; app.joins = []; app.leaves = 0; return send(res, 200, { ok: true });
      default: return send(res, 404, { error: 'not found' });
    }
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  app.port = server.address().port;
  app.url = `http://${host}:${app.port}`;
  app.control = async (action, body) => {
    const r = await fetch(`${app.url}/control/${action}`, { method: 'POST', body: body ? JSON.stringify(body) : undefined });
    if (!r.ok) throw new Error(`control ${action}: ${r.status}`);
  };
  app.close = () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); });
  return app;
}

// Standalone: node tests/lab/webapp/server.mjs [PORT]
if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await startWebApp({ port: Number(process.argv[2] || 8100) });
  console.log(`fixture meeting app on ${app.url}/meet?scenario=lobby`);
}
