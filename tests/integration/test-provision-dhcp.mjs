// Integration: zero-touch provisioning from a URL given by DHCP (issue 15, part 3; docs/fleet.md
// "Provisioning a hundred rooms", step 3). Real parts: Debian's dnsmasq answers DHCP with the
// private option 224 (given to the vendor class "anyroom" only, as docs/fleet.md tells an
// administrator), Debian's nginx serves the signed file over HTTPS with a test CA made here by
// openssl, and the client is the one the image runs: systemd-networkd, with the image's own
// [DHCPv4] section (rootfs/overlay/etc/systemd/network/20-wired.network), standalone as root in
// a mount namespace of its own (its /run/systemd is a folder of this test's, no D-Bus, /sys
// read-only so that it does not wait for udev). A real anyroomd watches that networkd's lease
// folder (ANYROOM_TEST_DHCP_LEASES, tests only), fetches, checks, and exits to be restarted
// (status 75, as systemd's RestartForceExitStatus= does on the device: here the test restarts
// it); the next start applies the file. Files are signed by rootfs/keys/sign-provisioning.sh
// with throwaway development keys. The slow server is a fixture of this test (it accepts and
// never answers). Refused, each with one line and the room unprovisioned and serving: a file
// over 128 KiB, a file signed by a key the room does not trust, a server that never answers
// (the deadline, ANYROOM_TEST_DHCP_SECONDS=3, tests only), an http:// URL (never fetched).
//
// Topology: the lab's namespace (tests/lab/in-netns.sh) is the room's: networkd, anyroomd and
// this test; a second network namespace (held by a `sleep` of ours) is the LAN's servers:
// dnsmasq and nginx on 10.99.0.1, joined by a veth pair (room end dr0, no address until DHCP).
//   tests/integration/run-in-lab.sh tests/integration/test-provision-dhcp.mjs
// Logs: $AR_BUILD_DIR/meson-logs/lab/provision-dhcp/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildDir, mkTemp, run, startAnyroomd, startProcess, tail } from '../lab/lab.mjs';
import { writeNginxConf } from '../lab/nginx.mjs';
import { stepper, until } from './common.mjs';
import { PROVISION_TOOL as TOOL, auditLines as readAudit, roomRequest, signProvisioning } from './provision-common.mjs';

const { step, failed } = stepper({ timeout: 60000 });

const SRC = process.env.AR_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'provision-dhcp');
const NETWORKD = '/usr/lib/systemd/systemd-networkd';
const TMP = mkTemp('ar-it-provision-dhcp-');
const KEYS = path.join(TMP, 'keys');
const OTHER_KEYS = path.join(TMP, 'other-keys');
const TLS = path.join(TMP, 'tls');
const WWW = path.join(TMP, 'www');
const RUN = path.join(TMP, 'run-systemd'); // networkd's /run/systemd
const LEASES = path.join(RUN, 'netif', 'leases');
const SERVER = '10.99.0.1';
const ROOM_ADDR = '10.99.0.50';
const HTTPS_PORT = 8453;
const HTTP_PORT = 8081;
const ADMIN_PORT = 8464;
const BOARD = 'qemu-x86_64';
const COMPATIBLE = 'anyroom-qemu-x86_64';
const MACHINE = '0123456789abcdef0123456789abcdef';
const PASSWORD = 'dhcp provisioned 4711';
const ORIGIN = `https://127.0.0.1:${ADMIN_PORT}`;
const SOURCE = `dhcp:https://${SERVER}/`;
// The good URL carries a token in its path and query: neither may reach a log.
const GOOD_URL = `https://${SERVER}:${HTTPS_PORT}/rooms/floor4.cms?token=s3cr3t-4711`;

let holder = null; // the servers' namespace
let dnsmasq = null;
let nginx = null;
let networkd = null;
let slow = null; // the fixture that never answers
let daemon = null;
let runs = 0;
let state = null;
let passwordHash = null;

const hex = (s) => Buffer.from(s).toString('hex');
const inServers = (cmd, args) => ['nsenter', [`--net=/proc/${holder.pid}/ns/net`, cmd, ...args]];

async function sh(cmd, args) {
  const r = await run(cmd, args, { timeoutMs: 30000 });
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const sign = (name, json, keys = KEYS) => signProvisioning({ tmp: TMP, name, json, keys });

const fileJson = (room) => ({
  format: 1,
  serial: 12,
  boards: [COMPATIBLE],
  admin: { 'password-hash': passwordHash },
  settings: { room: { name: room, 'time-zone': 'Europe/Berlin' } },
});

async function makeTls() {
  fs.mkdirSync(TLS, { recursive: true });
  const o = (args) => sh('openssl', args);
  await o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(TLS, 'ca.key'), '-out', path.join(TLS, 'ca.pem'), '-days', '2',
    '-subj', '/CN=Anyroom provisioning test CA']);
  await o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(TLS, 'server.key'), '-out', path.join(TLS, 'server.csr'), '-subj', `/CN=${SERVER}`]);
  fs.writeFileSync(path.join(TLS, 'ext.cnf'), `subjectAltName=IP:${SERVER}\nextendedKeyUsage=serverAuth\n`);
  await o(['x509', '-req', '-in', path.join(TLS, 'server.csr'), '-CA', path.join(TLS, 'ca.pem'),
    '-CAkey', path.join(TLS, 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', path.join(TLS, 'ext.cnf'),
    '-out', path.join(TLS, 'server.pem')]);
}

// The LAN's servers: a network namespace of their own, a veth pair to the room's.
async function makeServersNet() {
  holder = startProcess('unshare', ['--net', 'sleep', '3600'], { logFile: path.join(TMP, 'holder.log') });
  await until('the servers\' namespace', () => {
    try {
      return fs.readlinkSync(`/proc/${holder.pid}/ns/net`) !== fs.readlinkSync('/proc/self/ns/net');
    } catch { return false; }
  }, 5000, 20);
  await sh('ip', ['link', 'add', 'dr0', 'type', 'veth', 'peer', 'name', 'ds0', 'netns', String(holder.pid)]);
  for (const args of [['link', 'set', 'lo', 'up'], ['addr', 'add', `${SERVER}/24`, 'dev', 'ds0'], ['link', 'set', 'ds0', 'up']]) {
    await sh(...inServers('ip', args));
  }
}

async function startNginx() {
  const conf = writeNginxConf(TMP, `
  log_format plain '$server_port $status $body_bytes_sent $request_uri';
  access_log ${TMP}/nginx-access.log plain;
  default_type application/octet-stream;
  server {
    listen ${SERVER}:${HTTPS_PORT} ssl;
    ssl_certificate ${TLS}/server.pem;
    ssl_certificate_key ${TLS}/server.key;
    root ${WWW};
  }
  server {
    listen ${SERVER}:${HTTP_PORT};
    root ${WWW};
  }
`);
  nginx = startProcess(...inServers('nginx', ['-c', conf]), { logFile: path.join(TMP, 'nginx.log') });
  await until('nginx', async () => (await run(...inServers('bash', ['-c', `exec 3<>/dev/tcp/${SERVER}/${HTTPS_PORT}`]), { timeoutMs: 5000 })).code === 0, 10000, 100);
}

// dnsmasq gives option 224 (@url) to the vendor class "anyroom" only, as docs/fleet.md shows.
async function startDnsmasq(url) {
  if (dnsmasq) await dnsmasq.stop();
  fs.rmSync(path.join(TMP, 'dnsmasq.leases'), { force: true });
  // The two option lines as docs/fleet.md gives them to an administrator.
  const conf = path.join(TMP, 'dnsmasq.conf');
  fs.writeFileSync(conf, [
    // no-ping: the address is the test's alone (dnsmasq would wait for an echo first).
    'port=0', 'interface=ds0', 'bind-interfaces', 'no-ping', `dhcp-range=${ROOM_ADDR},${ROOM_ADDR},255.255.255.0,10m`,
    'dhcp-vendorclass=set:anyroom,anyroom', `dhcp-option=tag:anyroom,224,"${url}"`,
    `dhcp-leasefile=${TMP}/dnsmasq.leases`, `pid-file=${TMP}/dnsmasq.pid`, 'user=root', 'log-dhcp', '',
  ].join('\n'));
  dnsmasq = startProcess(...inServers('dnsmasq', ['--no-daemon', `--conf-file=${conf}`]),
    { logFile: path.join(TMP, 'dnsmasq.log') });
}

function leaseHas(url) {
  if (!fs.existsSync(LEASES)) return false;
  return fs.readdirSync(LEASES).some((f) => {
    try { return fs.readFileSync(path.join(LEASES, f), 'utf8').includes(`OPTION_224=${hex(url)}\n`); } catch { return false; }
  });
}

async function startNetworkd() {
  const empty = path.join(TMP, 'empty');
  fs.mkdirSync(empty, { recursive: true });
  const script = [
    'set -e', 'mount --make-rprivate /', `mount --bind ${RUN} /run/systemd`,
    'if [ -d /run/dbus ]; then mount -t tmpfs tmpfs /run/dbus; fi',
    `mount --bind ${empty} /etc/systemd/network`, `mount --bind ${empty} /usr/lib/systemd/network`,
    'mount -o remount,bind,ro /sys', `exec ${NETWORKD}`,
  ].join('\n');
  networkd = startProcess('unshare', ['-m', 'sh', '-c', script], {
    logFile: path.join(TMP, 'networkd.log'), env: { ...process.env, SYSTEMD_LOG_LEVEL: 'debug' },
  });
}

// The LAN hands out @url from now on: a fresh DHCP exchange (networkd started again) and a
// lease that carries it.
async function lan(url) {
  if (networkd) await networkd.stop();
  fs.rmSync(LEASES, { recursive: true, force: true });
  await startDnsmasq(url);
  await startNetworkd();
  const t0 = Date.now();
  await until(`networkd's lease with option 224 = ${url}`, () => leaseHas(url), 30000, 100);
  console.log(`# networkd's lease in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

async function start(dir, { name = null } = {}) {
  await stop(); // one at a time (its binary is copied over the last one's)
  state = dir;
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', 'name=Unprovisioned',
    '[device]', 'camera=test', 'microphone=test', 'speaker=none', 'display=none',
    '[admin]', `listen=127.0.0.1:${ADMIN_PORT}`,
    '[web]', 'enabled=false',
    '[update]', `bus=unix:path=${TMP}/no-rauc-bus`, `keyring=${path.join(KEYS, 'keyring.pem')}`,
    '[provision]', `sources=${path.join(TMP, 'no-data-partition.cms')};dhcp`, `dhcp-ca=${path.join(TLS, 'ca.pem')}`,
    '',
  ].join('\n'));
  runs++;
  daemon = await startAnyroomd({
    tmp: TMP, board: BOARD, log: name || `anyroomd-${runs}.log`,
    extraArgs: ['--config', conf, '--state-dir', dir],
    env: {
      ANYROOM_TEST_MACHINE_ID_FILE: path.join(TMP, 'machine-id'),
      ANYROOM_TEST_DHCP_LEASES: LEASES,
      ANYROOM_TEST_DHCP_SECONDS: '3',
    },
  });
  return daemon;
}

async function stop() {
  if (daemon) await daemon.stop(10000);
  daemon = null;
}

const log = () => fs.readFileSync(daemon.log, 'utf8');
const waitLog = (what, re, ms = 30000) => until(what, () => re.test(log()), ms, 100);

const auditLines = (stream) => readAudit(state, stream);
const req = (opts) => roomRequest(state, ADMIN_PORT, opts);

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// A refusal: one line naming the source by host, the room unprovisioned and serving, and
// (for what the server gave) one audit entry however often it is tried.
async function refused(name, url, lineRe, { audited }) {
  await lan(url);
  await start(path.join(TMP, `state-${name}`));
  try {
    // Tried again with the backoff (every 3 s here): one line each time, one audit entry.
    // (Which try says it is not asserted: on a loaded machine a first try may hit the deadline.)
    const count = () => log().split('\n').filter((l) => lineRe.test(l)).length;
    await until(`${name}: the refusal, twice`, () => count() >= 2, 40000, 100);
    assert.match(log(), /\(try [2-9]\d*; again in \d+ s; the room stays as it is\)/);
    assert.ok(!log().includes('anyroomd restarts'), `${name}: no restart`);
    assert.equal(daemon.child.exitCode, null, `${name}: anyroomd keeps running`);
    assert.equal((await daemon.status()).room_name, 'Unprovisioned', `${name}: the room is as it was`);
    const s = await req({ path: '/api/v1/session' });
    assert.equal(s.json.setup_required, true, `${name}: still to be set up`);
    for (const f of ['admin-password', 'provisioned.json', 'provision-dhcp.cms']) {
      assert.ok(!fs.existsSync(path.join(state, f)), `${name}: nothing taken, but ${f} exists`);
    }
    const entries = auditLines('unauth').filter((e) => e.event === 'provision_refused');
    if (audited) {
      assert.equal(entries.length, 1, `${name}: one provision_refused entry: ${JSON.stringify(entries)}`);
      assert.match(entries[0].detail, audited, `${name}: the reason`);
      assert.ok(!entries[0].detail.includes('\n'));
    } else {
      assert.equal(entries.length, 0, `${name}: a transport failure is not the file's: only logged`);
    }
    return entries;
  } finally {
    await stop();
  }
}

before(async () => {
  const t0 = Date.now();
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  for (const [bin, pkg] of [['dnsmasq', 'dnsmasq-base'], ['nginx', 'nginx-light'], ['nsenter', 'util-linux']]) {
    const r = await run('sh', ['-c', `command -v ${bin}`]);
    if (r.code !== 0) throw new Error(`${bin} is missing (./build.sh deps installs ${pkg})`);
  }
  if (!fs.existsSync(NETWORKD)) throw new Error(`${NETWORKD} is missing (Debian's systemd package)`);
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(TMP, 'machine-id'), `${MACHINE}\n`);
  // networkd drops to systemd-network and writes its state there.
  const uid = Number(execFileSync('id', ['-u', 'systemd-network']).toString());
  const gid = Number(execFileSync('id', ['-g', 'systemd-network']).toString());
  fs.mkdirSync(path.join(RUN, 'netif'), { recursive: true });
  fs.chownSync(path.join(RUN, 'netif'), uid, gid);
  // The image's own [DHCPv4] section, matched to the room's end of the veth pair.
  const image = fs.readFileSync(path.join(SRC, 'rootfs', 'overlay', 'etc', 'systemd', 'network', '20-wired.network'), 'utf8');
  assert.match(image, /^RequestOptions=224$/m, 'the image asks for option 224');
  fs.mkdirSync(path.join(RUN, 'network'), { recursive: true });
  fs.writeFileSync(path.join(RUN, 'network', '20-wired.network'), image.replace(/^Type=ether$/m, 'Name=dr0'));
  for (const k of [KEYS, OTHER_KEYS]) {
    const r = await run('bash', [path.join(SRC, 'rootfs', 'keys', 'gen-dev-keys.sh'), k], { timeoutMs: 60000 });
    assert.equal(r.code, 0, `gen-dev-keys.sh: ${r.stderr}`);
  }
  const r = await run(TOOL, ['password-hash'], { input: `${PASSWORD}\n` });
  assert.equal(r.code, 0, r.stderr);
  passwordHash = r.stdout.trim();
  await makeTls();
  fs.mkdirSync(path.join(WWW, 'rooms'), { recursive: true });
  fs.writeFileSync(path.join(WWW, 'rooms', 'floor4.cms'), await sign('good', fileJson('DHCP Room 12')));
  fs.writeFileSync(path.join(WWW, 'other-signer.cms'), await sign('other', fileJson('Other Signer'), OTHER_KEYS));
  fs.writeFileSync(path.join(WWW, 'big.cms'), Buffer.alloc(200 * 1024, 0x30));
  await makeServersNet();
  await startNginx();
  slow = net.createServer((sock) => { sock.on('error', () => {}); }); // accepts, never answers
  await new Promise((res) => slow.listen(0, '127.0.0.1', res));
  console.log(`# set-up (keys, signed files, TLS, namespaces, nginx): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

after(async () => {
  await stop();
  for (const p of [networkd, dnsmasq, nginx]) if (p) await p.stop();
  if (holder) await holder.stop(); // the namespace and the veth pair go with it
  if (slow) slow.close();
  for (const f of fs.readdirSync(TMP).filter((n) => /^(anyroomd-.*|networkd|dnsmasq|nginx.*)\.log$/.test(n))) {
    try { fs.copyFileSync(path.join(TMP, f), path.join(OUT, f)); } catch { /* missing */ }
  }
  if (failed() && runs) {
    console.log(`# last anyroomd log:\n${tail(path.join(TMP, `anyroomd-${runs}.log`), 60).replace(/^/gm, '# ')}`);
    console.log(`# networkd log:\n${tail(path.join(TMP, 'networkd.log'), 20).replace(/^/gm, '# ')}`);
  }
  fs.rmSync(TMP, { recursive: true, force: true });
});

step('a new room waits for the network; networkd\'s lease brings option 224; the room fetches, checks, restarts', async () => {
  const dir = path.join(TMP, 'state-good');
  fs.rmSync(LEASES, { recursive: true, force: true });
  await start(dir); // no lease yet: the network comes later
  await waitLog('the watcher', /provision: no provisioning file yet: watching the DHCP leases/);
  assert.equal((await daemon.status()).room_name, 'Unprovisioned');
  await lan(GOOD_URL);
  // (startAnyroomd's object copies `exited` once: the child itself tells.)
  await until('anyroomd exits to be restarted', () => daemon.child.exitCode !== null, 30000, 100).catch(async (e) => {
    await stop();
    throw e;
  });
  assert.equal(daemon.child.exitCode, 75, 'the exit status systemd restarts (RestartForceExitStatus=75)');
  const text = log();
  assert.match(text, new RegExp(`provision: DHCP option 224 gives ${escape(SOURCE)}`));
  assert.match(text, new RegExp(`provision: ${escape(SOURCE)}: a good provisioning file \\(serial 12, sha256 [0-9a-f]{16}\\): anyroomd restarts to apply it`));
  const access = fs.readFileSync(path.join(TMP, 'nginx-access.log'), 'utf8');
  assert.match(access, new RegExp(`^${HTTPS_PORT} 200 \\d+ /rooms/floor4\\.cms\\?token=s3cr3t-4711$`, 'm'), 'fetched once over https');
  assert.match(fs.readFileSync(path.join(TMP, 'dnsmasq.log'), 'utf8'), /vendor class: anyroom/, 'networkd sends the image\'s vendor class');
  assert.ok(fs.existsSync(path.join(dir, 'provision-dhcp.cms')), 'the file waits in the state dir');
  daemon = null;
});

step('the restart applies it: name, password, audit entry and record name the source by host only', async () => {
  const dir = path.join(TMP, 'state-good');
  await start(dir);
  assert.equal((await daemon.status()).room_name, 'DHCP Room 12');
  const login = await req({ method: 'POST', path: '/api/v1/login', headers: { Origin: ORIGIN }, body: { password: PASSWORD } });
  assert.equal(login.status, 200, `the file's password logs in: ${login.status} ${login.text}`);
  const wrong = await req({ method: 'POST', path: '/api/v1/login', headers: { Origin: ORIGIN }, body: { password: 'not it' } });
  assert.equal(wrong.status, 401);
  const entries = auditLines('auth').filter((e) => e.event === 'provisioned');
  assert.equal(entries.length, 1);
  assert.equal(entries[0].client, SOURCE);
  assert.equal(entries[0].actor, 'provisioning');
  assert.match(entries[0].detail, /^serial 12, sha256 [0-9a-f]{16}; settings room\.name, room\.time-zone; admin password$/);
  const record = JSON.parse(fs.readFileSync(path.join(dir, 'provisioned.json'), 'utf8'));
  assert.equal(record.source, SOURCE);
  assert.match(log(), new RegExp(`provision: applied ${escape(SOURCE)} `));
  assert.ok(!log().includes('watching the DHCP leases'), 'a provisioned room does not watch DHCP');
  assert.ok(!fs.existsSync(path.join(dir, 'provision-dhcp.cms')), 'the fetched file is gone once taken');
  for (const f of [...fs.readdirSync(TMP).filter((n) => n.startsWith('anyroomd-')).map((n) => path.join(TMP, n)),
    path.join(dir, 'audit.log'), path.join(dir, 'audit-unauth.log'), path.join(dir, 'provisioned.json')]) {
    if (!fs.existsSync(f)) continue;
    const t = fs.readFileSync(f, 'utf8');
    assert.ok(!t.includes('s3cr3t-4711') && !t.includes('floor4'), `${path.basename(f)}: the URL by host only`);
  }
  await stop();
});

step('refused: a file over 128 KiB (one line, one audit entry, tried again with a backoff)', async () => {
  const url = `https://${SERVER}:${HTTPS_PORT}/big.cms`;
  await refused('big', url, new RegExp(`provision: ${escape(SOURCE)}: the file is larger than 128 KiB \\(try \\d+;`),
    { audited: /^the file is larger than 128 KiB$/ });
});

step('refused: a file signed by a key the room does not trust', async () => {
  const url = `https://${SERVER}:${HTTPS_PORT}/other-signer.cms`;
  const entries = await refused('other-signer', url, new RegExp(`provision: ${escape(SOURCE)}: .*signature verification failed.*\\(try \\d+;`),
    { audited: /^signature verification failed/ });
  assert.equal(entries[0].client, SOURCE);
});

step('refused: a server that never answers (the deadline)', async () => {
  const url = `https://127.0.0.1:${slow.address().port}/rooms.cms`;
  await refused('slow', url, /provision: dhcp:https:\/\/127\.0\.0\.1\/: no whole answer within 3 s \(try \d+;/, { audited: null });
});

step('refused: an http:// URL, never fetched', async () => {
  const url = `http://${SERVER}:${HTTP_PORT}/rooms/floor4.cms`;
  await lan(url);
  await start(path.join(TMP, 'state-http'));
  try {
    const re = new RegExp(`provision: dhcp: DHCP option 224 \\(http://${escape(SERVER)}/\\) is refused: only https:// is taken`);
    await waitLog('the refusal', re);
    // networkd renews nothing here; a look later (the watcher's rescan) says nothing new.
    assert.equal(log().split('\n').filter((l) => re.test(l)).length, 1, 'said once');
    assert.equal((await daemon.status()).room_name, 'Unprovisioned');
    const entries = auditLines('unauth').filter((e) => e.event === 'provision_refused');
    assert.equal(entries.length, 1);
    assert.equal(entries[0].client, 'dhcp');
    const access = fs.readFileSync(path.join(TMP, 'nginx-access.log'), 'utf8');
    assert.ok(!new RegExp(`^${HTTP_PORT} `, 'm').test(access), 'nothing asked over plain http');
  } finally {
    await stop();
  }
});
