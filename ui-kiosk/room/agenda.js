// The room's next meetings, for the room screen and the touch panel (docs/calendar.md).
// The room's clock decides (anyroomd says what is joinable, in progress and when an
// auto-join happens); this file only draws. Titles and names come from calendars
// (untrusted): always textContent, never HTML.
'use strict';

const AR_AGENDA = (() => {
  // The room's time, not the browser's: anyroomd's clock (a lab may set it) and the offset of
  // the room's zone, both from the "now" of GET /api/v1/meetings. A "wall" date below is a
  // Date whose UTC fields are the room's local time; it is formatted with timeZone 'UTC'.
  let skewMs = 0;
  let offsetMs = null;

  function parseOffset(iso) {
    const m = /([+-])(\d\d):(\d\d)$/.exec(iso || '');
    if (!m) return /Z$/.test(iso || '') ? 0 : null;
    const v = (Number(m[2]) * 60 + Number(m[3])) * 60000;
    return m[1] === '-' ? -v : v;
  }

  function learnClock(data) {
    const t = Date.parse(data && data.now);
    if (Number.isNaN(t)) return;
    skewMs = t - Date.now();
    offsetMs = parseOffset(data.now);
  }

  // The room's wall time now, or null before anyroomd said it.
  function wallNow() { return offsetMs === null ? null : new Date(Date.now() + skewMs + offsetMs); }
  function wallOf(iso) { return new Date(Date.parse(iso) + (parseOffset(iso) || 0)); }
  const fmtTime = (w) => w.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
  const fmtDay = (w, opts) => w.toLocaleDateString([], { ...opts, timeZone: 'UTC' });

  // What the room screen's clock shows: the room's time (the browser's until anyroomd said).
  function clock() {
    const w = wallNow();
    if (!w) {
      const now = new Date();
      return { time: now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
        date: now.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' }) };
    }
    return { time: fmtTime(w), date: fmtDay(w, { weekday: 'long', day: 'numeric', month: 'long' }) };
  }

  function sameDay(a, b) {
    return a.getUTCFullYear() === b.getUTCFullYear() && a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() === b.getUTCDate();
  }

  // "09:00 – 09:30", "Tomorrow 09:00 – 09:30", "Fri 5 Dec 09:00 – 09:30", "All day".
  function when(m) {
    const s = wallOf(m.start);
    const e = wallOf(m.end);
    const today = wallNow() || s;
    const tomorrow = new Date(today.getTime() + 86400000);
    let day = '';
    if (!sameDay(s, today)) {
      day = sameDay(s, tomorrow) ? 'Tomorrow ' : `${fmtDay(s, { weekday: 'short', day: 'numeric', month: 'short' })} `;
    }
    return m.all_day ? `${day}All day`.trim() : `${day}${fmtTime(s)} – ${fmtTime(e)}`;
  }

  function title(m) {
    if (m.title) return m.title;
    return m.private ? 'Private meeting' : 'Meeting';
  }

  const SERVICES = {
    teams: 'Microsoft Teams', zoom: 'Zoom', webex: 'Webex', 'google-meet': 'Google Meet', jitsi: 'Jitsi Meet',
    whereby: 'Whereby', janus: 'Janus', whip: 'WHIP', anyroom: 'Anyroom room',
  };

  function service(m) {
    if (!m.link) return 'No meeting link';
    return SERVICES[m.link.provider] || m.link.provider || 'Meeting link';
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Fills @list with one row per meeting (at most @max); @onJoin(meeting) for its Join button.
  function render(list, data, { max = 5, onJoin, empty } = {}) {
    learnClock(data);
    list.replaceChildren();
    const meetings = (data && data.meetings) || [];
    if (meetings.length === 0) {
      const failed = ((data && data.sources) || []).filter((s) => !s.ok);
      const none = !data || !data.sources || data.sources.length === 0;
      list.append(el('p', 'empty', none ? (empty || 'No calendar is connected to this room.')
        : failed.length ? 'The calendar could not be read. The admin page says why.' : 'No more meetings today or in the next days.'));
      return;
    }
    for (const m of meetings.slice(0, max)) {
      const row = el('div', `meeting${m.in_progress ? ' in-progress' : ''}${m.joinable ? ' joinable' : ''}`);
      row.dataset.id = m.id;
      const info = el('div', 'info');
      info.append(el('span', 'when', when(m)));
      info.append(el('span', 'title', title(m)));
      const sub = [];
      if (m.organizer) sub.push(m.organizer);
      sub.push(service(m));
      info.append(el('span', 'sub', sub.join(' · ')));
      row.append(info);
      if (m.in_progress) row.append(el('span', 'now-badge', 'In progress'));
      if (m.joinable && onJoin) {
        const b = el('button', 'join-meeting', 'Join');
        b.type = 'button';
        b.addEventListener('click', () => onJoin(m, b));
        row.append(b);
      }
      list.append(row);
    }
  }

  // The auto-join countdown: calls @onTick(seconds left) every second until 0.
  let countdown = null;
  function startCountdown(autoJoin, onTick) {
    clearInterval(countdown);
    countdown = null;
    if (!autoJoin) return;
    const end = Date.now() + autoJoin.in_s * 1000;
    const tick = () => {
      const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      onTick(left);
      if (left === 0) { clearInterval(countdown); countdown = null; }
    };
    tick();
    countdown = setInterval(tick, 250);
  }

  return { render, clock, learnClock, title, startCountdown };
})();
