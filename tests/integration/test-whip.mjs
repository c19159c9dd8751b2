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
// WHEP 406: the front answers the recvonly offer with 406 and an offer of its own; the room
// answers it with PATCH application/sdp (If-Match the ETag) and decodes the stream.
// A broken session (the front drops its peer): the native engine's retry DELETEs the old
// session first (the front answers that DELETE late: the new POST must come after it), then
// POSTs anew with the ICE servers of the endpoint's Link header (a STUN responder written for
// the test counts the room's binding requests), and the endpoint decodes the room again.
// A two-way link (whip+http://...#token=...&whep=<the WHEP URL on the same front>): one call,
// connected when both sessions are; the front decodes the room's test pattern and the room
// decodes the front's camera; leave DELETEs both. A two-way link whose WHEP half is refused
// (404) fails the whole call, without a retry, and its WHIP session is DELETEd (also when
// the WHIP answer comes after the failure).
// Error paths: a 429 with Retry-After: 2 (the room POSTs again after 2 s and connects), then a
// 404 at DELETE (leave still completes); a 307 redirect (followed with the same offer and the
// token); a server that never answers (a clear timeout error within 30 s).
// Run: tests/integration/run-in-lab.sh tests/integration/test-whip.mjs (TAP).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, startAnyroomd } from '../lab/lab.mjs';
import { startStunServer, startWhipEndpoint } from '../lab/whip-endpoint.mjs';
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
  endpoint = await startWhipEndpoint({ token: TOKEN, logDir: OUT, host: addr, whepPath: '/whep/ep' });
  link = `whip+http://${addr}:${endpoint.port}/whip/ep#token=${TOKEN}`;
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', 'name=WHIP Room',
    '[device]', 'camera=test', 'microphone=test', 'speaker=none', 'display=none',
    '[call]', 'join-timeout=30',
    '[web]', 'enabled=false',
    // The administrator's endpoint: a link naming it without a token gets this one.
    '[whip]', `endpoint=http://${addr}:${endpoint.port}/whip/ep`, `token=${TOKEN}`,
    '',
  ].join('\n'));
  daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf] });
});

after(async () => {
  if (failed() && daemon) console.error(`anyroomd log:\n${daemon.logTail(120)}`);
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

step('the configured endpoint: a link without a token gets [whip] token; the token is never logged', async () => {
  const bare = link.replace(/#.*/, '');
  const r = await daemon.ctl('join', bare);
  assert.equal(r.code, 0, ctlFail(r, 'join'));
  const post = endpoint.requests.filter((q) => q.method === 'POST').at(-1);
  assert.equal(post.auth, `Bearer ${TOKEN}`);
  assert.equal((await daemon.ctl('leave')).code, 0);
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
  assert.ok(!fs.readFileSync(daemon.log, 'utf8').includes(TOKEN), 'the token is not in the log');
  // another endpoint on the same server does not get it
  const other = await daemon.ctl('join', bare.replace('/whip/ep', '/whip/other'));
  assert.notEqual(other.code, 0);
  const last = endpoint.requests.at(-1);
  assert.equal(last.auth, null, `no token sent to another endpoint: ${JSON.stringify(last)}`);
  await daemon.ctl('leave').catch(() => {});
  await waitState(daemon, 'idle', { timeoutMs: 15000 }).catch(() => {});
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

step('WHEP 406: the endpoint\'s counter-offer is answered with PATCH application/sdp; the room decodes the stream', async () => {
  const addr = process.env.AR_NETNS_ADDR1;
  whepEndpoint.opts.counterOffer = true;
  const before = whepEndpoint.requests.length;
  const r = await daemon.ctl('join', `whep+http://${addr}:${whepEndpoint.port}/whep/ep#token=${TOKEN}`);
  assert.equal(r.code, 0, ctlFail(r, 'join'));
  await waitState(daemon, 'connected', { timeoutMs: 30000 });
  const reqs = whepEndpoint.requests.slice(before);
  const post = reqs.find((q) => q.method === 'POST');
  const patchSdp = reqs.find((q) => q.method === 'PATCH' && q.type === 'application/sdp');
  assert.ok(patchSdp, `the room PATCHed its answer: ${reqs.map((q) => `${q.method} ${q.type}`).join(', ')}`);
  assert.equal(patchSdp.path, `/whip/session/${post.session}`);
  assert.equal(patchSdp.ifMatch, `"s${post.session}"`, 'If-Match the ETag of the 406');
  assert.equal(patchSdp.auth, `Bearer ${TOKEN}`);
  assert.match(patchSdp.body, /^v=0\r\n/);
  assert.match(patchSdp.body, /a=recvonly/, 'an answer that receives');
  assert.match(patchSdp.body, /\r\na=candidate:/, 'the answer carries its candidates');
  const s1 = await waitFor('anyroomd to decode the counter-offered stream', async () => {
    const st = await daemon.status();
    const v = tracksOf(st, { kind: 'video', direction: 'recv' })[0];
    return v && v.frames > 20 ? st : null;
  }, { timeoutMs: 30000, intervalMs: 250 });
  await new Promise((res) => setTimeout(res, 1500));
  const s2 = await daemon.status();
  const v1 = tracksOf(s1, { kind: 'video', direction: 'recv' })[0];
  const v2 = tracksOf(s2, { kind: 'video', direction: 'recv' })[0];
  console.log(`WHEP 406: ${statusSummary(s2)}`);
  assert.equal(v2.width, 640);
  assert.ok(v2.frames > v1.frames, `video frames grow (${v1.frames} -> ${v2.frames})`);
  const l = await daemon.ctl('leave');
  assert.equal(l.code, 0, ctlFail(l, 'leave'));
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
  assert.ok(whepEndpoint.requests.slice(before).some((q) => q.method === 'DELETE'));
  whepEndpoint.opts.counterOffer = false;
});

step('WHEP 406 without an SDP body stays a clear error', async () => {
  // The front's 406 for a POST that is not application/sdp cannot be reached by the room, so
  // a path that answers a bare 406 is used: the room's POST to /whip/session/ID.
  const addr = process.env.AR_NETNS_ADDR1;
  await daemon.ctl('join', `whep+http://${addr}:${whepEndpoint.port}/whep/bare406#token=${TOKEN}`);
  const s = await waitFor('the join to fail', async () => {
    const st = await daemon.status();
    return (st.state === 'idle' || st.state === 'failed') && st.error && /406/.test(st.error) ? st : null;
  }, { timeoutMs: 30000 });
  console.log(`bare 406: ${s.error}`);
  assert.match(s.error, /cannot take|not acceptable/i);
});

step('a broken session: the retry DELETEs the old one first, then POSTs anew with the endpoint\'s ICE servers', async () => {
  const addr = process.env.AR_NETNS_ADDR1;
  const stun = await startStunServer(addr);
  try {
    endpoint.opts.link = `<stun:${addr}:${stun.port}>; rel="ice-server"`;
    endpoint.opts.deleteDelayMs = 400;
    const before = endpoint.requests.length;
    const r = await daemon.ctl('join', link);
    assert.equal(r.code, 0, ctlFail(r, 'join'));
    await waitState(daemon, 'connected', { timeoutMs: 30000 });
    const first = endpoint.requests.slice(before).find((q) => q.method === 'POST' && q.session);
    const stun0 = stun.count;
    assert.equal(stun0, 0, 'the first session gathers with the room\'s own ICE servers only');
    await waitFor('the endpoint to decode the first session', async () => {
      const st = await endpoint.stats(first.session);
      return st && st.video && st.video.framesDecoded > 10;
    }, { timeoutMs: 20000 });
    assert.ok(await endpoint.drop(first.session), 'the front dropped its peer');
    const second = await waitFor('a second POST', () =>
      endpoint.requests.slice(before).find((q) => q.method === 'POST' && q.session && q.session !== first.session),
    { timeoutMs: 30000, intervalMs: 100 });
    const del = endpoint.requests.slice(before).find((q) => q.method === 'DELETE' && q.path === `/whip/session/${first.session}`);
    assert.ok(del, 'the old session was DELETEd');
    assert.ok(del.doneT > 0 && second.t >= del.doneT,
      `the new POST came after the DELETE was answered (DELETE at ${del.t}, answered ${del.doneT}, POST at ${second.t})`);
    await waitFor('the call to be connected again', async () => {
      const st = await daemon.status();
      return st.state === 'connected' ? st : null;
    }, { timeoutMs: 30000 });
    console.log(`retry: STUN binding requests ${stun0} -> ${stun.count}`);
    assert.ok(stun.count > stun0, 'the new peer gathered with the STUN server of the endpoint\'s Link header');
    await waitFor('the endpoint to decode the new session', async () => {
      const st = await endpoint.stats(second.session);
      return st && st.video && st.video.framesDecoded > 10;
    }, { timeoutMs: 20000 });
    const l = await daemon.ctl('leave');
    assert.equal(l.code, 0, ctlFail(l, 'leave'));
    await waitState(daemon, 'idle', { timeoutMs: 15000 });
  } finally {
    endpoint.opts.link = '<stun:stun.invalid:3478>; rel="ice-server"';
    endpoint.opts.deleteDelayMs = 0;
    await stun.close();
  }
});

step('a two-way link: WHIP out and WHEP in as one call, media both ways', async () => {
  const addr = process.env.AR_NETNS_ADDR1;
  const whepUrl = encodeURIComponent(`http://${addr}:${endpoint.port}/whep/ep`);
  const before = endpoint.requests.length;
  const r = await daemon.ctl('join', `${link}&whep=${whepUrl}`);
  assert.equal(r.code, 0, ctlFail(r, 'join'));
  const s0 = await daemon.status();
  assert.equal(s0.state, 'connected');
  assert.equal(s0.provider, 'whip');
  const posts = endpoint.requests.slice(before).filter((q) => q.method === 'POST');
  const pub = posts.find((q) => q.path === '/whip/ep');
  const sub = posts.find((q) => q.path === '/whep/ep');
  assert.ok(pub && sub, `a POST to each endpoint: ${posts.map((q) => q.path).join(', ')}`);
  assert.equal(sub.auth, `Bearer ${TOKEN}`, 'the token serves both');
  assert.match(pub.body, /a=sendonly|a=sendrecv/);
  assert.match(sub.body, /a=recvonly/);
  // The front decodes the room's camera (the test pattern's blue)...
  await waitFor('the front to decode the room', async () => {
    const st = await endpoint.stats(pub.session);
    return st && st.video && st.video.framesDecoded >= 30 ? st : null;
  }, { timeoutMs: 30000 });
  const color = await waitFor('a frame to draw', () => endpoint.color(pub.session), { timeoutMs: 10000 });
  assert.ok(color.b > color.r + 20 && color.b > 40, `the room's test pattern: ${JSON.stringify(color)}`);
  // ...and the room decodes the front's camera.
  const s1 = await waitFor('anyroomd to decode the front', async () => {
    const st = await daemon.status();
    const v = tracksOf(st, { kind: 'video', direction: 'recv' })[0];
    return v && v.frames > 20 ? st : null;
  }, { timeoutMs: 30000, intervalMs: 250 });
  await new Promise((res) => setTimeout(res, 1500));
  const s2 = await daemon.status();
  console.log(`two-way: ${statusSummary(s2)}; front saw colour ${JSON.stringify(color)}`);
  const v1 = tracksOf(s1, { kind: 'video', direction: 'recv' })[0];
  const v2 = tracksOf(s2, { kind: 'video', direction: 'recv' })[0];
  assert.equal(v2.width, 640);
  assert.ok(v2.frames > v1.frames, `received video frames grow (${v1.frames} -> ${v2.frames})`);
  const sent = tracksOf(s2, { kind: 'video', direction: 'send' })[0];
  assert.ok(sent && sent.frames > 0, 'the room sends video');
  assert.deepEqual((s2.participants || []).map((p) => p.display), [addr]);
  const l = await daemon.ctl('leave');
  assert.equal(l.code, 0, ctlFail(l, 'leave'));
  await waitState(daemon, 'idle', { timeoutMs: 15000 });
  const dels = endpoint.requests.slice(before).filter((q) => q.method === 'DELETE').map((q) => q.path).sort();
  assert.deepEqual(dels, [`/whip/session/${pub.session}`, `/whip/session/${sub.session}`].sort());
  assert.equal(await endpoint.open(), 0);
});

step('a two-way link whose WHEP half is refused fails the call (not retried); its WHIP session goes', async () => {
  const addr = process.env.AR_NETNS_ADDR1;
  const whepUrl = encodeURIComponent(`http://${addr}:${endpoint.port}/whep/nope`);
  const before = endpoint.requests.length;
  const r = await daemon.ctl('join', `${link}&whep=${whepUrl}`);
  assert.notEqual(r.code, 0);
  const s = await waitFor('the join to fail', async () => {
    const st = await daemon.status();
    return (st.state === 'idle' || st.state === 'failed') && st.error ? st : null;
  }, { timeoutMs: 30000 });
  console.log(`two-way, WHEP refused: ${s.error}`);
  assert.match(s.error, /WHEP receive/);
  assert.match(s.error, /404/);
  // The WHIP half's POST is usually still waiting for the front's answer when the 404 comes:
  // the session it makes is DELETEd when the answer arrives.
  await waitFor('the front to hold no session', async () => (await endpoint.open()) === 0, { timeoutMs: 10000 });
  const pub = endpoint.requests.slice(before).find((q) => q.method === 'POST' && q.session);
  if (pub) assert.ok(endpoint.requests.slice(before).some((q) => q.method === 'DELETE' && q.path === `/whip/session/${pub.session}`));
  const again = endpoint.requests.slice(before).filter((q) => q.method === 'POST' && q.path === '/whep/nope');
  assert.equal(again.length, 1, 'a refusal is not retried');
});

step('429 with Retry-After: the room waits that long and POSTs again; a 404 at DELETE still ends the call', async () => {
  endpoint.opts.busy = 1;
  endpoint.opts.busyAfterS = 2;
  const before = endpoint.requests.length;
  try {
    const r = await daemon.ctl('join', link);
    assert.equal(r.code, 0, ctlFail(r, 'join'));
    const posts = endpoint.requests.slice(before).filter((q) => q.method === 'POST');
    assert.equal(posts.length, 2, 'one 429, then the POST that was answered');
    const waited = posts[1].t - posts[0].doneT;
    console.log(`429: the room waited ${waited} ms (Retry-After: 2)`);
    assert.ok(waited >= 1900 && waited < 5000, `waited ${waited} ms`);
    endpoint.opts.deleteStatus = 404;
    const l = await daemon.ctl('leave');
    assert.equal(l.code, 0, ctlFail(l, 'leave'));
    await waitState(daemon, 'idle', { timeoutMs: 15000 });
    const del = endpoint.requests.slice(before).filter((q) => q.method === 'DELETE');
    assert.equal(del.length, 1, 'the DELETE was sent (and answered 404)');
  } finally {
    endpoint.opts.busy = 0;
    endpoint.opts.deleteStatus = 0;
  }
});

step('a 307 redirect is followed with the token; the call connects', async () => {
  const addr = process.env.AR_NETNS_ADDR1;
  endpoint.opts.redirect = '/whip/old';
  const before = endpoint.requests.length;
  try {
    const r = await daemon.ctl('join', `whip+http://${addr}:${endpoint.port}/whip/old#token=${TOKEN}`);
    assert.equal(r.code, 0, ctlFail(r, 'join'));
    const posts = endpoint.requests.slice(before).filter((q) => q.method === 'POST');
    assert.deepEqual(posts.map((q) => q.path), ['/whip/old', '/whip/ep']);
    assert.ok(posts.every((q) => q.auth === `Bearer ${TOKEN}` && q.type === 'application/sdp'));
    assert.equal(posts[1].body, posts[0].body, 'the same offer after the redirect');
    const l = await daemon.ctl('leave');
    assert.equal(l.code, 0, ctlFail(l, 'leave'));
    await waitState(daemon, 'idle', { timeoutMs: 15000 });
  } finally {
    endpoint.opts.redirect = null;
  }
});

step('a server that never answers: a clear timeout error, bounded', async () => {
  const addr = process.env.AR_NETNS_ADDR1;
  endpoint.opts.silentPath = '/whip/silent';
  try {
    const t0 = Date.now();
    const r = await daemon.ctl('join', `whip+http://${addr}:${endpoint.port}/whip/silent#token=${TOKEN}`);
    assert.notEqual(r.code, 0);
    const s = await waitFor('the join to fail', async () => {
      const st = await daemon.status();
      return (st.state === 'idle' || st.state === 'failed') && st.error ? st : null;
    }, { timeoutMs: 40000 });
    const ms = Date.now() - t0;
    console.log(`silent endpoint: ${s.error} after ${ms} ms`);
    assert.match(s.error, /did not answer in time/);
    assert.ok(ms < 30000, `bounded (${ms} ms)`);
  } finally {
    endpoint.opts.silentPath = null;
  }
});
