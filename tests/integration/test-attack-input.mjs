// The attack lab (attack-lab.mjs) against what a client sends the admin
// server: issue 10's TLS, device-name and JSON holes.
//  - TLS: an old client (TLS 1.1, TLS 1.2 with a CBC suite) is refused, a
//    modern one (TLS 1.3, TLS 1.2 with an AEAD suite) is served; the default
//    is TLS 1.3 (real clients: openssl s_client and node's OpenSSL).
//  - Device names: a token's test tone to "file:FILE=...,FORMAT=raw" (ALSA's
//    file plugin: it wrote a 4 MB file in the daemon's working directory) and
//    other hostile names are refused with a 400, nothing is written; the same
//    names in PATCH /api/v1/config and the camera preview are refused too.
//  - JSON: numbers JSON does not have (0x32, 0050, -18446744073709551566 that
//    wrapped to 50) and a \u0000 in a room name are refused with a 400 on both
//    APIs, and nothing changes.
// Every step ends with the daemon healthy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../lab/lab.mjs';
import {
  ROOM_ADDR, PORT, assertHealthy, attackerAddr, createRoomNetns, fdCount, loopbackRequest, request,
  rssKiB, setupAdmin, startRoom, tlsConnect,
} from './attack-lab.mjs';
import { localRequest, stepper } from './common.mjs';

let net = null;
let room = null;
let admin = null;
let token = null;
let baseline = null;
const figures = [];

const { step, failed } = stepper({ timeout: 60000 });

before(async () => {
  net = createRoomNetns({ addresses: 16 });
  // The devices a room without hardware uses; the speaker is the one under test.
  room = await startRoom({ ns: net.ns, conf: '[device]\ncamera=test\nmicrophone=test\nspeaker=none\n' });
  admin = await setupAdmin(room);
  const r = await loopbackRequest(room.ns, {
    method: 'POST', path: '/api/v1/tokens',
    headers: { Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf, Origin: admin.origin },
    body: { name: 'integration', scopes: ['status', 'commands', 'configuration', 'media'] },
  });
  if (r.status !== 201 || !r.json || !r.json.token) throw new Error(`token: ${r.status} ${r.text}`);
  token = r.json.token;
  baseline = { fds: fdCount(room.pid), rss: rssKiB(room.pid) };
});

after(async () => {
  if (figures.length) console.log(figures.map((f) => `# ${f}`).join('\n'));
  if (room) {
    if (failed()) console.error(`# anyroomd log (last lines):\n${room.logTail(60).split('\n').map((l) => `#   ${l}`).join('\n')}`);
    if (baseline) console.log(`# fds ${baseline.fds} -> ${fdCount(room.pid)}, RSS ${baseline.rss} -> ${rssKiB(room.pid)} KiB`);
    await room.stop();
    fs.rmSync(room.tmp, { recursive: true, force: true });
  }
  if (net) net.close();
});

const bearer = () => ({ Authorization: `Bearer ${token}` });

// openssl s_client from the lab side; resolves {ok, protocol, cipher, out}.
async function sClient(args) {
  const r = await run('openssl', ['s_client', '-connect', `${ROOM_ADDR}:${PORT}`, '-servername', 'anyroom.test', ...args],
    { timeoutMs: 15000, input: '' });
  const out = r.stdout + r.stderr;
  const m = /^New, (\S+), Cipher is (\S+)/m.exec(out);
  const protocol = m ? m[1].replace(/,$/, '') : null;
  const cipher = m ? m[2] : null;
  return { ok: r.code === 0 && cipher !== null && cipher !== '(NONE)', protocol, cipher, code: r.code, out };
}

// node's TLS client: resolves {ok, protocol, cipher} or {ok: false, error}.
async function nodeTls(options) {
  try {
    const s = await tlsConnect({ from: attackerAddr(1), options });
    const res = { ok: true, protocol: s.getProtocol(), cipher: s.getCipher().name };
    s.destroy();
    return res;
  } catch (e) {
    return { ok: false, error: e.code || e.message };
  }
}

step('TLS: TLS 1.1 and TLS 1.2 with a CBC suite are refused', async () => {
  const old = await sClient(['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
  figures.push(`openssl s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0': exit ${old.code}, cipher ${old.cipher}`);
  assert.equal(old.ok, false, `TLS 1.1 was served:\n${old.out}`);
  for (const cipher of ['ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA384']) {
    const cbc = await sClient(['-tls1_2', '-cipher', cipher]);
    figures.push(`openssl s_client -tls1_2 -cipher ${cipher}: exit ${cbc.code}, cipher ${cbc.cipher}`);
    assert.equal(cbc.ok, false, `TLS 1.2 ${cipher} was served:\n${cbc.out}`);
  }
  // TLS 1.0, and node's own client told to offer only TLS 1.1.
  const tls10 = await sClient(['-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
  assert.equal(tls10.ok, false, `TLS 1.0 was served:\n${tls10.out}`);
  const n11 = await nodeTls({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  figures.push(`node TLSv1.1: ${n11.ok ? `served ${n11.protocol} ${n11.cipher}` : `refused (${n11.error})`}`);
  assert.equal(n11.ok, false, `node TLS 1.1 was served: ${JSON.stringify(n11)}`);
  const nCbc = await nodeTls({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-SHA' });
  assert.equal(nCbc.ok, false, `node TLS 1.2 CBC was served: ${JSON.stringify(nCbc)}`);
  await assertHealthy(room, 'after old TLS clients');
});

step('TLS: TLS 1.3 and TLS 1.2 with AEAD suites are served; the default is TLS 1.3', async () => {
  const def = await nodeTls({});
  figures.push(`node default: ${def.protocol} ${def.cipher}`);
  assert.equal(def.ok, true, JSON.stringify(def));
  assert.equal(def.protocol, 'TLSv1.3');
  const o = await sClient([]);
  figures.push(`openssl s_client default: ${o.protocol} ${o.cipher}`);
  assert.equal(o.ok, true, o.out);
  assert.equal(o.protocol, 'TLSv1.3');
  for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
    const r = await nodeTls({ minVersion: 'TLSv1.3', ciphers: suite });
    assert.equal(r.ok, true, `${suite}: ${JSON.stringify(r)}`);
    assert.equal(r.cipher, suite);
  }
  for (const cipher of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
    const r = await nodeTls({ maxVersion: 'TLSv1.2', ciphers: cipher });
    figures.push(`node TLSv1.2 ${cipher}: ${r.ok ? `served ${r.protocol} ${r.cipher}` : `refused (${r.error})`}`);
    assert.equal(r.ok, true, `${cipher}: ${JSON.stringify(r)}`);
    assert.equal(r.protocol, 'TLSv1.2');
  }
  // A whole request over the default connection.
  const r = await request({ from: attackerAddr(2), path: '/api/v1/session', fingerprint256: room.fingerprint256 });
  assert.equal(r.status, 200);
  await assertHealthy(room, 'after modern TLS clients');
});

// Every file under @dir (relative names), for "nothing was written".
function listFiles(dir) {
  const out = [];
  const walk = (d, rel) => {
    let entries = [];
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

const HOSTILE_SPEAKERS = [
  'file:FILE=ar-pwned.raw,FORMAT=raw',
  'file:ar-pwned.raw',
  "file:'ar-pwned.raw'",
  'file:{FILE ar-pwned.raw}',
  'tee:default,ar-pwned.raw,raw',
  'plug:{SLAVE file}',
  'hw:CARD=0,FILE=ar-pwned.raw',
  'default:FILE=ar-pwned.raw',
  'shm:/tmp/ar-pwned,default',
  'hw:"0"',
  'hw:0;file',
  'pcm.file',
];

step('device names: a token\'s test tone on hostile ALSA names is a 400 and writes nothing', async () => {
  const cwd = fs.readlinkSync(`/proc/${room.pid}/cwd`);
  const cwdBefore = listFiles(cwd);
  const stateBefore = listFiles(room.state);
  for (const speaker of HOSTILE_SPEAKERS) {
    const r = await request({ from: attackerAddr(3), method: 'POST', path: '/api/v1/commands/test-tone', headers: bearer(), body: { speaker } });
    assert.equal(r.status, 400, `${speaker}: ${r.status} ${r.text}`);
    assert.equal(r.json && r.json.ok, false);
    assert.match(r.json.error, /Invalid audio sink/, `${speaker}: ${r.text}`);
  }
  figures.push(`test tone on ${HOSTILE_SPEAKERS.length} hostile speaker names: 400 each`);
  // The device worker would have run by now: give it the tone's length.
  await new Promise((res) => setTimeout(res, 1500));
  assert.deepEqual(listFiles(cwd).filter((f) => !cwdBefore.includes(f)), [], `new files in the daemon's working directory ${cwd}`);
  const newState = listFiles(room.state).filter((f) => !stateBefore.includes(f));
  // The audit log may grow; no other file may appear.
  assert.deepEqual(newState.filter((f) => !/^audit/.test(f)), [], 'new files in the state dir');
  assert.ok(!fs.readdirSync(cwd).some((f) => f.startsWith('ar-pwned')));
  // A good name passes the check (the tone then fails on this machine: no sound card).
  const good = await request({ from: attackerAddr(3), method: 'POST', path: '/api/v1/commands/test-tone', headers: bearer(), body: { speaker: 'hw:CARD=Loopback,DEV=0' } });
  assert.notEqual(good.status, 400, good.text);
  await assertHealthy(room, 'after hostile test tones');
});

step('device names: the camera preview and PATCH /api/v1/config refuse them too', async () => {
  const session = { Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf, Origin: admin.origin };
  for (const camera of ['/dev/../tmp/x', '/tmp/video0', '/dev/sda', '/dev/video0/../../etc/passwd', 'file:FILE=x']) {
    const r = await loopbackRequest(room.ns, { path: `/api/v1/camera/snapshot?camera=${encodeURIComponent(camera)}`, headers: { Cookie: admin.cookie } });
    assert.equal(r.status, 400, `${camera}: ${r.status} ${r.text}`);
  }
  const before = (await request({ from: attackerAddr(4), path: '/api/v1/config', headers: bearer() })).json;
  for (const [key, value] of [['speaker', HOSTILE_SPEAKERS[0]], ['microphone', 'file:FILE=ar-pwned.raw'], ['microphone', 'dsnoop:{SLAVE x}'], ['camera', '/dev/../tmp/x']]) {
    const r = await request({ from: attackerAddr(4), method: 'PATCH', path: '/api/v1/config', headers: bearer(), body: { device: { [key]: value } } });
    assert.equal(r.status, 400, `${key}=${value}: ${r.status} ${r.text}`);
    assert.match(r.json.error, new RegExp(`device\\.${key}`), r.text);
  }
  const r = await loopbackRequest(room.ns, { method: 'PATCH', path: '/api/v1/config', headers: session, body: { device: { speaker: 'file:FILE=ar-pwned.raw' } } });
  assert.equal(r.status, 400, r.text);
  const afterCfg = (await request({ from: attackerAddr(4), path: '/api/v1/config', headers: bearer() })).json;
  assert.deepEqual(afterCfg.device, before.device);
  assert.ok(!fs.existsSync(path.join(room.state, 'settings.conf')) ||
    !fs.readFileSync(path.join(room.state, 'settings.conf'), 'utf8').includes('FILE='));
  await assertHealthy(room, 'after hostile device settings');
});

// A request on the Unix socket (the anyroomctl API), raw body.
const localSocket = (method, p, body) => localRequest(room.socket, method, p, body);

const BAD_NUMBERS = ['0x32', '0050', '-18446744073709551566', '18446744073709551666', '+50', '50.', '.5', '1e999', 'NaN', 'Infinity'];

step('JSON: a volume that is not a JSON number is a 400 on both APIs', async () => {
  let r = await request({ from: attackerAddr(5), method: 'POST', path: '/api/v1/commands/volume', headers: bearer(), body: '{"level":40}' });
  assert.equal(r.status, 200, r.text);
  for (const n of BAD_NUMBERS) {
    const body = `{"level":${n}}`;
    r = await request({ from: attackerAddr(5), method: 'POST', path: '/api/v1/commands/volume', headers: bearer(), body });
    assert.equal(r.status, 400, `HTTPS ${body}: ${r.status} ${r.text}`);
    assert.match(r.json.error, /not valid JSON/, r.text);
    const l = await localSocket('POST', '/api/v1/commands/volume', body);
    assert.equal(l.status, 400, `socket ${body}: ${l.status} ${l.text}`);
    assert.match(l.text, /not valid JSON/);
  }
  figures.push(`volume ${BAD_NUMBERS.join(', ')}: 400 on HTTPS and on the Unix socket`);
  const st = await room.status();
  assert.equal(st.controls.speaker_volume, 40, `the volume changed: ${JSON.stringify(st)}`);
  await assertHealthy(room, 'after bad numbers');
});

step('JSON: a \\u0000 in the room name is a 400 on both APIs; the name stays whole', async () => {
  let r = await request({ from: attackerAddr(6), method: 'PATCH', path: '/api/v1/config', headers: bearer(), body: { room: { name: 'Board Room 7' } } });
  assert.equal(r.status, 200, r.text);
  for (const body of ['{"room":{"name":"Evil\\u0000 Room"}}', '{"room":{"name":"\\u0000"}}', '{"room":{"name":"Bad \\ud800 half"}}', '{"room":{"name":"x"},}', '{"room":{"name":"x"}} {}']) {
    r = await request({ from: attackerAddr(6), method: 'PATCH', path: '/api/v1/config', headers: bearer(), body });
    assert.equal(r.status, 400, `HTTPS ${body}: ${r.status} ${r.text}`);
    assert.match(r.json.error, /not valid JSON/, r.text);
    const l = await localSocket('PATCH', '/api/v1/config', body);
    assert.equal(l.status, 400, `socket ${body}: ${l.status} ${l.text}`);
  }
  const st = await room.status();
  assert.equal(st.room_name, 'Board Room 7');
  const cfg = await request({ from: attackerAddr(6), path: '/api/v1/config', headers: bearer() });
  assert.equal(cfg.json.room.name, 'Board Room 7');
  // The depth bound still answers as before.
  r = await request({ from: attackerAddr(6), method: 'POST', path: '/api/v1/commands/join', headers: bearer(), body: `{"link":${'['.repeat(40)}${']'.repeat(40)}}` });
  assert.equal(r.status, 400);
  assert.match(r.json.error, /nests deeper than 16 levels/);
  await assertHealthy(room, 'after bad strings');
});
