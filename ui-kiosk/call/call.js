// The call page a room's call link opens (docs/room-calls.md): it calls the room from this
// browser with the link's token (from the fragment, never sent in a URL), over the room's own
// HTTPS API: one peer connection sends our camera and microphone (we offer), one receives the
// room's (the room offers). Every candidate goes in the SDP: no trickle.
'use strict';

const GATHER_MS = 3000;
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.hash.slice(1));
const token = params.get('t') || '';
let up = null;
let down = null;
let callId = null;
let local = null;
let poll = null;
let abandoned = false; // hung up while it rang

function say(text, error = false) {
  $('state').textContent = text;
  $('state').classList.toggle('error', error);
}

async function api(method, path, body) {
  const r = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    cache: 'no-store',
  });
  let json = null;
  try { json = await r.json(); } catch { json = null; }
  return { status: r.status, json };
}

// The local description once ICE gathering completed (or GATHER_MS passed).
function gathered(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve(pc.localDescription.sdp);
    const done = () => resolve(pc.localDescription.sdp);
    const t = setTimeout(done, GATHER_MS);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); done(); }
    });
  });
}

function words(status, json) {
  const said = json && json.error;
  switch (status) {
    case 401: return 'This call link is not valid: it is wrong, used, expired or revoked.';
    case 403: return 'The room declined the call.';
    case 408: return 'Nobody in the room answered.';
    case 409: return 'The room is in a call. Try again later.';
    case 429: return 'Too many attempts: try again in a while.';
    default: return `The room could not take the call (HTTP ${status}${said ? `: ${said}` : ''}).`;
  }
}

function hangUpLocally(text, error = false) {
  clearInterval(poll);
  poll = null;
  for (const pc of [up, down]) if (pc) pc.close();
  up = down = null;
  if (local) for (const t of local.getTracks()) t.stop();
  local = null;
  $('hangup').hidden = true;
  $('start').hidden = false;
  say(text, error);
}

async function call(name) {
  $('start').hidden = true;
  say('Starting your camera and microphone…');
  try {
    local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
  } catch (e) {
    hangUpLocally(`This browser cannot use a camera and microphone here: ${e.message}`, true);
    return;
  }
  $('self').srcObject = local;
  up = new RTCPeerConnection({ iceServers: [] });
  for (const t of local.getTracks()) up.addTransceiver(t, { direction: 'sendonly' });
  await up.setLocalDescription(await up.createOffer());
  const offer = await gathered(up);
  say('Ringing in the room…');
  $('hangup').hidden = false;
  let r;
  abandoned = false;
  try {
    r = await api('POST', '/api/v1/call', { name, offer });
  } catch (e) {
    hangUpLocally(`The room cannot be reached: ${e.message}`, true);
    return;
  }
  if (abandoned) return;
  if (r.status !== 201 || !r.json || !r.json.id) {
    hangUpLocally(words(r.status, r.json), true);
    return;
  }
  callId = r.json.id;
  await up.setRemoteDescription({ type: 'answer', sdp: r.json.answer });
  down = new RTCPeerConnection({ iceServers: [] });
  const remote = new MediaStream();
  down.ontrack = (ev) => { remote.addTrack(ev.track); $('remote').srcObject = remote; };
  await down.setRemoteDescription({ type: 'offer', sdp: r.json.offer });
  await down.setLocalDescription(await down.createAnswer());
  const answer = await gathered(down);
  const a = await api('PUT', `/api/v1/call/${callId}/answer`, { answer });
  if (a.status !== 200) {
    hangUpLocally(words(a.status, a.json), true);
    return;
  }
  say('Connecting…');
  const watch = () => {
    if (up && down && up.connectionState === 'connected' && down.connectionState === 'connected') say('In the call');
    if ((up && up.connectionState === 'failed') || (down && down.connectionState === 'failed')) hangUp('The connection with the room failed.');
  };
  up.onconnectionstatechange = watch;
  down.onconnectionstatechange = watch;
  poll = setInterval(async () => {
    const s = await api('GET', `/api/v1/call/${callId}`).catch(() => null);
    if (s && (s.status === 404 || (s.json && s.json.state === 'ended'))) hangUpLocally('The room ended the call.');
  }, 2000);
}

async function hangUp(text = 'You hung up.') {
  abandoned = !callId;
  // While it rings there is no id yet: DELETE /api/v1/call hangs up what this token opened.
  await api('DELETE', callId ? `/api/v1/call/${callId}` : '/api/v1/call').catch(() => {});
  callId = null;
  hangUpLocally(text);
}

window.addEventListener('DOMContentLoaded', () => {
  // The token never stays in the address bar (nor in history) once read.
  history.replaceState(null, '', location.pathname);
  if (!/^arc_[0-9a-f]{64}$/.test(token)) {
    say('This page needs the whole call link the room gave (it ends with #t=…).', true);
    return;
  }
  say('Ready to call the room.');
  $('start').hidden = false;
  $('start').addEventListener('submit', (ev) => {
    ev.preventDefault();
    call($('name').value.trim() || 'A guest');
  });
  $('hangup').addEventListener('click', () => hangUp());
  window.addEventListener('pagehide', () => {
    if (!$('hangup').hidden) fetch(callId ? `/api/v1/call/${callId}` : '/api/v1/call', { method: 'DELETE', headers: { Authorization: `Bearer ${token}` }, keepalive: true });
  });
});
