// Anyroom network benchmarks (issue 5), run by tests/bench/bench.sh in the
// three-namespace lab (tests/lab/net3.sh: room | middle with coturn | meet with
// Janus + a Chromium participant), printed as a table:
//
// 1. Join time through TURN over TCP (UDP blocked between room and meeting,
//    `turn=` UDP + TCP, not relay-only: what a site admin configures) and
//    through TURN over TLS (only TCP 443 to the TURN server, `turns:` +
//    relay-only), AR_BENCH_NET_RUNS runs each (default 10): `anyroomctl join`
//    wall time (returns when the room is connected and publishing) and the
//    participant's first decoded frame of the room. Target p95 <= 3 s.
// 2. Recovery after a 3 s total blackout (every forwarded UDP packet dropped in
//    the middle), AR_BENCH_NET_BLACKOUTS runs (default 5): from the rule's
//    removal to the first new decoded frame, in anyroomd (the participant's
//    video) and in Chromium (the room's video). Target <= 2 s.
// 3. Random loss, 5 % and 10 % of every forwarded UDP packet both ways, for
//    AR_BENCH_LOSS_S seconds each (default 60): freezes (no new decoded frame
//    for 1 s or more) per minute and the effective decoded frame rate, on
//    both sides.
// Exits 0 whenever it ran: figures never fail it.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startCoturn } from '../lab/coturn.mjs';
import { startJanus } from '../lab/janus.mjs';
import { launchParticipant, waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd } from '../lab/lab.mjs';
import { NS, startSignallingBridge } from '../integration/net3.mjs';
import { fmt, machine, quantile, tableLines } from './report.mjs';

const RUNS = Number(process.env.AR_BENCH_NET_RUNS || 10);
const BLACKOUTS = Number(process.env.AR_BENCH_NET_BLACKOUTS || 5);
const LOSS_S = Number(process.env.AR_BENCH_LOSS_S || 60);
const TURN_IP = process.env.AR_NET3_TURN_ADDR || '10.98.1.1';
const RELAY_IP = process.env.AR_NET3_RELAY_ADDR || '10.98.2.1';
const MEET_IP = process.env.AR_NET3_MEET_ADDR || '10.98.2.2';
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'bench-net');
const TMP = mkTemp('ar-bench-net-');
const log = (m) => console.error(`bench-net: ${m}`);

let daemon = null;
let alice = null;

function mode(m) {
  const r = spawnSync('bash', ['-c', `. "$AR_NET3_SH" && ar_net3_mode ${m}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ar_net3_mode ${m}: ${r.stderr}`);
}

// Drops @percent % (100: all) of the UDP packets the middle forwards.
function dropUdp(percent) {
  spawnSync('ip', ['netns', 'exec', NS.middle, 'nft', 'delete', 'table', 'inet', 'arbench']);
  if (!percent) return;
  const match = percent >= 100 ? '' : `numgen random mod 100 < ${percent} `;
  const rules = `table inet arbench {
  chain lossfwd { type filter hook forward priority -10; policy accept;
    meta l4proto udp ${match}drop; }
}
`;
  const r = spawnSync('ip', ['netns', 'exec', NS.middle, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft: ${r.stderr}`);
}

async function startRoom(name, network) {
  const dir = path.join(TMP, name);
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'anyroom.conf');
  const net = Object.entries(network).map(([k, v]) => `${k}=${v}`).join('\n');
  fs.writeFileSync(conf, `[room]\nname=Room-${name}\n[call]\njoin-timeout=15\n[network]\n${net}\n`, { mode: 0o600 });
  daemon = await startAnyroomd({ tmp: dir, netns: NS.room, extraArgs: ['--config', conf] });
}

async function stopRoom() {
  if (!daemon) return;
  const d = daemon;
  daemon = null;
  await d.ctl('leave').catch(() => {});
  await d.stop(10000);
  try { fs.copyFileSync(d.log, path.join(OUT, `anyroomd-${path.basename(path.dirname(d.log))}.log`)); } catch { /* none */ }
}

const track = (s, kind, dir) => (s.tracks || []).find((t) => t.kind === kind && t.direction === dir);

async function join(display) {
  const t0 = Date.now();
  const r = await daemon.ctl('join', `janus+ws://127.0.0.1:8188/?room=1234&display=${display}`, '--timeout', '30');
  if (r.code !== 0) throw new Error(`join failed (exit ${r.code}): ${r.stderr.trim()}`);
  const joinMs = Date.now() - t0;
  await alice.waitForFeed(display, { timeoutMs: 20000 });
  const firstFrameMs = (await alice.firstFrameAt(display)) - t0;
  return { joinMs, firstFrameMs };
}

async function leave(display) {
  await daemon.ctl('leave');
  await alice.waitFeedGone(display, { timeoutMs: 10000 }).catch(() => {});
}

async function joinRuns(rows, notes, name, label, network, netMode) {
  mode(netMode);
  await startRoom(name, network);
  const joins = [];
  const frames = [];
  try {
    for (let i = 1; i <= RUNS; i++) {
      const display = `Room-${name}-${i}`;
      try {
        const r = await join(display);
        joins.push(r.joinMs);
        frames.push(r.firstFrameMs);
        const s = await daemon.status();
        log(`${name} run ${i}: connected ${r.joinMs} ms, Chromium first frame ${r.firstFrameMs} ms, path ${track(s, 'video', 'send')?.ice_path}`);
      } catch (e) {
        log(`${name} run ${i}: ${e.message}`);
        notes.push(`${label}: run ${i} failed: ${e.message}`);
      }
      await leave(display);
    }
  } finally {
    await stopRoom();
  }
  rows.push([`join via ${label}: anyroomctl join -> connected (ms)`, joins, 3000, 'ms', 'p95']);
  rows.push([`join via ${label}: -> Chromium decodes the room (ms)`, frames, 3000, 'ms', 'p95']);
}

async function blackoutRuns(rows, notes) {
  mode('direct');
  await startRoom('blackout', {});
  const roomMs = [];
  const aliceMs = [];
  const display = 'Room-blackout';
  try {
    await join(display);
    for (let i = 1; i <= BLACKOUTS; i++) {
      await sleep(3000);
      dropUdp(100);
      await sleep(3000);
      const d0 = track(await daemon.status(), 'video', 'recv')?.frames || 0;
      const a0 = (await alice.stats(display)).video.framesDecoded;
      dropUdp(0);
      const t0 = Date.now();
      let r = null;
      let a = null;
      try {
        await waitFor('new frames on both sides', async () => {
          if (r === null && (track(await daemon.status(), 'video', 'recv')?.frames || 0) > d0) r = Date.now() - t0;
          if (a === null && (await alice.stats(display)).video.framesDecoded > a0) a = Date.now() - t0;
          return r !== null && a !== null;
        }, { timeoutMs: 15000, intervalMs: 25 });
      } catch (e) {
        notes.push(`blackout run ${i}: ${e.message}`);
      }
      const st = await daemon.status();
      log(`blackout run ${i}: first new frame ${r} ms (anyroomd) / ${a} ms (Chromium) after the path returned; state ${st.state}, reconnects ${st.recovery?.reconnects}`);
      roomMs.push(r ?? NaN);
      aliceMs.push(a ?? NaN);
    }
  } finally {
    dropUdp(0);
    await stopRoom();
    await alice.waitFeedGone(display, { timeoutMs: 10000 }).catch(() => {});
  }
  rows.push(['3 s blackout: path back -> anyroomd decodes a new frame (ms)', roomMs, 2000, 'ms', 'max']);
  rows.push(['3 s blackout: path back -> Chromium decodes a new frame (ms)', aliceMs, 2000, 'ms', 'max']);
}

async function lossRun(rows, notes, pct) {
  mode('direct');
  const display = `Room-loss${pct}`;
  await startRoom(`loss${pct}`, {});
  try {
    await join(display);
    await waitFor('anyroomd to decode the participant', async () => (track(await daemon.status(), 'video', 'recv')?.frames || 0) > 0,
      { timeoutMs: 20000, intervalMs: 200 });
    await sleep(2000);
    const gapId = await alice.gapStart(display);
    const a0 = (await alice.stats(display)).video;
    const s0 = await daemon.status();
    dropUdp(pct);
    const t0 = Date.now();
    const states = new Set();
    while (Date.now() - t0 < LOSS_S * 1000) {
      states.add((await daemon.status()).state);
      await sleep(1000);
    }
    const a1 = (await alice.stats(display)).video;
    const s1 = await daemon.status();
    const gaps = await alice.gapStop(gapId);
    dropUdp(0);
    const secs = (Date.now() - t0) / 1000;
    const mins = secs / 60;
    const rv0 = track(s0, 'video', 'recv');
    const rv1 = track(s1, 'video', 'recv');
    const sv0 = track(s0, 'video', 'send');
    const sv1 = track(s1, 'video', 'send');
    rows.push([`${pct} % loss: Chromium freezes >= 1 s per minute`, [gaps.freezes / mins], null, '/min']);
    rows.push([`${pct} % loss: Chromium effective frame rate (fps; room sends ${((sv1.frames - sv0.frames) / secs).toFixed(1)})`, [(a1.framesDecoded - a0.framesDecoded) / secs], null, 'fps']);
    rows.push([`${pct} % loss: anyroomd freezes >= 1 s per minute`, [(rv1.freezes - rv0.freezes) / mins], null, '/min']);
    rows.push([`${pct} % loss: anyroomd effective frame rate (fps)`, [(rv1.frames - rv0.frames) / secs], null, 'fps']);
    notes.push(`${pct} % loss for ${secs.toFixed(0)} s: Chromium ${gaps.freezes} freezes >= 1 s (${gaps.freezeMs} ms in all, longest gap ${gaps.maxGapMs} ms), ` +
      `Chromium's own freezeCount +${a1.freezeCount - a0.freezeCount} (${(a1.totalFreezesDuration - a0.totalFreezesDuration).toFixed(1)} s), ` +
      `packetsLost +${a1.packetsLost - a0.packetsLost}, NACKs sent +${a1.nackCount - a0.nackCount}, PLIs sent +${a1.pliCount - a0.pliCount}; ` +
      `anyroomd ${rv1.freezes - rv0.freezes} freezes >= 1 s (${Math.round(rv1.freeze_ms - rv0.freeze_ms)} ms), packets_lost +${rv1.packets_lost - rv0.packets_lost}; ` +
      `call states seen: ${[...states].join(', ')}`);
  } catch (e) {
    notes.push(`${pct} % loss: ${e.message}`);
  } finally {
    dropUdp(0);
    await stopRoom();
    await alice.waitFeedGone(display, { timeoutMs: 10000 }).catch(() => {});
  }
}

function printTable(rows, notes) {
  const table = [['metric', 'median', 'p95', 'target', 'met?']];
  for (const [name, xs, target, unit, judge] of rows) {
    const med = quantile(xs, 0.5);
    const p95 = quantile(xs, 0.95);
    const max = quantile(xs, 1);
    let tgt = '-';
    let met = '-';
    if (target !== null) {
      const judged = judge === 'max' ? max : p95;
      tgt = `<= ${target} ${unit} (${judge === 'max' ? 'every run' : 'p95'})`;
      met = Number.isFinite(judged) && xs.every((x) => Number.isFinite(x)) ? (judged <= target ? 'yes' : 'NO') : 'NO (a run failed)';
    }
    const n = xs.filter((x) => Number.isFinite(x)).length;
    table.push([`${name} [n=${n}]`, fmt(med), n > 1 ? fmt(p95) : '-', tgt, met]);
  }
  const out = [];
  out.push(`command: ${process.env.AR_BENCH_CMDLINE || 'tests/bench/bench.sh'} (network part: tests/bench/bench-net.mjs in the three-namespace lab)`);
  out.push(...tableLines(table));
  for (const n of notes) out.push(`note: ${n}`);
  out.push(`logs: ${OUT}`);
  console.log(out.join('\n'));
  fs.writeFileSync(path.join(OUT, 'bench-net.txt'), `${out.join('\n')}\n`);
}

async function main() {
  if (!NS.room || !NS.middle || !NS.meet) throw new Error('run me with tests/integration/run-in-net-lab.sh --plain');
  fs.mkdirSync(OUT, { recursive: true });
  const rows = [];
  const notes = [];
  let turn;
  let janus;
  let bridge;
  try {
    turn = await startCoturn({ dir: path.join(TMP, 'coturn'), netns: NS.middle, listenIp: TURN_IP, relayIp: RELAY_IP, allowedPeers: [MEET_IP] });
    janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: MEET_IP });
    bridge = await startSignallingBridge(TMP);
    alice = await launchParticipant({ display: 'alice', logDir: OUT });
    await alice.waitJoined();
    const c = turn.restCredentials(3600);
    await joinRuns(rows, notes, 'turn-tcp', 'TURN/TCP (UDP blocked)', {
      turn: `turn:${TURN_IP}:3478?transport=udp;turn:${TURN_IP}:3478?transport=tcp`,
      'turn-username': c.username, 'turn-password': c.password,
    }, 'udp-blocked');
    await joinRuns(rows, notes, 'turn-tls', 'TURN/TLS (only TCP 443)', {
      turn: `turn:${TURN_IP}:3478?transport=udp;turns:${TURN_IP}:443`,
      'turn-username': c.username, 'turn-password': c.password, 'relay-only': 'true', 'turn-tls-ca': turn.cert,
    }, 'tcp443-only');
    await blackoutRuns(rows, notes);
    for (const pct of [5, 10]) await lossRun(rows, notes, pct);
  } finally {
    dropUdp(0);
    await stopRoom();
    if (alice) await alice.close().catch(() => {});
    if (bridge) await bridge.stop();
    if (janus) await janus.stop();
    if (turn) await turn.stop();
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  printTable(rows, notes);
}

main().catch((e) => {
  console.error(`bench-net: FAILED to run: ${e.stack || e.message}`);
  process.exit(1);
});
