// Integration (issue 15, part 4): "Logs off the box". A real anyroomd forwards its own lines
// to a real rsyslog from Debian (imtcp with the gtls driver: syslog over TLS, RFC 5425) and to a
// real systemd-journal-remote from Debian (HTTPS, the journal export format, read back with
// journalctl --directory) in the lab's private namespace; docs/fleet.md, "Logs off the box".
//
//   tests/integration/run-in-lab.sh tests/integration/test-logs.mjs
//
// The test makes a CA, a server certificate (SAN IP:127.0.0.1) and a client certificate
// (CN room-4, for mutual TLS) with openssl, and a second CA ("rogue") with a certificate of
// its own. systemd-journal-remote runs as the test's own process, its output dir in the temp
// dir. rsyslogd runs as the test's own process
// (`rsyslogd -n -f CONF -i PIDFILE`), its config, work dir and output file in the test's temp
// dir; its template writes the RFC 5424 fields it parsed, '|'-separated. Every process is
// ended by its PID; the temp dir is removed (its logs are kept under
// $AR_BUILD_DIR/meson-logs/lab/logs/).
import { after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { buildDir, mkTemp, run, startAnyroomd, startProcess, tail } from '../lab/lab.mjs';
import { writeNginxConf } from '../lab/nginx.mjs';
import { certPins, launchAdminBrowser, pinnedRequest } from '../lab/admin-browser.mjs';
import { ctlFail, localRequest, stepper, until } from './common.mjs';

const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'logs');
const TMP = mkTemp('ar-it-logs-');
const PORT = 16514;
const ROGUE_PORT = 16515;
const MTLS_PORT = 16516;
const JOURNAL_PORT = 19532;
const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
const ROOM = 'Board Room 4';
const HOSTNAME = 'Board-Room-4'; // the room's name as an RFC 5424 HOSTNAME
// anyroomd registers network.turn-password as a secret (ar_log_ring_add_secret): only
// redacted lines may leave the box.
const SECRET = 'S3cretTurnPass99';

const rsyslogs = {}; // name -> {p (startProcess handle), conf, file, log}
const rooms = {}; // name -> startAnyroomd handle
const journals = {}; // name -> {p, dir, out, log}
let browser = null;
const proxies = []; // {p}

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
    for (const [n, j] of Object.entries(journals)) {
      console.error(`# systemd-journal-remote ${n} log:\n${tail(j.log, 20).replace(/^/gm, '#   ')}`);
      const got = (await journalEntries(j)).slice(-15).map((e) => `${e.SYSLOG_IDENTIFIER} ${e.PRIORITY} ${e.MESSAGE}`);
      console.error(`# systemd-journal-remote ${n} received:\n${got.join('\n').replace(/^/gm, '#   ')}`);
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
  // The room's client certificate (mutual TLS); its key only the owner's (anyroomd checks).
  await openssl(['req', ...ec, '-keyout', p('client.key'), '-out', p('client.csr'), '-subj', '/CN=room-4']);
  fs.writeFileSync(p('cext.cnf'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  await openssl(['x509', '-req', '-in', p('client.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'),
    '-CAcreateserial', '-out', p('client.pem'), '-days', '2', '-extfile', p('cext.cnf')]);
  fs.chmodSync(p('client.key'), 0o600);
  return { ca: p('ca.pem'), cert: p('server.pem'), key: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
}

// rsyslog's config: TLS (gtls, anonymous clients: the device has no client certificate) on
// 127.0.0.1:PORT, everything it receives into FILE with the fields its RFC 5424 parser found.
function rsyslogConf(name, port, pki, authmode = 'anon') {
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
    `module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.Authmode="${authmode}")`,
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

function writeConf(name, port, ca, host = '127.0.0.1', level = 'info', { scheme = 'syslog-tls', client = null, admin = 'none' } = {}) {
  const dir = path.join(TMP, name);
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', `name=${ROOM}`,
    '[device]', 'camera=test', 'microphone=test', 'speaker=none', 'display=none',
    '[admin]', `listen=${admin}`,
    '[update]', 'enabled=false',
    '[web]', 'enabled=false',
    '[network]', 'turn=turn:127.0.0.1:3478', 'turn-username=room4', `turn-password=${SECRET}`,
    '[logs]', `remote=${scheme}://${host}:${port}`, `remote-ca=${ca}`, `remote-level=${level}`,
    ...(client ? [`remote-cert=${client.clientCert}`, `remote-key=${client.clientKey}`] : []),
    '',
  ].join('\n'));
  return { dir, conf };
}

// systemd-journal-remote on 127.0.0.1:PORT over HTTPS, writing what it receives under DIR/out/.
// Debian builds it without GnuTLS: --trust (client certificates) is not available there, so it
// takes any client (docs/fleet.md says how to require a certificate in front of it).
async function startJournalRemote(name, port, server) {
  const dir = path.join(TMP, `journal-${name}`);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out, { recursive: true });
  const j = journals[name] = { name, dir, out, port, log: path.join(dir, 'journal-remote.out') };
  j.p = startProcess(JOURNAL_REMOTE, [`--listen-https=127.0.0.1:${port}`, `--key=${server.key}`,
    `--cert=${server.cert}`, `--output=${out}/`], { logFile: j.log });
  await until(`systemd-journal-remote ${name} listening on ${port}`, async () => {
    if (j.p.exited) throw new Error(`systemd-journal-remote exited: ${JSON.stringify(j.p.exited)}: ${tail(j.log, 10)}`);
    return portOpen(port);
  }, 20000);
  return j;
}

// What it received, as journalctl reads the files (one JSON object per entry).
async function journalEntries(j) {
  if (!fs.existsSync(j.out) || fs.readdirSync(j.out).length === 0) return [];
  const r = await run('journalctl', ['--directory', j.out, '-o', 'json', '--no-pager'], { timeoutMs: 20000 });
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
const journalRaw = (j) => Buffer.concat(fs.readdirSync(j.out).map((f) => fs.readFileSync(path.join(j.out, f))));

let good = null;
let rogue = null;
let pki = null;
let journal = null;

step('prerequisites: rsyslogd with the gtls driver, systemd-journal-remote, openssl', async () => {
  assert.ok(fs.existsSync(JOURNAL_REMOTE), 'systemd-journal-remote is missing (./build.sh deps installs systemd-journal-remote)');
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
  // More than the queue's 1000 lines, logged while nothing can be sent: the API anyroomctl
  // calls, on its socket without a process per command (700 anyroomctl processes took about
  // 50 s of a loaded CI machine, and the forwarder's backoff grew to 32 s meanwhile).
  for (let i = 0; lines() - before < 1400; i++) {
    const rs = await Promise.all(Array.from({ length: 8 }, (_, k) => localRequest(d.socket, 'POST', '/api/v1/commands/volume', JSON.stringify({ level: (i * 8 + k) % 90 }))));
    for (const r of rs) assert.equal(r.status, 200, `POST /api/v1/commands/volume: ${r.status} ${r.text}`);
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

step('anyroomd to systemd-journal-remote over HTTPS: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, _HOSTNAME as journalctl reads them', async () => {
  journal = await startJournalRemote('main', JOURNAL_PORT, pki);
  // With a client certificate (this receiver does not ask for one: it must not hurt).
  const { dir, conf } = writeConf('room-journal', JOURNAL_PORT, pki.ca, '127.0.0.1', 'info',
    { scheme: 'journal-https', client: pki });
  const d = rooms.journal = await startAnyroomd({ tmp: dir, extraArgs: ['--config', conf] });
  const pid = String(d.pid);
  const mine = async () => (await journalEntries(journal)).filter((e) => e.SYSLOG_PID === pid);
  const start = await until('the startup line in the received journal', async () =>
    (await mine()).find((e) => e.MESSAGE.startsWith('anyroomd ') && e.MESSAGE.includes(`room '${ROOM}'`)), 30000);
  assert.equal(start.SYSLOG_IDENTIFIER, 'anyroomd');
  assert.equal(start._HOSTNAME, HOSTNAME, 'the room\'s name as the host');
  assert.equal(start.PRIORITY, '5', 'g_message is notice (5), as journald has it');
  assert.equal(start.SYSLOG_FACILITY, '3');
  assert.match(start._BOOT_ID, /^[0-9a-f]{32}$/);
  assert.match(d.logTail(2000), /logs: forwarding to 127\.0\.0\.1:19532/);
  let r = await d.ctl('volume', '37');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 37'));
  await until('"controls: speaker volume 37" in the received journal', async () =>
    (await mine()).find((e) => e.MESSAGE === 'controls: speaker volume 37'));
  // A registered secret (the TURN password as a meeting id) arrives as ***.
  r = await d.ctl('join', `janus+http://127.0.0.1:9/janus?room=${SECRET}`, '--timeout', '5');
  assert.notEqual(r.code, 0);
  const join = await until('the join line in the received journal', async () =>
    (await mine()).find((e) => e.MESSAGE.startsWith('call: joining janus meeting')));
  assert.equal(join.MESSAGE, 'call: joining janus meeting ***');
  // Nowhere in what the receiver wrote: not in journalctl's export, not in the files' bytes.
  const exp = await run('journalctl', ['--directory', journal.out, '-o', 'export', '--no-pager'], { timeoutMs: 20000 });
  assert.ok(exp.stdout.includes('call: joining janus meeting ***'));
  assert.ok(!exp.stdout.includes(SECRET), 'the secret reached the journal');
  assert.ok(!journalRaw(journal).includes(SECRET), 'the secret is in the receiver\'s files');
  // The forwarder's own lines stay local.
  assert.ok(!(await mine()).some((e) => e.MESSAGE.startsWith('logs: ')), 'the forwarder\'s own lines were forwarded');
}, 90000);

step('systemd-journal-remote stopped and started again: anyroomd uploads again, the line logged meanwhile too', async () => {
  const d = rooms.journal;
  const pid = String(d.pid);
  const mine = async () => (await journalEntries(journal)).filter((e) => e.SYSLOG_PID === pid);
  await journal.p.stop();
  let r = await d.ctl('volume', '44');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 44'));
  await until('anyroomd noticed the receiver is away', async () =>
    /logs: (?:lost the connection|cannot forward) to 127\.0\.0\.1:19532/.test(d.logTail(400)));
  journal = await startJournalRemote('main', JOURNAL_PORT, pki);
  r = await d.ctl('volume', '45');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 45'));
  await until('"controls: speaker volume 45" after the restart', async () =>
    (await mine()).some((e) => e.MESSAGE === 'controls: speaker volume 45'), 90000);
  assert.ok((await mine()).some((e) => e.MESSAGE === 'controls: speaker volume 44'),
    'the line logged while the receiver was away was queued and uploaded');
  assert.match(d.logTail(600), /logs: forwarding to 127\.0\.0\.1:19532 again/);
}, 120000);

step('mutual TLS: rsyslog with Authmode x509/certvalid takes a room with its client certificate, refuses one without', async () => {
  const m = rsyslogConf('mtls', MTLS_PORT, pki, 'x509/certvalid');
  await startRsyslog(m);
  const a = writeConf('room-mtls', MTLS_PORT, pki.ca, '127.0.0.1', 'info', { client: pki });
  rooms.mtls = await startAnyroomd({ tmp: a.dir, extraArgs: ['--config', a.conf] });
  const withCert = String(rooms.mtls.pid);
  await until('the startup line of the room with a certificate', async () =>
    fromAnyroomd(m).some((x) => x.procid === withCert && x.msg.includes(`room '${ROOM}'`)), 30000);
  const b = writeConf('room-nocert', MTLS_PORT, pki.ca);
  const d = rooms.nocert = await startAnyroomd({ tmp: b.dir, extraArgs: ['--config', b.conf] });
  const without = String(d.pid);
  // The refusal may come after the TLS 1.3 handshake: later lines find the connection closed.
  let n = 0;
  await until('the room without a certificate was refused', async () => {
    const r = await d.ctl('volume', String(60 + (n++ % 20)));
    assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume'));
    return /logs: (?:lost the connection|cannot forward) to 127\.0\.0\.1:16516/.test(d.logTail(2000));
  }, 30000, 300);
  await d.stop();
  assert.deepEqual(fromAnyroomd(m).filter((x) => x.procid === without), [], 'rsyslog took lines from a room without a certificate');
  assert.ok(fromAnyroomd(m).some((x) => x.procid === withCert));
  await rooms.mtls.stop();
  await m.p.stop();
}, 90000);

step('journal-remote behind nginx requiring a client certificate: a room with one arrives, one without is refused and says so', async () => {
  // Debian's journal-remote cannot ask for a client certificate (no --trust): the proxy of
  // docs/fleet.md does. nginx closes idle connections after 1 s, and anyroomd reconnects silently.
  const HTTP_PORT = 19531;
  const PROXY_PORT = 19533;
  const j = journals.proxied = { name: 'proxied', dir: path.join(TMP, 'journal-proxied') };
  j.out = path.join(j.dir, 'out');
  j.log = path.join(j.dir, 'journal-remote.out');
  fs.mkdirSync(j.out, { recursive: true });
  j.p = startProcess(JOURNAL_REMOTE, [`--listen-http=127.0.0.1:${HTTP_PORT}`, `--output=${j.out}/`], { logFile: j.log });
  const n = path.join(TMP, 'nginx');
  fs.mkdirSync(n, { recursive: true });
  const conf = writeNginxConf(n, `
  access_log ${n}/nginx-access.log;
  keepalive_timeout 1s;
  server {
    listen 127.0.0.1:${PROXY_PORT} ssl;
    ssl_certificate ${pki.cert};
    ssl_certificate_key ${pki.key};
    ssl_client_certificate ${pki.ca};
    ssl_verify_client on;
    location = /upload { proxy_pass http://127.0.0.1:${HTTP_PORT}; }
  }
`);
  const proxy = { p: startProcess('nginx', ['-c', conf, '-e', path.join(n, 'nginx-error.log')], { logFile: path.join(n, 'nginx.out') }) };
  proxies.push(proxy);
  await until('nginx and journal-remote listening', async () => {
    if (proxy.p.exited) throw new Error(`nginx exited: ${tail(path.join(n, 'nginx-error.log'), 10)}`);
    if (j.p.exited) throw new Error(`journal-remote exited: ${tail(j.log, 10)}`);
    return (await portOpen(PROXY_PORT)) && (await portOpen(HTTP_PORT));
  }, 20000);
  const a = writeConf('room-proxied', PROXY_PORT, pki.ca, '127.0.0.1', 'info', { scheme: 'journal-https', client: pki });
  const d = rooms.proxied = await startAnyroomd({ tmp: a.dir, extraArgs: ['--config', a.conf] });
  const pid = String(d.pid);
  const mine = async (p) => (await journalEntries(j)).filter((e) => e.SYSLOG_PID === p);
  await until('the startup line through the proxy', async () =>
    (await mine(pid)).some((e) => e.MESSAGE.includes(`room '${ROOM}'`)), 30000);
  // Past nginx's keep-alive timeout: the next line goes on a new connection, nothing said.
  await new Promise((r) => setTimeout(r, 2500));
  let r = await d.ctl('volume', '71');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 71'));
  await until('"controls: speaker volume 71" through the proxy', async () =>
    (await mine(pid)).some((e) => e.MESSAGE === 'controls: speaker volume 71'));
  assert.doesNotMatch(d.logTail(2000), /logs: (?:lost the connection|cannot forward)/);
  // Without a certificate: nginx answers 400; the lines are dropped (said locally), not retried forever.
  const b = writeConf('room-proxied-nocert', PROXY_PORT, pki.ca, '127.0.0.1', 'info', { scheme: 'journal-https' });
  const e = rooms.proxiedNocert = await startAnyroomd({ tmp: b.dir, extraArgs: ['--config', b.conf] });
  await until('the room without a certificate says it was refused', async () =>
    /logs: 127\.0\.0\.1:19533 refused \d+ lines: the receiver answered 400 .*\(dropped\)/.test(e.logTail(2000)), 30000);
  r = await e.ctl('volume', '72');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 72'));
  await e.stop();
  assert.deepEqual(await mine(String(e.pid)), [], 'lines of a room without a certificate were stored');
  await d.stop();
  await proxy.p.stop();
}, 90000);

step('[logs] through the config API: checked (a clear 400), PEM write-only, applied without a restart', async () => {
  const d = rooms.room; // forwarding to the good rsyslog since the start
  const pid = String(d.pid);
  const bad = [
    ['logs.remote=https://127.0.0.1:19532', /logs\.remote: not a syslog-tls:\/\/HOST:PORT or journal-https:\/\/HOST:PORT address/],
    ['logs.remote-level=loud', /logs\.remote-level: 'loud' is not one of/],
    ['logs.remote-key-pem=not a key', /logs\.remote-key-pem: must be a PEM private key/],
    ['logs.remote-ca-pem=-----BEGIN CERTIFICATE-----', /logs\.remote-ca-pem: must be PEM certificates/],
  ];
  for (const [arg, want] of bad) {
    const r = await d.ctl('config', 'set', arg);
    assert.notEqual(r.code, 0, `${arg} was taken`);
    assert.match(r.stderr, want);
  }
  // A certificate without its key: the forwarder's own check, before anything is saved.
  let r = await d.ctl('config', 'set', `logs.remote-cert-pem=${fs.readFileSync(pki.clientCert, 'utf8')}`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /remote-cert and (?:logs\.)?remote-key go together/);
  // The journal receiver with the CA, the client certificate and its key as PEM text.
  r = await d.ctl('config', 'set', `logs.remote=journal-https://127.0.0.1:${JOURNAL_PORT}`,
    `logs.remote-ca-pem=${fs.readFileSync(pki.ca, 'utf8')}`,
    `logs.remote-cert-pem=${fs.readFileSync(pki.clientCert, 'utf8')}`,
    `logs.remote-key-pem=${fs.readFileSync(pki.clientKey, 'utf8')}`);
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl config set logs.*'));
  const got = await d.ctl('config');
  const logs = JSON.parse(got.stdout).logs;
  assert.equal(logs.remote, `journal-https://127.0.0.1:${JOURNAL_PORT}`);
  const fp = (f) => new crypto.X509Certificate(fs.readFileSync(f)).fingerprint256;
  assert.equal(logs['remote-ca-sha256'], fp(pki.ca));
  assert.equal(logs['remote-cert-sha256'], fp(pki.clientCert));
  assert.equal(logs['remote-key-set'], true);
  assert.ok(!got.stdout.includes('PRIVATE KEY') && !got.stdout.includes('BEGIN CERTIFICATE'), 'PEM read back');
  // Kept only by the owner, in the state dir.
  const key = path.join(TMP, 'room', 'xdg-state', 'anyroom', 'logs-remote-key.pem');
  assert.equal(fs.statSync(key).mode & 0o777, 0o600);
  // Applied live: the next line goes to the journal receiver, not to rsyslog.
  r = await d.ctl('volume', '61');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 61'));
  await until('"controls: speaker volume 61" in the journal', async () =>
    (await journalEntries(journal)).some((e) => e.SYSLOG_PID === pid && e.MESSAGE === 'controls: speaker volume 61'));
  assert.ok(!fromAnyroomd(good).some((x) => x.procid === pid && x.msg === 'controls: speaker volume 61'));
  // The change itself was sent to the old receiver before it stopped (its queue drained).
  await until('"config: changed logs.remote, ..." at rsyslog', async () =>
    fromAnyroomd(good).some((x) => x.procid === pid && /^config: changed logs\.remote/.test(x.msg)));
  // Off: the forwarder stops.
  r = await d.ctl('config', 'set', 'logs.remote=');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl config set logs.remote='));
  assert.equal(JSON.parse((await d.ctl('config')).stdout).logs.remote, null);
}, 60000);

step('the admin page: "Logs off the box" sends to journal-remote, shows fingerprints, never the PEM; audited', async () => {
  const ADMIN_PORT = 18443;
  const BASE = `https://127.0.0.1:${ADMIN_PORT}`;
  const PASSWORD = 'correct horse battery staple';
  const { dir, conf } = writeConf('room-admin', PORT, pki.ca, '127.0.0.1', 'info', { admin: `127.0.0.1:${ADMIN_PORT}` });
  const state = path.join(dir, 'state');
  const d = rooms.admin = await startAnyroomd({ tmp: dir, extraArgs: ['--config', conf, '--state-dir', state] });
  const pins = certPins(fs.readFileSync(path.join(state, 'admin-cert.pem'), 'utf8'));
  const setup = await pinnedRequest({ port: ADMIN_PORT, fingerprint256: pins.fingerprint256, method: 'POST',
    path: '/api/v1/setup', headers: { Origin: BASE }, body: { password: PASSWORD } });
  assert.equal(setup.status, 200, `setup: ${setup.text}`);
  browser = await launchAdminBrowser({ spki: pins.spki });
  const page = browser.page;
  await page.goto(`${BASE}/admin/`);
  await page.waitForSelector('#login:not([hidden])', { timeout: 30000 });
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-form button');
  await page.click('#tabs button[data-tab="logs"]');
  await until('the form shows the file\'s receiver', async () =>
    (await page.inputValue('#logs-remote')) === `syslog-tls://127.0.0.1:${PORT}`, 15000);
  assert.match(await page.textContent('#logs-remote-cert-state'), /No client certificate/);
  await page.fill('#logs-remote', `journal-https://127.0.0.1:${JOURNAL_PORT}`);
  await page.fill('#logs-remote-ca', fs.readFileSync(pki.ca, 'utf8'));
  await page.fill('#logs-remote-cert', fs.readFileSync(pki.clientCert, 'utf8'));
  await page.fill('#logs-remote-key', fs.readFileSync(pki.clientKey, 'utf8'));
  await page.click('#logs-remote-form button[type="submit"]');
  const fp = (f) => new crypto.X509Certificate(fs.readFileSync(f)).fingerprint256;
  await until('the saved state with the fingerprints', async () =>
    (await page.textContent('#logs-remote-cert-state')).includes(fp(pki.clientCert)), 15000);
  assert.match(await page.textContent('#logs-remote-cert-state'), /with its key/);
  assert.ok((await page.textContent('#logs-remote-ca-state')).includes(fp(pki.ca)));
  assert.equal(await page.inputValue('#logs-remote-key'), '', 'the key is never shown again');
  await page.screenshot({ path: path.join(TMP, 'admin-logs-remote.png'), fullPage: true });
  const pid = String(d.pid);
  const r = await d.ctl('volume', '63');
  assert.equal(r.code, 0, ctlFail(r, 'anyroomctl volume 63'));
  await until('"controls: speaker volume 63" from the admin room in the journal', async () =>
    (await journalEntries(journal)).some((e) => e.SYSLOG_PID === pid && e.MESSAGE === 'controls: speaker volume 63'));
  // The audit log: who changed which keys (names, never values).
  const audit = fs.readFileSync(path.join(state, 'audit.log'), 'utf8');
  assert.match(audit, /logs\.remote-key-pem/);
  assert.ok(!audit.includes('PRIVATE KEY'));
  await browser.close();
  browser = null;
}, 90000);

after(async () => {
  if (browser) await browser.close().catch(() => {});
  for (const d of Object.values(rooms)) await d.stop();
  for (const r of Object.values(rsyslogs)) if (r.p) await r.p.stop();
  for (const j of Object.values(journals)) if (j.p) await j.p.stop();
  for (const x of proxies) await x.p.stop();
  // Keep the logs, always remove the temp dir.
  try {
    fs.rmSync(OUT, { recursive: true, force: true });
    fs.mkdirSync(OUT, { recursive: true });
    for (const [n, d] of Object.entries(rooms)) fs.copyFileSync(d.log, path.join(OUT, `anyroomd-${n}.log`));
    if (fs.existsSync(path.join(TMP, 'admin-logs-remote.png'))) fs.copyFileSync(path.join(TMP, 'admin-logs-remote.png'), path.join(OUT, 'admin-logs-remote.png'));
    if (fs.existsSync(path.join(TMP, 'nginx', 'nginx-error.log'))) fs.copyFileSync(path.join(TMP, 'nginx', 'nginx-error.log'), path.join(OUT, 'nginx-error.log'));
    for (const j of Object.values(journals)) {
      if (fs.existsSync(j.log)) fs.copyFileSync(j.log, path.join(OUT, `journal-${j.name}.out`));
      const exp = await run('journalctl', ['--directory', j.out, '-o', 'short-precise', '--no-pager'], { timeoutMs: 20000 });
      fs.writeFileSync(path.join(OUT, `journal-${j.name}-received.txt`), exp.stdout);
    }
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
