// The attack lab (attack-lab.mjs) against what a client sends the admin
// server: issue 10's TLS hole.
//  - TLS: an old client (TLS 1.1, TLS 1.2 with a CBC suite) is refused, a
//    modern one (TLS 1.3, TLS 1.2 with an AEAD suite) is served; the default
//    is TLS 1.3 (real clients: openssl s_client and node's OpenSSL).
// Every step ends with the daemon healthy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { run } from '../lab/lab.mjs';
import {
  ROOM_ADDR, PORT, assertHealthy, attackerAddr, createRoomNetns, fdCount, loopbackRequest, request,
  rssKiB, setupAdmin, startRoom, tlsConnect,
} from './attack-lab.mjs';
import { stepper } from './common.mjs';

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
    body: { name: 'integration' },
  });
  if (r.status !== 201 || !r.json || !r.json.token) throw new Error(`token: ${r.status} ${r.text}`);
  token = r.json.token;
  baseline = { fds: fdCount(room.pid), rss: rssKiB(room.pid) };
});

after(async () => {
  if (figures.length) console.log(figures.map((f) => `# ${f}`).join('\n'));
  if (room) {
    if (failed()) console.log(`# anyroomd log (last lines):\n${room.logTail(60).split('\n').map((l) => `#   ${l}`).join('\n')}`);
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
