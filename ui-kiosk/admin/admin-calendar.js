// Anyroom admin page "Calendar" (docs/calendar.md): the sources, their state, the settings.
// The feed address and the CalDAV password are write-only: the config API says only whether
// they are set. Plain DOM; no inline script (CSP).
'use strict';

(() => {
  const { $, api, say } = window.AR;

  async function loadState() {
    const r = await api('GET', '/api/v1/meetings');
    const tbody = $('calendar-sources').querySelector('tbody');
    tbody.replaceChildren();
    if (!r.ok) return;
    for (const s of r.data.sources || []) {
      const tr = document.createElement('tr');
      const state = s.ok ? (s.updated ? 'OK' : 'Not read yet') : `Failed: ${s.error || 'unknown error'}`;
      for (const text of [s.kind === 'feed' ? 'iCalendar feed' : 'CalDAV', s.server, state, String(s.meetings),
        s.checked || 'never']) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      if (!s.ok) tr.className = 'error';
      tbody.append(tr);
    }
    if ((r.data.sources || []).length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 5;
      td.textContent = 'No calendar is connected.';
      tr.append(td);
      tbody.append(tr);
    }
  }

  function fill(c) {
    const k = c.calendar;
    if (!k) return;
    $('calendar-feed-url').value = '';
    $('calendar-feed-clear').checked = false;
    $('calendar-feed-state').textContent = k['feed-url-set'] ? 'A feed is set; its address is never shown.' : 'No feed is set.';
    $('calendar-caldav-url').value = k['caldav-url'] || '';
    $('calendar-caldav-user').value = k['caldav-user'] || '';
    $('calendar-caldav-password').value = '';
    $('calendar-caldav-password-state').textContent = k['caldav-password-set'] ? 'A CalDAV password is set; it is never shown.' : 'No CalDAV password is set.';
    $('calendar-room-address').value = k['room-address'] || '';
    $('calendar-join-before').value = String(k['join-before-minutes']);
    $('calendar-refresh-minutes').value = String(k['refresh-minutes']);
    $('calendar-auto-join').checked = k['auto-join'];
    $('calendar-private-titles').checked = k['show-private-titles'];
  }

  async function load() {
    const r = await api('GET', '/api/v1/config');
    if (r.ok) fill(r.data);
    await loadState();
  }

  $('calendar-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const cal = {
      'caldav-url': $('calendar-caldav-url').value.trim() || null,
      'caldav-user': $('calendar-caldav-user').value.trim() || null,
      'room-address': $('calendar-room-address').value.trim() || null,
      'join-before-minutes': Number($('calendar-join-before').value),
      'refresh-minutes': Number($('calendar-refresh-minutes').value),
      'auto-join': $('calendar-auto-join').checked,
      'show-private-titles': $('calendar-private-titles').checked,
    };
    if ($('calendar-feed-clear').checked) cal['feed-url'] = null;
    else if ($('calendar-feed-url').value.trim()) cal['feed-url'] = $('calendar-feed-url').value.trim();
    if (!cal['caldav-url']) { cal['caldav-user'] = null; cal['caldav-password'] = null; }
    else if ($('calendar-caldav-password').value) cal['caldav-password'] = $('calendar-caldav-password').value;
    const r = await api('PATCH', '/api/v1/config', { calendar: cal });
    if (!r.ok) return say(r.data.error || `error ${r.status}`, 'error');
    say('Calendar settings saved');
    fill(r.data);
    setTimeout(loadState, 1500);
  });

  $('calendar-refresh').addEventListener('click', async () => {
    const r = await api('POST', '/api/v1/commands/calendar-refresh', {});
    say(r.ok ? 'Reading the calendars…' : r.data.error || `error ${r.status}`, r.ok ? 'ok' : 'error');
    setTimeout(loadState, 1500);
  });

  for (const b of document.querySelectorAll('#tabs button[data-tab="calendar"]')) b.addEventListener('click', load);
  window.AR.pages.push({ load: loadState, config: fill });
})();
