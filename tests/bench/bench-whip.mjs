// Anyroom benchmarks, WHIP and WHEP (issue 12, part 5). Run by tests/bench/bench.sh inside a lab
// namespace (tests/lab/in-netns.sh):
//   tests/lab/in-netns.sh node tests/bench/bench-whip.mjs
// One anyroomd (test camera and microphone, no speaker, no display, no web engine) and the lab's
// WHIP/WHEP front (tests/lab/whip-endpoint.mjs: a real headless Chromium behind a small HTTP
// front written for the tests), on the namespace's address. AR_BENCH_WHIP_RUNS (default 10)
// joins of each:
//   WHIP: from just before `anyroomctl join whip+http://...` to its return (connected), and to the
//         first frame of the room the endpoint's page decodes (getStats framesDecoded > 0,
//         polled every 20 ms, on the same clock);
//   WHEP: from just before `anyroomctl join whep+http://...` to its return, and anyroomd's own
//         join -> first remote video frame (status timing.join_to_first_remote_video_ms).
// Then leave and wait until idle. Prints a table (median, p95, n) with the command. Exits 0
// whenever it ran: timings never fail it.
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd } from '../lab/lab.mjs';
import { startWhipEndpoint } from '../lab/whip-endpoint.mjs';
import { fmt, machine, quantile, tableLines } from './report.mjs';

const RUNS = Number(process.env.AR_BENCH_WHIP_RUNS || 10);
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'bench-whip');
const TMP = mkTemp('ar-bench-whip-');
const log = (m) => console.error(`bench-whip: ${m}`);

async function waitIdle(daemon) {
  await waitFor('anyroomd idle', async () => (await daemon.status()).state === 'idle', { timeoutMs: 20000, intervalMs: 100 });
}

async function main() {
  const addr = process.env.AR_NETNS_ADDR1 || '127.0.0.1';
  fs.mkdirSync(OUT, { recursive: true });
  const whip = await startWhipEndpoint({ logDir: OUT, host: addr, path: '/whip/ep' });
  const whep = await startWhipEndpoint({ logDir: OUT, host: addr, path: '/whep/ep', mode: 'whep' });
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, ['[room]', 'name=Bench Room', '[device]', 'camera=test', 'microphone=test',
    'speaker=none', 'display=none', '[web]', 'enabled=false', ''].join('\n'));
  const daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf] });
  const rows = { whipConnected: [], whipFirstFrame: [], whepConnected: [], whepFirstFrame: [] };
  const failures = [];
  try {
    for (let i = 1; i <= RUNS; i++) {
      // WHIP: the session id is the endpoint's count of POSTs.
      const id = whip.requests.filter((q) => q.method === 'POST').length + 1;
      const t0 = Date.now();
      const r = await daemon.ctl('join', `whip+http://${addr}:${whip.port}/whip/ep`);
      const tc = Date.now();
      if (r.code !== 0) { failures.push(`whip ${i}: ${r.stderr.trim()}`); await waitIdle(daemon).catch(() => {}); continue; }
      try {
        await waitFor('the endpoint to decode a frame', async () => {
          const st = await whip.stats(id);
          return st && st.video && st.video.framesDecoded > 0;
        }, { timeoutMs: 15000, intervalMs: 20 });
        rows.whipFirstFrame.push(Date.now() - t0);
      } catch (e) { failures.push(`whip ${i}: ${e.message}`); }
      rows.whipConnected.push(tc - t0);
      await daemon.ctl('leave');
      await waitIdle(daemon);

      const w0 = Date.now();
      const w = await daemon.ctl('join', `whep+http://${addr}:${whep.port}/whep/ep`);
      const wc = Date.now();
      if (w.code !== 0) { failures.push(`whep ${i}: ${w.stderr.trim()}`); await waitIdle(daemon).catch(() => {}); continue; }
      rows.whepConnected.push(wc - w0);
      try {
        const st = await waitFor('anyroomd to decode the stream', async () => {
          const s = await daemon.status();
          return s.timing && Number.isFinite(s.timing.join_to_first_remote_video_ms) ? s : null;
        }, { timeoutMs: 15000, intervalMs: 50 });
        rows.whepFirstFrame.push(st.timing.join_to_first_remote_video_ms);
      } catch (e) { failures.push(`whep ${i}: ${e.message}`); }
      await daemon.ctl('leave');
      await waitIdle(daemon);
      log(`run ${i}: whip ${rows.whipConnected.at(-1)} / ${rows.whipFirstFrame.at(-1)} ms, whep ${rows.whepConnected.at(-1)} / ${rows.whepFirstFrame.at(-1)} ms`);
      await sleep(200);
    }
  } finally {
    fs.copyFileSync(daemon.log, path.join(OUT, 'anyroomd.log'));
    await daemon.stop();
    await whip.close();
    await whep.close();
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  const table = [['metric (ms)', 'median', 'p95', 'n']];
  const add = (name, xs) => table.push([name, fmt(quantile(xs, 0.5)), fmt(quantile(xs, 0.95)), String(xs.length)]);
  add('WHIP: link -> connected (anyroomctl join returns)', rows.whipConnected);
  add('WHIP: link -> first room frame decoded by the endpoint', rows.whipFirstFrame);
  add('WHEP: link -> connected', rows.whepConnected);
  add('WHEP: join -> first remote frame decoded by anyroomd', rows.whepFirstFrame);
  console.log(`WHIP/WHEP on ${machine()}; command: ${process.env.AR_BENCH_CMDLINE || 'tests/lab/in-netns.sh node tests/bench/bench-whip.mjs'}`);
  console.log('Endpoint: the lab front (tests/lab/whip-endpoint.mjs: headless Chromium behind test HTTP code), same namespace.');
  for (const l of tableLines(table)) console.log(l);
  if (failures.length) console.log(`failures: ${failures.join('; ')}`);
}

main().then(() => process.exit(0), (e) => { console.error(`bench-whip: ${e.stack || e}`); process.exit(1); });
