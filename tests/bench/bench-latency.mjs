// Glass-to-glass latency (issue 14, part 4), run by tests/bench/bench.sh inside a lab namespace
// (one veth pair: the LAN lab), printed as a table. docs/latency.md says how it works.
// Every picture carries the time it was made (media/ar-stamp.c's code, 16-pixel blocks at the
// top-left corner), and the other side reads it from the decoded picture:
//   room -> far end: anyroomd's test camera stamps each frame (ANYROOM_TEST_STAMP=1); the
//     Chromium participant "alice" reads it at display (requestVideoFrameCallback);
//   far end -> room: alice publishes a canvas whose frames carry the time they were drawn;
//     anyroomd reads it in its decoded frames ([media] decode-received-video=true);
//   reference: the same, Chromium "alice" <-> Chromium "bob" in the same room.
// Both clocks are this machine's. AR_BENCH_LATENCY_S (default 20) seconds per direction pair.
// Exits 0 whenever it ran: figures never fail it.
import fs from 'node:fs';
import path from 'node:path';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant, waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd } from '../lab/lab.mjs';
import { fmt, quantile, writeReport } from './report.mjs';

const SECS = Number(process.env.AR_BENCH_LATENCY_S || 20);
const LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'bench-latency');
const TMP = mkTemp('ar-bench-latency-');
const log = (m) => console.error(`bench-latency: ${m}`);

function row(name, samples, target, extra = '') {
  const p50 = quantile(samples, 0.5);
  const p95 = quantile(samples, 0.95);
  return [`${name} [n=${samples.length}]`, fmt(p50), fmt(p95), target === null ? '-' : `p50 <= ${target} ms`,
    target === null || !Number.isFinite(p50) ? '-' : p50 <= target ? 'yes' : 'NO', extra];
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const rows = [];
  const notes = [];
  let janus;
  let daemon;
  let alice;
  let bob;
  try {
    janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: process.env.AR_NETNS_ADDR1 || '10.97.0.1' });
    alice = await launchParticipant({ display: 'alice', logDir: OUT, stamp: true });
    await alice.waitJoined();

    // ---- anyroomd <-> Chromium ------------------------------------------------------------
    const conf = path.join(TMP, 'anyroom.conf');
    fs.writeFileSync(conf, '[room]\nname=Room\n[device]\ndisplay=kiosk\n[media]\nwidth=1280\nheight=720\nframerate=30\ndecode-received-video=true\n', { mode: 0o600 });
    daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf], env: { ANYROOM_TEST_STAMP: '1' } });
    const r = await daemon.ctl('join', LINK, '--timeout', '30');
    if (r.code !== 0) throw new Error(`join failed (exit ${r.code}): ${r.stderr.trim()}`);
    await alice.waitForFeed('Room', { timeoutMs: 20000 });
    await sleep(3000); // past the first key frames and the bandwidth ramp
    await alice.stampStart('Room');
    await sleep(SECS * 1000);
    const toFar = await alice.stampStop();
    const recv = ((await daemon.status()).tracks || []).find((t) => t.kind === 'video' && t.direction === 'recv');
    rows.push(row('room -> far end: anyroomd camera to Chromium display (ms)', toFar.samples, 100,
      `${toFar.unread} frames without a readable stamp`));
    if (recv && recv.stamps) {
      // anyroomd keeps the median and 95th percentile of its last 4096 readings.
      rows.push([`far end -> room: Chromium canvas to anyroomd decoded frame (ms) [n=${recv.stamps}]`, fmt(recv.stamp_p50_ms), fmt(recv.stamp_p95_ms), '-', '-', `${recv.width}x${recv.height} ${recv.codec}`]);
    } else {
      notes.push('far end -> room: anyroomd read no stamp (its received video: ' + JSON.stringify(recv) + ')');
    }
    await daemon.ctl('leave');
    await daemon.stop(10000);
    daemon = null;
    await alice.waitFeedGone('Room', { timeoutMs: 15000 }).catch(() => {});

    // ---- the reference: Chromium <-> Chromium ----------------------------------------------
    bob = await launchParticipant({ display: 'bob', logDir: OUT, stamp: true });
    await bob.waitJoined();
    await bob.waitForFeed('alice', { timeoutMs: 20000 });
    await alice.waitForFeed('bob', { timeoutMs: 20000 });
    await sleep(3000);
    await alice.stampStart('bob');
    await bob.stampStart('alice');
    await sleep(SECS * 1000);
    const aliceSees = await alice.stampStop();
    const bobSees = await bob.stampStop();
    rows.push(row('reference: Chromium canvas to Chromium display, bob -> alice (ms)', aliceSees.samples, null, `${aliceSees.unread} unread`));
    rows.push(row('reference: Chromium canvas to Chromium display, alice -> bob (ms)', bobSees.samples, null, `${bobSees.unread} unread`));
  } finally {
    if (bob) await bob.close().catch(() => {});
    if (alice) await alice.close().catch(() => {});
    if (daemon) await daemon.stop(10000);
    if (janus) await janus.stop();
    try { fs.copyFileSync(path.join(TMP, 'anyroomd.log'), path.join(OUT, 'anyroomd.log')); } catch { /* none */ }
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  const table = [['glass-to-glass latency, LAN lab (one veth pair, Janus between)', 'p50', 'p95', 'target', 'met?', 'notes'], ...rows];
  writeReport(path.join(OUT, 'report.md'), {
    command: process.env.AR_BENCH_CMDLINE || 'tests/bench/bench.sh BUILD latency',
    where: `inside network namespace ${process.env.AR_NETNS}`,
    table,
    notes: ['"display" is Chromium\'s requestVideoFrameCallback (the frame composited); anyroomd\'s end is its decoder\'s output (it shows nothing itself with the kiosk display: the room screen adds its own decode and display).', ...notes],
  });
}

main().catch((e) => {
  log(`failed: ${e.stack || e}`);
  process.exit(1);
});
