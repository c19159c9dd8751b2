// Integration: the room's calendar (issue 13) with real parts: Debian's radicale as the CalDAV
// server (HTTPS, a test CA, one user; events PUT by CalDAV), Debian's nginx serving an
// iCalendar feed over HTTPS, a real Janus meeting with a Chromium participant (alice), and the
// room screen in a real headless Chromium. anyroomd runs on a lab clock (ANYROOM_TEST_CLOCK):
// Monday 30 March 2026, 08:54:40 in Berlin (the Join button of the 09:00 meeting
// comes 20 s later), the day after the change to summer time.
// The events are fixtures in the shapes of the services' invitations (tests/lab/calendar/).
//
// Runs inside a private network namespace (tests/lab/in-netns.sh), TAP output:
//   tests/integration/run-in-lab.sh tests/integration/test-calendar.mjs
// Screenshots and logs: $AR_BUILD_DIR/meson-logs/lab/calendar/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant } from '../lab/participant.mjs';
import { LAB, buildDir, mkTemp, run, sleep, startAnyroomd, startProcess, tail } from '../lab/lab.mjs';
import { writeNginxConf } from '../lab/nginx.mjs';
import { certPins, launchAdminBrowser, pinnedRequest } from '../lab/admin-browser.mjs';
import { event, utc, vcalendar } from '../lab/calendar/caldav-events.mjs';
import { ctlFail, stepper, until, waitState } from './common.mjs';

const { step, failed } = stepper({ timeout: 120000 });

const PORT = 8443;
const BASE = `https://127.0.0.1:${PORT}`;
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'calendar');
const TMP = mkTemp('ar-it-calendar-');
const STATE = path.join(TMP, 'state');
const USER = 'room-1';
const PASSWORD = 'caldav-Pa55-word-7f3e9';
const ADMIN_PASSWORD = 'correct horse battery staple';
const FEED_SECRET = 'f7c1d2e3a4b5c6d7e8f9a0b1c2d3e4f5';
const NGINX_PORT = 8445;
const CLOCK = '2026-03-30T06:54:40Z';
const JANUS_LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const TEAMS = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjA4%40thread.v2/0?context=%7b%22Tid%22%3a%221%22%7d';
const SAFELINKS = 'https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fteams.microsoft.com%2Fl%2Fmeetup-join%2F19%253ameeting_NjA4%2540thread.v2%2F0&data=05%7C01&reserved=0';

let radicale = null; // { url, pid, dir }
let nginx = null;
let janus = null;
let daemon = null;
let alice = null;
let browser = null;
let room = null;
let panelBrowser = null; // another device: a touch panel
let panel = null;

const ctl = (...a) => daemon.ctl(...a);
const visible = (page, sel) => page.isVisible(sel);
const shot = (page, name) => page.screenshot({ path: path.join(OUT, `${name}.png`) });

async function meetings() {
  const r = await ctl('meetings', '--json');
  assert.equal(r.code, 0, ctlFail(r, 'meetings --json'));
  return JSON.parse(r.stdout);
}

// A CalDAV request to radicale, trusting the test CA.
function dav(method, url, body, headers = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: u.hostname, port: u.port, path: u.pathname, method,
      ca: fs.readFileSync(path.join(radicale.dir, 'ca.pem')),
      auth: `${USER}:${PASSWORD}`,
      headers: { 'Content-Type': 'text/calendar; charset=utf-8', ...headers },
      timeout: 10000,
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function putEvent(uid, text) {
  const r = await dav('PUT', `${radicale.url}${uid}.ics`, text);
  assert.ok(r.status === 201 || r.status === 204, `PUT ${uid}: ${r.status} ${r.text}`);
}

// The room's clock, as anyroomd reports it.
async function roomNow() {
  return Date.parse((await meetings()).now);
}

// ---- the calendars the room reads ----

async function putCalDavEvents() {
  // Weekly on Monday 09:00-09:30 in Berlin since 16 March (winter time): 30 March is the first
  // Monday of summer time. 6 April is cancelled (EXDATE), 13 April moved to 10:00.
  await putEvent('weekly', vcalendar([
    ...event({ uid: 'weekly-lab-sync', summary: 'Weekly lab sync', start: { local: '20260316T090000' },
      end: { local: '20260316T093000' }, extra: [
        'RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE;TZID=Europe/Berlin:20260406T090000',
        'ORGANIZER;CN=Alice Example:mailto:alice@example.org',
        `DESCRIPTION:Join the lab meeting: ${JANUS_LINK}`] }),
    ...event({ uid: 'weekly-lab-sync', summary: 'Weekly lab sync (moved)', start: { local: '20260413T100000' },
      end: { local: '20260413T103000' }, extra: ['RECURRENCE-ID;TZID=Europe/Berlin:20260413T090000',
        `DESCRIPTION:${JANUS_LINK}`] }),
  ], { tz: true }));
  // A Teams invitation: the link in Microsoft's own property (and in the HTML description).
  await putEvent('teams', vcalendar(event({ uid: 'teams-1', summary: 'Budget review', start: '20260330T090000Z',
    end: '20260330T100000Z', extra: [`X-MICROSOFT-SKYPETEAMSMEETINGURL:${TEAMS}`,
      'ORGANIZER;CN=Bob Builder:mailto:bob@example.org', 'LOCATION:Microsoft Teams Meeting'] })));
  await putEvent('private', vcalendar(event({ uid: 'private-1', summary: 'Secret reorganisation', start: '20260330T100000Z',
    end: '20260330T103000Z', extra: ['CLASS:PRIVATE', 'ORGANIZER;CN=Carol Chief:mailto:carol@example.org',
      `LOCATION:${JANUS_LINK}`] })));
  await putEvent('cancelled', vcalendar(event({ uid: 'cancelled-1', summary: 'Cancelled meeting', start: '20260330T110000Z',
    end: '20260330T113000Z', extra: ['STATUS:CANCELLED', `LOCATION:${JANUS_LINK}`] })));
  await putEvent('declined', vcalendar(event({ uid: 'declined-1', summary: 'Declined by the room', start: '20260330T120000Z',
    end: '20260330T123000Z', extra: [`ATTENDEE;PARTSTAT=DECLINED;CN=Room 1:mailto:${USER}@example.org`,
      `LOCATION:${JANUS_LINK}`] })));
}

function writeFeed() {
  const dir = path.join(TMP, 'www', 'feeds', FEED_SECRET);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'calendar.ics'), vcalendar([
    // Zoom puts its link in LOCATION.
    ...event({ uid: 'zoom-1', summary: 'Customer call', start: '20260330T130000Z', end: '20260330T133000Z',
      extra: ['LOCATION:https://us02web.zoom.us/j/85412345678?pwd=aBcD1234'] }),
    // Google Calendar: X-GOOGLE-CONFERENCE.
    ...event({ uid: 'meet-1', summary: 'Design review', start: '20260331T080000Z', end: '20260331T090000Z',
      extra: ['X-GOOGLE-CONFERENCE:https://meet.google.com/abc-defg-hij', 'LOCATION:Room 1'] }),
    // Webex: the link only in the description.
    ...event({ uid: 'webex-1', summary: 'Partner sync', start: '20260330T150000Z', end: '20260330T153000Z',
      extra: ['DESCRIPTION:Join from the meeting link\\nhttps://example.webex.com/meet/j.doe\\nMeeting number 123'] }),
    // A SafeLinks-wrapped Teams link in the description (Outlook's mail scanner).
    ...event({ uid: 'safelinks-1', summary: 'Wrapped Teams link', start: '20260330T140000Z', end: '20260330T143000Z',
      extra: [`DESCRIPTION:Click here to join: ${SAFELINKS}`] }),
    // A lookalike host: no link.
    ...event({ uid: 'lookalike-1', summary: 'Lookalike link', start: '20260330T160000Z', end: '20260330T163000Z',
      extra: ['LOCATION:https://teams.microsoft.com.evil.example/l/meetup-join/19%3ameeting_x'] }),
    // All day, today (Berlin).
    'BEGIN:VEVENT', 'UID:allday-1', 'DTSTAMP:20260301T000000Z', 'DTSTART;VALUE=DATE:20260330',
    'DTEND;VALUE=DATE:20260331', 'SUMMARY:Office day', 'END:VEVENT',
  ]));
}

async function startNginx() {
  const conf = writeNginxConf(TMP, `
  access_log ${TMP}/nginx-access.log;
  types { text/calendar ics; }
  server {
    listen 127.0.0.1:${NGINX_PORT} ssl;
    ssl_certificate ${radicale.dir}/server.pem;
    ssl_certificate_key ${radicale.dir}/server.key;
    root ${TMP}/www;
  }
`);
  const p = startProcess('nginx', ['-c', conf, '-e', path.join(TMP, 'nginx-error.log')], { logFile: path.join(TMP, 'nginx.log') });
  await until('nginx', async () => {
    if (p.exited) throw new Error(`nginx exited: ${tail(path.join(TMP, 'nginx.log'))}`);
    const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', path.join(radicale.dir, 'ca.pem'),
      `https://127.0.0.1:${NGINX_PORT}/feeds/${FEED_SECRET}/calendar.ics`]);
    return r.stdout.trim() === '200';
  }, 15000);
  return p;
}

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const rdir = path.join(TMP, 'radicale');
  const r = await run('bash', [path.join(LAB, 'radicale.sh'), rdir, USER, PASSWORD], { timeoutMs: 60000 });
  assert.equal(r.code, 0, `radicale.sh: ${r.stderr}`);
  const [url, pid] = r.stdout.trim().split(/\s+/);
  radicale = { url, pid: Number(pid), dir: rdir };
  await putCalDavEvents();
  writeFeed();
  nginx = await startNginx();
  janus = await startJanus({ dir: path.join(TMP, 'janus') });
  alice = await launchParticipant({ display: 'alice', logDir: OUT });
  await alice.waitJoined();
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', 'name=Calendar Room',
    '[device]', 'camera=test', 'microphone=test', 'speaker=none', 'display=none',
    '[admin]', `listen=127.0.0.1:${PORT}`,
    '[web]', 'enabled=false',
    '[update]', 'enabled=false',
    '[calendar]',
    `feed-url=https://127.0.0.1:${NGINX_PORT}/feeds/${FEED_SECRET}/calendar.ics`,
    `caldav-url=${radicale.url}`, `caldav-user=${USER}`, `caldav-password=${PASSWORD}`,
    `ca=${path.join(radicale.dir, 'ca.pem')}`,
    `room-address=${USER}@example.org`,
    '',
  ].join('\n'));
  // Last: the lab clock starts with anyroomd.
  daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf, '--state-dir', STATE],
    env: { ANYROOM_TEST_CLOCK: CLOCK, TZ: 'Europe/Berlin' } });
});

after(async () => {
  const closing = [];
  if (alice) closing.push(alice.close().catch(() => {}));
  if (browser) closing.push(browser.close().catch(() => {}));
  if (panelBrowser) closing.push(panelBrowser.close().catch(() => {}));
  await Promise.all(closing);
  if (daemon) await daemon.stop(10000);
  if (janus) await janus.stop();
  if (nginx) await nginx.stop();
  // pid 0 would be our whole process group: only radicale's own, and only while it runs.
  if (radicale && radicale.pid > 0) { try { process.kill(radicale.pid, 'SIGTERM'); } catch { /* gone */ } }
  for (const [f, name] of [[path.join(TMP, 'anyroomd.log'), 'anyroomd.log'], [path.join(TMP, 'radicale', 'radicale.log'), 'radicale.log'],
    [path.join(TMP, 'nginx-access.log'), 'nginx-access.log']]) {
    try { fs.copyFileSync(f, path.join(OUT, name)); } catch { /* missing */ }
  }
  if (failed()) console.log(`# anyroomd log (last 80 lines):\n${tail(path.join(TMP, 'anyroomd.log'), 80).replace(/^/gm, '# ')}`);
  fs.rmSync(TMP, { recursive: true, force: true });
});

const byTitle = (list, title) => list.find((m) => m.title === title);

step('the meetings of both calendars are listed: times in the room\'s zone, links found, hidden ones left out', async () => {
  const data = await until('both calendars read', async () => {
    const d = await meetings();
    return d.sources.length === 2 && d.sources.every((s) => s.updated) ? d : null;
  }, 30000);
  for (const s of data.sources) assert.ok(s.ok, `source ${s.kind}: ${s.error}`);
  assert.equal(data.sources.find((s) => s.kind === 'feed').server, `https://127.0.0.1:${NGINX_PORT}`, 'the feed is named by its server only');
  const list = data.meetings;
  const titles = list.map((m) => m.title);
  // Recurrence across the change to summer time: 09:00 in Berlin, +02:00 now.
  const sync = list.filter((m) => m.title && m.title.startsWith('Weekly lab sync'));
  assert.deepEqual(sync.map((m) => m.start), ['2026-03-30T09:00:00+02:00', '2026-04-13T10:00:00+02:00'],
    'this Monday at 09:00 (summer time), 6 April cancelled (EXDATE), 13 April moved to 10:00');
  assert.equal(sync[0].end, '2026-03-30T09:30:00+02:00');
  assert.equal(sync[0].organizer, 'Alice Example');
  assert.equal(sync[0].link.provider, 'janus');
  assert.equal(byTitle(list, 'Budget review').link.provider, 'teams', 'Teams: X-MICROSOFT-SKYPETEAMSMEETINGURL');
  assert.equal(byTitle(list, 'Budget review').start, '2026-03-30T11:00:00+02:00');
  assert.equal(byTitle(list, 'Customer call').link.provider, 'zoom', 'Zoom: LOCATION');
  assert.equal(byTitle(list, 'Design review').link.provider, 'google-meet', 'Meet: X-GOOGLE-CONFERENCE');
  assert.equal(byTitle(list, 'Partner sync').link.provider, 'webex', 'Webex: DESCRIPTION');
  assert.equal(byTitle(list, 'Wrapped Teams link').link.provider, 'teams', 'SafeLinks unwrapped');
  assert.equal(byTitle(list, 'Lookalike link').link, null, 'a lookalike host is no link');
  const allDay = byTitle(list, 'Office day');
  assert.ok(allDay && allDay.all_day, 'the all-day event');
  assert.equal(allDay.start, '2026-03-30T00:00:00+02:00');
  const priv = list.find((m) => m.private);
  assert.ok(priv, 'the private meeting is listed');
  assert.equal(priv.title, null, 'no title for a private meeting');
  assert.equal(priv.organizer, null, 'no organizer for a private meeting');
  assert.ok(!titles.includes('Secret reorganisation'));
  assert.ok(!titles.includes('Cancelled meeting'), 'cancelled events are left out');
  assert.ok(!titles.includes('Declined by the room'), 'what the room declined is left out');
  // The list is by start.
  const starts = list.map((m) => Date.parse(m.start));
  assert.deepEqual(starts, [...starts].sort((a, b) => a - b));
  const text = await ctl('meetings');
  assert.equal(text.code, 0, ctlFail(text, 'meetings'));
  assert.match(text.stdout, /Weekly lab sync/);
  assert.match(text.stdout, /Private meeting/);
  fs.writeFileSync(path.join(OUT, 'meetings.json'), JSON.stringify(data, null, 2));
});

step('the feed is read again with a conditional request (nginx answers 304)', async () => {
  const log = path.join(TMP, 'nginx-access.log');
  const before304 = (fs.readFileSync(log, 'utf8').match(/" 304 /g) || []).length;
  const r = await ctl('meetings', 'refresh');
  assert.equal(r.code, 0, ctlFail(r, 'meetings refresh'));
  await until('a 304 in nginx\'s log', () => (fs.readFileSync(log, 'utf8').match(/" 304 /g) || []).length > before304, 15000);
  const d = await meetings();
  assert.ok(byTitle(d.meetings, 'Customer call'), 'the list stays');
});

let pins = null;

step('the room screen lists the meetings; Join appears 5 minutes before the start and joins the Janus meeting', async () => {
  pins = certPins(fs.readFileSync(path.join(STATE, 'admin-cert.pem'), 'utf8'));
  // A room that is set up (no setup code over the agenda): from the device itself, no code.
  const setup = await pinnedRequest({ port: PORT, fingerprint256: pins.fingerprint256, method: 'POST', path: '/api/v1/setup',
    headers: { Origin: BASE }, body: { password: ADMIN_PASSWORD } });
  assert.equal(setup.status, 200, `setup: ${setup.text}`);
  browser = await launchAdminBrowser({ spki: pins.spki, viewport: { width: 1920, height: 1080 } });
  room = browser.page;
  const secret = fs.readFileSync(path.join(STATE, 'kiosk-secret'), 'utf8').trim();
  await room.goto(`${BASE}/room/#k=${secret}`);
  await until('the agenda', async () => (await room.locator('#agenda-list .meeting').count()) > 0, 30000);
  const first = room.locator('#agenda-list .meeting', { hasText: 'Weekly lab sync' }).first();
  await until('the weekly meeting on the screen', async () => (await first.count()) === 1, 10000);
  // The room's times, whatever the browser's zone: 09:00 in Berlin.
  assert.match(await first.textContent(), /09:00/);
  // Before the join window opens, no Join button (the room's clock decides).
  const d = await meetings();
  const sync = d.meetings.find((m) => m.title === 'Weekly lab sync');
  if (Date.parse(d.now) < Date.parse(sync.start) - 5 * 60 * 1000 - 3000) {
    assert.equal(await first.locator('button.join-meeting').count(), 0, 'no Join button yet');
    assert.equal(sync.joinable, false);
    await shot(room, 'room-agenda-before');
  }
  // A touch panel, paired with the code the room screen shows, lists them too.
  panelBrowser = await launchAdminBrowser({ spki: pins.spki, viewport: { width: 1280, height: 800 } });
  panel = panelBrowser.page;
  await panel.goto(`${BASE}/panel/`);
  await until('the pairing view', () => visible(panel, '#pair-start'), 30000);
  await panel.click('#pair-start');
  await until('the code on the room screen', async () => /^\d{6}$/.test(((await room.textContent('#pairing-code')) || '').trim()), 10000);
  await panel.fill('#pair-code', ((await room.textContent('#pairing-code')) || '').trim());
  await panel.click('#pair-submit');
  await until('the panel controls', () => visible(panel, '#controls'), 10000);
  await until('the meetings on the panel', async () =>
    (await panel.locator('#agenda-list .meeting', { hasText: 'Weekly lab sync' }).count()) === 1, 15000);
  await until('the Join button', async () => (await first.locator('button.join-meeting').count()) === 1, 60000, 250);
  await until('the Join button on the panel', async () =>
    (await panel.locator('#agenda-list .meeting', { hasText: 'Weekly lab sync' }).locator('button.join-meeting').count()) === 1, 40000, 250);
  await shot(panel, 'panel-agenda-join');
  assert.match(await first.textContent(), /Weekly lab sync/);
  await shot(room, 'room-agenda-join');
  await first.locator('button.join-meeting').click();
  const s = await waitState(daemon, 'connected', { timeoutMs: 30000 });
  assert.equal(s.provider, 'janus');
  await until('alice in the room\'s call', async () => (await daemon.status()).participants.some((p) => p.display === 'alice'), 15000);
  await shot(room, 'room-joined-from-calendar');
  const left = await ctl('leave');
  assert.equal(left.code, 0, ctlFail(left, 'leave'));
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
});

step('auto-join: a countdown on the room screen; Cancel stops it and the room stays out', async () => {
  const set = await ctl('config', 'set', 'calendar.auto-join=true');
  assert.equal(set.code, 0, ctlFail(set, 'config set calendar.auto-join=true'));
  const now = await roomNow();
  // The countdown shows the last 10 s: 8 s before it for the event to reach the room.
  const start = Math.ceil(now / 1000) * 1000 + 18000;
  await putEvent('standup-a', vcalendar(event({ uid: 'standup-a', summary: 'Standup A', start: utc(start),
    end: utc(start + 30 * 60000), extra: [`LOCATION:${JANUS_LINK}`] })));
  assert.equal((await ctl('meetings', 'refresh')).code, 0);
  await until('the countdown on the room screen', () => visible(room, '#auto-join'), 60000, 250);
  assert.equal(((await room.textContent('#auto-join-title')) || '').trim(), 'Standup A');
  const left = Number(await room.textContent('#auto-join-s'));
  assert.ok(left >= 1 && left <= 10, `seconds left: ${left}`);
  await shot(room, 'room-auto-join-countdown');
  await until('the countdown on the panel', () => visible(panel, '#auto-join'), 5000, 100);
  assert.equal(((await panel.textContent('#auto-join-title')) || '').trim(), 'Standup A');
  await shot(panel, 'panel-auto-join-countdown');
  await room.click('#auto-join-cancel');
  await until('no countdown', async () => (await daemon.status()).auto_join === null, 5000);
  // Past the start: still not in a call.
  await until('the room clock past the start', async () => (await roomNow()) > start + 3000, 30000, 500);
  assert.equal((await daemon.status()).state, 'idle', 'the cancelled meeting was not joined');
  assert.ok(!(await visible(room, '#auto-join')), 'the countdown is gone from the screen');
  assert.ok(!(await visible(panel, '#auto-join')), 'and from the panel');
});

step('auto-join: without Cancel, the room joins at the start', async () => {
  const now = await roomNow();
  const start = Math.ceil(now / 1000) * 1000 + 15000;
  await putEvent('standup-b', vcalendar(event({ uid: 'standup-b', summary: 'Standup B', start: utc(start),
    end: utc(start + 30 * 60000), extra: [`LOCATION:${JANUS_LINK}`] })));
  assert.equal((await ctl('meetings', 'refresh')).code, 0);
  await until('the countdown', async () => {
    const s = await daemon.status();
    return s.auto_join && s.auto_join.title === 'Standup B';
  }, 40000, 250);
  const s = await waitState(daemon, 'connected', { timeoutMs: 45000 });
  assert.equal(s.provider, 'janus');
  assert.ok((await roomNow()) >= start, 'joined at the start, not before');
  const left = await ctl('leave');
  assert.equal(left.code, 0, ctlFail(left, 'leave'));
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
  assert.equal((await ctl('config', 'set', 'calendar.auto-join=false')).code, 0);
});

step('anyroomctl join --next joins the meeting in progress', async () => {
  const r = await ctl('join', '--next');
  assert.equal(r.code, 0, ctlFail(r, 'join --next'));
  const s = await daemon.status();
  assert.equal(s.state, 'connected');
  assert.equal((await ctl('leave')).code, 0);
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
});

step('a calendar server that fails: the last good list stays, the source says why', async () => {
  process.kill(radicale.pid, 'SIGTERM');
  await until('radicale gone', async () => { try { process.kill(radicale.pid, 0); return false; } catch { return true; } }, 10000);
  radicale.pid = 0;
  assert.equal((await ctl('meetings', 'refresh')).code, 0);
  const d = await until('the CalDAV source failing', async () => {
    const x = await meetings();
    const c = x.sources.find((s) => s.kind === 'caldav');
    return c && !c.ok ? x : null;
  }, 30000);
  const c = d.sources.find((s) => s.kind === 'caldav');
  assert.ok(c.error && c.error.length > 0, 'the reason is given');
  assert.ok(!c.error.includes(PASSWORD));
  assert.ok(byTitle(d.meetings, 'Budget review'), 'the last good list of CalDAV meetings is kept');
  assert.ok(d.sources.find((s) => s.kind === 'feed').ok, 'the feed is unaffected');
  // The status says it too (anyroomctl status --json, GET /api/v1/status).
  const health = (await daemon.status()).calendar.sources;
  assert.ok(health.some((s) => s.kind === 'caldav' && !s.ok && s.error), JSON.stringify(health));
  await room.reload();
  await until('the agenda again', async () => (await room.locator('#agenda-list .meeting').count()) > 0, 30000);
  await shot(room, 'room-agenda-caldav-down');
});

step('the admin page\'s Calendar tab shows each source and why one fails', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${BASE}/admin/`);
  await page.waitForSelector('#login:not([hidden])', { timeout: 30000 });
  await page.fill('#login-password', ADMIN_PASSWORD);
  await page.click('#login-form button');
  await page.click('#tabs button[data-tab="calendar"]');
  await until('the sources table', async () => (await page.locator('#calendar-sources tbody tr').count()) === 2, 15000);
  const rows = await page.locator('#calendar-sources tbody tr').allTextContents();
  assert.ok(rows.some((r) => /CalDAV/.test(r) && /Failed/.test(r)), `the CalDAV row says it failed: ${rows.join(' | ')}`);
  assert.ok(rows.some((r) => /iCalendar feed/.test(r) && /OK/.test(r) && !r.includes(FEED_SECRET)), `the feed row: ${rows.join(' | ')}`);
  assert.match(await page.textContent('#calendar-feed-state'), /A feed is set/);
  assert.equal(await page.inputValue('#calendar-feed-url'), '', 'the feed address is never shown');
  assert.equal(await page.inputValue('#calendar-caldav-url'), radicale.url);
  await page.screenshot({ path: path.join(OUT, 'admin-calendar.png'), fullPage: true });
  await page.close();
});

step('settings a source refuses: the reason in status, a refresh changes nothing, the daemon goes on', async () => {
  const set = await ctl('config', 'set', 'calendar.caldav-url=https://someone:pw@127.0.0.1:1/cal/');
  assert.equal(set.code, 0, ctlFail(set, 'config set calendar.caldav-url'));
  const d = await until('the refused source', async () => {
    const x = await meetings();
    const c = x.sources.find((s) => s.kind === 'caldav');
    return c && !c.ok ? x : null;
  }, 10000);
  const c = d.sources.find((s) => s.kind === 'caldav');
  assert.ok(!c.error.includes('pw'), `no password in "${c.error}"`);
  assert.equal((await ctl('meetings', 'refresh')).code, 0);
  assert.equal((await ctl('meetings', 'refresh')).code, 0);
  assert.ok((await meetings()).sources.find((s) => s.kind === 'feed').ok, 'the feed goes on');
  assert.equal((await daemon.status()).state, 'idle');
});

step('the calendar\'s secrets are never logged and never shown by the config API', async () => {
  const log = fs.readFileSync(path.join(TMP, 'anyroomd.log'), 'utf8');
  assert.ok(!log.includes(PASSWORD), 'the CalDAV password is not in the log');
  assert.ok(!log.includes(FEED_SECRET), 'the feed\'s secret path is not in the log');
  const r = await ctl('config');
  assert.equal(r.code, 0, ctlFail(r, 'config'));
  assert.ok(!r.stdout.includes(PASSWORD) && !r.stdout.includes(FEED_SECRET), 'the config API shows no secret');
  const c = JSON.parse(r.stdout).calendar;
  assert.equal(c['feed-url-set'], true);
  assert.equal(c['caldav-password-set'], true);
});
