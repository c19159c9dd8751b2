// Integration (issue 14, part 2): the room's video follows the network. The three-namespace
// lab (tests/lab/net3.sh), a real Janus and a real Chromium participant ("alice") in the
// meeting namespace, anyroomd in the room's; the middle routes, and a token bucket (tc tbf,
// with a 150 ms queue and a 6 kB burst) on the middle's link to the meeting side caps what the room sends:
//
//   free (AR_BW_FREE_S, 6 s) -> 1 Mbit/s (AR_BW_CAP_S, 16 s) -> 300 kbit/s (16 s) -> free (AR_BW_LIFT_S, 20 s)
//   [-> free with the host loaded (AR_BW_LOAD_S, 0 s: off; the bench runs 20 s)]
//
// The loaded phase: one busy loop per core (sh under timeout, started and ended by PID) beside the call and no
// cap: a starved host delays packets as a queue would, and the room must not read that as
// congestion (its target stays near the configured bitrate).
//
// The room's camera is the test pattern "snow" (ANYROOM_TEST_PATTERN): noise fills any
// bitrate, so the encoder really sends what the controller asks.
// Asserted (behaviour, not timings): under each cap the room's target falls below the cap
// and what it sends over the cap's second half stays near it (at most 1.3 x the cap); at
// 300 kbit/s the picture gets smaller; alice keeps decoding the room all along; after the
// cap lifts the room is back at its full bitrate and picture. Reported: sent bitrate and
// target over time (a CSV and an SVG plot in meson-logs/lab/bandwidth), alice's freezes
// (>= 1 s without a new frame), the time back to full quality. `./build.sh bench bandwidth`
// prints the same figures as a table.
//
// The reference (the bench, AR_BW_ROOM=chromium): the room is a Chromium participant in the
// room's namespace instead of anyroomd, its camera the same snow (a Y4M file, Chromium's file
// camera), its video at most the same 1500 kbit/s (the sender's maxBitrate): libwebrtc's own
// congestion control (its pacer, probes and estimators) under the same caps, its freezes counted
// by the same alice. Asserted then: only that the run measured something (the room sent above
// the first cap, alice decoded it in every phase); the rest is anyroomd's behaviour.
//
//   tests/integration/run-in-net-lab.sh tests/integration/test-bandwidth.mjs
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchParticipant, waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep, writeTestClip } from '../lab/lab.mjs';
import { svgPlot } from '../lab/plot.mjs';
import { NS, startNet3Meeting, startNet3Room, stopNet3Meeting, stopNet3Room } from './net3.mjs';
import { ctlFail, stepper, tracksOf } from './common.mjs';

const ROOM_KIND = process.env.AR_BW_ROOM || 'anyroomd';
if (!['anyroomd', 'chromium'].includes(ROOM_KIND)) throw new Error(`AR_BW_ROOM: anyroomd or chromium, not ${ROOM_KIND}`);
const OUT = path.join(buildDir(), 'meson-logs', 'lab', ROOM_KIND === 'chromium' ? 'bandwidth-chromium' : 'bandwidth');
const TMP = mkTemp('ar-it-bandwidth-');
const FREE_S = Number(process.env.AR_BW_FREE_S || 6);
const CAP_S = Number(process.env.AR_BW_CAP_S || 16);
const LIFT_S = Number(process.env.AR_BW_LIFT_S || 20);
const LOAD_S = Number(process.env.AR_BW_LOAD_S || 0);
const MAX_KBPS = 1500;
const DISPLAY = 'Room-bw';
const LINK = `janus+ws://127.0.0.1:8188/?room=1234&display=${DISPLAY}`;

let meeting = null;
let alice = null;
let daemon = null;
let chromeRoom = null;
let busy = [];

// One busy loop per core (a loaded host), or none: ended by PID (SIGTERM, which timeout passes on
// to its loop), and by timeout itself should this process die before it ends them.
function load(on) {
  for (const c of busy) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  busy = [];
  if (!on) return;
  for (let i = 0; i < os.cpus().length; i++) {
    busy.push(spawn('timeout', [String(LOAD_S + 10), 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' }));
  }
}

const { step, failed } = stepper({
  timeout: 300000,
  onFail: () => {
    if (daemon) console.error(`# anyroomd log tail:\n${daemon.logTail(80).replace(/^/gm, '# ')}`);
  },
});

// The middle's link to the meeting side: a token bucket of @kbit kbit/s (a 6 kB
// burst, a 150 ms queue), or, once a cap lifts, one of 10 Gbit/s (no cap). Changed in
// place (`tc qdisc replace`): what the queue holds stays and drains at the new rate, as
// when a real link narrows or widens. Deleting the qdisc to change it (as this test did
// until 2026-12-06) flushed its queue, 10-20 packets lost at every change: a loss no
// network makes, answered by a decrease at the lift.
let capped = false;
function cap(kbit) {
  if (!NS.middle) return; // not in the lab: before() says so
  if (!kbit && !capped) return;
  const r = spawnSync('ip', ['netns', 'exec', NS.middle, 'tc', 'qdisc', 'replace', 'dev', 'm-j', 'root',
    'tbf', 'rate', kbit ? `${kbit}kbit` : '10gbit', 'burst', '6000', 'latency', '150ms'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tc tbf ${kbit || 'lifted'}: ${r.stderr}`);
  capped = true;
}

// The end of the lab: no qdisc (its queue empty by then).
function uncap() {
  if (!NS.middle || !capped) return;
  spawnSync('ip', ['netns', 'exec', NS.middle, 'tc', 'qdisc', 'del', 'dev', 'm-j', 'root']);
  capped = false;
}

// What the token bucket dropped so far (packets; it counts over every cap), 0 without one.
function capDropped() {
  const r = spawnSync('ip', ['netns', 'exec', NS.middle, 'tc', '-s', 'qdisc', 'show', 'dev', 'm-j'], { encoding: 'utf8' });
  const m = (r.stdout || '').match(/tbf[\s\S]*?dropped (\d+)/);
  return m ? Number(m[1]) : 0;
}

const sendVideo = (s) => tracksOf(s, { kind: 'video', direction: 'send' })[0];

// The room under test, one sample of its sent video: {state, sentKbps, targetKbps, limit, lost,
// rttMs, width, height, fps}, or null.
async function anyroomdSample() {
  const s = await daemon.status().catch(() => null);
  const v = s && sendVideo(s);
  return v ? { state: s.state, sentKbps: v.bitrate_bps / 1000, targetKbps: v.target_kbps ?? null, limit: v.limited_by ?? null,
    lost: v.packets_lost, rttMs: v.rtt_ms, width: v.width, height: v.height, fps: v.framerate } : null;
}

// Chromium as the room: its publisher's outbound video (the rate from bytesSent between two
// samples; the target is libwebrtc's encoder target, `targetBitrate`; the state its publisher
// connection's).
let chromeLast = null;
async function chromiumSample() {
  const st = await chromeRoom.publisherStats().catch(() => null);
  const v = st?.video;
  if (!v) return null;
  const now = Date.now();
  const sentKbps = chromeLast && now > chromeLast.at ? ((v.bytesSent - chromeLast.bytes) * 8) / (now - chromeLast.at) : 0;
  chromeLast = { at: now, bytes: v.bytesSent };
  return { state: st.connectionState, sentKbps, targetKbps: v.targetBitrate ? Math.round(v.targetBitrate / 1000) : null,
    limit: v.qualityLimitationReason, lost: null, rttMs: null, width: v.frameWidth ?? 0, height: v.frameHeight ?? 0, fps: v.framesPerSecond };
}
const roomSample = () => (ROOM_KIND === 'chromium' ? chromiumSample() : anyroomdSample());

before(async () => {
  meeting = await startNet3Meeting(TMP, OUT);
  alice = meeting.alice;
});

after(async () => {
  load(false);
  uncap();
  if (daemon) await stopNet3Room(daemon, OUT);
  if (chromeRoom) await chromeRoom.close().catch(() => {});
  await stopNet3Meeting(meeting);
  if (failed()) console.log(`# lab output: ${OUT}`);
  fs.rmSync(TMP, { recursive: true, force: true });
});

step(`the room's video (${ROOM_KIND}) follows a 1 Mbit/s, then a 300 kbit/s cap, and comes back when it lifts`, async (t) => {
  if (ROOM_KIND === 'chromium') {
    // Its signalling reaches Janus as anyroomd's does: the bridge on the room's 127.0.0.1:8188.
    chromeRoom = await launchParticipant({ display: DISPLAY, logDir: OUT, netns: NS.room, maxKbps: MAX_KBPS,
      chromiumArgs: [`--use-file-for-fake-video-capture=${writeTestClip(TMP, 'snow', { pattern: 'snow' }).y4m}`] });
    await chromeRoom.waitJoined();
  } else {
    daemon = await startNet3Room(TMP, 'bw', { media: { 'video-bitrate-kbps': MAX_KBPS } }, { ANYROOM_TEST_PATTERN: 'snow' });
    const r = await daemon.ctl('join', LINK, '--timeout', '30');
    assert.equal(r.code, 0, ctlFail(r, 'join'));
  }
  await alice.waitForFeed(DISPLAY, { timeoutMs: 30000 });
  await waitFor('alice to decode the room', async () => (await alice.stats(DISPLAY).catch(() => null))?.video?.framesDecoded > 30,
    { timeoutMs: 30000, intervalMs: 200 });
  // From full quality: a call's first seconds may bring a report of loss (a busy machine).
  // (Chromium: its encoder's target within 5 % of it.)
  const fullKbps = ROOM_KIND === 'chromium' ? 0.95 * MAX_KBPS : MAX_KBPS;
  await waitFor('the room to send at its full bitrate', async () => (await roomSample())?.targetKbps >= fullKbps,
    { timeoutMs: 30000, intervalMs: 250 });

  // One sample every 500 ms: the room's sent video and alice's view of it.
  const samples = [];
  const t0 = Date.now();
  let phase = 'free';
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [v, a] = await Promise.all([roomSample(), alice.stats(DISPLAY).catch(() => null)]);
      if (v) {
        samples.push({ t: (Date.now() - t0) / 1000, phase, ...v,
          aliceFrames: a?.video?.framesDecoded ?? null, aliceWidth: a?.video?.frameWidth ?? null });
      }
      await sleep(500);
    }
  })();
  const phases = [];
  const runPhase = async (name, kbit, seconds, loaded = false) => {
    const from = (Date.now() - t0) / 1000;
    phase = name;
    cap(kbit);
    load(loaded);
    await sleep(seconds * 1000);
    load(false);
    phases.push({ name, kbit, from, to: (Date.now() - t0) / 1000 });
  };
  let gaps;
  let dropped = 0;
  try {
    await runPhase('free', 0, FREE_S);
    const gapId = await alice.gapStart(DISPLAY);
    await runPhase('1 Mbit/s', 1000, CAP_S);
    await runPhase('300 kbit/s', 300, CAP_S);
    await runPhase('lifted', 0, LIFT_S);
    dropped = capDropped();
    gaps = await alice.gapStop(gapId);
    if (LOAD_S > 0) {
      // From full quality again (the lifted phase may end before it), so that the loaded
      // phase shows only what the load does.
      phase = 'lifted';
      await waitFor('the room back at its full bitrate before the load', async () => (await roomSample())?.targetKbps >= fullKbps,
        { timeoutMs: 30000, intervalMs: 250 }).catch(() => {});
      await runPhase('loaded host', 0, LOAD_S, true);
    }
  } finally {
    load(false);
    sampling = false;
    await sampler;
    uncap();
  }

  // The figures: a CSV, a plot, a line per phase.
  const keys = Object.keys(samples[0]);
  fs.writeFileSync(path.join(OUT, 'bandwidth.csv'), `${keys.join(',')}\n${samples.map((x) => keys.map((k) => x[k]).join(',')).join('\n')}\n`);
  const capLine = [];
  for (const p of phases) {
    const c = p.kbit || MAX_KBPS * 1.2;
    capLine.push([p.from, c], [p.to, c]);
  }
  fs.writeFileSync(path.join(OUT, 'bandwidth.svg'), svgPlot({
    title: `The room's video (${ROOM_KIND}) under a bandwidth cap (tbf in the lab's middle namespace)`,
    xLabel: 'seconds', yLabel: 'kbit/s',
    bands: phases.filter((p) => p.kbit).map((p) => ({ from: p.from, to: p.to, label: p.name })),
    series: [
      { name: 'cap', color: '#999', dash: '6 4', points: capLine.filter((p, i) => phases[Math.floor(i / 2)].kbit) },
      { name: `sent (${ROOM_KIND})`, color: '#1f77b4', points: samples.map((x) => [x.t, x.sentKbps]) },
      { name: 'target', color: '#d62728', width: 1, points: samples.filter((x) => x.targetKbps).map((x) => [x.t, x.targetKbps]) },
    ],
  }));
  const inPhase = (p, half = false) => samples.filter((x) => x.t >= (half ? (p.from + p.to) / 2 : p.from) && x.t < p.to);
  const median = (xs) => { const v = [...xs].sort((a, b) => a - b); return v.length ? v[Math.floor(v.length / 2)] : 0; };
  const mean = (xs, k) => xs.reduce((a, x) => a + (x[k] || 0), 0) / Math.max(1, xs.length);
  const figures = phases.map((p) => {
    const all = inPhase(p);
    const late = inPhase(p, true);
    const fr = all.filter((x) => x.aliceFrames !== null);
    const aliceFps = fr.length > 1 ? (fr[fr.length - 1].aliceFrames - fr[0].aliceFrames) / (fr[fr.length - 1].t - fr[0].t) : 0;
    return { phase: p.name, cap: p.kbit || null, sentMean: Math.round(mean(late, 'sentKbps')),
      sentMax: Math.round(Math.max(0, ...late.map((x) => x.sentKbps))), targetMin: Math.min(...all.map((x) => x.targetKbps ?? MAX_KBPS)),
      targetMedian: median(all.map((x) => x.targetKbps ?? MAX_KBPS)),
      widths: [...new Set(all.map((x) => x.width))].join('/'), aliceFps: +aliceFps.toFixed(1) };
  });
  const lift = phases[3];
  // Full quality: the full bitrate, and the picture of the free phase (anyroomd's 1280 wide;
  // Chromium's own choice for snow at 1500 kbit/s) at the room and at alice.
  const fullWidth = Math.max(0, ...inPhase(phases[0]).map((x) => x.width || 0));
  const full = samples.find((x) => x.t >= lift.from && x.targetKbps >= fullKbps && x.width >= fullWidth && x.aliceWidth >= fullWidth);
  const backS = full ? +(full.t - lift.from).toFixed(1) : null;
  // Where alice's longer gaps were: the phase and the seconds into it.
  const placed = (gaps.long || []).map((g) => {
    const start = (g.end - g.ms - t0) / 1000;
    const p = phases.filter((x) => x.from <= start).pop() || phases[0];
    return `${g.ms} ms at ${p.name} +${(start - p.from).toFixed(1)} s`;
  });
  // The longest gap around the drop to 300 kbit/s (begun from 1 s before it to 3 s after: what
  // the queue held at 1 Mbit/s drains at 300 for most of a second), where freezes come.
  const drop = phases[2];
  const dropGapMs = Math.max(0, ...(gaps.long || []).filter((g) => {
    const start = (g.end - g.ms - t0) / 1000;
    return start >= drop.from - 1 && start <= drop.from + 3;
  }).map((g) => g.ms));
  for (const f of figures) t.diagnostic(`FIGURE ${JSON.stringify(f)}`);
  if (placed.length) t.diagnostic(`FIGURE alice's gaps of 500 ms or more: ${placed.join('; ')}`);
  t.diagnostic(`FIGURE alice: ${gaps.freezes} freezes >= 1 s (${gaps.freezeMs} ms in all), longest gap ${gaps.maxGapMs} ms; ` +
    `the token bucket dropped ${dropped} packets; full quality ${backS ?? 'never'} s after the cap lifted; plot: ${path.join(OUT, 'bandwidth.svg')}`);
  t.diagnostic(`BENCH ${JSON.stringify({ room: ROOM_KIND, fullWidth, dropGapMs, phases: figures, freezes: gaps.freezes, freezeMs: gaps.freezeMs, maxGapMs: gaps.maxGapMs, gapsAt: placed, dropped, backS })}`);

  // Behaviour: the room stayed in the call and adapted to each cap.
  assert.ok(samples.every((x) => x.state === 'connected'), 'connected all along');
  const [free, c1, c2] = figures;
  assert.ok(free.sentMean > 1000, `free: the room sends more than the first cap (${free.sentMean} kbit/s), or the test shows nothing`);
  assert.ok(figures.every((f) => f.aliceFps > 0), `alice decoded the room in every phase: ${figures.map((f) => f.aliceFps).join(', ')} fps`);
  if (ROOM_KIND === 'chromium') return; // the reference: its figures, not anyroomd's behaviour
  assert.ok(c1.targetMin < 1000, `1 Mbit/s: the target went under the cap (lowest ${c1.targetMin})`);
  assert.ok(c1.sentMean <= 1.3 * 1000, `1 Mbit/s: the room sends near the cap (${c1.sentMean} kbit/s in its second half)`);
  assert.ok(c2.targetMin < 300, `300 kbit/s: the target went under the cap (lowest ${c2.targetMin})`);
  assert.ok(c2.sentMean <= 1.3 * 300, `300 kbit/s: the room sends near the cap (${c2.sentMean} kbit/s in its second half)`);
  assert.ok(inPhase(phases[2]).some((x) => x.width > 0 && x.width < 1280), `300 kbit/s: a smaller picture (${c2.widths})`);
  assert.ok(full, `back at ${MAX_KBPS} kbit/s and 1280 wide (room and alice) within ${LIFT_S} s of the lift`);
  // A loaded host is no congestion: without a cap the target stays near the configured bitrate.
  const loaded = figures.find((f) => f.phase === 'loaded host');
  if (loaded) assert.ok(loaded.targetMedian >= 0.8 * MAX_KBPS, `host loaded, no cap: the target stays near ${MAX_KBPS} (median ${loaded.targetMedian}, lowest ${loaded.targetMin})`);
  // Janus's room caps its publishers at 2 Mbit/s by REMB (tests/lab/janus): the room read it.
  const log = fs.readFileSync(daemon.log, 'utf8');
  assert.match(log, /the far end sends REMB \(2000000 bit\/s\)/, 'the room reads the SFU\'s REMB');
  // Probes (padding on top of the video, near a bottleneck's ceiling) ran in the call, their
  // packets measured from Janus's feedback: they fail under the caps, pass after the lift.
  // None with our own log of send times (GStreamer's rtpfunnel race, docs/bandwidth.md).
  const passed = (log.match(/probe to \d+ kbit\/s passed/g) || []).length;
  const failed = (log.match(/probe to \d+ kbit\/s failed/g) || []).length;
  t.diagnostic(`FIGURE probes: ${passed} passed, ${failed} failed`);
  if (!/keeps no send times/.test(log)) assert.ok(passed + failed > 0, 'the room probed the link near its ceiling');
});
