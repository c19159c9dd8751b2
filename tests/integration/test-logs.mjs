// Integration (issue 15, part 4): "Logs off the box". A real anyroomd forwards its own lines
// to a real rsyslog from Debian (imtcp with the gtls driver: syslog over TLS, RFC 5425) in the
// lab's private namespace; docs/fleet.md, "Logs off the box".
//
//   tests/integration/run-in-lab.sh tests/integration/test-logs.mjs
//
// The test makes a CA and a server certificate (SAN IP:127.0.0.1) with openssl, and a second
// CA ("rogue") with a certificate of its own. rsyslogd runs as the test's own process
// (`rsyslogd -n -f CONF -i PIDFILE`), its config, work dir and output file in the test's temp
// dir; its template writes the RFC 5424 fields it parsed, '|'-separated. Every process is
// ended by its PID; the temp dir is removed (its logs are kept under
// $AR_BUILD_DIR/meson-logs/lab/logs/).
import { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { buildDir, mkTemp, run, startAnyroomd, startProcess, tail } from '../lab/lab.mjs';
import { ctlFail, stepper, until } from './common.mjs';

const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'logs');
const TMP = mkTemp('ar-it-logs-');
const PORT = 16514;
const ROGUE_PORT = 16515;
const ROOM = 'Board Room 4';
const HOSTNAME = 'Board-Room-4'; // the room's name as an RFC 5424 HOSTNAME
// anyroomd registers network.turn-password as a secret (ar_log_ring_add_secret): only
// redacted lines may leave the box.
const SECRET = 'S3cretTurnPass99';

const rsyslogs = {}; // name -> {p (startProcess handle), conf, file, log}
const rooms = {}; // name -> startAnyroomd handle

const { step, failed } = stepper({
  timeout: 60000,
  onFail: async () => {
    const own = (l) => !/(?:libnice|libsoup|dconf|GLib-GIO|GLib-Net|GLib|GStreamer)-DEBUG/.test(l);
    for (const [n, d] of Object.entries(rooms)) {
      console.error(`# anyroomd ${n} log:\n${d.logTail(2000).split('\n').filter(own).slice(-30).join('\n').replace(/^/gm, '#   ')}`);
    }
    for (const [n, r] of Object.entries(rsyslogs)) {
      console.error(`# rsyslogd ${n} log:\n${tail(r.log, 20).replace(/^/gm, '#   ')}`);
      console.error(`# rsyslogd ${n} received:\n${tail(r.file, 20).replace(/^/gm, '#   ')}`);
    }
  },
});

async function openssl(args) {
  const r = await run('openssl', args, { timeoutMs: 30000 });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr.trim()}`);
}

// A CA (DIR/NAME-ca.pem) and a server certificate for 127.0.0.1 signed by it.
async function makeCa(name) {
  const p = (f) => path.join(TMP, `${name}-${f}`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2',
    '-subj', `/CN=Anyroom test ${name} CA`]);
  await openssl(['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  await openssl(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'),
    '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf')]);
  return { ca: p('ca.pem'), cert: p('server.pem'), key: p('server.key') };
}

// rsyslog's config: TLS (gtls, anonymous clients: the device has no client certificate) on
// 127.0.0.1:PORT, everything it receives into FILE with the fields its RFC 5424 parser found.
function rsyslogConf(name, port, pki) {
  const dir = path.join(TMP, `rsyslog-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'received.log');
  const conf = path.join(dir, 'rsyslog.conf');
  fs.writeFileSync(conf, [
    `global(workDirectory="${dir}"`,
    '  DefaultNetstreamDriver="gtls"',
    `  DefaultNetstreamDriverCAFile="${pki.ca}"`,
    `  DefaultNetstreamDriverCertFile="${pki.cert}"`,
    `  DefaultNetstreamDriverKeyFile="${pki.key}")`,
    'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.Authmode="anon")',
    `input(type="imtcp" port="${port}" address="127.0.0.1")`,
    'template(name="fields" type="string" string="%app-name%|%hostname%|%procid%|%msgid%|%syslogseverity-text%|%msg%\\n")',
    `action(type="omfile" file="${file}" template="fields")`,
    '',
  ].join('\n'));
  return { name, dir, conf, file, port, log: path.join(dir, 'rsyslogd.out') };
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function startRsyslog(r) {
  r.p = startProcess('rsyslogd', ['-n', '-f', r.conf, '-i', path.join(r.dir, 'rsyslogd.pid')], { logFile: r.log });
  rsyslogs[r.name] = r;
  await until(`rsyslogd ${r.name} listening on ${r.port}`, async () => {
    if (r.p.exited) throw new Error(`rsyslogd exited: ${JSON.stringify(r.p.exited)}: ${tail(r.log, 10)}`);
    return portOpen(r.port);
  }, 20000);
}

function received(r) {
  try {
    return fs.readFileSync(r.file, 'utf8').split('\n').filter(Boolean).map((l) => {
      const [app, host, procid, msgid, severity, ...msg] = l.split('|');
      return { app, host, procid, msgid, severity, msg: msg.join('|'), line: l };
    });
  } catch {
    return [];
  }
}
const fromAnyroomd = (r) => received(r).filter((x) => x.app === 'anyroomd');

function writeConf(name, port, ca, host = '127.0.0.1', level = 'info') {
  const dir = path.join(TMP, name);
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', `name=${ROOM}`,
    '[device]', 'camera=test', 'microphone=test', 'speaker=none', 'display=none',
    '[admin]', 'listen=none',
    '[update]', 'enabled=false',
    '[web]', 'enabled=false',
    '[network]', 'turn=turn:127.0.0.1:3478', 'turn-username=room4', `turn-password=${SECRET}`,
    '[logs]', `remote=syslog-tls://${host}:${port}`, `remote-ca=${ca}`, `remote-level=${level}`,
    '',
  ].join('\n'));
  return { dir, conf };
}

let good = null;
let rogue = null;
let pki = null;

step('prerequisites: rsyslogd with the gtls driver, openssl', async () => {
  const r = await run('rsyslogd', ['-v'], { timeoutMs: 10000 });
  assert.equal(r.code, 0, 'rsyslogd is missing (./build.sh deps installs rsyslog and rsyslog-gnutls)');
  const d = await run('dpkg', ['-L', 'rsyslog-gnutls'], { timeoutMs: 10000 });
  assert.match(d.stdout, /lmnsd_gtls\.so/, 'rsyslog-gnutls is missing (./build.sh deps)');
  pki = await makeCa('good');
  good = rsyslogConf('good', PORT, pki);
  const v = await run('rsyslogd', ['-N1', '-f', good.conf], { timeoutMs: 20000 });
  assert.equal(v.code, 0, `rsyslogd -N1 refused the config: ${v.stdout}${v.stderr}`);
});

step('the receiver example of docs/fleet.md is a config rsyslog accepts', async () => {
  const src = process.env.AR_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  const doc = fs.readFileSync(path.join(src, 'docs', 'fleet.md'), 'utf8');
  const m = doc.match(/### A receiver: rsyslog[\s\S]*?\n```\n([\s\S]*?)\n```/);
  assert.ok(m, 'no rsyslog example in docs/fleet.md');
  const conf = path.join(TMP, 'doc-example.conf');
  fs.writeFileSync(conf, m[1].replace('/etc/rsyslog-tls/ca.pem', pki.ca)
    .replace('/etc/rsyslog-tls/server.pem', pki.cert).replace('/etc/rsyslog-tls/server.key', pki.key)
    .replace('port="6514"', 'port="16599"') + '\n');
  const v = await run('rsyslogd', ['-N1', '-f', conf], { timeoutMs: 20000 });
  assert.equal(v.code, 0, `rsyslogd -N1: ${(v.stdout + v.stderr).trim()}`);
});

step('anyroomd forwards its own lines over TLS: RFC 5424 fields as rsyslog parsed them', async () => {
  await startRsyslog(good);
  const { dir, conf } = writeConf('room', PORT, pki.ca);
  rooms.room = await startAnyroomd({ tmp: dir, extraArgs: ['--config', conf] });
  const start = await until('the startup line at rsyslog', async () =>
    fromAnyroomd(good).find((x) => x.msg.startsWith(`anyroomd `) && x.msg.includes(`room '${ROOM}'`)));
  assert.equal(start.host, HOSTNAME);
  assert.equal(start.procid, String(rooms.room.pid), 'PROCID: anyroomd\'s pid');
  assert.equal(start.severity, 'notice', 'g_message is notice (as in the journal)');
  // A line made by an action through anyroomctl.
  const r = await rooms.room.ctl('volume', '37');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 37'));
  await until('"controls: speaker volume 37" at rsyslog', async () =>
    fromAnyroomd(good).find((x) => x.msg === 'controls: speaker volume 37'));
  assert.match(rooms.room.logTail(400), /logs: forwarding to 127\.0\.0\.1:16514/);
});

step('a registered secret never leaves the box; its redaction marker does', async () => {
  // The meeting id of a Janus link is logged ("call: joining janus meeting ID"); here it is
  // the TURN password. The join fails (no Janus): only the line matters.
  const r = await rooms.room.ctl('join', `janus+http://127.0.0.1:9/janus?room=${SECRET}`, '--timeout', '5');
  assert.notEqual(r.code, 0);
  const line = await until('the join line at rsyslog', async () =>
    fromAnyroomd(good).find((x) => x.msg.startsWith('call: joining janus meeting')));
  assert.equal(line.msg, 'call: joining janus meeting ***');
  assert.ok(!fs.readFileSync(good.file, 'utf8').includes(SECRET), 'the secret reached rsyslog');
});

step('a room renamed through the config API is named so in later messages', async () => {
  let r = await rooms.room.ctl('config', 'set', 'room.name=Huddle Été 2');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl config set room.name'));
  r = await rooms.room.ctl('volume', '38');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 38'));
  const line = await until('"controls: speaker volume 38" at rsyslog', async () =>
    fromAnyroomd(good).find((x) => x.msg === 'controls: speaker volume 38'));
  assert.equal(line.host, 'Huddle---t---2', 'the name as PRINTUSASCII, byte by byte');
});

step('rsyslog stopped and started again: anyroomd reconnects, later lines arrive', async () => {
  const ex = await good.p.stop();
  assert.ok(ex, 'rsyslogd stopped');
  // While the receiver is down: queued (bounded), not lost.
  let r = await rooms.room.ctl('volume', '41');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 41'));
  await until('anyroomd noticed the lost connection', async () =>
    /logs: (?:lost the connection|cannot forward) to 127\.0\.0\.1:16514/.test(rooms.room.logTail(400)));
  await startRsyslog(good);
  r = await rooms.room.ctl('volume', '43');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 43'));
  await until('"controls: speaker volume 43" at the restarted rsyslog', async () =>
    fromAnyroomd(good).find((x) => x.msg === 'controls: speaker volume 43'), 90000);
  assert.ok(fromAnyroomd(good).some((x) => x.msg === 'controls: speaker volume 41'),
    'the line logged while rsyslog was down was queued and sent after the reconnect');
  assert.match(rooms.room.logTail(400), /logs: forwarding to 127\.0\.0\.1:16514 again/);
  // The forwarder's own lines stay local: no loop.
  assert.ok(!fromAnyroomd(good).some((x) => x.msg.startsWith('logs: forwarding') || x.msg.startsWith('logs: lost')),
    'the forwarder\'s own lines were forwarded');
  assert.ok(!fs.readFileSync(good.file, 'utf8').includes(SECRET));
}, 120000);

step('a full queue while rsyslog is down: the oldest lines go, the gap is said once', async () => {
  // remote-level=debug: each anyroomctl command makes 2 lines (the API's debug line and the
  // command's); the daemon's stderr shows the same lines (G_MESSAGES_DEBUG=all).
  const { dir, conf } = writeConf('room-burst', PORT, pki.ca, '127.0.0.1', 'debug');
  const d = rooms.burst = await startAnyroomd({ tmp: dir, extraArgs: ['--config', conf] });
  const pid = String(d.pid);
  const mine = () => fromAnyroomd(good).filter((x) => x.procid === pid);
  await until('the burst room\'s startup line', async () => mine().some((x) => x.msg.includes(`room '${ROOM}'`)));
  await good.p.stop();
  // The forwarder notices a closed connection when it has a line to send.
  assert.equal((await d.ctl('volume', '1')).code, 0);
  await until('the burst room noticed', async () => /logs: (?:lost the connection|cannot forward)/.test(d.logTail(200)));
  const lines = () => fs.readFileSync(d.log, 'utf8').split('\n').length;
  const before = lines();
  // More than the queue's 1000 lines, logged while nothing can be sent.
  for (let i = 0; lines() - before < 1400; i++) {
    const rs = await Promise.all(Array.from({ length: 8 }, (_, k) => d.ctl('volume', String((i * 8 + k) % 90))));
    for (const r of rs) assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume'));
  }
  await startRsyslog(good);
  const r = await d.ctl('volume', '99');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 99'));
  await until('"controls: speaker volume 99" from the burst room', async () =>
    mine().some((x) => x.msg === 'controls: speaker volume 99'), 90000);
  const gaps = mine().filter((x) => /^logs: \d+ lines were not forwarded before this one/.test(x.msg));
  assert.equal(gaps.length, 1, `one gap notice: ${JSON.stringify(gaps)}`);
  assert.equal(gaps[0].severity, 'warning');
  assert.ok(Number(gaps[0].msg.match(/^logs: (\d+)/)[1]) > 0, gaps[0].msg);
  // At most the queue's 1000 lines (and a batch kept from the lost connection) came after it.
  const all = mine();
  const after = all.slice(all.findIndex((x) => x.line === gaps[0].line) + 1);
  assert.ok(after.length <= 1000 + 64 + 10, `${after.length} lines after the notice`);
  // A stop sends what is queued (bounded) before the forwarder ends: the last line arrives.
  const ex = await d.stop();
  assert.equal(ex.code, 0, `anyroomd exit ${JSON.stringify(ex)}`);
  await until('"anyroomd: stopping" from the burst room', async () =>
    mine().some((x) => x.msg === 'anyroomd: stopping'));
}, 180000);

step('a server with a certificate from another CA is refused: nothing sent, a local error', async () => {
  const other = await makeCa('rogue');
  rogue = rsyslogConf('rogue', ROGUE_PORT, other);
  await startRsyslog(rogue);
  // Trusts the good CA only.
  const { dir, conf } = writeConf('room-rogue', ROGUE_PORT, pki.ca);
  rooms.rogue = await startAnyroomd({ tmp: dir, extraArgs: ['--config', conf] });
  await until('the local error', async () =>
    /logs: cannot forward to 127\.0\.0\.1:16515: .*(?:certificate|Unacceptable|not trusted)/i.test(rooms.rogue.logTail(2000)));
  const r = await rooms.rogue.ctl('volume', '55');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 55'));
  // The handshake failed on our side: nothing of anyroomd's reached that server.
  assert.deepEqual(fromAnyroomd(rogue), []);
  await rooms.rogue.stop();
  assert.deepEqual(fromAnyroomd(rogue), []);
});

step('the server\'s name is checked: a trusted certificate for another name is refused', async () => {
  // The good server's certificate names IP 127.0.0.1 only; this room asks for "localhost".
  const { dir, conf } = writeConf('room-name', PORT, pki.ca, 'localhost');
  rooms.name = await startAnyroomd({ tmp: dir, extraArgs: ['--config', conf] });
  await until('the local error', async () =>
    /logs: cannot forward to localhost:16514: /.test(rooms.name.logTail(2000)));
  const pid = String(rooms.name.pid);
  assert.deepEqual(fromAnyroomd(good).filter((x) => x.procid === pid), []);
  await rooms.name.stop();
  assert.deepEqual(fromAnyroomd(good).filter((x) => x.procid === pid), []);
});

after(async () => {
  for (const d of Object.values(rooms)) await d.stop();
  for (const r of Object.values(rsyslogs)) if (r.p) await r.p.stop();
  // Keep the logs, always remove the temp dir.
  try {
    fs.rmSync(OUT, { recursive: true, force: true });
    fs.mkdirSync(OUT, { recursive: true });
    for (const [n, d] of Object.entries(rooms)) fs.copyFileSync(d.log, path.join(OUT, `anyroomd-${n}.log`));
    for (const r of Object.values(rsyslogs)) {
      for (const f of ['received.log', 'rsyslogd.out', 'rsyslog.conf']) {
        if (fs.existsSync(path.join(r.dir, f))) fs.copyFileSync(path.join(r.dir, f), path.join(OUT, `${r.name}-${f}`));
      }
    }
  } finally {
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  if (failed()) console.error(`# logs kept in ${OUT}`);
});
