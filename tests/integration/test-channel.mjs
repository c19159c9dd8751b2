// Integration: anyroomd follows an update channel (issue 15, part 2; docs/fleet.md "Update
// channels"). Debian's nginx serves the channel file over HTTPS with a test CA made here by
// openssl; the files are signed by rootfs/keys/sign-manifest.sh with throwaway development keys
// (rootfs/keys/gen-dev-keys.sh in the test's temporary folder); a real anyroomd polls it every
// second (ANYROOM_TEST_CHANNEL_POLL_SECONDS, tests only) and the test reads what it decided
// through `anyroomctl status --json`. There is no RAUC on the bus: the later steps follow the
// offered bundle up to the install (which fails for want of RAUC; tests/update/channel-install.sh
// installs one for real): a SHA-256 that is not the signed one, a server that ignores Range, a
// call that pauses the download (a WHIP join to a local endpoint that never answers: a fixture
// of this test that accepts and waits) and the resume with Range after it.
//
// Runs inside a private network namespace (tests/lab/in-netns.sh), TAP output:
//   tests/integration/run-in-lab.sh tests/integration/test-channel.mjs
// Logs: $AR_BUILD_DIR/meson-logs/lab/channel/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { buildDir, mkTemp, run, startAnyroomd, startProcess, tail } from '../lab/lab.mjs';
import { writeNginxConf } from '../lab/nginx.mjs';
import { stepper, until } from './common.mjs';

const { step, failed } = stepper({ timeout: 120000 });

const SRC = process.env.AR_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'channel');
const TMP = mkTemp('ar-it-channel-');
const STATE = path.join(TMP, 'state');
const WWW = path.join(TMP, 'www');
const KEYS = path.join(TMP, 'keys');
const TLS = path.join(TMP, 'tls');
const PORT = 8453;
const BOARD = 'qemu-x86_64';
const COMPATIBLE = 'anyroom-qemu-x86_64';
const RUNNING = '1.0.0';

let nginx = null;
let daemon = null;
let events = null; // anyroomctl events, into events.log
const signed = {}; // name -> the signed file's bytes

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const DAY = 86400000;

// A channel file's JSON: one release for this board, rolled out to every room.
function manifestJson({ serial, version, issued = Date.now() - 60000, expires = Date.now() + 14 * DAY, paused = false, bundle = null }) {
  return JSON.stringify({
    format: 1,
    channel: 'stable',
    serial,
    issued: iso(issued),
    expires: iso(expires),
    releases: [{
      version,
      bundles: {
        [COMPATIBLE]: bundle || {
          url: `https://bundles.example.org/anyroom-${version}.raucb?token=s3cr3t`,
          size: 312475648,
          sha256: 'ab'.repeat(32),
        },
      },
      rollout: { start: iso(Date.now() - DAY), percent_start: 100, paused },
    }],
  }, null, 2);
}

async function sign(name, json) {
  const inFile = path.join(TMP, `${name}.json`);
  const outFile = path.join(TMP, `${name}.manifest`);
  fs.writeFileSync(inFile, json);
  const r = await run('bash', [path.join(SRC, 'rootfs', 'keys', 'sign-manifest.sh'), inFile, outFile], {
    env: {
      ...process.env,
      ANYROOM_SIGNING_KEY: path.join(KEYS, 'signing.key.pem'),
      ANYROOM_SIGNING_CERT: path.join(KEYS, 'signing.cert.pem'),
      ANYROOM_KEYRING: path.join(KEYS, 'keyring.pem'),
    },
  });
  assert.equal(r.code, 0, `sign-manifest.sh ${name}: ${r.stderr}`);
  signed[name] = fs.readFileSync(outFile);
}

// What nginx serves from now on (a new file renamed over the old: never half a file).
function publish(bytes) {
  const tmp = path.join(WWW, '.stable.manifest.new');
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, path.join(WWW, 'stable.manifest'));
}

async function makeTls() {
  fs.mkdirSync(TLS, { recursive: true });
  const o = (args) => run('openssl', args, { timeoutMs: 30000 });
  let r = await o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(TLS, 'ca.key'), '-out', path.join(TLS, 'ca.pem'), '-days', '2',
    '-subj', '/CN=Anyroom channel test CA']);
  assert.equal(r.code, 0, `openssl CA: ${r.stderr}`);
  r = await o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(TLS, 'server.key'), '-out', path.join(TLS, 'server.csr'), '-subj', '/CN=127.0.0.1']);
  assert.equal(r.code, 0, `openssl server key: ${r.stderr}`);
  fs.writeFileSync(path.join(TLS, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  r = await o(['x509', '-req', '-in', path.join(TLS, 'server.csr'), '-CA', path.join(TLS, 'ca.pem'),
    '-CAkey', path.join(TLS, 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', path.join(TLS, 'ext.cnf'),
    '-out', path.join(TLS, 'server.pem')]);
  assert.equal(r.code, 0, `openssl server cert: ${r.stderr}`);
}

async function startNginx() {
  const conf = writeNginxConf(TMP, `
  log_format ranges '$status $body_bytes_sent "$http_range" $uri';
  access_log ${TMP}/nginx-access.log ranges;
  types { application/octet-stream manifest; }
  server {
    listen 127.0.0.1:${PORT} ssl;
    ssl_certificate ${TLS}/server.pem;
    ssl_certificate_key ${TLS}/server.key;
    root ${WWW};
    include ${TMP}/nginx-extra.conf;
  }
`);
  if (!fs.existsSync(path.join(TMP, 'nginx-extra.conf'))) fs.writeFileSync(path.join(TMP, 'nginx-extra.conf'), '');
  const p = startProcess('nginx', ['-c', conf, '-e', path.join(TMP, 'nginx-error.log')], { logFile: path.join(TMP, 'nginx.log') });
  await until('nginx', async () => {
    if (p.exited) throw new Error(`nginx exited: ${tail(path.join(TMP, 'nginx.log'))} ${tail(path.join(TMP, 'nginx-error.log'))}`);
    const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', path.join(TLS, 'ca.pem'),
      `https://127.0.0.1:${PORT}/stable.manifest`]);
    return r.stdout.trim() === '200';
  }, 15000);
  return p;
}

// nginx re-reads its config (SIGHUP to the master, our own child); waits until @check(url) holds.
async function reconfigureNginx(extra, check) {
  fs.writeFileSync(path.join(TMP, 'nginx-extra.conf'), extra);
  process.kill(nginx.pid, 'SIGHUP');
  await until('nginx reconfigured', async () => {
    const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', path.join(TLS, 'ca.pem'),
      `https://127.0.0.1:${PORT}/stable.manifest`]);
    return check(r.stdout.trim());
  }, 15000);
}

async function startDaemon({ ca = path.join(TLS, 'ca.pem'), autoInstall = false } = {}) {
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', 'name=Channel Room',
    '[device]', 'camera=test', 'microphone=test', 'speaker=none', 'display=none',
    '[admin]', 'listen=none',
    '[web]', 'enabled=false',
    '[update]', 'enabled=true',
    // No RAUC: a bus address where nothing listens (the board gives the compatible).
    `bus=unix:path=${TMP}/no-rauc-bus`,
    `version-file=${path.join(TMP, 'version')}`,
    `channel-url=https://127.0.0.1:${PORT}/stable.manifest`,
    'channel=stable',
    `channel-ca=${ca}`,
    `keyring=${path.join(KEYS, 'keyring.pem')}`,
    // Installing the offer (the later steps): any time, bundles from nginx with the test CA.
    `auto-install=${autoInstall}`,
    'window=00:00-24:00',
    `download-ca=${path.join(TLS, 'ca.pem')}`,
    '[call]', 'join-timeout=120',
    '',
  ].join('\n'));
  return startAnyroomd({
    tmp: TMP, board: BOARD, extraArgs: ['--config', conf, '--state-dir', STATE],
    env: { ANYROOM_TEST_CHANNEL_POLL_SECONDS: '1', ANYROOM_TEST_MACHINE_ID_FILE: path.join(TMP, 'machine-id') },
  });
}

async function channel() {
  const s = await daemon.status();
  assert.ok(s.update && s.update.channel, `no update.channel in the status: ${JSON.stringify(s.update)}`);
  return s.update.channel;
}

// Waits until the channel's status satisfies @fn (returns it).
const channelUntil = (what, fn, ms = 30000) => until(what, async () => {
  const c = await channel();
  return fn(c) ? c : null;
}, ms);

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  fs.mkdirSync(WWW, { recursive: true });
  fs.writeFileSync(path.join(TMP, 'version'), `${RUNNING}\n`);
  fs.writeFileSync(path.join(TMP, 'machine-id'), '0123456789abcdef0123456789abcdef\n');
  const r = await run('bash', [path.join(SRC, 'rootfs', 'keys', 'gen-dev-keys.sh'), KEYS], { timeoutMs: 60000 });
  assert.equal(r.code, 0, `gen-dev-keys.sh: ${r.stderr}`);
  await makeTls();
  await sign('s10', manifestJson({ serial: 10, version: '1.1.0' }));
  await sign('s11', manifestJson({ serial: 11, version: '1.2.0' }));
  await sign('s12-expired', manifestJson({ serial: 12, version: '1.3.0', issued: Date.now() - 20 * DAY, expires: Date.now() - DAY }));
  await sign('s13', manifestJson({ serial: 13, version: '1.3.0' }));
  await sign('s14-paused', manifestJson({ serial: 14, version: '1.4.0', paused: true }));
  await sign('s15-same', manifestJson({ serial: 15, version: RUNNING }));
  publish(signed.s10);
  nginx = await startNginx();
  daemon = await startDaemon();
  events = startProcess(daemon.ctlBin, ['--socket', daemon.socket, 'events'], { logFile: path.join(TMP, 'events.log') });
});

// The "update-channel" events anyroomctl printed so far.
function channelEvents() {
  let text = '';
  try { text = fs.readFileSync(path.join(TMP, 'events.log'), 'utf8'); } catch { /* none yet */ }
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    .filter((e) => e.event === 'update-channel');
}

after(async () => {
  if (events) await events.stop();
  if (daemon) await daemon.stop(10000);
  if (nginx) await nginx.stop();
  for (const f of ['anyroomd.log', 'events.log', 'nginx-access.log', 'nginx-error.log']) {
    try { fs.copyFileSync(path.join(TMP, f), path.join(OUT, f)); } catch { /* missing */ }
  }
  if (failed()) console.log(`# anyroomd log (last 80 lines):\n${tail(path.join(TMP, 'anyroomd.log'), 80).replace(/^/gm, '# ')}`);
  fs.rmSync(TMP, { recursive: true, force: true });
});

const stateFile = () => fs.readFileSync(path.join(STATE, 'update', 'channel-state'), 'utf8');

step('a good channel file is accepted: the offered release shows in the status, the serial is kept on disk', async () => {
  // The install step follows the offer from an idle callback: a status read in between shows
  // the offer with the install step still 'idle' (seen on a loaded machine).
  const c = await channelUntil('serial 10 accepted and its install step decided',
    (x) => x.serial === 10 && x.install && x.install.state !== 'idle');
  assert.equal(c.name, 'stable');
  assert.equal(c.url_host, '127.0.0.1', 'the origin is shown by its host only');
  assert.equal(c.error, null);
  assert.equal(c.state, 'offered');
  assert.ok(c.last_ok && c.last_check, 'last_check and last_ok set');
  assert.equal(c.offered.version, '1.1.0');
  assert.equal(c.offered.size, 312475648);
  assert.equal(c.offered.url_host, 'bundles.example.org', 'the bundle URL is shown by its host only');
  assert.ok(!JSON.stringify(c).includes('s3cr3t'), 'no URL query in the status');
  assert.match(stateFile(), /^serial=10$/m);
  assert.match(stateFile(), /^channel=stable$/m);
  const s = await daemon.status();
  assert.equal(s.update.phase, 'idle', 'nothing installs');
  assert.equal(c.install.auto, false);
  assert.equal(c.install.state, 'manual', 'auto-install=false: the offer waits for an administrator');
  assert.equal(c.install.version, '1.1.0');
});

step('a tampered file is refused: the error shows, the last good state is kept', async () => {
  const bad = Buffer.from(signed.s11);
  const at = bad.indexOf(Buffer.from('1.2.0'));
  assert.ok(at > 0, 'the version is inside the signed file');
  bad[at + 2] = '9'.charCodeAt(0); // 1.9.0: same length, signature broken
  publish(bad);
  const c = await channelUntil('the tampered file refused', (x) => x.error !== null);
  assert.match(c.error, /signature verification failed/);
  assert.ok(c.failures >= 1);
  assert.equal(c.serial, 10);
  assert.equal(c.state, 'offered');
  assert.equal(c.offered.version, '1.1.0');
  assert.match(stateFile(), /^serial=10$/m);
  await until('an update-channel event with the error', async () =>
    channelEvents().some((e) => e.channel.serial === 10 && /signature verification failed/.test(e.channel.error || '')), 10000);
});

step('a newer good file is accepted again; an expired one is refused', async () => {
  publish(signed.s11);
  let c = await channelUntil('serial 11 accepted', (x) => x.serial === 11 && x.error === null);
  assert.equal(c.offered.version, '1.2.0');
  assert.equal(c.failures, 0);
  await until('an update-channel event offering 1.2.0', async () =>
    channelEvents().some((e) => e.channel.serial === 11 && e.channel.error === null &&
      e.channel.state === 'offered' && e.channel.offered.version === '1.2.0'), 10000);
  publish(signed['s12-expired']);
  c = await channelUntil('the expired file refused', (x) => x.error !== null);
  assert.match(c.error, /expired/);
  assert.equal(c.serial, 11);
  assert.equal(c.offered.version, '1.2.0');
});

step('after a restart, a replayed older serial is refused (the serial seen was kept on disk)', async () => {
  // An event for each change, not for each poll: serial 11 accepted once, no more while it held.
  assert.equal(channelEvents().filter((e) => e.channel.serial === 11 && e.channel.error === null).length, 1,
    JSON.stringify(channelEvents()));
  await events.stop();
  events = null;
  await daemon.stop(10000);
  daemon = null;
  publish(signed.s10);
  daemon = await startDaemon();
  const c = await channelUntil('the replayed file refused', (x) => x.error !== null);
  assert.match(c.error, /serial 10 is older than the last accepted 11/);
  assert.equal(c.serial, 11);
  assert.equal(c.state, null, 'nothing offered from a refused file after the restart');
  assert.equal(c.offered, null);
  assert.match(stateFile(), /^serial=11$/m);
});

step('an HTTP error and an oversized file are refused, the last good state kept', async () => {
  publish(signed.s13);
  await channelUntil('serial 13 accepted', (x) => x.serial === 13 && x.error === null);
  fs.rmSync(path.join(WWW, 'stable.manifest'));
  let c = await channelUntil('the 404 shown', (x) => x.error !== null);
  assert.match(c.error, /HTTP 404/);
  assert.equal(c.serial, 13);
  publish(Buffer.concat([signed.s13, Buffer.alloc(400 * 1024, 0x20)]));
  c = await channelUntil('the oversized file refused', (x) => /larger than 320 KiB/.test(x.error || ''));
  assert.equal(c.serial, 13);
  assert.equal(c.offered.version, '1.3.0');
});

step('the origin down: failures count up with the error shown; back up, the room recovers', async () => {
  publish(signed.s13);
  await channelUntil('serial 13 accepted', (x) => x.serial === 13 && x.error === null);
  await nginx.stop();
  nginx = null;
  const c = await channelUntil('the origin unreachable', (x) => x.failures >= 2);
  assert.match(c.error, /download failed/);
  assert.equal(c.serial, 13);
  assert.equal(c.offered.version, '1.3.0', 'the last good offer is kept');
  nginx = await startNginx();
  const back = await channelUntil('recovered', (x) => x.error === null && x.failures === 0);
  assert.equal(back.serial, 13);
  assert.equal(back.state, 'offered');
  const log = fs.readFileSync(path.join(TMP, 'anyroomd.log'), 'utf8');
  assert.ok(!log.includes('s3cr3t'), 'no bundle URL query in the log');
  assert.match(log, /update: channel stable from 127\.0\.0\.1: download failed/);
});

step('a paused release shows as waiting, the running version as up to date', async () => {
  publish(signed['s14-paused']);
  let c = await channelUntil('serial 14 accepted', (x) => x.serial === 14 && x.error === null);
  assert.equal(c.state, 'waiting');
  assert.equal(c.offered.version, '1.4.0');
  assert.equal(c.offered.rollout_share, 0, 'a paused rollout reaches nobody');
  publish(signed['s15-same']);
  c = await channelUntil('serial 15 accepted', (x) => x.serial === 15 && x.error === null);
  assert.equal(c.state, 'up-to-date');
  assert.equal(c.offered, null);
});

step('https only: a redirect to http:// is refused; an origin with a certificate from another CA too', async () => {
  await reconfigureNginx(`location = /stable.manifest { return 302 http://127.0.0.1:${PORT}/plain.manifest; }\n`,
    (code) => code === '302');
  let c = await channelUntil('the redirect refused', (x) => /not https/.test(x.error || ''));
  assert.match(c.error, /redirected to a URL that is not https:\/\//);
  assert.equal(c.serial, 15);
  await reconfigureNginx('', (code) => code === '200');
  await channelUntil('recovered', (x) => x.error === null);
  // channel-ca: the bundles' signing CA, which did not issue nginx's certificate.
  await events?.stop();
  events = null;
  await daemon.stop(10000);
  daemon = await startDaemon({ ca: path.join(KEYS, 'keyring.pem') });
  c = await channelUntil('the untrusted origin refused', (x) => x.error !== null);
  assert.match(c.error, /download failed: .*certificate/i);
  assert.equal(c.serial, 15, 'the serial seen is kept');
  assert.equal(c.state, null);
});

// ---- installing the offer (docs/fleet.md "Installing the offered release") ----

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const PART = path.join(STATE, 'update', 'channel.raucb');
const partSize = () => { try { return fs.statSync(PART).size; } catch { return 0; } };
// nginx's access log: [{status, bytes, range, uri}] (log_format ranges).
function accessLog() {
  let text = '';
  try { text = fs.readFileSync(path.join(TMP, 'nginx-access.log'), 'utf8'); } catch { /* none yet */ }
  return text.split('\n').map((l) => l.match(/^(\d+) (\d+) "([^"]*)" (\S+)$/)).filter(Boolean)
    .map((m) => ({ status: Number(m[1]), bytes: Number(m[2]), range: m[3], uri: m[4] }));
}
// A "bundle" nginx serves (random bytes: RAUC is not here; the room checks size and SHA-256).
function bundleFile(name, size) {
  const bytes = crypto.randomBytes(size);
  fs.writeFileSync(path.join(WWW, name), bytes);
  return { url: `https://127.0.0.1:${PORT}/${name}?token=s3cr3t`, size, sha256: sha256(bytes) };
}
const install = async () => (await channel()).install;
const installUntil = (what, fn, ms = 30000) => until(what, async () => {
  const i = await install();
  return fn(i) ? i : null;
}, ms);

step('a bundle whose SHA-256 is not the signed one is deleted, the error shown, and tried again after a backoff', async () => {
  const b = bundleFile('b-2.0.0.raucb', 300 * 1024);
  await sign('s16-badsha', manifestJson({ serial: 16, version: '2.0.0', bundle: { ...b, sha256: 'cd'.repeat(32) } }));
  publish(signed['s16-badsha']);
  await events?.stop();
  events = null;
  await daemon.stop(10000);
  daemon = await startDaemon({ autoInstall: true });
  const i = await installUntil('two refused downloads', (x) => x.failures >= 2);
  assert.match(i.error, /SHA-256 is not the one the channel signed/);
  assert.equal(i.auto, true);
  assert.equal(i.window, '00:00-24:00');
  assert.equal(i.window_open, true);
  // Each try fetched the whole file from byte 0: the refused file was not kept to resume.
  const gets = accessLog().filter((l) => l.uri === '/b-2.0.0.raucb');
  assert.ok(gets.length >= 2, JSON.stringify(gets));
  for (const g of gets.slice(0, 2)) assert.deepEqual([g.status, g.bytes, g.range], [200, b.size, '-']);
  const log = fs.readFileSync(path.join(TMP, 'anyroomd.log'), 'utf8');
  assert.match(log, /update: channel release 2\.0\.0: refused: the downloaded bundle's SHA-256/);
  assert.ok(!log.includes('s3cr3t'), 'no bundle URL query in the log');
});

step('the signed bundle is downloaded and checked, then installed in the window (here RAUC is absent: the install says so)', async () => {
  const b = bundleFile('b-2.0.1.raucb', 300 * 1024);
  signed.bundle201 = b;
  await sign('s17', manifestJson({ serial: 17, version: '2.0.1', bundle: b }));
  publish(signed.s17);
  const i = await installUntil('the install tried', (x) => x.version === '2.0.1' && /no RAUC/.test(x.error || ''));
  assert.ok(i.failures >= 1);
  assert.ok(accessLog().some((l) => l.uri === '/b-2.0.1.raucb' && l.status === 200 && l.bytes === b.size));
  const s = await daemon.status();
  assert.notEqual(s.update.phase, 'installing');
});

step('a server that ignores Range sends the whole file: the room starts again from byte 0', async () => {
  const b = signed.bundle201;
  await events?.stop();
  events = null;
  await daemon.stop(10000);
  // A partial download of s17's bundle and its record, as a room keeps them.
  fs.mkdirSync(path.dirname(PART), { recursive: true });
  fs.writeFileSync(PART, fs.readFileSync(path.join(WWW, 'b-2.0.1.raucb')).subarray(0, 1000));
  fs.writeFileSync(`${PART}.info`, `[download]\nurl=${b.url}\nsha256=${b.sha256}\nsize=${b.size}\n`);
  await reconfigureNginx('max_ranges 0;\n', (code) => code === '200');
  const before = accessLog().length;
  daemon = await startDaemon({ autoInstall: true });
  await installUntil('the install tried again', (x) => x.version === '2.0.1' && /no RAUC/.test(x.error || ''));
  const lines = accessLog().slice(before).filter((l) => l.uri === '/b-2.0.1.raucb');
  assert.deepEqual([lines[0].status, lines[0].bytes, lines[0].range], [200, b.size, 'bytes=1000-'],
    JSON.stringify(lines));
  const log = fs.readFileSync(path.join(TMP, 'anyroomd.log'), 'utf8');
  assert.match(log, /resuming the download at byte 1000 of 307200/);
  assert.match(log, /the server sent the whole bundle again \(HTTP 200, not 206\): starting from byte 0/);
  await reconfigureNginx('', (code) => code === '200');
});

step('a call pauses the download (the transfer stops); after the call it resumes with a Range request', async () => {
  // A WHIP endpoint that accepts and never answers: the call stays "joining" (a fixture).
  const held = [];
  const silent = net.createServer((s) => held.push(s));
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    await reconfigureNginx('limit_rate 32k;\n', (code) => code === '200');
    const b = bundleFile('b-2.1.0.raucb', 512 * 1024);
    await sign('s18', manifestJson({ serial: 18, version: '2.1.0', bundle: b }));
    publish(signed.s18);
    await until('the download under way', async () => partSize() >= 32 * 1024 && (await install()).state === 'downloading', 30000);
    const join = daemon.ctl('join', `whip+http://127.0.0.1:${silent.address().port}/whip/room#token=lab-token`);
    await until('joining', async () => (await daemon.status()).state === 'joining', 15000);
    const i = await installUntil('paused for the call', (x) => x.state === 'paused-call');
    assert.equal(i.in_call, true);
    // nginx logs a request when it ends: the room closed the transfer, short of the size.
    const cut = await until('the transfer closed', async () =>
      accessLog().find((l) => l.uri === '/b-2.1.0.raucb' && l.status === 200 && l.bytes < b.size), 15000);
    const kept = partSize();
    assert.ok(kept >= cut.bytes - 256 * 1024 && kept < b.size, `kept ${kept}, sent ${cut.bytes}`);
    assert.equal((await install()).state, 'paused-call', 'no new transfer during the call');
    await reconfigureNginx('', (code) => code === '200');
    await daemon.ctl('leave');
    await join.catch(() => {});
    const done = await installUntil('downloaded after the call', (x) => x.version === '2.1.0' && /no RAUC/.test(x.error || ''));
    const resumed = accessLog().find((l) => l.uri === '/b-2.1.0.raucb' && l.status === 206);
    assert.ok(resumed, JSON.stringify(accessLog().filter((l) => l.uri === '/b-2.1.0.raucb')));
    assert.equal(resumed.range, `bytes=${kept}-`);
    assert.equal(resumed.bytes, b.size - kept);
    assert.equal(done.resumed_from, kept);
  } finally {
    for (const s of held) s.destroy();
    silent.close();
  }
});

step('a bundle over max-bundle-size is refused before any byte is fetched', async () => {
  const before = accessLog().length;
  await sign('s19-huge', manifestJson({ serial: 19, version: '2.2.0',
    bundle: { url: `https://127.0.0.1:${PORT}/b-2.2.0.raucb?token=s3cr3t`, size: 3 * 1024 ** 3, sha256: 'ef'.repeat(32) } }));
  publish(signed['s19-huge']);
  const i = await installUntil('refused', (x) => x.version === '2.2.0' && x.failures >= 1);
  assert.match(i.error, /the channel's bundle \(3221225472 bytes\) is larger than max-bundle-size \(2048 MiB\)/);
  assert.equal(accessLog().slice(before).filter((l) => l.uri === '/b-2.2.0.raucb').length, 0, 'not fetched');
});
