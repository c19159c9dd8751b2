// Echo cancellation figures (issue 14, part 1; docs/audio.md), printed as a table:
//   node tests/bench/bench-echo.mjs BUILD_DIR OUT_DIR
// Runs, one after the other, each about 30-45 s:
//   - the canceller alone on one clock (tests/lab/echo/one-clock.sh: the room computed offline,
//     one gst-launch plays both files), cancellation off (control) and with the engine's
//     webrtcdsp settings (media/ar-capture-audio.c): what the canceller can do;
//   - the same on Debian 13's webrtcdsp (webrtc-audio-processing 1.x, AEC3: the device image's), in
//     a trixie root made once by tests/lab/debian-root.sh (mmdebstrap, cached in the build folder);
//   - the engine itself in the echo lab's PipeWire room (tests/lab/echo/echo-lab.sh with
//     BUILD/tests/bench/echo-dut: anyroomd's capture graph on ALSA devices through ALSA's pulse
//     plugin), processing off (control), then AR_BENCH_ECHO_RUNS runs (3) with echo cancellation
//     on, and one on pulse: devices; with the echo's delay as the engine measured it.
// The room: 60 ms of delay, 10 dB of attenuation, two reflections (tests/lab/echo/room.sh).
// Figures from echo-metrics (tests/bench/echo-metrics.c): ERLE on the far-end-only segments (the
// last and the first), the residual echo level, the near end kept in double talk (correlation and
// level against the clean near end). A run whose lab failed prints its reason, not figures.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fmt, machine, tableLines } from './report.mjs';

const [BUILD, OUT] = process.argv.slice(2);
if (!BUILD || !OUT) {
  console.error('usage: bench-echo.mjs BUILD_DIR OUT_DIR');
  process.exit(2);
}
const ECHO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'lab', 'echo');
const RUNS = Math.max(1, Math.min(20, Number(process.env.AR_BENCH_ECHO_RUNS || 3)));
// The engine's webrtcdsp properties (ar_capture_make_processing), for the one-clock run.
const ENGINE_PROPS = ['delay-agnostic=false', 'extended-filter=true', 'echo-suppression-level=high'];
const DUT = path.join(BUILD, 'tests', 'bench', 'echo-dut');

fs.mkdirSync(OUT, { recursive: true });
const speech = path.join(OUT, 'speech');

// One run: the script's metrics.json, or the reason it has none.
function run(name, cmd, args, env = {}) {
  const dir = path.join(OUT, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  // The speech is made once (espeak-ng) and shared: every run hears the same far and near ends.
  for (const f of ['far.wav', 'near.wav', 'timeline.json']) {
    if (fs.existsSync(path.join(speech, f))) fs.copyFileSync(path.join(speech, f), path.join(dir, f));
  }
  const t0 = Date.now();
  const r = spawnSync(cmd, [dir, ...args], {
    env: { ...process.env, AR_BUILD_DIR: BUILD, ...env }, encoding: 'utf8', timeout: 180000,
  });
  const s = Math.round((Date.now() - t0) / 1000);
  const metrics = path.join(dir, 'metrics.json');
  if (!fs.existsSync(speech) && fs.existsSync(path.join(dir, 'timeline.json'))) {
    fs.mkdirSync(speech, { recursive: true });
    for (const f of ['far.wav', 'near.wav', 'timeline.json']) fs.copyFileSync(path.join(dir, f), path.join(speech, f));
  }
  if (r.status !== 0 || !fs.existsSync(metrics)) {
    const why = `${r.error ? r.error.message : `exit ${r.status}`}: ${(r.stderr || '').trim().split('\n').slice(-1)[0] || ''}`;
    console.error(`bench-echo: ${name} has no figures (${why}); logs in ${dir}`);
    return { name, seconds: s, error: why.slice(0, 60) };
  }
  return { name, seconds: s, m: JSON.parse(fs.readFileSync(metrics, 'utf8')) };
}

const rows = [];
const oneClock = path.join(ECHO, 'one-clock.sh');
const lab = path.join(ECHO, 'echo-lab.sh');
rows.push(['canceller alone, one clock: cancellation off (control)', run('one-clock-off', oneClock, ['--', 'echo-cancel=false'])]);
rows.push(['canceller alone, one clock: the engine\'s settings', run('one-clock-engine', oneClock, ['--', ...ENGINE_PROPS])]);
// The same canceller as the device image has it: Debian 13's webrtcdsp, on webrtc-audio-processing
// 1.x (AEC3, with a delay estimator of its own), in a cached trixie root (tests/lab/debian-root.sh).
const TRIXIE_PKGS = 'gstreamer1.0-tools,gstreamer1.0-plugins-base,gstreamer1.0-plugins-good,gstreamer1.0-plugins-bad';
const rootRun = spawnSync(path.join(ECHO, '..', 'debian-root.sh'), [path.join(BUILD, 'echo-root-trixie'), 'trixie', TRIXIE_PKGS], { encoding: 'utf8', timeout: 900000 });
const trixie = rootRun.status === 0 ? rootRun.stdout.trim() : null;
const wap = trixie ? spawnSync('chroot', [trixie, 'dpkg-query', '-W', '-f', '${Version}', 'libwebrtc-audio-processing-1-3'], { encoding: 'utf8' }).stdout.trim() : '';
// The engine sets only the properties this webrtcdsp has (1.26 on 1.x has no echo-suppression-level).
const inspect = trixie ? spawnSync('chroot', [trixie, 'gst-inspect-1.0', 'webrtcdsp'], { encoding: 'utf8' }).stdout || '' : '';
const TRIXIE_PROPS = ENGINE_PROPS.filter((p) => new RegExp(`^\\s+${p.split('=')[0]}\\s+:`, 'm').test(inspect));
for (const [name, label, args] of [
  ['trixie-off', 'cancellation off (control)', ['--', 'echo-cancel=false']],
  ['trixie-engine', 'the engine\'s settings', ['--', ...TRIXIE_PROPS]],
  ['trixie-engine-120', 'the engine\'s settings, the echo 120 ms late', ['--delay-ms', '120', '--', ...TRIXIE_PROPS]],
]) {
  const title = `canceller alone, one clock, Debian 13 (webrtc-audio-processing ${wap || '1.x'}, AEC3): ${label}`;
  rows.push([title, trixie ? run(name, oneClock, ['--root', trixie, ...args]) : { name, error: `no trixie root: ${(rootRun.stderr || '').trim().split('\n').slice(-1)[0]}`.slice(0, 60) }]);
}
// The engine's devices: ALSA (the product's usual path) through ALSA's pulse plugin on the lab's
// PipeWire (echo-lab.sh defines ar_lab_mic and ar_lab_room_speaker), and once PipeWire's pulse
// server itself (pulse:room_air.monitor, pulse:room_speaker: echo-dut's defaults).
const ALSA = { AR_ECHO_DUT_MIC: 'ar_lab_mic', AR_ECHO_DUT_SPEAKER: 'ar_lab_room_speaker', G_MESSAGES_DEBUG: 'armedia' };
const PULSE = { G_MESSAGES_DEBUG: 'armedia' };
rows.push(['engine in the room (ALSA): processing off (control)', run('room-off', lab, ['--', DUT], { ...ALSA, AR_ECHO_PROCESSING: 'off' })]);
for (let i = 1; i <= RUNS; i++) {
  rows.push([`engine in the room (ALSA): echo cancellation, run ${i}`, run(`room-aec-${i}`, lab, ['--', DUT], { ...ALSA, AR_ECHO_PROCESSING: 'aec' })]);
}
rows.push(['engine in the room (pulse:): echo cancellation', run('room-aec-pulse', lab, ['--', DUT], { ...PULSE, AR_ECHO_PROCESSING: 'aec' })]);
// The echo's delay as the engine measured it (its log), per room run.
for (const [, r] of rows) {
  const log = path.join(OUT, r.name, 'dut.log');
  const m = fs.existsSync(log) ? [...fs.readFileSync(log, 'utf8').matchAll(/the echo comes (\d+) ms after/g)] : [];
  r.delay = m.length ? m[m.length - 1][1] : (r.name.startsWith('room-aec') ? 'none' : '');
}

const table = [['run', 'ERLE last (dB)', 'ERLE first (dB)', 'residual (dBFS)', 'double talk: corr', 'double talk: near kept (dB)', 'echo delay measured (ms)']];
for (const [label, r] of rows) {
  if (!r.m) {
    table.push([label, `no figures: ${r.error}`, '', '', '', '', '']);
    continue;
  }
  const m = r.m;
  table.push([label, fmt(m.erle_db), fmt(m.erle_first_db), fmt(m.residual_dbfs), Number.isFinite(m.double_talk_corr) ? m.double_talk_corr.toFixed(2) : 'n/a', fmt(m.double_talk_near_kept_db), r.delay || '']);
}
const cmdline = process.env.AR_BENCH_CMDLINE || `node tests/bench/bench-echo.mjs ${BUILD} ${OUT}`;
console.log(`Echo cancellation: 60 ms room, 10 dB, reverb; ${machine()}; ${cmdline}`);
for (const l of tableLines(table)) console.log(l);
const aec = rows.filter(([l]) => l.startsWith('engine in the room (ALSA): echo')).map(([, r]) => r.m?.erle_db).filter(Number.isFinite);
console.log(`Target: ERLE >= 25 dB on far-end-only speech. The engine reached it in ${aec.filter((x) => x >= 25).length} of ${RUNS} runs; ` +
  `the canceller alone with the same settings: ${fmt(rows[1][1].m?.erle_db)} dB (Debian 12), ${fmt(rows[3][1].m?.erle_db)} dB (Debian 13, AEC3). Outputs (WAV, metrics.json) in ${OUT}.`);
