// Anyroom touch panel. Before it may drive the room it pairs: the room screen
// shows a 6-digit code that is typed here; the panel then holds its own
// credential (an HttpOnly cookie) that the admin can revoke.
'use strict';

const $ = (id) => document.getElementById(id);
let csrf = null;
let status = null;
let pairingId = null;
let events = null;
let volumeTimer = null;

async function api(method, path, body) {
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

function show(view) {
  $('pairing').hidden = view !== 'pairing';
  $('controls').hidden = view !== 'controls';
}

function render() {
  if (!status) return;
  const c = status.controls || {};
  $('room-name').textContent = status.room_name || 'Anyroom';
  const st = status.state;
  $('state').textContent = st === 'connected' ? `In a meeting${status.provider ? ` (${status.provider})` : ''}`
    : st === 'reconnecting' ? 'Reconnecting…' : st === 'joining' ? 'Joining…'
      : st === 'lobby' ? (status.message || 'Waiting for a host to let the room in…')
        : st === 'needs-attention' ? (status.message || 'Finish joining on the room screen')
          : st === 'failed' ? `Could not join: ${status.error || ''}` : 'Not in a meeting';
  const inCall = st === 'connected' || st === 'joining' || st === 'reconnecting' || st === 'lobby'
    || st === 'needs-attention';
  $('ringing').hidden = !status.incoming;
  if (status.incoming) $('ringing-who').textContent = status.incoming.caller;
  $('join').disabled = inCall;
  $('leave').disabled = !(inCall || st === 'failed');
  $('mute').textContent = c.microphone_muted ? 'Unmute' : 'Mute';
  $('mute').classList.toggle('off', !!c.microphone_muted);
  $('camera').textContent = c.camera_enabled ? 'Camera off' : 'Camera on';
  $('camera').classList.toggle('off', !c.camera_enabled);
  $('self-view').textContent = c.self_view ? 'Hide self view' : 'Show self view';
  $('self-view').classList.toggle('off', !c.self_view);
  if (volumeTimer === null && typeof c.speaker_volume === 'number') {
    $('volume').value = String(c.speaker_volume);
    $('volume-value').textContent = String(c.speaker_volume);
  }
}

async function refresh() {
  const r = await api('GET', '/api/v1/status');
  if (r.status === 401) {
    // Revoked, or unused for 30 days (expired): say why, then pair again.
    csrf = null;
    $('pair-message').textContent = (r.data && r.data.error) || '';
    show('pairing');
    return;
  }
  if (r.ok) { status = r.data; render(); }
}

// ---- the room's meetings (docs/calendar.md): the next three, Join, the auto-join countdown ----
let meetings = null;
async function refreshMeetings() {
  const r = await api('GET', '/api/v1/meetings');
  if (!r.ok) return;
  meetings = r.data;
  AR_AGENDA.render($('agenda-list'), meetings, {
    max: 3, onJoin: (m) => command('join', { meeting: m.id }), empty: 'No calendar is connected to this room.',
  });
  showAutoJoin(meetings.auto_join);
}

function showAutoJoin(aj) {
  $('auto-join').hidden = !aj;
  if (!aj) return AR_AGENDA.startCountdown(null);
  $('auto-join-title').textContent = AR_AGENDA.title(aj);
  AR_AGENDA.startCountdown(aj, (left) => { $('auto-join-s').textContent = String(left); });
}

function openEvents() {
  if (events) return;
  events = new WebSocket(`wss://${location.host}/api/v1/events`);
  // (Re)connected: what happened meanwhile is in the status.
  events.onopen = () => { refresh(); refreshMeetings(); };
  events.onmessage = (ev) => {
    let m = null;
    try { m = JSON.parse(ev.data); } catch { m = null; }
    if (m && m.event === 'meetings') return refreshMeetings();
    if (m && m.event === 'auto-join') showAutoJoin(m.auto_join);
    refresh();
  };
  events.onclose = () => { events = null; if (csrf) setTimeout(openEvents, 2000); };
}

async function command(name, body) {
  $('message').textContent = '';
  const r = await api('POST', `/api/v1/commands/${name}`, body);
  if (!r.ok) $('message').textContent = r.data.error || `HTTP ${r.status}`;
  if (r.status === 401) show('pairing');
  await refresh();
  return r;
}

function setVolume(v) {
  v = Math.max(0, Math.min(100, Math.round(v)));
  $('volume').value = String(v);
  $('volume-value').textContent = String(v);
  clearTimeout(volumeTimer);
  volumeTimer = setTimeout(async () => { volumeTimer = null; await command('volume', { level: v }); }, 150);
}

async function start() {
  const s = await api('GET', '/api/v1/panel/session');
  if (s.ok && s.data.paired) {
    csrf = s.data.csrf_token;
    show('controls');
    await refresh();
    await refreshMeetings();
    openEvents();
    setInterval(() => { if (csrf) refreshMeetings(); }, 30000);
  } else {
    if (s.ok && s.data.expired) $('pair-message').textContent = 'This panel\'s pairing expired (unused for 30 days): pair it again.';
    show('pairing');
  }
}

function wire() {
  $('pair-start').addEventListener('click', async () => {
    $('pair-message').textContent = '';
    const r = await api('POST', '/api/v1/panel/pair/start', {});
    if (!r.ok) { $('pair-message').textContent = r.data.error || `HTTP ${r.status}`; return; }
    pairingId = r.data.pairing_id;
    $('pair-form').hidden = false;
    $('pair-code').value = '';
    $('pair-code').focus();
  });
  $('pair-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await api('POST', '/api/v1/panel/pair', {
      pairing_id: pairingId, code: $('pair-code').value.trim(), name: $('pair-name').value.trim() || 'Touch panel',
    });
    if (!r.ok) {
      $('pair-message').textContent = `${r.data.error || `HTTP ${r.status}`}`;
      if (r.status === 410 || /start again/.test(r.data.error || '')) $('pair-form').hidden = true;
      return;
    }
    $('pair-form').hidden = true;
    $('pair-message').textContent = '';
    await start();
  });
  $('join-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const link = $('join-link').value.trim();
    if (link) command('join', { link });
  });
  $('leave').addEventListener('click', () => command('leave'));
  $('auto-join-cancel').addEventListener('click', () => { showAutoJoin(null); command('cancel-auto-join'); });
  $('accept').addEventListener('click', () => command('accept'));
  $('decline').addEventListener('click', () => command('decline'));
  $('mute').addEventListener('click', () => command(status && status.controls.microphone_muted ? 'unmute' : 'mute'));
  $('camera').addEventListener('click', () => command('camera', { on: !(status && status.controls.camera_enabled) }));
  $('self-view').addEventListener('click', () => command('self-view', { on: !(status && status.controls.self_view) }));
  $('volume').addEventListener('input', () => setVolume(Number($('volume').value)));
  $('volume-down').addEventListener('click', () => setVolume(Number($('volume').value) - 10));
  $('volume-up').addEventListener('click', () => setVolume(Number($('volume').value) + 10));
}

wire();
start();
