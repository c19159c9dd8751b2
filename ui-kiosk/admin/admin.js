// Anyroom admin page. Served by anyroomd at /admin/ under a strict CSP: no
// inline script, same-origin requests only. Every change carries the
// session's CSRF token in X-CSRF-Token. This file: session, room, meeting,
// touch panels, tokens; admin-pages.js: the other pages, through window.AR.
'use strict';

let csrf = null;
let events = null;
const $ = (id) => document.getElementById(id);
const AR = { pages: [], eventHandlers: [] };
window.AR = AR;

function say(text, kind = 'ok') {
  const m = $('message');
  m.textContent = text;
  m.className = kind;
}

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
  for (const id of ['setup', 'login', 'admin']) $(id).hidden = id !== view;
  $('logout').hidden = view !== 'admin';
  for (const p of AR.pages) if (p.view) p.view(view);
}

async function refresh() {
  const s = await api('GET', '/api/v1/session');
  $('fingerprint').textContent = s.data.tls_fingerprint_sha256 || '';
  csrf = s.data.csrf_token || null;
  if (s.data.setup_required) {
    // From another machine, setup needs the one-time code the room screen shows.
    $('setup-code-row').hidden = !s.data.setup_code_required;
    return show('setup');
  }
  if (!s.data.logged_in) return show('login');
  show('admin');
  await Promise.all([loadConfig(), loadStatus(), loadPanels(), loadTokens(), loadUpdate(), ...AR.pages.map((p) => p.load && p.load())]);
  openEvents();
}

async function loadConfig() {
  const r = await api('GET', '/api/v1/config');
  if (r.ok) {
    $('room-name').value = r.data.room.name;
    $('room-title').textContent = r.data.room.name;
    for (const p of AR.pages) if (p.config) p.config(r.data);
  }
}

async function loadStatus() {
  const r = await api('GET', '/api/v1/status');
  if (!r.ok) return;
  $('call-state').textContent = r.data.state;
  $('call-detail').textContent = r.data.error ? `(${r.data.error})` : (r.data.room ? `room ${r.data.room}` : '');
}

async function loadTokens() {
  const r = await api('GET', '/api/v1/tokens');
  const tbody = $('tokens').querySelector('tbody');
  tbody.replaceChildren();
  for (const t of (r.data.tokens || [])) {
    const tr = document.createElement('tr');
    const name = document.createElement('td');
    name.textContent = t.name;
    const scopes = document.createElement('td');
    scopes.textContent = (t.scopes || []).join(', ');
    scopes.className = 'scopes';
    const created = document.createElement('td');
    created.textContent = t.created || '';
    const act = document.createElement('td');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Revoke';
    b.dataset.token = t.name;
    b.addEventListener('click', async () => {
      const d = await api('DELETE', `/api/v1/tokens/${encodeURIComponent(t.name)}`);
      say(d.ok ? `Token ${t.name} revoked` : d.data.error, d.ok ? 'ok' : 'error');
      $('new-token').hidden = true;
      loadTokens();
    });
    act.append(b);
    tr.append(name, scopes, created, act);
    tbody.append(tr);
  }
}

// Paired touch panels (GET /api/v1/panels): name, id, when paired, until
// when (expired ones are marked: they must pair again); revoking one closes
// its event streams at once and is in the audit log.
async function loadPanels() {
  const r = await api('GET', '/api/v1/panels');
  if (!r.ok) return;
  const list = r.data.panels || [];
  const tbody = $('panels').querySelector('tbody');
  tbody.replaceChildren();
  $('panels').hidden = list.length === 0;
  $('panels-none').hidden = list.length !== 0;
  for (const p of list) {
    const tr = document.createElement('tr');
    tr.dataset.panel = p.id;
    const paired = p.created ? new Date(p.created * 1000).toLocaleString() : '';
    const until = p.expires ? new Date(p.expires * 1000).toLocaleString() : '';
    for (const v of [p.name, p.id, paired]) {
      const td = document.createElement('td');
      td.textContent = v || '';
      tr.append(td);
    }
    const life = document.createElement('td');
    life.className = p.expired ? 'expired' : '';
    life.textContent = p.expired ? `expired ${until}: pair again` : until;
    tr.dataset.expired = p.expired ? '1' : '0';
    tr.append(life);
    const act = document.createElement('td');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Revoke';
    b.addEventListener('click', async () => {
      const d = await api('DELETE', `/api/v1/panels/${encodeURIComponent(p.id)}`);
      const who = p.name ? `${p.name} (${p.id})` : p.id;
      say(d.ok ? `Touch panel ${who} revoked` : `Revoke failed: ${d.data.error || d.status}`, d.ok ? 'ok' : 'error');
      loadPanels();
    });
    act.append(b);
    tr.append(act);
    tbody.append(tr);
  }
}

async function loadUpdate() {
  const r = await api('GET', '/api/v1/update/status');
  const u = r.ok ? r.data.update : null;
  $('update').hidden = !u;
  if (!u) return;
  $('update-version').textContent = u.running_version || '?';
  $('update-slot').textContent = u.booted_slot || (u.rauc ? '?' : 'no RAUC');
  $('update-good').textContent = u.marked_good ? 'marked good' : 'not marked good yet';
  $('update-error').textContent = u.last_error || 'none';
  showChannel(u.channel);
}

// The update channel followed (docs/fleet.md), and its release's install.
const INSTALL_STATES = {
  idle: 'nothing to install', manual: 'waits for an administrator', downloading: 'downloading',
  'paused-call': 'download paused during the call', checking: 'checking the download',
  'failed-retrying': 'failed, trying again later', 'ready-waiting-window': 'downloaded, installs in the maintenance window',
  'ready-waiting-call': 'downloaded, installs after the call', installing: 'installing',
  'installed-waiting-window': 'installed, restarts in the maintenance window',
  'installed-waiting-call': 'installed, restarts after the call', restarting: 'restarting',
};
function showChannel(c) {
  $('update-channel').hidden = !c;
  if (!c) return;
  $('update-channel-name').textContent = c.name || '?';
  const i = c.install || {};
  let text = c.state === 'offered' ? `${c.offered.version} offered` : c.state === 'waiting'
    ? `${c.offered.version} not rolled out to this room yet` : c.state === 'up-to-date' ? 'up to date' : 'not read yet';
  if (c.state === 'offered' || c.state === 'waiting') {
    text += `; ${INSTALL_STATES[i.state] || i.state || ''}`;
    if (i.state === 'downloading' && i.size) text += ` (${Math.floor((i.downloaded_bytes * 100) / i.size)}%)`;
    text += `; window ${i.window || '?'}`;
  }
  if (i.error) text += `; last error: ${i.error}`;
  if (c.error) text += `; channel error: ${c.error}`;
  $('update-channel-state').textContent = text;
  $('update-channel-install').hidden = !(c.state === 'offered' || c.state === 'waiting') ||
    i.state === 'installing';
}

$('update-channel-install').addEventListener('click', async () => {
  say('Installing the offered release…');
  $('update-progress').textContent = '';
  const r = await api('POST', '/api/v1/commands/update-install', { source: 'channel' });
  say(r.ok ? 'Installed; restart the device to run it' : `Update failed: ${r.data.error || r.status}`,
    r.ok ? 'ok' : 'error');
  loadUpdate();
});

function openEvents() {
  if (events) return;
  events = new WebSocket(`wss://${location.host}/api/v1/events`);
  events.addEventListener('message', (e) => {
    let ev = null;
    try { ev = JSON.parse(e.data); } catch { return; }
    if (ev.event === 'config' && typeof ev.room_name === 'string') $('room-title').textContent = ev.room_name;
    if (ev.event === 'update-progress') {
      $('update-progress').textContent = `${ev.percent}% ${ev.message}`;
      return;
    }
    if (ev.event === 'update-finished' || ev.event === 'update-marked-good' ||
        ev.event === 'update-channel' || ev.event === 'update-channel-install') loadUpdate();
    // A pairing ended (maybe with a new panel).
    if (ev.event === 'pairing' && !ev.active) loadPanels();
    for (const h of AR.eventHandlers) h(ev);
    loadStatus();
  });
  events.addEventListener('close', () => { events = null; });
}

$('setup-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if ($('setup-password').value !== $('setup-password2').value) return say('The passwords differ', 'error');
  const body = { password: $('setup-password').value };
  if (!$('setup-code-row').hidden) body.setup_code = $('setup-code').value.trim();
  const r = await api('POST', '/api/v1/setup', body);
  // A wrong code is used up: the room screen shows a new one.
  $('setup-code').value = '';
  if (!r.ok) return say(r.data.error || `error ${r.status}`, 'error');
  $('setup-password').value = $('setup-password2').value = '';
  say('Admin password set; you are logged in');
  refresh();
});

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await api('POST', '/api/v1/login', { password: $('login-password').value });
  if (!r.ok) return say(r.data.error || `error ${r.status}`, 'error');
  $('login-password').value = '';
  say('Logged in');
  refresh();
});

$('logout').addEventListener('click', async () => {
  await api('POST', '/api/v1/logout');
  csrf = null;
  if (events) events.close();
  say('Logged out');
  refresh();
});

$('room-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await api('PATCH', '/api/v1/config', { room: { name: $('room-name').value } });
  if (!r.ok) return say(r.data.error || `error ${r.status}`, 'error');
  $('room-title').textContent = r.data.room.name;
  say('Room name saved');
});

$('join-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  say('Joining…');
  const r = await api('POST', '/api/v1/commands/join', { link: $('join-link').value });
  say(r.ok ? 'Joined' : `Join failed: ${r.data.error || r.status}`, r.ok ? 'ok' : 'error');
  loadStatus();
});

$('leave').addEventListener('click', async () => {
  const r = await api('POST', '/api/v1/commands/leave');
  say(r.ok ? 'Left the meeting' : `Leave failed: ${r.data.error || r.status}`, r.ok ? 'ok' : 'error');
  loadStatus();
});

// The bundle goes as the raw request body: the device streams it to disk.
$('update-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = $('update-file').files[0];
  if (!file) return;
  const force = $('update-force').checked ? '?force_downgrade=1' : '';
  say(`Uploading ${file.name}…`);
  $('update-progress').textContent = '';
  let r;
  try {
    r = await fetch(`/api/v1/update/upload${force}`, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store', body: file,
      headers: { 'Content-Type': 'application/octet-stream', 'X-CSRF-Token': csrf },
    });
  } catch (err) {
    return say(`Upload failed: ${err}`, 'error');
  }
  let data = {};
  try { data = await r.json(); } catch { data = {}; }
  say(r.ok ? 'Installed; restart the device to run it' : `Update refused: ${data.error || r.status}`,
    r.ok ? 'ok' : 'error');
  $('update-force').checked = false;
  loadUpdate();
});

$('token-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const scopes = [...document.querySelectorAll('#token-scopes input[name=scope]:checked')].map((c) => c.value);
  if (scopes.length === 0) return say('Choose at least one thing the token may do', 'error');
  const r = await api('POST', '/api/v1/tokens', { name: $('token-name').value, scopes });
  if (!r.ok) return say(r.data.error || `error ${r.status}`, 'error');
  $('new-token-value').textContent = r.data.token;
  $('new-token').hidden = false;
  $('token-name').value = '';
  say(`Token ${r.data.name} created`);
  loadTokens();
});

Object.assign(AR, { $, api, say, refresh, loadConfig, loadStatus, csrfToken: () => csrf });
document.addEventListener('DOMContentLoaded', () => refresh().catch((e) => say(String(e), 'error')));
