// Anyroom benchmarks (run by tests/bench/bench.sh inside a lab namespace).
//
// 1. Join time, N runs (default 10): from just before `anyroomctl join` to
//    - anyroomd's first remote video frame (status timing.join_to_first_remote_video_ms,
//      counted by anyroomd from accepting the join), and
//    - the room's first frame decoded by a Chromium participant (Date.now() in
//      the page at the first getStats framesDecoded > 0, minus Date.now() just
//      before the join; both clocks are this machine's).
//    then leave.
// 2. One two-way 720p30 call of AR_BENCH_CALL_S seconds (default 30):
//    anyroomd CPU in % of one core from /proc/PID/stat utime+stime over the
//    window (and per-second samples), RSS from /proc/PID/status (VmRSS samples,
//    VmHWM peak).
// Prints a table. Exits 0 whenever it ran (timings never fail it).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant, waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd } from '../lab/lab.mjs';
import { fmt, machine, quantile, tableLines } from './report.mjs';

const RUNS = Number(process.env.AR_BENCH_RUNS || 10);
const CALL_S = Number(process.env.AR_BENCH_CALL_S || 30);
const LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'bench');
const TMP = mkTemp('ar-bench-');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const log = (m) => console.error(`bench: ${m}`);

function cpuTicks(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // fields after "(comm) ": state=0 ... utime=11 stime=12
  return Number(f[11]) + Number(f[12]);
}

function memKb(pid, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  let janus;
  let daemon;
  let alice;
  const rows = [];
  const notes = [];
  try {
    janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: process.env.AR_NETNS_ADDR1 || '10.97.0.1' });
    daemon = await startAnyroomd({ tmp: TMP });
    alice = await launchParticipant({ display: 'alice', logDir: OUT });
    await alice.waitJoined();
    log(`Janus PID ${janus.pid}, anyroomd PID ${daemon.pid}, Chromium participant "alice" publishing`);

    // ---- 1. join times --------------------------------------------------
    const daemonFirst = [];
    const chromeFirst = [];
    const ctlReturn = [];
    const connected = [];
    let failures = 0;
    let chromeTimeout = 20000;
    const rssAfterLeave = [];
    for (let i = 1; i <= RUNS; i++) {
      const t0 = Date.now();
      const r = await daemon.ctl('join', LINK, '--timeout', '30');
      if (r.code !== 0) {
        failures++;
        log(`run ${i}: join failed (exit ${r.code}): ${r.stderr.trim()}`);
        await daemon.ctl('leave');
        continue;
      }
      ctlReturn.push(Date.now() - t0);
      let chrome = NaN;
      try {
        await alice.waitForFeed('Room', { timeoutMs: chromeTimeout });
        chrome = (await alice.firstFrameAt('Room')) - t0;
      } catch (e) {
        log(`run ${i}: Chromium did not decode the room: ${e.message}`);
        chromeTimeout = 10000; // do not wait long for every run
      }
      let st = null;
      try {
        st = await waitFor('status timing.join_to_first_remote_video_ms', async () => {
          const s = await daemon.status();
          return s.timing && s.timing.join_to_first_remote_video_ms != null ? s : null;
        }, { timeoutMs: 10000, intervalMs: 100 });
      } catch (e) {
        log(`run ${i}: ${e.message}`);
      }
      const d = st ? Number(st.timing.join_to_first_remote_video_ms) : NaN;
      const c = st && st.timing.join_to_connected_ms != null ? Number(st.timing.join_to_connected_ms) : NaN;
      daemonFirst.push(d);
      chromeFirst.push(chrome);
      connected.push(c);
      log(`run ${i}: anyroomctl join returned ${ctlReturn.at(-1)} ms; anyroomd first remote frame ${d} ms (connected ${c} ms); Chromium first room frame ${chrome} ms`);
      const lr = await daemon.ctl('leave');
      if (lr.code !== 0) log(`run ${i}: leave exited ${lr.code}: ${lr.stderr.trim()}`);
      try {
        await alice.waitFeedGone('Room', { timeoutMs: 10000 });
      } catch (e) {
        log(`run ${i}: ${e.message}`);
      }
      await sleep(500);
      rssAfterLeave.push(memKb(daemon.pid, 'VmRSS') / 1024);
    }
    if (rssAfterLeave.length >= 2) {
      const growth = (rssAfterLeave.at(-1) - rssAfterLeave[0]) / (rssAfterLeave.length - 1);
      notes.push(`anyroomd VmRSS after each leave (MB): ${rssAfterLeave.map((x) => x.toFixed(0)).join(' ')} (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB per join/leave cycle)`);
    }
    if (failures) notes.push(`${failures} of ${RUNS} joins failed`);
    rows.push(['join -> anyroomd first remote video frame (ms)', daemonFirst, 1000, 'ms']);
    rows.push(['join -> Chromium decodes first room frame (ms)', chromeFirst, 1000, 'ms']);
    rows.push(['join -> connected, anyroomd timing (ms)', connected, null, 'ms']);
    rows.push(['anyroomctl join wall time (ms)', ctlReturn, null, 'ms']);

    // ---- 2. a 30 s two-way 720p30 call ----------------------------------
    const r = await daemon.ctl('join', LINK, '--timeout', '30');
    if (r.code !== 0) throw new Error(`call: join failed (exit ${r.code}): ${r.stderr.trim()}`);
    try {
      await alice.waitForFeed('Room', { timeoutMs: 20000 });
    } catch (e) {
      notes.push(`call: Chromium never decoded the room's video (${e.message}); measured anyway`);
    }
    await sleep(2000); // settle
    const pid = daemon.pid;
    const cpuSamples = [];
    const rssSamples = [];
    const w0 = performance.now();
    const c0 = cpuTicks(pid);
    let prevT = w0;
    let prevC = c0;
    const s0 = await daemon.status();
    while (performance.now() - w0 < CALL_S * 1000) {
      await sleep(1000);
      const now = performance.now();
      const c = cpuTicks(pid);
      cpuSamples.push(((c - prevC) / CLK_TCK) / ((now - prevT) / 1000) * 100);
      rssSamples.push(memKb(pid, 'VmRSS') / 1024);
      prevT = now;
      prevC = c;
    }
    const w1 = performance.now();
    const c1 = cpuTicks(pid);
    const cpuWindow = ((c1 - c0) / CLK_TCK) / ((w1 - w0) / 1000) * 100;
    const hwm = memKb(pid, 'VmHWM') / 1024;
    // RSS counts library code shared with other processes: split it.
    const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const rollKb = (k) => Number((rollup.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [0, 0])[1]);
    const s1 = await daemon.status();
    const room = await alice.stats('Room').catch(() => ({ video: null }));
    const pubStats = await alice.publisherStats();
    const send = (s1.tracks || []).find((t) => t.kind === 'video' && t.direction === 'send');
    const recv = (s1.tracks || []).find((t) => t.kind === 'video' && t.direction === 'recv');
    const send0 = (s0.tracks || []).find((t) => t.kind === 'video' && t.direction === 'send');
    const sentFps = send && send0 ? (send.frames - send0.frames) / ((w1 - w0) / 1000) : NaN;
    const recv0 = (s0.tracks || []).find((t) => t.kind === 'video' && t.direction === 'recv');
    const recvFps = recv && recv0 ? (recv.frames - recv0.frames) / ((w1 - w0) / 1000) : NaN;
    notes.push(`call: anyroomd sends ${send ? `${send.codec} ${send.width}x${send.height}` : '?'} at ${sentFps.toFixed(1)} fps measured (status framerate ${send && Number(send.framerate).toFixed(1)}), encoder ${s1.encoder}`);
    notes.push(`call: anyroomd receives alice ${recv ? `${recv.codec} ${recv.width}x${recv.height}, ${recvFps.toFixed(1)} fps decoded over the window (status framerate now ${Number(recv.framerate).toFixed(1)})` : '?'}; alice sends ${pubStats && pubStats.video ? `${pubStats.video.frameWidth}x${pubStats.video.frameHeight} (${pubStats.video.encoderImplementation})` : '?'}`);
    notes.push(`call: Chromium decodes the room at ${room.video ? `${room.video.frameWidth}x${room.video.frameHeight} ${room.video.framesPerSecond} fps` : '(no inbound video)'}`);
    notes.push(`call: anyroomd CPU over the ${CALL_S} s window: ${cpuWindow.toFixed(1)} % of one core (utime+stime, CLK_TCK ${CLK_TCK}); peak RSS (VmHWM) ${hwm.toFixed(1)} MB`);
    notes.push(`call: RSS at the end of the window = ${(rollKb('Anonymous') / 1024).toFixed(1)} MB anonymous (heap, buffers) + ${((rollKb('Rss') - rollKb('Anonymous')) / 1024).toFixed(1)} MB file-backed (library code, shared); PSS ${(rollKb('Pss') / 1024).toFixed(1)} MB`);
    rows.push(['anyroomd CPU, 720p30 two-way call (% of one core, 1 s samples)', cpuSamples, 60, '%', cpuWindow]);
    rows.push(['anyroomd RSS during the call (MB, VmRSS samples)', rssSamples, 80, 'MB', hwm]);
    await daemon.ctl('leave');
  } finally {
    if (alice) await alice.close().catch(() => {});
    if (daemon) await daemon.stop(10000);
    if (janus) await janus.stop();
    try { fs.copyFileSync(path.join(TMP, 'anyroomd.log'), path.join(OUT, 'anyroomd.log')); } catch { /* none */ }
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  printTable(rows, notes);
}

function printTable(rows, notes) {
  const table = [['metric', 'median', 'p95', 'target', 'met?']];
  for (const [name, xs, target, unit, overall] of rows) {
    const med = quantile(xs, 0.5);
    const p95 = quantile(xs, 0.95);
    let tgt = '-';
    let met = '-';
    if (target !== null) {
      // CPU and RSS are judged on the whole window (mean CPU, peak RSS).
      const judged = overall !== undefined ? overall : med;
      const label = unit === '%' ? `<= ${target} % (window mean ${fmt(overall)})`
        : unit === 'MB' ? `<= ${target} MB (peak ${fmt(overall)})`
          : `<= ${target} ${unit} median`;
      tgt = label;
      met = Number.isFinite(judged) ? (judged <= target ? 'yes' : 'NO') : 'n/a';
    }
    const n = xs.filter((x) => Number.isFinite(x)).length;
    table.push([`${name} [n=${n}]`, fmt(med), fmt(p95), tgt, met]);
  }
  const out = [];
  out.push(`command: ${process.env.AR_BENCH_CMDLINE || 'tests/bench/bench.sh'}`);
  out.push(`machine: ${machine()}; inside network namespace ${process.env.AR_NETNS}`);
  out.push(...tableLines(table));
  for (const n of notes) out.push(`note: ${n}`);
  out.push(`logs: ${OUT}`);
  console.log(out.join('\n'));
  fs.writeFileSync(path.join(OUT, 'bench.txt'), `${out.join('\n')}\n`);
}

main().catch((e) => {
  console.error(`bench: FAILED to run: ${e.stack || e.message}`);
  process.exit(1);
});
