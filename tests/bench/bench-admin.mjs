// Benchmark: the HTTPS admin API (./build.sh bench, "admin" part), inside a
// private network namespace: a real anyroomd with a fresh state dir, driven
// over TLS from node (new connection per request: every answer closes it).
//   tests/lab/in-netns.sh node tests/bench/bench-admin.mjs
// Prints a table (median, p95). Exits 0 whenever it ran: timings never fail it.
// Environment: AR_BENCH_ADMIN_N (40 requests of each kind).
import fs from 'node:fs';
import path from 'node:path';
import { buildDir, mkTemp, startAnyroomd } from '../lab/lab.mjs';
import { certPins, pinnedRequest } from '../lab/admin-browser.mjs';
import { fmt, machine, tableLines } from './report.mjs';

const N = Number(process.env.AR_BENCH_ADMIN_N || 40);
const PORT = 8443;
const BASE = `https://127.0.0.1:${PORT}`;
const TMP = mkTemp('ar-bench-admin-');
const STATE = path.join(TMP, 'state');
const OUT = path.join(buildDir(), 'meson-logs', 'bench-admin');

function quantile(xs, q) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const conf = path.join(TMP, 'anyroom.conf');
  fs.writeFileSync(conf, `[room]\nname=Bench Room\n[device]\ncamera=test\nmicrophone=test\nspeaker=none\n[admin]\nlisten=127.0.0.1:${PORT}\n`);
  const daemon = await startAnyroomd({ tmp: TMP, extraArgs: ['--config', conf, '--state-dir', STATE] });
  const rows = [];
  try {
    const pins = certPins(fs.readFileSync(path.join(STATE, 'admin-cert.pem'), 'utf8'));
    const req = (o) => pinnedRequest({ port: PORT, fingerprint256: pins.fingerprint256, ...o });
    const setup = await req({ method: 'POST', path: '/api/v1/setup', headers: { Origin: BASE }, body: { password: 'bench password 12345' } });
    if (setup.status !== 200) throw new Error(`setup: ${setup.status} ${setup.text}`);
    const cookie = String(setup.headers['set-cookie']).split(';')[0];
    const auth = { Cookie: cookie, Origin: BASE, 'X-CSRF-Token': setup.json.csrf_token };
    const tok = await req({ method: 'POST', path: '/api/v1/tokens', headers: auth, body: { name: 'bench', scopes: ['status', 'configuration'] } });
    const bearer = { Authorization: `Bearer ${tok.json.token}` };
    const kinds = [
      ['GET /api/v1/status, token (ms)', () => req({ path: '/api/v1/status', headers: bearer })],
      ['GET /api/v1/config, token (ms)', () => req({ path: '/api/v1/config', headers: bearer })],
      ['PATCH /api/v1/config room name, validated + saved (ms)', (i) => req({ method: 'PATCH', path: '/api/v1/config', headers: bearer, body: { room: { name: `Bench Room ${i}` } } })],
      ['PATCH /api/v1/config network (ICE servers reloaded) (ms)', (i) => req({ method: 'PATCH', path: '/api/v1/config', headers: bearer, body: { network: { stun: [`stun:10.9.0.${i % 200 + 1}:3478`] } } })],
      ['GET /api/v1/logs 500 lines, session (ms)', () => req({ path: '/api/v1/logs', headers: auth })],
      ['GET /api/v1/camera/snapshot 320x180 JPEG, test camera (ms)', () => req({ path: '/api/v1/camera/snapshot?camera=test', headers: auth })],
      ['GET /api/v1/devices (GstDeviceMonitor) (ms)', () => req({ path: '/api/v1/devices', headers: bearer })],
    ];
    for (const [name, fn] of kinds) {
      const xs = [];
      for (let i = 0; i < N; i++) {
        const [ms, r] = await timed(() => fn(i));
        if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status} ${r.text}`);
        xs.push(ms);
      }
      rows.push([name, xs]);
    }
    const rss = Number(fs.readFileSync(`/proc/${daemon.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
    rows.push(['anyroomd RSS after the run (MB)', [rss]]);
  } finally {
    await daemon.stop(10000);
    fs.rmSync(TMP, { recursive: true, force: true });
  }
  const table = [['metric', 'median', 'p95']];
  for (const [name, xs] of rows) table.push([`${name} [n=${xs.length}]`, fmt(quantile(xs, 0.5)), fmt(quantile(xs, 0.95))]);
  const out = [
    `command: tests/lab/in-netns.sh node tests/bench/bench-admin.mjs (AR_BENCH_ADMIN_N=${N})`,
    `machine: ${machine()}; one TLS connection per request`,
    ...tableLines(table),
  ];
  console.log(out.join('\n'));
  fs.writeFileSync(path.join(OUT, 'bench.txt'), `${out.join('\n')}\n`);
}

main().catch((e) => {
  console.error(`bench-admin: FAILED to run: ${e.stack || e.message}`);
  process.exit(1);
});
