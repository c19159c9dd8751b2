// Bandwidth adaptation (issue 14, part 2): the table of `./build.sh bench bandwidth`, from the
// BENCH line of tests/integration/test-bandwidth.mjs (the same lab run, with longer phases),
// read on stdin:
//   AR_BW_CAP_S=30 tests/integration/run-in-net-lab.sh tests/integration/test-bandwidth.mjs |
//     node tests/bench/bench-bandwidth.mjs
// Prints the TAP it reads only when the run failed (no BENCH line).
import fs from 'node:fs';
import { fmt, machine, tableLines } from './report.mjs';

const input = fs.readFileSync(0, 'utf8');
const line = input.split('\n').find((l) => l.startsWith('# BENCH '));
if (!line) {
  process.stdout.write(input);
  console.log('bench: the bandwidth lab printed no figures');
  process.exit(1);
}
const b = JSON.parse(line.slice('# BENCH '.length));
const plot = input.match(/plot: (\S+\.svg)/)?.[1];
const table = [['phase', 'cap (kbit/s)', 'room sends (video), 2nd half mean (kbit/s)', 'its highest 1 s sample', 'lowest target', 'median target', 'picture widths', 'far end decodes (fps)']];
for (const p of b.phases) {
  table.push([p.phase, p.cap ? String(p.cap) : 'none', fmt(p.sentMean), fmt(p.sentMax), fmt(p.targetMin), fmt(p.targetMedian), p.widths, fmt(p.aliceFps)]);
}
console.log(`command: ${process.env.AR_BENCH_CMDLINE || 'tests/bench/bench.sh BUILD bandwidth'}; machine: ${machine()}`);
console.log('The room (anyroomd, test pattern "snow", 1500 kbit/s configured) in a Janus call with a Chromium participant;');
console.log('a token bucket (tc tbf, 6 kB burst, 150 ms queue) in the lab\'s middle namespace caps what the room sends.');
console.log('');
for (const l of tableLines(table)) console.log(l);
console.log('');
console.log(`The far end (Chromium): ${b.freezes} freezes of 1 s or more (${fmt(b.freezeMs / 1000)} s in all), the longest gap ${fmt(b.maxGapMs)} ms;`);
console.log(`the token bucket dropped ${b.dropped} packets; full bitrate and picture again ${b.backS ?? 'never'} s after the cap lifted.`);
if (b.gapsAt?.length) console.log(`The far end's gaps of 500 ms or more (from the 1 Mbit/s cap to the end of the lifted phase): ${b.gapsAt.join('; ')}.`);
if (plot) console.log(`Sent bitrate and target over time: ${plot} (and bandwidth.csv beside it).`);
