// Anyroom admin pages beyond the room page: devices (test tone, camera
// preview), network and ICE servers, meeting domains, call statistics with
// live graphs and call history, logs, reboot and factory reset.
// Plain DOM and canvas; no inline script (CSP).
'use strict';

(() => {
  const { $, api, say } = window.AR;
  let current = 'room';
  let loggedIn = false;

  // ---- tabs ----
  function showTab(name) {
    if (name !== current) say('');
    current = name;
    for (const b of document.querySelectorAll('#tabs button')) {
      if (b.dataset.tab === name) b.setAttribute('aria-current', 'page');
      else b.removeAttribute('aria-current');
    }
    for (const p of document.querySelectorAll('.page')) p.hidden = p.dataset.page !== name;
    if (name === 'devices') { loadDevices(); schedulePreview(0); }
    if (name === 'calls') loadHistory();
    if (name === 'logs') { loadLogs(); loadAudit(); }
  }
  for (const b of document.querySelectorAll('#tabs button')) {
    b.addEventListener('click', () => showTab(b.dataset.tab));
  }

  const lines = (id) => $(id).value.split('\n').map((x) => x.trim()).filter((x) => x);
  const fail = (r) => say(r.data.error || `error ${r.status}`, 'error');

  async function patch(body, what) {
    const r = await api('PATCH', '/api/v1/config', body);
    if (!r.ok) { fail(r); return null; }
    say(`${what} saved${r.data.restart_required ? ': applies when anyroomd restarts' : ''}`);
    fillConfig(r.data);
    return r;
  }

  // ---- settings into the forms ----
  function fillConfig(c) {
    const n = c.network;
    $('stun').value = n.stun.join('\n');
    $('turn').value = n.turn.join('\n');
    $('turn-username').value = n['turn-username'] || '';
    $('turn-credentials-url').value = n['turn-credentials-url'] || '';
    $('turn-password').value = '';
    $('turn-password').placeholder = n['turn-password-set'] ? 'set (leave empty to keep it)' : '';
    $('turn-password-state').textContent = n['turn-password-set'] ? 'A TURN password is set; it is never shown.' : 'No TURN password is set.';
    $('relay-only').checked = n['relay-only'];
    const l = c.links;
    $('jitsi-domains').value = l['jitsi-domains'].join('\n');
    $('pexip-domains').value = l['pexip-domains'].join('\n');
    $('allow-idn').checked = l['allow-idn'];
    selected = { camera: c.device.camera || 'auto', microphone: c.device.microphone || 'auto', speaker: c.device.speaker || 'auto' };
    for (const k of Object.keys(selected)) selectValue(`${k}-select`, selected[k]);
    // null: the board's choice, which is on for every board we ship.
    for (const k of ['echo-cancellation', 'noise-suppression', 'gain-control']) $(k).checked = c.audio[k] !== false;
  }

  $('audio-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const audio = {};
    for (const k of ['echo-cancellation', 'noise-suppression', 'gain-control']) audio[k] = $(k).checked;
    await patch({ audio }, 'Microphone processing');
  });

  $('network-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const net = {
      stun: lines('stun'),
      turn: lines('turn'),
      'turn-credentials-url': $('turn-credentials-url').value.trim() || null,
      'relay-only': $('relay-only').checked,
    };
    const user = $('turn-username').value.trim();
    if (!user) {
      net['turn-username'] = null;
      net['turn-password'] = null;
    } else {
      net['turn-username'] = user;
      if ($('turn-password').value) net['turn-password'] = $('turn-password').value;
    }
    await patch({ network: net }, 'Network settings');
  });

  $('domains-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    await patch({ links: { 'jitsi-domains': lines('jitsi-domains'), 'pexip-domains': lines('pexip-domains'), 'allow-idn': $('allow-idn').checked } }, 'Meeting domains');
  });

  // ---- devices ----
  let selected = { camera: 'auto', microphone: 'auto', speaker: 'auto' };
  function selectValue(id, value) {
    const sel = $(id);
    if (![...sel.options].some((o) => o.value === value)) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = value;
      sel.append(o);
    }
    sel.value = value;
  }
  async function loadDevices() {
    const r = await api('GET', '/api/v1/devices');
    if (!r.ok) return fail(r);
    for (const kind of ['camera', 'microphone', 'speaker']) {
      const sel = $(`${kind}-select`);
      sel.replaceChildren();
      for (const d of r.data[kind]) {
        const o = document.createElement('option');
        o.value = d.id;
        o.textContent = d.id === d.name ? d.id : `${d.name} (${d.id})`;
        sel.append(o);
      }
      selectValue(`${kind}-select`, r.data.selected[kind]);
    }
  }
  $('devices-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    await patch({ device: { camera: $('camera-select').value, microphone: $('microphone-select').value, speaker: $('speaker-select').value } }, 'Devices');
  });
  $('test-tone').addEventListener('click', async () => {
    say('Playing a test tone…');
    const r = await api('POST', '/api/v1/commands/test-tone', { speaker: $('speaker-select').value });
    if (!r.ok) return fail(r);
    say('Test tone played');
  });
  $('camera-select').addEventListener('change', () => schedulePreview(0));

  // The preview: one picture at a time, the next a second after the last
  // one arrived, only while the devices page is shown.
  let previewTimer = null;
  let previewN = 0;
  function schedulePreview(ms) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(() => {
      if (!loggedIn || current !== 'devices' || document.hidden) return;
      const cam = encodeURIComponent($('camera-select').value || selected.camera);
      $('camera-preview').src = `/api/v1/camera/snapshot?camera=${cam}&n=${previewN++}`;
    }, ms);
  }
  $('camera-preview').addEventListener('load', () => {
    $('preview-state').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    schedulePreview(1000);
  });
  $('camera-preview').addEventListener('error', () => {
    $('preview-state').textContent = 'No picture (the camera is busy in a call, or missing); retrying.';
    schedulePreview(3000);
  });

  // ---- call statistics: ~1 sample/s from status, last 2 minutes ----
  const N = 120;
  const series = { sent: [], recv: [], loss: [], rtt: [], fpsSent: [], fpsRecv: [] };
  let prev = null;
  function push(name, v) {
    series[name].push(v);
    if (series[name].length > N) series[name].shift();
  }
  function sample(status) {
    const tracks = status.tracks || [];
    const sum = (dir) => tracks.filter((t) => t.direction === dir).reduce((a, t) => a + (t.bitrate_bps || 0), 0) / 1000;
    const recv = tracks.filter((t) => t.direction === 'recv');
    const packets = recv.reduce((a, t) => a + (t.packets || 0), 0);
    const lost = recv.reduce((a, t) => a + Math.max(0, t.packets_lost || 0), 0);
    let loss = 0;
    if (prev) {
      const dp = packets - prev.packets;
      const dl = lost - prev.lost;
      loss = dp + dl > 0 && dl > 0 ? (100 * dl) / (dp + dl) : 0;
    }
    prev = { packets, lost };
    const rtts = tracks.map((t) => t.rtt_ms).filter((x) => typeof x === 'number' && x >= 0);
    const vid = (dir) => tracks.filter((t) => t.kind === 'video' && t.direction === dir).map((t) => t.framerate || 0);
    push('sent', sum('send'));
    push('recv', sum('recv'));
    push('loss', loss);
    push('rtt', rtts.length ? Math.max(...rtts) : 0);
    push('fpsSent', Math.max(0, ...vid('send')));
    push('fpsRecv', vid('recv').length ? Math.max(...vid('recv')) : 0);
  }
  function draw(id, lists) {
    const c = $(id);
    const g = c.getContext('2d');
    const w = c.width;
    const h = c.height;
    g.clearRect(0, 0, w, h);
    const max = Math.max(1, ...lists.flatMap((l) => l.values)) * 1.15;
    g.strokeStyle = '#ddd';
    g.fillStyle = '#666';
    g.font = '11px system-ui, sans-serif';
    for (let i = 0; i <= 4; i++) {
      const y = h - 14 - ((h - 24) * i) / 4;
      g.beginPath(); g.moveTo(34, y); g.lineTo(w, y); g.stroke();
      g.fillText(((max * i) / 4).toFixed(max < 10 ? 1 : 0), 2, y + 4);
    }
    for (const l of lists) {
      g.strokeStyle = l.color;
      g.lineWidth = 2;
      g.beginPath();
      l.values.forEach((v, i) => {
        const x = 34 + ((w - 36) * (i + N - l.values.length)) / (N - 1);
        const y = h - 14 - ((h - 24) * v) / max;
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
      g.lineWidth = 1;
    }
    g.fillStyle = '#666';
    g.fillText('2 min ago', 36, h - 2);
    g.fillText('now', w - 24, h - 2);
  }
  function drawAll() {
    draw('graph-bitrate', [{ values: series.sent, color: '#1565c0' }, { values: series.recv, color: '#2e7d32' }]);
    draw('graph-loss', [{ values: series.loss, color: '#2e7d32' }]);
    draw('graph-rtt', [{ values: series.rtt, color: '#6a1b9a' }]);
    draw('graph-fps', [{ values: series.fpsSent, color: '#1565c0' }, { values: series.fpsRecv, color: '#2e7d32' }]);
  }
  // Only while the calls page is shown: polling from a page left open in
  // another tab would keep the admin session from ever idling out.
  async function pollStats() {
    if (!loggedIn || current !== 'calls' || document.hidden) return;
    const r = await api('GET', '/api/v1/status');
    if (r.ok) {
      const s = r.data;
      $('stats-state').textContent = s.state;
      $('stats-detail').textContent = s.provider ? `${s.provider}${s.timing && s.timing.join_to_connected_ms ? `, connected in ${Math.round(s.timing.join_to_connected_ms)} ms` : ''}` : '';
      if (s.state === 'connected') sample(s);
      else prev = null;
      window.__statsSamples = (window.__statsSamples || 0) + (s.state === 'connected' ? 1 : 0);
      if (current === 'calls') drawAll();
    }
  }
  setInterval(pollStats, 1000);

  function cell(tr, text) {
    const td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    tr.append(td);
  }
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  async function loadHistory() {
    const r = await api('GET', '/api/v1/history');
    if (!r.ok) return;
    const tbody = $('history').querySelector('tbody');
    tbody.replaceChildren();
    for (const c of r.data.calls) {
      const tr = document.createElement('tr');
      cell(tr, when(c.start));
      cell(tr, c.end ? when(c.end) : 'in progress');
      cell(tr, c.provider);
      cell(tr, c.duration_s < 10 ? `${c.duration_s.toFixed(1)} s` : `${Math.round(c.duration_s)} s`);
      cell(tr, c.result ? `${c.result}${c.error ? `: ${c.error}` : ''}` : '');
      tbody.append(tr);
    }
  }

  // ---- logs ----
  async function loadLogs() {
    const r = await api('GET', '/api/v1/logs?lines=500');
    if (!r.ok) return fail(r);
    const view = $('log-view');
    view.textContent = r.data.lines.join('\n');
    view.scrollTop = view.scrollHeight;
  }
  async function loadAudit() {
    const r = await api('GET', '/api/v1/audit');
    if (!r.ok) return;
    const tbody = $('audit').querySelector('tbody');
    tbody.replaceChildren();
    const showUnauth = $('audit-unauth').checked;
    // Newest first; entries from clients without a credential (failed logins,
    // pairing starts...) are marked, and a flood is one summary row.
    const entries = r.data.entries.slice().reverse()
      .filter((e) => showUnauth || e.stream !== 'unauthenticated').slice(0, 200);
    for (const e of entries) {
      const tr = document.createElement('tr');
      const unauth = e.stream === 'unauthenticated';
      if (unauth) tr.className = 'unauth';
      cell(tr, when(e.time));
      if (e.event === 'suppressed') {
        tr.classList.add('summary');
        cell(tr, `${e.suppressed_event} \u00d7${e.count}`);
        cell(tr, 'not signed in');
        cell(tr, `${e.addresses} address${e.addresses === 1 ? '' : 'es'}`);
        cell(tr, `${e.count} more not listed one by one (${e.seconds} s)`);
      } else {
        cell(tr, e.event);
        cell(tr, unauth ? 'not signed in' : e.actor);
        cell(tr, e.client);
        cell(tr, e.detail);
      }
      tbody.append(tr);
    }
  }
  $('logs-refresh').addEventListener('click', () => { loadLogs(); loadAudit(); });
  $('audit-unauth').addEventListener('change', loadAudit);

  // ---- system ----
  function confirmBox(button, box, cancel) {
    $(button).addEventListener('click', () => { $(box).hidden = false; });
    $(cancel).addEventListener('click', () => { $(box).hidden = true; });
  }
  confirmBox('reboot', 'reboot-confirm-box', 'reboot-cancel');
  confirmBox('factory-reset', 'factory-reset-confirm-box', 'factory-reset-cancel');
  $('reboot-confirm').addEventListener('click', async () => {
    $('reboot-confirm-box').hidden = true;
    const r = await api('POST', '/api/v1/commands/reboot');
    if (!r.ok) return fail(r);
    say('Rebooting: this page comes back when the room is up again');
  });
  $('factory-reset-confirm').addEventListener('click', async () => {
    $('factory-reset-confirm-box').hidden = true;
    const r = await api('POST', '/api/v1/factory-reset', { confirm: 'factory-reset' });
    if (!r.ok) return fail(r);
    showTab('room');
    say('Factory reset done: set a new admin password');
    window.AR.refresh();
  });

  // The export (GET /api/v1/provision/export, admin session only) as a file to sign: the
  // room's own checks ran on it before it was sent. What was left out is listed below it.
  let exportUrl = null;
  $('provision-export').addEventListener('click', async () => {
    const r = await api('GET', '/api/v1/provision/export');
    if (!r.ok || !r.data.provisioning) return fail(r);
    if (exportUrl) URL.revokeObjectURL(exportUrl);
    const text = `${JSON.stringify(r.data.provisioning, null, 2)}\n`;
    exportUrl = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const name = ((r.data.provisioning.settings || {}).room || {}).name || 'room';
    const a = $('provision-download');
    a.href = exportUrl;
    a.download = `anyroom-provisioning-${name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 64)}.json`;
    a.click();
    const omitted = r.data.omitted || [];
    $('provision-omitted').textContent = omitted.length
      ? `Left out (set them after provisioning, or add them to the file): ${omitted.join(', ')}`
      : 'Nothing was left out.';
    say('Provisioning file downloaded: sign it before use');
  });

  // ---- hooks for admin.js ----
  window.AR.pages.push({
    view(v) {
      loggedIn = v === 'admin';
      if (!loggedIn) clearTimeout(previewTimer);
    },
    config: fillConfig,
  });
  window.AR.eventHandlers.push((ev) => {
    if (ev.event === 'state' && current === 'calls') loadHistory();
    if (ev.event === 'config' && ev.changed && ev.changed.some((k) => !k.startsWith('room.'))) window.AR.loadConfig();
  });
})();
