// Integration: zero-touch provisioning (issue 15, part 3; docs/fleet.md "Provisioning a hundred
// rooms"). A real anyroomd starts with a fresh state dir and a provisioning file at its
// [provision] source; the files are signed by rootfs/keys/sign-provisioning.sh with throwaway
// development keys (rootfs/keys/gen-dev-keys.sh in the test's temporary folder), and the
// password hash, token and setup code are made by anyroom-provision, as an administrator does.
// Checked through the room's own HTTPS API and files: what a good file sets (room name, time
// zone, admin login, a token, ICE servers, channel, CA, audit entry), what is refused (unsigned,
// tampered, another signer, another board, another machine, a setting the config API refuses,
// a second file) with nothing changed, and an export that applies to a second room after signing.
//
// Runs inside a private network namespace (tests/lab/in-netns.sh), TAP output:
//   tests/integration/run-in-lab.sh tests/integration/test-provision.mjs
// Logs: $AR_BUILD_DIR/meson-logs/lab/provision/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildDir, mkTemp, run, startAnyroomd, tail } from '../lab/lab.mjs';
import { stepper } from './common.mjs';
import { PROVISION_TOOL as TOOL, auditLines as readAudit, roomRequest, signProvisioning } from './provision-common.mjs';

const { step, failed } = stepper({ timeout: 60000 });

const SRC = process.env.AR_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'provision');
const TMP = mkTemp('ar-it-provision-');
const KEYS = path.join(TMP, 'keys');
const OTHER_KEYS = path.join(TMP, 'other-keys');
const SOURCE = path.join(TMP, 'data', 'provision.cms'); // the "data partition" file
const PORT = 8463;
const BOARD = 'qemu-x86_64';
const COMPATIBLE = 'anyroom-qemu-x86_64';
const MACHINE = '0123456789abcdef0123456789abcdef';
const PASSWORD = 'provisioned password 4711';
const ORIGIN = `https://127.0.0.1:${PORT}`;

let daemon = null;
let token = null; // { token, sha256 }
let passwordHash = null;
let goodJson = null;
let state = null; // the current room's state dir
let runs = 0;

async function tool(args, input = null) {
  const r = await run(TOOL, args, { input, timeoutMs: 30000 });
  assert.equal(r.code, 0, `anyroom-provision ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// The files meant to be refused (bad-*) skip the device's own check before signing.
const sign = (name, json, keys = KEYS) => signProvisioning({ tmp: TMP, name, json, keys, check: !name.startsWith('bad-') });

function fileJson({ room = 'Provisioned Room 7', boards = [COMPATIBLE], machines = null, settings = null } = {}) {
  return {
    format: 1,
    serial: 7,
    boards,
    ...(machines ? { 'machine-ids': machines } : {}),
    admin: { 'password-hash': passwordHash },
    tokens: [{ name: 'prometheus', sha256: token.sha256, scopes: ['metrics', 'status'] }],
    settings: settings || {
      room: { name: room, 'time-zone': 'Europe/Berlin' },
      network: {
        stun: ['stun:stun.example.org:3478'],
        turn: ['turn:turn.example.org:3478?transport=udp'],
        'turn-credentials-url': 'https://creds.example.org/turn',
      },
      update: { 'channel-url': 'https://updates.example.org/rooms.manifest', channel: 'preview' },
      calendar: { 'room-address': 'room7@example.org' },
    },
    'ca-certificates': { calendar: fs.readFileSync(path.join(KEYS, 'keyring.pem'), 'utf8') },
  };
}

function writeSource(bytes) {
  fs.mkdirSync(path.dirname(SOURCE), { recursive: true });
  fs.writeFileSync(SOURCE, bytes);
}

// A start of the room with @dir as its state dir: anyroomd provisions (or not) and serves.
async function start(dir, { listen = `127.0.0.1:${PORT}`, keyrings = null } = {}) {
  state = dir;
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', 'name=Unprovisioned',
    '[device]', 'camera=test', 'microphone=test', 'speaker=none', 'display=none',
    '[admin]', `listen=${listen}`,
    '[web]', 'enabled=false',
    '[update]', `bus=unix:path=${TMP}/no-rauc-bus`, `keyring=${path.join(KEYS, 'keyring.pem')}`,
    '[provision]', `sources=${path.join(TMP, 'no-usb-stick.cms')};${SOURCE}`,
    ...(keyrings ? [`keyrings=${keyrings.join(';')}`] : []),
    '',
  ].join('\n'));
  runs++;
  daemon = await startAnyroomd({
    tmp: TMP, board: BOARD, log: `anyroomd-${runs}.log`,
    extraArgs: ['--config', conf, '--state-dir', dir],
    env: { ANYROOM_TEST_MACHINE_ID_FILE: path.join(TMP, 'machine-id') },
  });
  return daemon;
}

async function stop() {
  if (daemon) await daemon.stop(10000);
  daemon = null;
}

// Runs @fn with the room started on @dir, and stops it whatever happens.
async function withRoom(dir, fn, opts = {}) {
  await start(dir, opts);
  try {
    return await fn();
  } finally {
    await stop();
  }
}

const exists = (name) => fs.existsSync(path.join(state, name));
const log = () => fs.readFileSync(daemon.log, 'utf8');

const auditLines = (stream) => readAudit(state, stream);
const req = (opts) => roomRequest(state, PORT, opts);

async function login(password = PASSWORD) {
  const r = await req({ method: 'POST', path: '/api/v1/login', headers: { Origin: ORIGIN }, body: { password } });
  assert.equal(r.status, 200, `login: ${r.status} ${r.text}`);
  const cookie = [].concat(r.headers['set-cookie']).map((c) => c.split(';')[0]).join('; ');
  const s = await req({ path: '/api/v1/session', headers: { Cookie: cookie } });
  return { Cookie: cookie, 'X-CSRF-Token': s.json.csrf_token, Origin: ORIGIN };
}

// A refused file: the room starts as it was (not set up), and says why, in its log and audit log.
async function refusedWith(name, bytes, pattern) {
  const dir = path.join(TMP, `state-${name}`);
  writeSource(bytes);
  await start(dir);
  try {
    const s = await req({ path: '/api/v1/session' });
    assert.equal(s.json.setup_required, true, `${name}: the room is still to be set up`);
    for (const f of ['admin-password', 'tokens.json', 'settings.conf', 'provisioned.json']) {
      assert.ok(!exists(f), `${name}: nothing applied, but ${f} exists`);
    }
    assert.equal((await daemon.status()).room_name, 'Unprovisioned', `${name}: the config file's room name`);
    const refused = auditLines('unauth').filter((e) => e.event === 'provision_refused');
    assert.equal(refused.length, 1, `${name}: one provision_refused entry`);
    assert.match(refused[0].detail, pattern, `${name}: the reason`);
    assert.equal(refused[0].client, SOURCE, 'the entry names the source');
    assert.ok(!refused[0].detail.includes('\n'), 'one line');
    assert.match(log(), new RegExp(`provision: ${SOURCE.replace(/[.]/g, '\\.')} refused: `));
  } finally {
    await stop();
  }
}

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(TMP, 'machine-id'), `${MACHINE}\n`);
  for (const k of [KEYS, OTHER_KEYS]) {
    const r = await run('bash', [path.join(SRC, 'rootfs', 'keys', 'gen-dev-keys.sh'), k], { timeoutMs: 60000 });
    assert.equal(r.code, 0, `gen-dev-keys.sh: ${r.stderr}`);
  }
  passwordHash = (await tool(['password-hash'], `${PASSWORD}\n`)).trim();
  const t = await tool(['token']);
  token = { token: t.match(/^token: (\S+)$/m)[1], sha256: t.match(/^sha256: (\S+)$/m)[1] };
  goodJson = fileJson();
});

after(async () => {
  await stop();
  for (const f of fs.readdirSync(TMP).filter((n) => n.startsWith('anyroomd-'))) {
    try { fs.copyFileSync(path.join(TMP, f), path.join(OUT, f)); } catch { /* missing */ }
  }
  if (failed() && runs) console.log(`# last anyroomd log:\n${tail(path.join(TMP, `anyroomd-${runs}.log`), 60).replace(/^/gm, '# ')}`);
  fs.rmSync(TMP, { recursive: true, force: true });
});

step('the signing script refuses a file the room would refuse (the device\'s own check)', async () => {
  const inFile = path.join(TMP, 'typo.json');
  fs.writeFileSync(inFile, JSON.stringify({ ...goodJson, tokenz: [] }));
  const r = await run('bash', [path.join(SRC, 'rootfs', 'keys', 'sign-provisioning.sh'), inFile, path.join(TMP, 'typo.cms')], {
    env: { ...process.env, ANYROOM_SIGNING_KEY: path.join(KEYS, 'signing.key.pem'),
      ANYROOM_SIGNING_CERT: path.join(KEYS, 'signing.cert.pem'), ANYROOM_KEYRING: path.join(KEYS, 'keyring.pem'),
      ANYROOM_PROVISION_CHECK: TOOL },
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not signed: .*unknown member "tokenz"/);
  assert.ok(!fs.existsSync(path.join(TMP, 'typo.cms')));
});

step('refused: an unsigned file (plain JSON)', async () => {
  await refusedWith('unsigned', JSON.stringify(goodJson), /the provisioning JSON is not signed/);
});

step('refused: a tampered file', async () => {
  const good = await sign('tamper', goodJson);
  const bad = Buffer.from(good);
  const at = bad.indexOf(Buffer.from('Provisioned Room 7'));
  assert.ok(at > 0);
  bad[at + 17] = '9'.charCodeAt(0);
  await refusedWith('tampered', bad, /signature verification failed/);
});

step('refused: a file signed by a key the room does not trust', async () => {
  await refusedWith('other-signer', await sign('other-signer', goodJson, OTHER_KEYS), /signature verification failed.*(issuer|certificate)/);
});

step('a fleet\'s own CA ([provision] keyrings, as a stock image\'s data partition gives it) signs a file the room takes', async () => {
  writeSource(await sign('own-ca', fileJson({ room: 'Stock Image Room' }), OTHER_KEYS));
  const keyrings = [path.join(KEYS, 'keyring.pem'), path.join(TMP, 'data', 'missing-keyring.pem'), path.join(OTHER_KEYS, 'keyring.pem')];
  await withRoom(path.join(TMP, 'state-own-ca'), async () => {
    assert.equal((await daemon.status()).room_name, 'Stock Image Room');
    assert.ok(exists('provisioned.json'));
  }, { keyrings });
});

step('refused: a file for other boards', async () => {
  await refusedWith('other-board', await sign('other-board', fileJson({ boards: ['anyroom-rpi4', 'anyroom-generic-x86_64'] })),
    /for other boards \(anyroom-rpi4, anyroom-generic-x86_64\), not anyroom-qemu-x86_64/);
});

step('refused: a file for other machines', async () => {
  await refusedWith('other-machine', await sign('other-machine', fileJson({ machines: ['fedcba9876543210fedcba9876543210'] })),
    /lists 1 machine IDs and this room's \(0123456789abcdef0123456789abcdef\) is not one/);
});

step('refused, nothing half-applied: a setting the config API refuses ([admin] is not settable)', async () => {
  const json = fileJson({ settings: { room: { name: 'Half' }, admin: { listen: '0.0.0.0:80' } } });
  await refusedWith('bad-setting', await sign('bad-setting', json), /settings: admin: unknown settings group/);
});

step('a signed file is applied at first start: name, time zone, password, token, ICE, channel, CA, audit', async () => {
  writeSource(await sign('good', goodJson));
  await withRoom(path.join(TMP, 'state-room'), async () => {
    const st = await daemon.status();
    assert.equal(st.room_name, 'Provisioned Room 7', 'the room name in the status');
    const s = await req({ path: '/api/v1/session' });
    assert.equal(s.json.setup_required, false, 'the admin password is set');
    const admin = await login();
    const cfg = (await req({ path: '/api/v1/config', headers: admin })).json;
    assert.equal(cfg.room.name, 'Provisioned Room 7');
    assert.equal(cfg.room['time-zone'], 'Europe/Berlin');
    assert.deepEqual(cfg.network.stun, ['stun:stun.example.org:3478']);
    assert.deepEqual(cfg.network.turn, ['turn:turn.example.org:3478?transport=udp']);
    assert.equal(cfg.network['turn-credentials-url'], 'https://creds.example.org/turn');
    assert.equal(cfg.update['channel-url'], 'https://updates.example.org/rooms.manifest');
    assert.equal(cfg.update.channel, 'preview');
    assert.equal(cfg.calendar['room-address'], 'room7@example.org');
    // The token works with its scopes, and only them.
    const bearer = { Authorization: `Bearer ${token.token}` };
    assert.equal((await req({ path: '/metrics', headers: bearer })).status, 200);
    assert.equal((await req({ path: '/api/v1/status', headers: bearer })).status, 200);
    assert.equal((await req({ path: '/api/v1/config', headers: bearer })).status, 403);
    // anyroomd runs in the room's zone: the calendar's "now" carries Berlin's offset.
    const m = await req({ path: '/api/v1/meetings', headers: bearer });
    assert.match(m.json.now, /\+0[12]:00$/, `Europe/Berlin's offset in ${m.json.now}`);
    // The channel's origin is the provisioned one (polled; its host shown).
    assert.equal(st.update?.channel?.url_host, 'updates.example.org');
    // The CA file stands in for calendar.ca.
    assert.equal(fs.readFileSync(path.join(state, 'ca-calendar.pem'), 'utf8'), goodJson['ca-certificates'].calendar);
    const audit = (await req({ path: '/api/v1/audit', headers: admin })).json.entries;
    const p = audit.filter((e) => e.event === 'provisioned');
    assert.equal(p.length, 1);
    assert.equal(p[0].actor, 'provisioning');
    assert.equal(p[0].client, SOURCE);
    assert.equal(p[0].stream, 'authenticated');
    assert.match(p[0].detail, /^serial 7, sha256 [0-9a-f]{16}; settings room\.name, room\.time-zone, .*; admin password; 1 API token; CA calendar$/);
    assert.ok(!JSON.stringify(audit).includes(token.token) && !JSON.stringify(audit).includes(passwordHash), 'no secret in the audit log');
    assert.ok(!log().includes(token.token) && !log().includes(passwordHash.split('$')[3]), 'no secret in the log');
    const record = JSON.parse(fs.readFileSync(path.join(state, 'provisioned.json'), 'utf8'));
    assert.equal(record.serial, 7);
    assert.equal((fs.statSync(path.join(state, 'provisioned.json')).mode & 0o777), 0o600);
    // Last (a failed login delays the next one): only the provisioned password logs in.
    const wrong = await req({ method: 'POST', path: '/api/v1/login', headers: { Origin: ORIGIN }, body: { password: 'not the password' } });
    assert.equal(wrong.status, 401);
  });
});

step('the same file at the next start: already applied, nothing changes, no new entry', async () => {
  const before = fs.statSync(path.join(state, 'settings.conf')).mtimeMs;
  await withRoom(state, async () => {
    assert.equal(fs.statSync(path.join(state, 'settings.conf')).mtimeMs, before);
    const admin = await login();
    const audit = (await req({ path: '/api/v1/audit', headers: admin })).json.entries;
    assert.equal(audit.filter((e) => e.event.startsWith('provision')).length, 1);
    assert.ok(!/provision: .* refused/.test(log()));
  });
});

step('a second, different file is refused: a room is provisioned once', async () => {
  writeSource(await sign('second', fileJson({ room: 'Somebody Else\'s Room' })));
  await withRoom(state, async () => {
    const admin = await login();
    const cfg = (await req({ path: '/api/v1/config', headers: admin })).json;
    assert.equal(cfg.room.name, 'Provisioned Room 7');
    const refused = auditLines('unauth').filter((e) => e.event === 'provision_refused');
    assert.equal(refused.length, 1);
    assert.match(refused[0].detail, /this room was provisioned before \(serial 7\).*factory reset/);
  });
});

step('export: a configured room\'s file, secrets only as hashes; signed, it sets up a second room the same way', async () => {
  const file = await withRoom(state, async () => {
    const admin = await login();
    // A CalDAV password: a secret the room holds in plain, never exported.
    const patch = await req({ method: 'PATCH', path: '/api/v1/config', headers: admin,
      body: { calendar: { 'caldav-url': 'https://dav.example.org/rooms/7/', 'caldav-user': 'room7', 'caldav-password': 'dav-s3cret' } } });
    assert.equal(patch.status, 200, patch.text);
    assert.equal((await req({ path: '/api/v1/provision/export', headers: { Authorization: `Bearer ${token.token}` } })).status, 403,
      'no token reaches the export');
    const r = await req({ path: '/api/v1/provision/export', headers: admin });
    assert.equal(r.status, 200, r.text);
    const exported = r.json.provisioning;
    assert.deepEqual(r.json.omitted, ['calendar.caldav-password']);
    assert.ok(!r.text.includes('dav-s3cret'), 'the CalDAV password is not exported');
    assert.ok(!r.text.includes(token.token), 'no token, only its hash');
    assert.equal(exported.admin['password-hash'], passwordHash);
    assert.deepEqual(exported.tokens, [{ name: 'prometheus', sha256: token.sha256, scopes: ['status', 'metrics'] }]);
    assert.deepEqual(exported.boards, [COMPATIBLE]);
    assert.equal(exported.settings.room.name, 'Provisioned Room 7');
    assert.equal(exported.settings.calendar['caldav-user'], 'room7');
    return exported;
  });
  // Signed as exported, applied to a new room.
  writeSource(await sign('exported', file));
  await withRoom(path.join(TMP, 'state-room-2'), async () => {
    const admin2 = await login();
    const cfg = (await req({ path: '/api/v1/config', headers: admin2 })).json;
    assert.equal(cfg.room.name, 'Provisioned Room 7');
    assert.equal(cfg.room['time-zone'], 'Europe/Berlin');
    assert.equal(cfg.calendar['caldav-url'], 'https://dav.example.org/rooms/7/');
    assert.equal(cfg.calendar['caldav-password-set'], false);
    assert.deepEqual(cfg.network.stun, ['stun:stun.example.org:3478']);
    assert.equal((await req({ path: '/metrics', headers: { Authorization: `Bearer ${token.token}` } })).status, 200);
  });
});

step('a factory reset gives the room back to its provisioning: the file applies again at the next start', async () => {
  await withRoom(state, async () => {
    const admin = await login();
    const reset = await req({ method: 'POST', path: '/api/v1/factory-reset', headers: admin, body: { confirm: 'factory-reset' } });
    assert.equal(reset.status, 200, reset.text);
    assert.ok(!exists('provisioned.json') && !exists('ca-calendar.pem'));
  });
  writeSource(await sign('after-reset', fileJson({ room: 'Room 7 Again' })));
  await withRoom(state, async () => {
      const cfg = (await req({ path: '/api/v1/config', headers: await login() })).json;
      assert.equal(cfg.room.name, 'Room 7 Again');
  });
});

step('a one-time setup code: the admin password set from another machine with it, once', async () => {
  const out = await tool(['setup-code']);
  const code = out.match(/^setup code: (\S+)$/m)[1];
  const sha256 = out.match(/^sha256: (\S+)$/m)[1];
  assert.match(code, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
  const json = { format: 1, boards: [COMPATIBLE], admin: { 'setup-code-sha256': sha256 } };
  writeSource(await sign('setup-code', json));
  // The room on every address; the test calls it on the namespace's 10.97.0.2, not loopback.
  await withRoom(path.join(TMP, 'state-room-3'), async () => {
    assert.ok(exists('setup-code.sha256'));
    const lan = { host: '10.97.0.2', headers: { Origin: `https://10.97.0.2:${PORT}` } };
    const setup = (body) => req({ ...lan, method: 'POST', path: '/api/v1/setup', body });
    const session = await req({ ...lan, path: '/api/v1/session' });
    assert.equal(session.json.setup_code_required, true, 'not loopback: a code is needed');
    let r = await setup({ password: PASSWORD });
    assert.equal(r.status, 403, r.text);
    r = await setup({ password: PASSWORD, setup_code: 'AAAAA-AAAAA-AAAAA-AAAAA' });
    assert.equal(r.status, 403, r.text);
    // As a person types it: lower case, spaces.
    r = await setup({ password: PASSWORD, setup_code: code.toLowerCase().replace(/-/g, ' ') });
    assert.equal(r.status, 200, r.text);
    assert.ok(!exists('setup-code.sha256'), 'the code is good once');
    assert.ok(!fs.readFileSync(path.join(state, 'audit.log'), 'utf8').includes(code), 'the code is not logged');
    r = await setup({ password: 'another password 123', setup_code: code });
    assert.equal(r.status, 409, 'set up already');
  }, { listen: `0.0.0.0:${PORT}` });
});
