// Media efficiency (issue 14, part 5), run by tests/bench/bench.sh inside a lab namespace:
// the same two-way 720p30 Janus call done by the room twice, one after the other in one run,
// against the same Chromium participant ("alice", publishing 1280x720 at 30 and receiving):
//   1. anyroomd as the room (native engine, test camera and tone at 1280x720@30, no local
//      video renderer: display=kiosk, whose room screen decodes the video itself), as shipped,
//      then again with decode-received-video=true (what it did before issue 14: decoding what
//      the room screen decodes too);
//   2. a Chromium participant as the room ("chrome-room", the lab's client page: the same
//      720p30 fake camera and tone, publishing and receiving alice).
// Over AR_BENCH_MEDIA_S seconds (default 30) each: CPU in % of one core (utime+stime of every
// process of the room: anyroomd alone; Chromium's whole process tree) and memory (anyroomd's
// VmRSS and PSS; Chromium's PSS summed over its processes, RSS summed too: shared pages count
// once per process there). The ratio anyroomd / Chromium is the figure the issue names
// (target <= 1/2, goal 1/3). Exits 0 whenever it ran: figures never fail it.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant } from '../lab/participant.mjs';
import { buildDir, descendants, mkTemp, processes, sleep, startAnyroomd } from '../lab/lab.mjs';
import { fmt, writeReport } from './report.mjs';

const CALL_S = Number(process.env.AR_BENCH_MEDIA_S || 30);
const LINK = 'janus+ws://127.0.0.1:8188/?room=1234&display=Room';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'bench-media');
const TMP = mkTemp('ar-bench-media-');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const log = (m) => console.error(`bench-media: ${m}`);

function rollupKb(pid, key) {
  try {
    const t = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number((t.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm')) || [0, 0])[1]);
  } catch {
    return 0; // gone
  }
}

// The files whose pages @pid has resident, largest first (MB): where file-backed RSS goes.
function topMappings(pid, n = 8) {
  let text = '';
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return '(gone)';
  }
  const byFile = new Map();
  let file = null;
  for (const line of text.split('\n')) {
    const head = line.match(/^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/);
    if (head) {
      file = head[1].startsWith('/') ? path.basename(head[1]) : null;
      continue;
    }
    const rss = line.match(/^Rss:\s+(\d+)/);
    if (rss && file) byFile.set(file, (byFile.get(file) || 0) + Number(rss[1]));
  }
  const all = [...byFile.entries()].sort((a, b) => b[1] - a[1]);
  const total = all.reduce((a, [, kb]) => a + kb, 0);
  return `${fmt(total / 1024)} MB in ${all.length} files; ` +
    all.slice(0, n).map(([f, kb]) => `${f} ${fmt(kb / 1024)}`).join(', ');
}

// The processes of one room: @pids() gives their PIDs now.
async function measure(pids, seconds) {
  const ticks = () => {
    const all = processes();
    const want = new Set(pids().map(String));
    return new Map(all.filter((p) => want.has(p.pid)).map((p) => [p.pid, p.ticks]));
  };
  const t0 = ticks();
  const w0 = performance.now();
  const pss = [];
  const rss = [];
  while (performance.now() - w0 < seconds * 1000) {
    await sleep(1000);
    const ps = pids();
    pss.push(ps.reduce((a, p) => a + rollupKb(p, 'Pss'), 0) / 1024);
    rss.push(ps.reduce((a, p) => a + rollupKb(p, 'Rss'), 0) / 1024);
  }
  const t1 = ticks();
  const secs = (performance.now() - w0) / 1000;
  let used = 0;
  for (const [pid, t] of t1) used += t - (t0.get(pid) || 0);
  return { cpu: (used / CLK_TCK / secs) * 100, pss: Math.max(...pss), rss: Math.max(...rss), n: t1.size };
}

// Ticks per thread name of @pid (GStreamer names its streaming threads after their pads).
function threadTicks(pid) {
  const out = new Map();
  let tids = [];
  try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(`${tid}:${name}`, Number(f[11]) + Number(f[12]));
    } catch { /* gone */ }
  }
  return out;
}

// The threads that used the most CPU between two threadTicks() snapshots, as "name N %".
function topThreads(before, after, secs, n = 6) {
  const byName = new Map();
  for (const [key, t] of after) {
    const name = key.slice(key.indexOf(':') + 1);
    byName.set(name, (byName.get(name) || 0) + t - (before.get(key) || 0));
  }
  return [...byName].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([name, t]) => `${name} ${((t / CLK_TCK / secs) * 100).toFixed(1)} %`).join(', ');
}

// A Chromium's processes: its browser (the one with this profile and no --type) and what
// descends from it.
function chromiumPids(dir) {
  const all = processes();
  let root = null;
  for (const p of all) {
    try {
      const cmd = fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
      if (cmd.includes(`--user-data-dir=${dir}`) && !cmd.some((a) => a.startsWith('--type='))) root = p.pid;
    } catch { /* gone */ }
  }
  return root ? [root, ...descendants(root, all).map((p) => p.pid)] : [];
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const notes = [];
  let janus;
  let alice;
  let daemon;
  let chrome;
  let native = null;
  let decoding = null;
  let browser = null;
  try {
    janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: process.env.AR_NETNS_ADDR1 || '10.97.0.1' });
    alice = await launchParticipant({ display: 'alice', logDir: OUT });
    await alice.waitJoined();

    // ---- 1. anyroomd as the room (as shipped; then decoding what it receives, as before) ---
    for (const decode of [false, true]) {
      const dir = path.join(TMP, decode ? 'decoding' : 'default');
      fs.mkdirSync(dir, { recursive: true });
      const conf = path.join(dir, 'anyroom.conf');
      fs.writeFileSync(conf, `[room]\nname=Room\n[device]\ndisplay=kiosk\n[media]\nwidth=1280\nheight=720\nframerate=30\ndecode-received-video=${decode}\n`, { mode: 0o600 });
      daemon = await startAnyroomd({ tmp: dir, extraArgs: ['--config', conf] });
      const r = await daemon.ctl('join', LINK, '--timeout', '30');
      if (r.code !== 0) throw new Error(`anyroomd: join failed (exit ${r.code}): ${r.stderr.trim()}`);
      await alice.waitForFeed('Room', { timeoutMs: 20000 });
      await sleep(3000);
      const s0 = await daemon.status();
      const th0 = threadTicks(daemon.pid);
      const m = await measure(() => [daemon.pid], CALL_S);
      const th1 = threadTicks(daemon.pid);
      const s1 = await daemon.status();
      const track = (s, d) => (s.tracks || []).find((t) => t.kind === 'video' && t.direction === d);
      const fps = (d) => (track(s1, d) && track(s0, d) ? (track(s1, d).frames - track(s0, d).frames) / CALL_S : NaN);
      m.anon = rollupKb(daemon.pid, 'Anonymous') / 1024;
      notes.push(`anyroomd${decode ? ' (decode-received-video=true)' : ''}: sends ${track(s1, 'send')?.width}x${track(s1, 'send')?.height} ${track(s1, 'send')?.codec} at ${fps('send').toFixed(1)} fps (encoder ${s1.encoder}); receives alice ${track(s1, 'recv')?.width}x${track(s1, 'recv')?.height} ${track(s1, 'recv')?.codec}, ${fps('recv').toFixed(1)} frames/s${decode ? ' decoded' : ' (not decoded: the room screen decodes it)'}; RSS ${fmt(m.anon)} MB anonymous`);
      notes.push(`anyroomd${decode ? ' (decoding)' : ''}: busiest threads: ${topThreads(th0, th1, CALL_S)}`);
      if (!decode) notes.push(`anyroomd: largest file-backed RSS: ${topMappings(daemon.pid)}`);
      if (decode) decoding = m;
      else native = m;
      await daemon.ctl('leave');
      await daemon.stop(10000);
      daemon = null;
      await alice.waitFeedGone('Room', { timeoutMs: 15000 }).catch(() => {});
      await sleep(2000);
    }

    // ---- 2. Chromium as the room ----------------------------------------------------------
    chrome = await launchParticipant({ display: 'chrome-room', logDir: OUT });
    await chrome.waitJoined();
    await chrome.waitForFeed('alice', { timeoutMs: 20000 });
    await alice.waitForFeed('chrome-room', { timeoutMs: 20000 });
    await sleep(3000);
    const a0 = (await chrome.stats('alice')).video;
    browser = await measure(() => chromiumPids(chrome.browser.dir), CALL_S);
    const a1 = (await chrome.stats('alice')).video;
    const pub = await chrome.publisherStats();
    notes.push(`Chromium room: ${browser.n} processes; sends ${pub?.video ? `${pub.video.frameWidth}x${pub.video.frameHeight} (${pub.video.encoderImplementation})` : '?'}; decodes alice at ${((a1.framesDecoded - a0.framesDecoded) / CALL_S).toFixed(1)} fps`);
  } finally {
    if (chrome) await chrome.close().catch(() => {});
    if (alice) await alice.close().catch(() => {});
    if (daemon) await daemon.stop(10000);
    if (janus) await janus.stop();
    try { fs.copyFileSync(path.join(TMP, 'anyroomd.log'), path.join(OUT, 'anyroomd.log')); } catch { /* none */ }
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  const table = [['two-way 720p30 Janus call, one after the other', 'anyroomd', 'anyroomd decoding too', 'Chromium', 'anyroomd / Chromium', 'target']];
  table.push([`CPU, % of one core over ${CALL_S} s`, fmt(native.cpu), fmt(decoding.cpu), fmt(browser.cpu), fmt(native.cpu / browser.cpu), '<= 0.5 (goal 0.33)']);
  table.push(['memory, PSS peak (MB)', fmt(native.pss), fmt(decoding.pss), fmt(browser.pss), fmt(native.pss / browser.pss), '-']);
  table.push(['memory, RSS peak (MB; Chromium: summed over processes)', fmt(native.rss), fmt(decoding.rss), fmt(browser.rss), fmt(native.rss / browser.rss), 'anyroomd <= 60 MB']);
  writeReport(path.join(OUT, 'report.md'), {
    command: process.env.AR_BENCH_CMDLINE || 'tests/bench/bench.sh BUILD media',
    where: `inside network namespace ${process.env.AR_NETNS}`,
    table,
    extra: [`anyroomd RSS = ${fmt(native.anon)} MB anonymous (heap, buffers) + the rest file-backed (library code, shared with other processes)`],
    notes,
  });
}

main().catch((e) => {
  log(`failed: ${e.stack || e}`);
  process.exit(1);
});
