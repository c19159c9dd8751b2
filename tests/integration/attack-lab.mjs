// The attack lab (docs/decisions.md "A hostile LAN"): the real anyroomd with
// its admin server on every address ([admin] listen=0.0.0.0:8443) in a
// network namespace of its own ("the room"), and this node process as the
// attacker in the lab namespace (tests/lab/in-netns.sh), joined to the room
// by a veth pair. The attacker's side holds many source addresses
// (10.98.1.0 - 10.98.7.255), so the server sees the clients a LAN with a
// thousand hosts would send. Nothing leaves the two namespaces.
//
//   room namespace     rm0 10.98.0.1/24   anyroomd, its loopback (room screen, console);
//                      10.98.0.0/16 via 10.98.0.2
//   lab namespace      at0 10.98.0.2/24 and 10.98.1.0 - 10.98.7.255 (/32 each):
//                      this process: TLS and TCP clients
//
// The clients are real TLS clients (node's OpenSSL) and, for loopback checks
// inside the room namespace, curl. Every count and wait here is bounded.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { mkTemp, run, sleep, startAnyroomd } from '../lab/lab.mjs';

export { sleep };

export const ROOM_ADDR = '10.98.0.1';
const GATEWAY = '10.98.0.2';
export const PORT = 8443;
export const PASSWORD = 'correct horse battery staple';

// The Nth attacker address (0-based), 10.98.1.0 upwards; at most 1,792.
export function attackerAddr(n) {
  if (n < 0 || n >= 7 * 256) throw new Error(`attacker address ${n} out of range`);
  return `10.98.${1 + Math.floor(n / 256)}.${n % 256}`;
}

function ip(args, input = null) {
  return execFileSync('ip', args, { input, stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
}

// Creates the room namespace and the veth pair, with @addresses attacker
// addresses on this side. Returns {ns, addrs, close()}; close() deletes the
// namespace (also at process exit).
export function createRoomNetns({ addresses = 1200 } = {}) {
  if (!process.env.AR_NETNS) throw new Error('run me inside tests/lab/in-netns.sh (tests/integration/run-in-lab.sh)');
  const ns = `ar-room-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  ip(['netns', 'add', ns]);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* gone */ }
    try { execFileSync('ip', ['link', 'del', 'at0'], { stdio: 'ignore' }); } catch { /* gone with it */ }
  };
  process.on('exit', close);
  try {
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['link', 'add', 'at0', 'type', 'veth', 'peer', 'name', 'rm0', 'netns', ns]);
    ip(['-n', ns, 'addr', 'add', `${ROOM_ADDR}/24`, 'dev', 'rm0']);
    ip(['-n', ns, 'link', 'set', 'rm0', 'up']);
    ip(['addr', 'add', `${GATEWAY}/24`, 'dev', 'at0']);
    ip(['link', 'set', 'at0', 'up']);
    // The attackers sit behind a "router" (this side's 10.98.0.2): the kernel's
    // neighbour table holds 1,024 entries in all, so with every attacker
    // on the room's link the room could not answer the 1,025th host at all.
    ip(['-n', ns, 'route', 'add', '10.98.0.0/16', 'via', GATEWAY, 'dev', 'rm0']);
    const addrs = [];
    const batch = [];
    for (let i = 0; i < addresses; i++) {
      addrs.push(attackerAddr(i));
      batch.push(`addr add ${attackerAddr(i)}/32 dev at0`);
    }
    ip(['-batch', '-'], batch.join('\n') + '\n');
    // Duplicate address detection is IPv6 only; IPv4 addresses work at once.
    return { ns, addrs, close };
  } catch (e) {
    close();
    throw e;
  }
}

// Starts anyroomd in @ns listening on every address; @conf: more config
// lines. @nofile: a lower RLIMIT_NOFILE (soft and hard) for it, to run it out
// of file descriptors on purpose. Returns startAnyroomd's handle plus
// {tmp, state, conf, fingerprint256}.
export async function startRoom({ ns, conf = '', nofile = null, env = {} }) {
  const tmp = mkTemp('ar-it-attack-');
  const state = path.join(tmp, 'state');
  const confFile = path.join(tmp, 'anyroom.conf');
  fs.writeFileSync(confFile, `[room]\nname=Attack Lab\n[admin]\nlisten=0.0.0.0:${PORT}\n${conf}`);
  const extraArgs = ['--config', confFile, '--state-dir', state];
  // A working directory of its own, empty: a file a hostile device name would make there is
  // seen (test-attack-input), and other tests' files (they run beside it) are not.
  const cwd = path.join(tmp, 'cwd');
  fs.mkdirSync(cwd);
  const d = await startAnyroomd({ tmp, netns: ns, extraArgs, env, nofile, cwd });
  const pem = fs.readFileSync(path.join(state, 'admin-cert.pem'), 'utf8');
  const { X509Certificate } = await import('node:crypto');
  d.fingerprint256 = new X509Certificate(pem).fingerprint256;
  d.tmp = tmp;
  d.state = state;
  d.conf = confFile;
  d.ns = ns;
  return d;
}

// Open file descriptors and resident memory (KiB) of a process.
export function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}
export function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

// One HTTPS request from @from (an attacker address) to the room. Resolves
// {status, headers, text, json} or rejects (connection refused, reset, timed
// out). The certificate is checked against @fingerprint256 when given.
export function request({ from = null, host = ROOM_ADDR, port = PORT, method = 'GET', path: p = '/api/v1/session', headers = {}, body = null, fingerprint256 = null, timeoutMs = 10000, tlsOptions = {} }) {
  return new Promise((resolve, reject) => {
    const data = body === null ? null : (typeof body === 'string' ? body : JSON.stringify(body));
    const h = { Host: `${host}:${port}`, ...headers };
    if (data !== null) {
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
      h['Content-Length'] = Buffer.byteLength(data);
    }
    const rq = https.request({
      host, port, method, path: p, headers: h, agent: false, rejectUnauthorized: false,
      localAddress: from || undefined, timeout: timeoutMs, ...tlsOptions,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    rq.on('socket', (sock) => {
      sock.on('secureConnect', () => {
        const fp = sock.getPeerCertificate().fingerprint256;
        if (fingerprint256 && fp !== fingerprint256) rq.destroy(new Error(`certificate ${fp} is not the room's`));
      });
    });
    rq.on('timeout', () => rq.destroy(new Error(`${method} ${p} from ${from}: timed out after ${timeoutMs} ms`)));
    rq.on('error', reject);
    if (data !== null) rq.write(data);
    rq.end();
  });
}

// A raw TCP connection from @from that sends nothing. Resolves the socket
// once connected (or rejects); socket.closedAt is set when the server closes.
export function tcpConnect({ from = null, host = ROOM_ADDR, port = PORT, timeoutMs = 5000 }) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, localAddress: from || undefined });
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`connect from ${from}: timed out`)); }, timeoutMs);
    s.closedAt = null;
    s.on('connect', () => { clearTimeout(timer); resolve(s); });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('close', () => { s.closedAt = Date.now(); });
    s.on('data', () => {});
  });
}

// A TLS connection from @from, handshake done, nothing sent. Resolves the
// socket (closedAt as above) or rejects with the handshake error.
export function tlsConnect({ from = null, host = ROOM_ADDR, port = PORT, timeoutMs = 10000, options = {} }) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, localAddress: from || undefined, rejectUnauthorized: false, servername: undefined, ...options });
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`TLS from ${from}: timed out`)); }, timeoutMs);
    s.closedAt = null;
    s.on('secureConnect', () => { clearTimeout(timer); resolve(s); });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('close', () => { s.closedAt = Date.now(); });
    s.on('data', () => {});
  });
}

// curl inside the room namespace (its loopback: the room screen's and the
// console's side). Resolves {status, json, text}; status 0: no answer.
export async function loopbackRequest(ns, { method = 'GET', path: p = '/api/v1/session', headers = {}, body = null, timeoutS = 10 } = {}) {
  const args = ['netns', 'exec', ns, 'curl', '-sk', '-m', String(timeoutS), '-o', '-', '-w', '\n%{http_code}', '-X', method];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (body !== null) args.push('-H', 'Content-Type: application/json', '--data-binary', typeof body === 'string' ? body : JSON.stringify(body));
  args.push(`https://127.0.0.1:${PORT}${p}`);
  const r = await run('ip', args, { timeoutMs: (timeoutS + 5) * 1000 });
  const i = r.stdout.lastIndexOf('\n');
  const text = r.stdout.slice(0, i);
  const status = Number(r.stdout.slice(i + 1)) || 0;
  let json = null;
  try { json = JSON.parse(text); } catch { json = null; }
  return { status, json, text };
}

// The first-run setup from loopback, then a login: returns the session's
// {cookie, csrf} for requests from loopback (curl) or, with the cookie, from
// anywhere.
export async function setupAdmin(room) {
  const origin = `https://127.0.0.1:${PORT}`;
  let r = await loopbackRequest(room.ns, { method: 'POST', path: '/api/v1/setup', headers: { Origin: origin }, body: { password: PASSWORD } });
  if (r.status !== 200) throw new Error(`setup: ${r.status} ${r.text}`);
  const args = ['netns', 'exec', room.ns, 'curl', '-sk', '-m', '10', '-D', '-', '-o', '/dev/null', '-X', 'POST',
    '-H', `Origin: ${origin}`, '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify({ password: PASSWORD }),
    `https://127.0.0.1:${PORT}/api/v1/login`];
  const lr = await run('ip', args, { timeoutMs: 20000 });
  const m = /set-cookie:\s*(__Host-ar_session=[0-9a-f]{64})/i.exec(lr.stdout);
  if (!m) throw new Error(`login gave no session cookie: ${lr.stdout}`);
  const cookie = m[1];
  r = await loopbackRequest(room.ns, { path: '/api/v1/session', headers: { Cookie: cookie } });
  if (!r.json || !r.json.csrf_token) throw new Error(`no CSRF token: ${r.text}`);
  return { cookie, csrf: r.json.csrf_token, origin };
}

// The daemon is healthy: status answers on the Unix socket and, from
// loopback, on HTTPS. Returns {ctlMs, httpsStatus}.
export async function assertHealthy(room, what) {
  const t0 = Date.now();
  const st = await room.status();
  const ctlMs = Date.now() - t0;
  if (!st || !st.state) throw new Error(`${what}: no status on the Unix socket`);
  const r = await loopbackRequest(room.ns, { path: '/api/v1/session' });
  if (r.status !== 200) throw new Error(`${what}: HTTPS from loopback answered ${r.status}`);
  return { ctlMs, httpsStatus: r.status };
}

// Waits until @fn() is truthy (bounded); returns its value.
export async function until(what, fn, timeoutMs = 10000, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

// Settles @n promises made by @make(i), @parallel at a time. Resolves the
// array of {ok, value|error}.
export async function pool(n, parallel, make) {
  const out = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      try { out[i] = { ok: true, value: await make(i) }; } catch (e) { out[i] = { ok: false, error: e }; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return out;
}
