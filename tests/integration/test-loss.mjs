// Integration (issue 14, part 3): the room under packet loss. A real Janus, a real Chromium
// participant ("alice") and anyroomd in a private network namespace; nftables drops 10 % of the
// UDP packets every process there sends (each packet, each direction, once). Asserted: the
// room's jitter buffer makes room for retransmissions (its latency goes up while packets are
// lost, and back down after a calm spell), and alice's video keeps coming to the room without
// a long freeze. Figures side by side with Chromium: `./build.sh bench loss`.
//   tests/integration/run-in-lab.sh tests/integration/test-loss.mjs
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant, waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd, tail } from '../lab/lab.mjs';
import { ctlFail, stepper, until } from './common.mjs';

const { step, failed } = stepper({ timeout: 120000 });
const LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'loss');
const TMP = mkTemp('ar-it-loss-');
let janus = null;
let daemon = null;
let alice = null;

function loss(pct) {
  spawnSync('nft', ['delete', 'table', 'inet', 'arloss']);
  if (!pct) return;
  const r = spawnSync('nft', ['-f', '-'], {
    input: `table inet arloss {\n  chain out { type filter hook output priority 0; policy accept;\n    meta l4proto udp numgen random mod 100 < ${pct} drop; }\n}\n`,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`nft: ${r.stderr}`);
}

const recvVideo = (s) => (s.tracks || []).find((t) => t.kind === 'video' && t.direction === 'recv');
const logText = () => fs.readFileSync(daemon.log, 'utf8');
// The jitter buffer is at its configured latency: never raised, or lowered since.
const calm = () => logText().lastIndexOf('jitter buffer 200 -> 60') >= logText().lastIndexOf('jitter buffer 60 -> 200');

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: process.env.AR_NETNS_ADDR1 || '10.97.0.1' });
  alice = await launchParticipant({ display: 'alice', logDir: OUT });
  await alice.waitJoined();
  daemon = await startAnyroomd({ tmp: TMP });
});

after(async () => {
  loss(0);
  if (failed() && daemon) console.log(`# anyroomd log (tail):\n${tail(daemon.log, 40).replace(/^/gm, '# ')}`);
  if (alice) await alice.close().catch(() => {});
  if (daemon) await daemon.stop(10000);
  if (janus) await janus.stop();
  try { fs.copyFileSync(path.join(TMP, 'anyroomd.log'), path.join(OUT, 'anyroomd.log')); } catch { /* none */ }
  fs.rmSync(TMP, { recursive: true, force: true });
});

step('a: 10 % loss for 20 s: the jitter buffer makes room for retransmissions, alice\'s video keeps coming', async (t) => {
  const r = await daemon.ctl('join', LINK, '--timeout', '30');
  assert.equal(r.code, 0, ctlFail(r, 'join'));
  await waitFor('the room to receive alice', async () => (recvVideo(await daemon.status())?.frames || 0) > 30, { timeoutMs: 20000, intervalMs: 200 });
  // A clean start: past the first seconds' losses, back at the configured latency.
  await until('a calm jitter buffer', calm, 30000);
  const raisedBefore = (logText().match(/jitter buffer 60 -> 200/g) || []).length;
  const d0 = recvVideo(await daemon.status());
  loss(10);
  await sleep(20000);
  const d1 = recvVideo(await daemon.status());
  loss(0);
  const frames = d1.frames - d0.frames;
  t.diagnostic(`under 10 % loss for 20 s: ${frames} frames, lost ${d1.packets_lost - d0.packets_lost} packets, NACKs +${d1.nack_count - d0.nack_count}, freezes +${d1.freezes - d0.freezes} (${Math.round(d1.freeze_ms - d0.freeze_ms)} ms)`);
  assert.ok(d1.packets_lost > d0.packets_lost, 'the loss was real (packets lost)');
  assert.ok((logText().match(/jitter buffer 60 -> 200/g) || []).length > raisedBefore,
    'the jitter buffer went up to 200 ms under loss');
  assert.ok(d1.nack_count > d0.nack_count, 'the room asked for retransmissions (NACK)');
  assert.ok(frames >= 20 * 10, `alice's video kept coming: ${frames} frames in 20 s (want >= 200)`);
  assert.ok(d1.freeze_ms - d0.freeze_ms < 3000, `no long freeze: ${Math.round(d1.freeze_ms - d0.freeze_ms)} ms in all`);
});

step('b: the loss ends: after a calm spell the jitter buffer is back at its configured 60 ms', async () => {
  await until('the jitter buffer to come back down', calm, 30000);
  const r = await daemon.ctl('leave');
  assert.equal(r.code, 0, ctlFail(r, 'leave'));
});
