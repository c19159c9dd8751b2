// Fixtures: iCalendar events in the shapes the services' invitations have, written for the
// calendar tests (tests/integration/test-calendar.mjs). Each function returns one VCALENDAR
// text. Times: "YYYYMMDDTHHMMSSZ" strings or local Europe/Berlin times with the VTIMEZONE.
'use strict';

export const BERLIN_VTIMEZONE = [
  'BEGIN:VTIMEZONE', 'TZID:Europe/Berlin',
  'BEGIN:DAYLIGHT', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'TZNAME:CEST',
  'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT',
  'BEGIN:STANDARD', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'TZNAME:CET',
  'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
  'END:VTIMEZONE',
];

// Folds nothing (lines are short); CRLF as RFC 5545 wants.
export function vcalendar(lines, { tz = false } = {}) {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Anyroom tests//fixture//EN',
    ...(tz ? BERLIN_VTIMEZONE : []), ...lines, 'END:VCALENDAR', ''].join('\r\n');
}

export function utc(ms) {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function event({ uid, summary, start, end, extra = [] }) {
  return ['BEGIN:VEVENT', `UID:${uid}`, `DTSTAMP:${utc(Date.UTC(2026, 2, 1))}`,
    typeof start === 'string' ? `DTSTART:${start}` : `DTSTART;TZID=Europe/Berlin:${start.local}`,
    typeof end === 'string' ? `DTEND:${end}` : `DTEND;TZID=Europe/Berlin:${end.local}`,
    ...(summary ? [`SUMMARY:${summary}`] : []), ...extra, 'END:VEVENT'];
}
