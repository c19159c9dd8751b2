// Anyroom benchmarks, room-to-room calls (issue 12, part 5). Run by tests/bench/bench.sh in the
// three-namespace lab (tests/integration/run-in-net-lab.sh --plain), the middle forwarding:
//   room namespace: anyroomd A (the caller)  ── middle ──  meeting namespace: anyroomd B (called)
// Both: test camera and microphone, no speaker, no display, no web engine. B's administrator
// makes a call link that answers by itself; A calls it. AR_BENCH_ROOM_CALL_RUNS (default 10)
// calls, each timed from just before `anyroomctl call LINK` (one clock: this process's):
//   - to the command's return (both peers connected on A);
//   - to A's first decoded video frame of B, and to B's first decoded frame of A (status polled
//     every 25 ms on both rooms);
//   - to media both ways (the later of the two).
// Then A leaves and both rooms are idle again. Prints a table (median, p95, n) with the command.
// Exits 0 whenever it ran: timings never fail it.
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../lab/participant.mjs';
import { buildDir, mkTemp, sleep, startAnyroomd } from '../lab/lab.mjs';
import { loopbackRequest, setupAdmin } from '../integration/attack-lab.mjs';
import { NS, net3Mode, startNet3Room, stopNet3Room } from '../integration/net3.mjs';
import { fmt, machine, quantile, tableLines } from './report.mjs';

const RUNS = Number(process.env.AR_BENCH_ROOM_CALL_RUNS || 10);
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'bench-room-call');
const TMP = mkTemp('ar-bench-room-call-');
const DEVICE = { camera: 'test', microphone: 'test', speaker: 'none', display: 'none' };
const log = (m) => console.error(`bench-room-call: ${m}`);

function recvFrames(s) {
  const t = (s.tracks || []).find((x) => x.kind === 'video' && x.direction === 'recv');
  return t ? t.frames : 0;
}

async function firstFrameAt(daemon, t0) {
  await waitFor('a decoded frame', async () => recvFrames(await daemon.status()) > 0, { timeoutMs: 15000, intervalMs: 25 });
  return Date.now() - t0;
}

async function main() {
  if (!NS.room || !NS.meet) throw new Error('run me with tests/integration/run-in-net-lab.sh --plain');
  fs.mkdirSync(OUT, { recursive: true });
  net3Mode('direct');
  const dir = path.join(TMP, 'b');
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'anyroom.conf');
  fs.writeFileSync(conf, ['[room]', 'name=Bench Room B', '[device]', ...Object.entries(DEVICE).map(([k, v]) => `${k}=${v}`),
    '[admin]', 'listen=0.0.0.0:8443', '[web]', 'enabled=false', ''].join('\n'));
  const called = await startAnyroomd({ tmp: dir, extraArgs: ['--config', conf] });
  const caller = await startNet3Room(TMP, 'a', { device: DEVICE, admin: { listen: 'none' }, web: { enabled: 'false' } });
  const rows = { connected: [], callerFrame: [], calledFrame: [], both: [] };
  const failures = [];
  try {
    const admin = await setupAdmin({ ns: NS.meet });
    const r = await loopbackRequest(NS.meet, { method: 'POST', path: '/api/v1/call-links',
      headers: { Cookie: admin.cookie, Origin: admin.origin, 'X-CSRF-Token': admin.csrf },
      body: { name: 'bench', uses: RUNS + 2, auto_answer: true } });
    if (r.status !== 201) throw new Error(`no call link: ${r.status} ${r.text}`);
    const link = r.json.link;
    for (let i = 1; i <= RUNS; i++) {
      const t0 = Date.now();
      const pending = caller.ctl('call', link, '--timeout', '30');
      const frames = Promise.all([firstFrameAt(caller, t0), firstFrameAt(called, t0)]);
      const c = await pending;
      const tc = Date.now() - t0;
      if (c.code !== 0) {
        failures.push(`run ${i}: ${c.stderr.trim()}`);
        await frames.catch(() => {});
      } else {
        try {
          const [a, b] = await frames;
          rows.connected.push(tc);
          rows.callerFrame.push(a);
          rows.calledFrame.push(b);
          rows.both.push(Math.max(a, b));
          log(`run ${i}: connected ${tc} ms, A decodes B at ${a} ms, B decodes A at ${b} ms`);
        } catch (e) { failures.push(`run ${i}: ${e.message}`); }
      }
      await caller.ctl('leave').catch(() => {});
      await waitFor('both rooms idle', async () => {
        const [sa, sb] = [await caller.status(), await called.status()];
        if (sb.state === 'failed') await called.ctl('leave');
        return sa.state === 'idle' && sb.state === 'idle';
      }, { timeoutMs: 20000, intervalMs: 100 });
      await sleep(300);
    }
  } finally {
    await stopNet3Room(caller, OUT);
    fs.copyFileSync(called.log, path.join(OUT, 'anyroomd-called.log'));
    await called.stop();
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  const table = [['metric (ms, from `anyroomctl call LINK`)', 'median', 'p95', 'n']];
  const add = (name, xs) => table.push([name, fmt(quantile(xs, 0.5)), fmt(quantile(xs, 0.95)), String(xs.length)]);
  add('connected (the command returns; the link answers by itself)', rows.connected);
  add('the caller decodes the called room\'s first frame', rows.callerFrame);
  add('the called room decodes the caller\'s first frame', rows.calledFrame);
  add('media both ways (the later of the two; target <= 500)', rows.both);
  console.log(`Room-to-room calls on ${machine()}; command: ${process.env.AR_BENCH_CMDLINE || 'tests/integration/run-in-net-lab.sh --plain tests/bench/bench-room-call.mjs'}`);
  console.log('Two anyroomd in two namespaces, the middle forwarding (LAN), no TURN; test camera 1280x720@30.');
  for (const l of tableLines(table)) console.log(l);
  if (failures.length) console.log(`failures: ${failures.join('; ')}`);
}

main().then(() => process.exit(0), (e) => { console.error(`bench-room-call: ${e.stack || e}`); process.exit(1); });
