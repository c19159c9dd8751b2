// Loss resilience side by side (issue 14, part 3), run by tests/bench/bench.sh inside a lab
// namespace (tests/lab/in-netns.sh), printed as a table:
// one sender, the Chromium participant "alice" (1280x720 at 30), and two receivers of her video
// in the same Janus room at the same time: anyroomd (which also sends, as a room does) and a
// second Chromium, "bob" (receive only). For AR_BENCH_LOSS_S seconds (default 60) at 5 % and
// then 10 % random loss, every UDP packet that leaves a process in the namespace is dropped with
// that probability (nftables on the output hook: each packet, each direction, once; media and
// RTCP alike; the signalling is TCP). Figures per receiver: frames per second it decoded of alice
// (anyroomd decodes here: [media] decode-received-video=true), freezes of 1 s or more, packets
// lost (before retransmission). The target: anyroomd >= 90 % of Chromium's frame rate.
// AR_BENCH_LOSS_MEDIA adds [media] keys to anyroomd's config (experiments: "jitter-latency-ms=150").
// Exits 0 whenever it ran: figures never fail it.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant, waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd } from '../lab/lab.mjs';
import { fmt, writeReport } from './report.mjs';

const LOSS_S = Number(process.env.AR_BENCH_LOSS_S || 60);
const LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'bench-loss');
const TMP = mkTemp('ar-bench-loss-');
const log = (m) => console.error(`bench-loss: ${m}`);

// Drops @pct % of the UDP packets sent in this namespace (0: none).
function loss(pct) {
  spawnSync('nft', ['delete', 'table', 'inet', 'arloss']);
  if (!pct) return;
  const rules = `table inet arloss {
  chain out { type filter hook output priority 0; policy accept;
    meta l4proto udp numgen random mod 100 < ${pct} drop; }
}
`;
  const r = spawnSync('nft', ['-f', '-'], { input: rules, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft: ${r.stderr}`);
}

const recvVideo = (s) => (s.tracks || []).find((t) => t.kind === 'video' && t.direction === 'recv');

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
    alice = await launchParticipant({ display: 'alice', logDir: OUT });
    await alice.waitJoined();
    const conf = path.join(TMP, 'anyroom.conf');
    // AR_BENCH_LOSS_MEDIA: more [media] keys for an experiment, e.g. "jitter-latency-ms=150".
    const extra = (process.env.AR_BENCH_LOSS_MEDIA || '').split(';').filter(Boolean).join('\n');
    fs.writeFileSync(conf, `[room]\nname=Room\n[device]\ndisplay=kiosk\n[media]\ndecode-received-video=true\n${extra}\n`, { mode: 0o600 });
    if (extra) notes.push(`anyroomd's [media] also has: ${extra.replace(/\n/g, '; ')}`);
    daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf] });
    const r = await daemon.ctl('join', LINK, '--timeout', '30');
    if (r.code !== 0) throw new Error(`join failed (exit ${r.code}): ${r.stderr.trim()}`);
    bob = await launchParticipant({ display: 'bob', logDir: OUT, publish: false });
    await bob.waitJoined({ publishing: false });
    await bob.waitForFeed('alice', { timeoutMs: 20000 });
    await waitFor('anyroomd to decode alice', async () => (recvVideo(await daemon.status())?.frames || 0) > 0, { timeoutMs: 20000, intervalMs: 200 });
    await sleep(5000); // past alice's bandwidth ramp
    for (const pct of [0, 5, 10]) {
      const secs0 = pct ? LOSS_S : Math.min(LOSS_S, 20);
      const gap = await bob.gapStart('alice');
      const b0 = (await bob.stats('alice')).video;
      const d0 = recvVideo(await daemon.status());
      loss(pct);
      const t0 = Date.now();
      await sleep(secs0 * 1000);
      const b1 = (await bob.stats('alice')).video;
      const d1 = recvVideo(await daemon.status());
      const secs = (Date.now() - t0) / 1000;
      loss(0);
      const g = await bob.gapStop(gap);
      const dFps = (d1.frames - d0.frames) / secs;
      const bFps = (b1.framesDecoded - b0.framesDecoded) / secs;
      rows.push([`${pct} % loss, ${secs.toFixed(0)} s`, fmt(dFps), fmt(bFps), fmt(dFps / bFps),
        `${d1.freezes - d0.freezes} / ${g.freezes}`, `${d1.packets_lost - d0.packets_lost} / ${b1.packetsLost - b0.packetsLost}`,
        pct ? '>= 0.9' : '-']);
      notes.push(`${pct} %: anyroomd ${d1.width}x${d1.height} ${d1.codec}, NACKs sent +${d1.nack_count - d0.nack_count}, freeze time ${Math.round(d1.freeze_ms - d0.freeze_ms)} ms; ` +
        `bob ${b1.frameWidth}x${b1.frameHeight}, NACKs +${b1.nackCount - b0.nackCount}, PLIs +${b1.pliCount - b0.pliCount}, freeze time ${g.freezeMs} ms (longest gap ${g.maxGapMs} ms)`);
      await sleep(5000); // recover before the next step
    }
  } finally {
    loss(0);
    if (bob) await bob.close().catch(() => {});
    if (alice) await alice.close().catch(() => {});
    if (daemon) await daemon.stop(10000);
    if (janus) await janus.stop();
    try { fs.copyFileSync(path.join(TMP, 'anyroomd.log'), path.join(OUT, 'anyroomd.log')); } catch { /* none */ }
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  const table = [['alice\'s video, received at the same time', 'anyroomd fps', 'Chromium fps', 'ratio', 'freezes >= 1 s (anyroomd / Chromium)', 'packets lost (anyroomd / Chromium)', 'target'], ...rows];
  writeReport(path.join(OUT, 'report.md'), {
    command: process.env.AR_BENCH_CMDLINE || 'tests/bench/bench.sh BUILD loss',
    where: `inside network namespace ${process.env.AR_NETNS}`,
    table,
    notes: ['fps: frames decoded per second (anyroomd: its decoder\'s output, which conceals broken frames; Chromium: getStats framesDecoded, complete frames only)', ...notes],
  });
}

main().catch((e) => {
  log(`failed: ${e.stack || e}`);
  loss(0);
  process.exit(1);
});
