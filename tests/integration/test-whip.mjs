// Integration (issue 12, part 1): the room publishes to a WHIP endpoint. The endpoint's WebRTC
// stack is not ours: a real headless Chromium answers each offer, behind a small HTTP front
// written for this test (tests/lab/whip-endpoint.mjs, labelled as test code). The real anyroomd
// joins `whip+http://ADDR:PORT/whip/ep#token=...` in a private network namespace:
//   - POST with the Bearer token and application/sdp, an offer carrying its candidates (the
//     room does not wait on trickle); 201 -> connected, engine native, provider whip;
//   - the endpoint decodes the room's camera (asserted by content: the test pattern's dark blue)
//     and hears its microphone (audio energy grows);
//   - leave: DELETE of the session with the token; the endpoint's peer is closed; idle;
//   - a wrong token: 401 in plain words, the call failed, no retry; a wrong path: 404.
// WHEP (part 2), against the same kind of front in 'whep' mode (the page sends Chromium's fake
// camera and microphone): `whep+http://...` joins with a recvonly offer; anyroomd decodes the
// stream's video (640x480, frames growing) and audio (packets growing); the stream is listed as
// a participant; DELETE at leave.
// Run: tests/integration/run-in-lab.sh tests/integration/test-whip.mjs (TAP).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, startAnyroomd } from '../lab/lab.mjs';
import { startWhipEndpoint } from '../lab/whip-endpoint.mjs';
import { ctlFail, statusSummary, stepper, tracksOf, waitState } from './common.mjs';

const TOKEN = 'lab-whip-token-123';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'whip');
const TMP = mkTemp('ar-it-whip-');
let endpoint = null;
let whepEndpoint = null;
let daemon = null;
let link = null;

const { step, failed } = stepper({
  timeout: 90000,
  onFail: async () => {
    if (!daemon) return;
    await daemon.ctl('leave').catch(() => {});
    await waitState(daemon, 'idle', { timeoutMs: 15000 }).catch(() => {});
  },
});

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  const addr = process.env.AR_NETNS_ADDR1;
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  endpoint = await startWhipEndpoint({ token: TOKEN, logDir: OUT, host: addr });
  link = `whip+http://${addr}:${endpoint.port}/whip/ep#token=${TOKEN}`;
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', 'name=WHIP Room',
    '[device]', 'camera=test', 'microphone=test', 'speaker=none', 'display=none',
    '[call]', 'join-timeout=30',
    '[web]', 'enabled=false',
    '',
  ].join('\n'));
  daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf] });
});

after(async () => {
  if (failed() && daemon) console.log(`anyroomd log:\n${daemon.logTail(120)}`);
  if (daemon) fs.copyFileSync(daemon.log, path.join(OUT, 'anyroomd.log'));
  if (daemon) await daemon.stop();
  if (endpoint) await endpoint.close();
  if (whepEndpoint) await whepEndpoint.close();
  fs.rmSync(TMP, { recursive: true, force: true });
});

step('join: POST with the token and an SDP offer that carries its candidates; 201 -> connected', async () => {
  const r = await daemon.ctl('join', link);
  assert.equal(r.code, 0, ctlFail(r, 'join'));
  const s = await waitState(daemon, 'connected', { timeoutMs: 30000 });
  assert.equal(s.engine, 'native');
  assert.equal(s.provider, 'whip');
  const posts = endpoint.requests.filter((q) => q.method === 'POST');
  assert.equal(posts.length, 1);
  assert.equal(posts[0].auth, `Bearer ${TOKEN}`);
  assert.equal(posts[0].type, 'application/sdp');
  assert.match(posts[0].body, /^v=0\r\n/);
  assert.match(posts[0].body, /\r\na=candidate:/, 'the offer carries the gathered candidates');
  assert.match(posts[0].body, /a=setup:actpass|a=setup:active/);
  // The token is never in anyroomd's log.
  assert.ok(!fs.readFileSync(daemon.log, 'utf8').includes(TOKEN), 'the token is not logged');
});

step('the endpoint decodes the room\'s camera (the test pattern) and hears its microphone', async () => {
  const first = await waitFor('the endpoint to decode 30 frames', async () => {
    const st = await endpoint.stats(1);
    return st && st.video && st.video.framesDecoded >= 30 ? st : null;
  }, { timeoutMs: 30000 });
  console.log(`endpoint: ${JSON.stringify(first)}`);
  assert.ok(first.video.width > 0 && first.video.height > 0);
  const color = await waitFor('a frame to draw', () => endpoint.color(1), { timeoutMs: 10000 });
  console.log(`endpoint frame colour: ${JSON.stringify(color)}`);
  // The test camera's dark blue (#1f3a5f) with its moving ball: blue over red, not black.
  assert.ok(color.b > color.r + 20 && color.b > 40, `the room's test pattern: ${JSON.stringify(color)}`);
  const e0 = (await endpoint.stats(1)).audio;
  await new Promise((r) => setTimeout(r, 1500));
  const e1 = (await endpoint.stats(1)).audio;
  console.log(`endpoint audio: energy ${e0.energy} -> ${e1.energy}, packets ${e0.packets} -> ${e1.packets}`);
  assert.ok(e1.packets > e0.packets, 'audio packets keep coming');
  assert.ok(e1.energy > e0.energy, 'the room\'s microphone tone reaches the endpoint');
  const s = await daemon.status();
  const sent = (s.tracks || []).find((t) => t.kind === 'video' && t.direction === 'send');
  assert.ok(sent && sent.frames > 0, `status shows the sent video: ${statusSummary(s)}`);
});

step('leave: DELETE of the session with the token; the endpoint\'s peer is closed', async () => {
  const r = await daemon.ctl('leave');
  assert.equal(r.code, 0, ctlFail(r, 'leave'));
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
  const del = endpoint.requests.filter((q) => q.method === 'DELETE');
  assert.equal(del.length, 1);
  assert.equal(del[0].path, '/whip/session/1');
  assert.equal(del[0].auth, `Bearer ${TOKEN}`);
  assert.equal(await endpoint.open(), 0);
});

step('a wrong token: 401 in plain words, the call failed, no retry', async () => {
  const before = endpoint.requests.length;
  const bad = link.replace(TOKEN, 'wrong-token');
  const r = await daemon.ctl('join', bad);
  const s = await waitFor('the join to fail', async () => {
    const st = await daemon.status();
    return st.state === 'idle' || st.state === 'failed' ? (st.error ? st : null) : null;
  }, { timeoutMs: 30000 });
  console.log(`join exit ${r.code}; status error: ${s.error}`);
  assert.match(String(s.error), /refused the token/);
  assert.match(String(s.error), /401/);
  await new Promise((res) => setTimeout(res, 3000));
  const posts = endpoint.requests.slice(before).filter((q) => q.method === 'POST');
  assert.equal(posts.length, 1, 'a definite refusal is not retried');
});

step('a wrong path: 404 in plain words', async () => {
  const bad = link.replace('/whip/ep', '/whip/nope');
  await daemon.ctl('join', bad);
  const s = await waitFor('the join to fail', async () => {
    const st = await daemon.status();
    return (st.state === 'idle' || st.state === 'failed') && st.error && /404/.test(st.error) ? st : null;
  }, { timeoutMs: 30000 });
  assert.match(s.error, /no such endpoint/);
});

step('WHEP: a recvonly offer; the room decodes the stream\'s video and audio; DELETE at leave', async () => {
  const addr = process.env.AR_NETNS_ADDR1;
  whepEndpoint = await startWhipEndpoint({ token: TOKEN, logDir: OUT, host: addr, path: '/whep/ep', mode: 'whep' });
  const r = await daemon.ctl('join', `whep+http://${addr}:${whepEndpoint.port}/whep/ep#token=${TOKEN}`);
  assert.equal(r.code, 0, ctlFail(r, 'join'));
  const s0 = await waitState(daemon, 'connected', { timeoutMs: 30000 });
  assert.equal(s0.provider, 'whep');
  const post = whepEndpoint.requests.find((q) => q.method === 'POST');
  assert.match(post.body, /a=recvonly/);
  assert.doesNotMatch(post.body, /a=sendonly|a=sendrecv/);
  const s1 = await waitFor('anyroomd to decode the stream', async () => {
    const st = await daemon.status();
    const v = tracksOf(st, { kind: 'video', direction: 'recv' })[0];
    return v && v.frames > 20 ? st : null;
  }, { timeoutMs: 30000, intervalMs: 250 });
  await new Promise((res) => setTimeout(res, 2000));
  const s2 = await daemon.status();
  const v1 = tracksOf(s1, { kind: 'video', direction: 'recv' })[0];
  const v2 = tracksOf(s2, { kind: 'video', direction: 'recv' })[0];
  const a1 = tracksOf(s1, { kind: 'audio', direction: 'recv' })[0];
  const a2 = tracksOf(s2, { kind: 'audio', direction: 'recv' })[0];
  console.log(`WHEP: ${statusSummary(s2)}`);
  assert.equal(v2.width, 640);
  assert.equal(v2.height, 480);
  assert.ok(v2.frames > v1.frames, `video frames grow (${v1.frames} -> ${v2.frames})`);
  assert.ok(a2 && a1 && a2.packets > a1.packets, 'audio packets grow');
  assert.ok(!tracksOf(s2, { kind: 'video', direction: 'send' }).length, 'the room sends nothing');
  assert.deepEqual((s2.participants || []).map((p) => p.display), [addr]);
  const l = await daemon.ctl('leave');
  assert.equal(l.code, 0, ctlFail(l, 'leave'));
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
  const del = whepEndpoint.requests.filter((q) => q.method === 'DELETE');
  assert.equal(del.length, 1);
  assert.equal(await whepEndpoint.open(), 0);
});
