// Integration (issue 15, part 1): GET /metrics scraped by a real Prometheus
// (Debian's prometheus) from a real anyroomd in a real Janus call with a real
// Chromium participant; the answers checked through Prometheus's HTTP API.
//
//   tests/integration/run-in-lab.sh tests/integration/test-metrics.mjs
//
// Inside the lab's namespace: Janus, Chromium "alice", two anyroomd:
//   room A ("call", 127.0.0.1:8443): joins the meeting;
//   room B ("nodevices", 127.0.0.1:8444): its camera is a /dev path that is not
//     there; later restarted with [admin] metrics=false.
// Prometheus on 127.0.0.1:9090 scrapes both over HTTPS, the room's own
// certificate as CA (its SAN names 127.0.0.1) and a token with the metrics
// scope as Bearer credentials (a file, never on a command line), and loads
// docs/prometheus/anyroom-alerts.yml. Nothing leaves the namespace; every
// process is ended by PID; the storage dir is in the test's temp dir.
// Logs: $AR_BUILD_DIR/meson-logs/lab/metrics/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant } from '../lab/participant.mjs';
import { buildDir, mkTemp, run, sleep, startAnyroomd, startProcess, tail } from '../lab/lab.mjs';
import { ctlFail, stepper, until, waitState } from './common.mjs';

const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'metrics');
const TMP = mkTemp('ar-it-metrics-');
const SRC = process.env.AR_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const ALERTS = path.join(SRC, 'docs', 'prometheus', 'anyroom-alerts.yml');
const ENFORCE = process.env.AR_NETNS_ADDR1 || '10.97.0.1';
const ROOM_LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const PASSWORD = 'correct horse battery staple';
const PROM = 'http://127.0.0.1:9090';

let janus = null;
let alice = null;
let prom = null;
const rooms = {}; // name -> {d (startAnyroomd handle), port, state, conf, ca, token, statusToken, admin}

const { step, failed } = stepper({
  timeout: 60000,
  onFail: async () => {
    // anyroomd's own lines: the libraries' debug lines would drown them.
    const own = (l) => !/(?:libnice|libnice-stun|libsoup|dconf|GLib-GIO|GLib-Net|GLib)-DEBUG/.test(l);
    for (const [n, r] of Object.entries(rooms)) {
      if (r.d) console.error(`# anyroomd ${n} log:\n${r.d.logTail(2000).split('\n').filter(own).slice(-30).join('\n').replace(/^/gm, '#   ')}`);
    }
    if (prom) console.error(`# prometheus log:\n${tail(prom.log, 30).replace(/^/gm, '#   ')}`);
  },
});

// ---- HTTPS to a room, checking its certificate (no verification switched off) ----

function request(room, { method = 'GET', path: p, headers = {}, body = null }) {
  return new Promise((resolve, reject) => {
    const data = body === null ? null : JSON.stringify(body);
    const h = { Host: `127.0.0.1:${room.port}`, ...headers };
    if (data !== null) { h['Content-Type'] = 'application/json'; h['Content-Length'] = Buffer.byteLength(data); }
    const rq = https.request({ host: '127.0.0.1', port: room.port, method, path: p, headers: h, agent: false, ca: room.ca, timeout: 10000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    rq.on('timeout', () => rq.destroy(new Error(`${method} ${p}: timed out`)));
    rq.on('error', reject);
    if (data !== null) rq.write(data);
    rq.end();
  });
}

function writeConf(room, extra = []) {
  fs.writeFileSync(room.conf, [
    '[room]', `name=Metrics Room ${room.name}`,
    '[device]', `camera=${room.camera}`, 'microphone=test', 'speaker=none', 'display=none',
    '[admin]', `listen=127.0.0.1:${room.port}`, ...extra,
    '[web]', 'enabled=false',
    '',
  ].join('\n'));
}

async function startRoom(room) {
  room.d = await startAnyroomd({ tmp: room.tmp, extraArgs: ['--config', room.conf, '--state-dir', room.state] });
  room.ca = fs.readFileSync(path.join(room.state, 'admin-cert.pem'), 'utf8');
}

// First-run setup from this device (loopback), then the session's CSRF
// token, then API tokens made through the API as an administrator would.
async function setupRoom(room) {
  const origin = `https://127.0.0.1:${room.port}`;
  const r = await request(room, { method: 'POST', path: '/api/v1/setup', headers: { Origin: origin }, body: { password: PASSWORD } });
  assert.equal(r.status, 200, `setup: ${r.status} ${r.text}`);
  const m = /(__Host-ar_session=[0-9a-f]{64})/.exec([].concat(r.headers['set-cookie'] || []).join('\n'));
  assert.ok(m, 'setup sets the session cookie');
  const s = await request(room, { path: '/api/v1/session', headers: { Cookie: m[1] } });
  assert.ok(s.json && s.json.csrf_token, `session: ${s.text}`);
  room.admin = { Cookie: m[1], 'X-CSRF-Token': s.json.csrf_token, Origin: origin };
  const make = async (name, scopes) => {
    const t = await request(room, { method: 'POST', path: '/api/v1/tokens', headers: room.admin, body: { name, scopes } });
    assert.equal(t.status, 201, `token ${name}: ${t.status} ${t.text}`);
    assert.deepEqual(t.json.scopes, scopes);
    return t.json.token;
  };
  room.token = await make('prometheus', ['metrics']);
  room.statusToken = await make('dashboard', ['status', 'commands', 'configuration', 'media', 'update']);
  // Prometheus reads the token from a file (0600), never from its command line.
  room.tokenFile = path.join(room.tmp, 'metrics-token');
  fs.writeFileSync(room.tokenFile, room.token, { mode: 0o600 });
  fs.writeFileSync(path.join(room.tmp, 'ca.pem'), room.ca);
}

// ---- Prometheus ----

async function query(q) {
  const r = await fetch(`${PROM}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
  const j = await r.json();
  if (j.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(j)}`);
  return j.data.result; // [{metric: {...}, value: [t, "v"]}]
}

// Waits (bounded) until @q has a result that @pred accepts; returns the results.
async function untilQuery(q, pred = (res) => res.length > 0, timeoutMs = 20000) {
  let last = null;
  try {
    return await until(`Prometheus: ${q}`, async () => {
      last = await query(q).catch((e) => { last = e.message; return null; });
      return last && Array.isArray(last) && pred(last) ? last : null;
    }, timeoutMs, 250);
  } catch (e) {
    throw new Error(`${e.message}; last answer: ${JSON.stringify(last)}`);
  }
}

const value = (res) => Number(res[0].value[1]);

async function startPrometheus() {
  const dir = path.join(TMP, 'prometheus');
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const job = (name, room) => [
    `  - job_name: anyroom-${name}`,
    '    scheme: https',
    '    metrics_path: /metrics',
    '    tls_config:',
    `      ca_file: ${path.join(room.tmp, 'ca.pem')}`,
    '    authorization:',
    '      type: Bearer',
    `      credentials_file: ${room.tokenFile}`,
    '    static_configs:',
    `      - targets: ['127.0.0.1:${room.port}']`,
  ].join('\n');
  const conf = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(conf, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    `  - ${ALERTS}`,
    'scrape_configs:',
    job('call', rooms.call),
    job('nodevices', rooms.nodevices),
    '',
  ].join('\n'));
  const check = await run('promtool', ['check', 'config', conf], { timeoutMs: 30000 });
  assert.equal(check.code, 0, `promtool check config: ${check.stdout} ${check.stderr}`);
  prom = startProcess('prometheus', [
    `--config.file=${conf}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    '--web.listen-address=127.0.0.1:9090', '--log.level=warn',
  ], { logFile: path.join(dir, 'prometheus.log') });
  prom.log = path.join(dir, 'prometheus.log');
  await until('Prometheus ready', async () => {
    if (prom.exited) throw new Error(`prometheus exited: ${JSON.stringify(prom.exited)}\n${tail(prom.log, 20)}`);
    const r = await fetch(`${PROM}/-/ready`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
    return r && r.status === 200;
  }, 30000, 200);
}

// ---- the test ----

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  fs.mkdirSync(OUT, { recursive: true });
  for (const [name, port, camera] of [['call', 8443, 'test'], ['nodevices', 8444, '/dev/video63']]) {
    const tmp = path.join(TMP, name);
    fs.mkdirSync(tmp, { recursive: true });
    rooms[name] = { name, port, camera, tmp, state: path.join(tmp, 'state'), conf: path.join(tmp, 'anyroom.conf') };
    writeConf(rooms[name]);
  }
  const started = Promise.all([
    startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: ENFORCE }).then((j) => { janus = j; }),
    startRoom(rooms.call), startRoom(rooms.nodevices),
  ]);
  await started;
  await setupRoom(rooms.call);
  await setupRoom(rooms.nodevices);
  await startPrometheus();
});

after(async () => {
  if (alice) await alice.close().catch(() => {});
  if (prom) await prom.stop();
  for (const r of Object.values(rooms)) if (r.d) await r.d.stop(10000);
  if (janus) await janus.stop();
  for (const [n, r] of Object.entries(rooms)) {
    try { fs.copyFileSync(r.d.log, path.join(OUT, `anyroomd-${n}.log`)); } catch { /* none */ }
  }
  try { fs.copyFileSync(path.join(TMP, 'prometheus', 'prometheus.log'), path.join(OUT, 'prometheus.log')); } catch { /* none */ }
  fs.rmSync(TMP, { recursive: true, force: true }); // the logs are in OUT
});

step('who may read /metrics: 401 without or with a bad token, 403 without the scope, 200 with it or an admin session', async (t) => {
  const room = rooms.call;
  let r = await request(room, { path: '/metrics' });
  assert.equal(r.status, 401, `no credentials: ${r.status} ${r.text}`);
  r = await request(room, { path: '/metrics', headers: { Authorization: 'Bearer art_0000000000000000000000000000000000000000000000000000000000000000' } });
  assert.equal(r.status, 401, `unknown token: ${r.status} ${r.text}`);
  assert.match(String(r.headers['www-authenticate']), /Bearer/);
  // Every scope but metrics: still refused.
  r = await request(room, { path: '/metrics', headers: { Authorization: `Bearer ${room.statusToken}` } });
  assert.equal(r.status, 403, `token without metrics: ${r.status} ${r.text}`);
  assert.match(r.json.error, /lacks the scope: metrics/);
  // The metrics token reaches nothing else.
  r = await request(room, { path: '/api/v1/status', headers: { Authorization: `Bearer ${room.token}` } });
  assert.equal(r.status, 403, `metrics token on status: ${r.status}`);
  r = await request(room, { method: 'POST', path: '/metrics', headers: { Authorization: `Bearer ${room.token}` } });
  assert.equal(r.status, 405, `POST /metrics: ${r.status}`);
  r = await request(room, { path: '/metrics', headers: { Authorization: `Bearer ${room.token}` } });
  assert.equal(r.status, 200, `metrics token: ${r.status} ${r.text}`);
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(r.text, /^anyroom_call_state\{state="idle"\} 1$/m);
  r = await request(room, { path: '/metrics', headers: { Cookie: room.admin.Cookie } });
  assert.equal(r.status, 200, `admin session: ${r.status}`);
  t.diagnostic(`idle body: ${r.text.length} bytes`);
});

step('the room joins a real Janus meeting with a real Chromium participant', async (t) => {
  alice = await launchParticipant({ display: 'alice', logDir: OUT });
  await alice.waitJoined();
  const d = rooms.call.d;
  const r = await d.ctl('join', ROOM_LINK, '--timeout', '30');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl join'));
  await waitState(d, 'connected');
  await alice.waitForFeed('Room');
  // Media both ways before Prometheus is asked about it.
  await until('the room receives alice\'s video', async () => {
    const s = await d.status();
    return (s.tracks || []).some((x) => x.kind === 'video' && x.direction === 'recv' && x.bitrate_bps > 0);
  }, 20000, 250);
});

step('promtool check metrics: the body scraped in a call is clean; no names, links or ids in it', async (t) => {
  const room = rooms.call;
  const r = await request(room, { path: '/metrics', headers: { Authorization: `Bearer ${room.token}` } });
  assert.equal(r.status, 200);
  fs.writeFileSync(path.join(OUT, 'metrics-in-call.txt'), r.text);
  const c = await run('promtool', ['check', 'metrics'], { input: r.text, timeoutMs: 20000 });
  assert.equal(c.code, 0, `promtool check metrics exit ${c.code}: ${c.stdout}${c.stderr}`);
  assert.equal((c.stdout + c.stderr).trim(), '', `promtool check metrics: ${c.stdout}${c.stderr}`);
  for (const secret of ['alice', '1234', 'Metrics Room', 'janus+ws', 'feed-', room.token]) {
    assert.ok(!r.text.includes(secret), `"${secret}" is in /metrics`);
  }
  t.diagnostic(`in-call body: ${r.text.length} bytes, ${r.text.split('\n').filter((l) => l && !l.startsWith('#')).length} samples`);
});

step('Prometheus scrapes both rooms: up, call state and engine, per-track bitrate, devices, uptime, memory', async (t) => {
  await untilQuery('up{job=~"anyroom-.*"} == 1', (res) => res.length === 2);
  const state = await untilQuery('anyroom_call_state{job="anyroom-call",state="connected"} == 1');
  assert.equal(value(state), 1);
  const info = await untilQuery('anyroom_call_info{job="anyroom-call"}');
  assert.equal(info[0].metric.engine, 'native');
  assert.equal(info[0].metric.provider, 'janus');
  const idle = await untilQuery('anyroom_call_state{job="anyroom-nodevices",state="idle"} == 1');
  assert.equal(value(idle), 1);
  const send = await untilQuery('anyroom_track_bytes_per_second{job="anyroom-call",kind="video",direction="send"} > 0');
  t.diagnostic(`send video ${Math.round(value(send) * 8 / 1000)} kbit/s`);
  const recv = await untilQuery('anyroom_track_bytes_per_second{job="anyroom-call",kind="video",direction="recv"} > 0');
  t.diagnostic(`received video ${Math.round(value(recv) * 8 / 1000)} kbit/s`);
  const fps = await untilQuery('anyroom_track_frames_per_second{job="anyroom-call",kind="video",direction="send"} > 0');
  t.diagnostic(`send frame rate ${value(fps)}/s`);
  const packets = await untilQuery('anyroom_track_packets_total{job="anyroom-call",kind="audio",direction="recv"} > 0');
  assert.ok(value(packets) > 0);
  const jitter = await query('anyroom_track_jitter_seconds{job="anyroom-call"}');
  t.diagnostic(`jitter samples: ${jitter.map((x) => `${x.metric.kind}/${x.metric.direction}=${x.value[1]}`).join(' ')}`);
  const tracks = await untilQuery('anyroom_call_tracks{job="anyroom-call",kind="video",direction="recv"} >= 1');
  assert.ok(value(tracks) >= 1);
  const joins = await untilQuery('anyroom_joins_total{job="anyroom-call",outcome="connected"} >= 1');
  assert.equal(value(joins), 1);
  // Room B's camera is a /dev path that is not there; room A's test camera cannot be checked.
  const cam = await untilQuery('anyroom_device_present{job="anyroom-nodevices",kind="camera"}');
  assert.equal(value(cam), 0);
  assert.deepEqual(await query('anyroom_device_present{job="anyroom-call"}'), []);
  const rss = await untilQuery('anyroom_resident_memory_bytes{job="anyroom-call"} > 1e6');
  t.diagnostic(`anyroomd RSS ${Math.round(value(rss) / 1048576)} MiB in the call`);
  const build = await untilQuery('anyroom_build_info{job="anyroom-call"}');
  assert.ok(build[0].metric.version, 'a version label');
  const up0 = value(await untilQuery('anyroom_uptime_seconds{job="anyroom-call"}'));
  const up1 = value(await untilQuery('anyroom_uptime_seconds{job="anyroom-call"}', (res) => res.length && value(res) > up0));
  assert.ok(up1 > up0, `uptime goes on (${up0} -> ${up1})`);
});

// anyroomd's CPU time so far (utime + stime), in seconds.
function cpuSeconds(pid) {
  const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ: 100 on Linux
}

step('figures in the call (diagnostics, never asserted): /metrics latency, anyroomd CPU per scrape, Prometheus\'s scrape_duration_seconds', async (t) => {
  const room = rooms.call;
  const pid = room.d.pid;
  const N = 20;
  // The call's own CPU over a window without our scrapes (Prometheus's 1 s scrapes go on in both).
  const w0 = performance.now();
  const base0 = cpuSeconds(pid);
  await sleep(2000);
  const baseRate = (cpuSeconds(pid) - base0) / ((performance.now() - w0) / 1000);
  const ms = [];
  const c0 = cpuSeconds(pid);
  const s0 = performance.now();
  for (let i = 0; i < N; i++) {
    const a = performance.now();
    const r = await request(room, { path: '/metrics', headers: { Authorization: `Bearer ${room.token}` } });
    ms.push(performance.now() - a);
    assert.equal(r.status, 200);
  }
  const elapsed = (performance.now() - s0) / 1000;
  const extra = cpuSeconds(pid) - c0 - baseRate * elapsed;
  ms.sort((a, b) => a - b);
  t.diagnostic(`${N} scrapes in a row (new TLS connection each, node https from the same namespace): ` +
    `median ${ms[N / 2].toFixed(1)} ms, max ${ms[N - 1].toFixed(1)} ms; anyroomd CPU beyond the call's ` +
    `${(baseRate * 100).toFixed(0)} %: ${Math.max(extra * 1000 / N, 0).toFixed(1)} ms per scrape (10 ms ticks: rough)`);
  // The benchmark (`./build.sh bench metrics`): AR_BENCH_METRICS_S seconds of 10 scrapes a second,
  // paced (one started every 100 ms), beside Prometheus's own 1 s scrapes; printed as a table.
  const benchS = Number(process.env.AR_BENCH_METRICS_S || 0);
  if (benchS > 0) {
    const b0 = cpuSeconds(pid);
    const bw0 = performance.now();
    await sleep(5000);
    const callRate = (cpuSeconds(pid) - b0) / ((performance.now() - bw0) / 1000);
    const lat = [];
    const c1 = cpuSeconds(pid);
    const p0 = performance.now();
    for (let i = 0; i < benchS * 10; i++) {
      const wait = p0 + i * 100 - performance.now();
      if (wait > 0) await sleep(wait);
      const a = performance.now();
      const r = await request(room, { path: '/metrics', headers: { Authorization: `Bearer ${room.token}` } });
      lat.push(performance.now() - a);
      assert.equal(r.status, 200);
    }
    const secs = (performance.now() - p0) / 1000;
    const withRate = (cpuSeconds(pid) - c1) / secs;
    lat.sort((a, b) => a - b);
    const q = (f) => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))].toFixed(1);
    t.diagnostic(`BENCH| /metrics in a call, ${lat.length} scrapes at 10/s over ${secs.toFixed(0)} s (a new TLS connection each) | ${q(0.5)} | ${q(0.95)} | ${lat[lat.length - 1].toFixed(1)} | ${(callRate * 100).toFixed(1)} | ${(withRate * 100).toFixed(1)} | ${Math.max(((withRate - callRate) / 10) * 1000, 0).toFixed(2)} |`);
  }
  const sd = await query('scrape_duration_seconds{job="anyroom-call"}');
  if (sd.length) t.diagnostic(`Prometheus's last scrape_duration_seconds: ${(value(sd) * 1000).toFixed(1)} ms`);
  const avg = await query('avg_over_time(scrape_duration_seconds{job="anyroom-call"}[1m])');
  if (avg.length) t.diagnostic(`Prometheus's mean scrape duration over the test: ${(value(avg) * 1000).toFixed(1)} ms`);
});

step('the alert rules (docs/prometheus/anyroom-alerts.yml) check clean and the camera alert is raised for room B only', async (t) => {
  const c = await run('promtool', ['check', 'rules', ALERTS], { timeoutMs: 20000 });
  assert.equal(c.code, 0, `promtool check rules: ${c.stdout}${c.stderr}`);
  assert.match(c.stdout, /SUCCESS: 5 rules found/);
  // No bridge path stuck in a call that stopped none (AnyroomWebBridgeStuck's series).
  const stuck = await query('anyroom_web_bridge_stuck_paths{job="anyroom-call"}');
  assert.equal(stuck.length, 1, 'anyroom_web_bridge_stuck_paths is not scraped');
  assert.equal(value(stuck), 0);
  const alerts = await until('AnyroomCameraMissing pending or firing', async () => {
    const r = await fetch(`${PROM}/api/v1/alerts`, { signal: AbortSignal.timeout(5000) }).then((x) => x.json());
    const a = r.data.alerts.filter((x) => x.labels.alertname === 'AnyroomCameraMissing');
    return a.length ? a : null;
  }, 20000, 250);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].labels.job, 'anyroom-nodevices');
  assert.ok(['pending', 'firing'].includes(alerts[0].state), alerts[0].state);
  const rules = await fetch(`${PROM}/api/v1/rules`, { signal: AbortSignal.timeout(5000) }).then((x) => x.json());
  const bad = rules.data.groups.flatMap((g) => g.rules).filter((x) => x.health !== 'ok');
  assert.deepEqual(bad.map((x) => `${x.name}: ${x.lastError}`), [], 'every rule evaluates');
});

step('after the leave, Prometheus sees the room idle and the track series gone', async (t) => {
  const d = rooms.call.d;
  const r = await d.ctl('leave');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl leave'));
  await waitState(d, 'idle');
  await untilQuery('anyroom_call_state{job="anyroom-call",state="idle"} == 1');
  await untilQuery('anyroom_call_tracks{job="anyroom-call",kind="video",direction="send"} == 0');
  assert.deepEqual(await untilQuery('anyroom_call_info{job="anyroom-call"}', (res) => res.length === 0), []);
});

step('[admin] metrics=false: /metrics is 404 for everyone, the rest of the API is unchanged', async (t) => {
  const room = rooms.nodevices;
  await room.d.stop(10000);
  writeConf(room, ['metrics=false']);
  await startRoom(room);
  let r = await request(room, { path: '/metrics', headers: { Authorization: `Bearer ${room.token}` } });
  assert.equal(r.status, 404, `metrics token: ${r.status} ${r.text}`);
  r = await request(room, { path: '/metrics' });
  assert.equal(r.status, 404, `no credentials: ${r.status}`);
  r = await request(room, { path: '/api/v1/status', headers: { Authorization: `Bearer ${room.statusToken}` } });
  assert.equal(r.status, 200, `status still served: ${r.status}`);
  // Prometheus sees the target down (the offline alert's input).
  await untilQuery('up{job="anyroom-nodevices"} == 0');
});
