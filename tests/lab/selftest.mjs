// Anyroom test lab self-test: two Chromium participants in one Janus room
// must decode each other's video and receive each other's audio. Proves the
// lab (namespace, Janus config, participant page) without anyroomd.
//
//   tests/lab/in-netns.sh node --test --test-reporter=tap tests/lab/selftest.mjs
//
// AR_LAB_OUT: where screenshots and logs go (default: a temp dir, printed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startJanus } from './janus.mjs';
import { launchParticipant } from './participant.mjs';
import { startTamperProxy, subscriberOfferSdp, fingerprints } from './lab.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const OUT = process.env.AR_LAB_OUT || fs.mkdtempSync(path.join(os.tmpdir(), 'ar-lab-out-'));
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-lab-selftest-'));
const ENFORCE = process.env.AR_NETNS_ADDR1 || '10.97.0.1';

let janus = null;
const people = [];

before(async () => {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh');
  fs.mkdirSync(OUT, { recursive: true });
  janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: ENFORCE });
});

after(async () => {
  for (const p of people) await p.close().catch(() => {});
  if (janus) await janus.stop();
  if (process.exitCode && janus) console.log(`Janus log tail:\n${janus.logTail(60)}`);
  fs.rmSync(TMP, { recursive: true, force: true });
  console.log(`lab output in ${OUT}`);
});

test('two Chromium participants decode each other', { timeout: 120000 }, async (t) => {
  const alice = await launchParticipant({ display: 'alice', logDir: OUT });
  people.push(alice);
  await alice.waitJoined();
  const bob = await launchParticipant({ display: 'bob', logDir: OUT });
  people.push(bob);
  await bob.waitJoined();

  await alice.waitForFeed('bob', { timeoutMs: 30000 });
  await bob.waitForFeed('alice', { timeoutMs: 30000 });
  const a0 = await alice.stats('bob');
  const b0 = await bob.stats('alice');
  await sleep(3000);
  const a1 = await alice.stats('bob');
  const b1 = await bob.stats('alice');
  const st = await alice.state();
  t.diagnostic(`alice publishes ${st.local.width}x${st.local.height} codec ${st.publishCodec}`);
  t.diagnostic(`alice<-bob video ${JSON.stringify(a1.video)}`);
  t.diagnostic(`alice<-bob audio ${JSON.stringify(a1.audio)}`);
  t.diagnostic(`bob<-alice video ${JSON.stringify(b1.video)}`);
  for (const [who, s0, s1] of [['alice<-bob', a0, a1], ['bob<-alice', b0, b1]]) {
    assert.ok(s1.video.framesDecoded - s0.video.framesDecoded >= 30, `${who}: video frames keep being decoded`);
    assert.ok(s1.video.frameWidth > 0 && s1.video.frameHeight > 0, `${who}: video has a size`);
    assert.ok(s1.audio && s1.audio.packetsReceived > s0.audio.packetsReceived, `${who}: audio packets arrive`);
  }
  await alice.screenshot(path.join(OUT, 'selftest-alice.png'));

  await bob.leave();
  await alice.waitFeedGone('bob', { timeoutMs: 10000 });
});

test('tamper proxy flips one hex digit of Janus\'s real fingerprints', { timeout: 60000 }, async (t) => {
  const alice = people[0];
  const feed = (await alice.state()).myId;
  const proxy = await startTamperProxy({ tmp: TMP });
  try {
    const direct = fingerprints(await subscriberOfferSdp('http://127.0.0.1:8088/janus', 1234, feed));
    const viaProxy = fingerprints(await subscriberOfferSdp(`http://127.0.0.1:${proxy.port}/janus`, 1234, feed));
    t.diagnostic(`direct ${direct.join(', ')}`);
    t.diagnostic(`proxied ${viaProxy.join(', ')}`);
    assert.ok(direct.length >= 1, 'Janus offer has a fingerprint');
    assert.equal(viaProxy.length, direct.length);
    for (let i = 0; i < direct.length; i++) {
      assert.notEqual(viaProxy[i], direct[i]);
      const diff = [...direct[i]].filter((c, k) => c !== viaProxy[i][k]).length;
      assert.equal(diff, 1, 'exactly one character differs');
    }
    assert.match(proxy.logText(), /flipped \d+ fingerprint/);
  } finally {
    await proxy.stop();
  }
});
