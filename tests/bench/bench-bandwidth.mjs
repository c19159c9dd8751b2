// Bandwidth adaptation (issue 14, part 2): the tables of `./build.sh bench bandwidth`, from the
// BENCH lines of tests/integration/test-bandwidth.mjs (the same lab run, with longer phases),
// read on stdin: one run with anyroomd as the room, then (the reference) one with Chromium as
// the room (AR_BW_ROOM=chromium: libwebrtc's congestion control under the same caps):
//   for r in anyroomd chromium; do AR_BW_ROOM=$r AR_BW_CAP_S=30 \
//     tests/integration/run-in-net-lab.sh tests/integration/test-bandwidth.mjs; done |
//     node tests/bench/bench-bandwidth.mjs
// Prints the TAP it reads only when a run failed (no BENCH line for it).
import fs from 'node:fs';
import { fmt, machine, tableLines } from './report.mjs';

const input = fs.readFileSync(0, 'utf8');
const runs = input.split('\n').filter((l) => l.startsWith('# BENCH ')).map((l) => JSON.parse(l.slice('# BENCH '.length)));
const plots = [...input.matchAll(/plot: (\S+\.svg)/g)].map((m) => m[1]);
const expected = Number(process.env.AR_BENCH_BANDWIDTH_RUNS || 1);
if (runs.length < expected) {
  process.stdout.write(input);
  console.log(`bench: the bandwidth lab printed figures for ${runs.length} of ${expected} runs`);
  if (!runs.length) process.exit(1);
}
console.log(`command: ${process.env.AR_BENCH_CMDLINE || 'tests/bench/bench.sh BUILD bandwidth'}; machine: ${machine()}`);
console.log('A Janus call with a Chromium participant (alice); a token bucket (tc tbf, 6 kB burst, 150 ms queue) in');
console.log('the lab\'s middle namespace caps what the room sends. The room\'s camera is snow (noise fills any bitrate).');
const what = {
  anyroomd: 'The room: anyroomd (test pattern "snow", 1500 kbit/s configured)',
  chromium: 'The reference: Chromium as the room (file camera of the same snow, video at most 1500 kbit/s; libwebrtc\'s congestion control)',
};
runs.forEach((b, i) => {
  const room = b.room || 'anyroomd';
  const table = [['phase', 'cap (kbit/s)', 'room sends (video), 2nd half mean (kbit/s)', 'its highest 1 s sample', 'lowest target', 'median target', 'picture widths', 'far end decodes (fps)']];
  for (const p of b.phases) {
    table.push([p.phase, p.cap ? String(p.cap) : 'none', fmt(p.sentMean), fmt(p.sentMax), fmt(p.targetMin), fmt(p.targetMedian), p.widths, fmt(p.aliceFps)]);
  }
  console.log('');
  console.log(`${what[room] || room}:`);
  for (const l of tableLines(table)) console.log(l);
  console.log(`The far end (Chromium): ${b.freezes} freezes of 1 s or more (${fmt(b.freezeMs / 1000)} s in all), the longest gap ${fmt(b.maxGapMs)} ms;`);
  console.log(`the token bucket dropped ${b.dropped} packets; full bitrate and picture (${b.fullWidth || 1280} wide) ${b.backS === null ? 'not again in the lifted phase' : `again ${b.backS} s after the cap lifted`}.`);
  if (b.gapsAt?.length) console.log(`The far end's gaps of 500 ms or more (from the 1 Mbit/s cap to the end of the lifted phase): ${b.gapsAt.join('; ')}.`);
  if (plots[i]) console.log(`Sent bitrate and target over time: ${plots[i]} (and bandwidth.csv beside it).`);
});
if (runs.length > 1) {
  // Side by side: the issue's targets for each room of this run.
  const table = [['room', 'freezes of 1 s or more', 'longest gap (ms)', 'longest gap at the drop to 300 kbit/s (ms; begun 1 s before to 3 s after)', 'full quality after the lift (s)', 'packets dropped by the cap']];
  for (const b of runs) {
    table.push([b.room || 'anyroomd', String(b.freezes), fmt(b.maxGapMs), b.dropGapMs ? fmt(b.dropGapMs) : 'under 500', b.backS === null ? 'not in the lifted phase' : fmt(b.backS), String(b.dropped)]);
  }
  console.log('');
  console.log('Side by side (targets, issue 14: no freeze over 1 s; full quality within 10 s of the lift):');
  for (const l of tableLines(table)) console.log(l);
}
if (runs.length < expected) process.exit(1);
