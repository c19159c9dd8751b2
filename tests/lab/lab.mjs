// Anyroom test lab: shared helpers for node tests (processes, temp dirs,
// anyroomd/anyroomctl and its process tree, the tamper proxy, a tiny Janus
// HTTP client).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAB = path.dirname(fileURLToPath(import.meta.url));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function mkTemp(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function tail(file, n = 60) {
  try {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    return lines.slice(-n - 1).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

// Spawn a long-running process with stdout+stderr into logFile. Returns
// {pid, child, exited (null or {code, sig}), stop()}; stop() sends SIGTERM,
// then SIGKILL after graceMs, by PID.
export function startProcess(cmd, args, { logFile, env = process.env, cwd } = {}) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env, cwd });
  fs.closeSync(fd);
  const p = { pid: child.pid, child, exited: null };
  child.on('exit', (code, sig) => { p.exited = { code, sig }; });
  child.on('error', (e) => { p.exited = { code: null, sig: null, error: e.message }; });
  p.stop = async (graceMs = 5000) => {
    if (p.exited) return p.exited;
    child.kill('SIGTERM');
    for (let t = 0; t < graceMs && !p.exited; t += 50) await sleep(50);
    if (!p.exited) {
      child.kill('SIGKILL');
      for (let t = 0; t < 2000 && !p.exited; t += 50) await sleep(50);
    }
    return p.exited;
  };
  return p;
}

// Run a command to completion (bounded). Resolves {code, signal, stdout,
// stderr, ms, timedOut}.
export function run(cmd, args, { env = process.env, timeoutMs = 60000, input = null } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (e) => { stderr += `spawn error: ${e.message}\n`; });
    // A child that exits before reading its input: EPIPE here, not an uncaught exception.
    child.stdin.on('error', (e) => { stderr += `stdin: ${e.message}\n`; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0, timedOut });
    });
    if (input !== null) child.stdin.end(input); else child.stdin.end();
  });
}

// Every process of the machine, from /proc/PID/stat: [{pid, ppid, stat, comm,
// ticks}] (pid and ppid as strings, stat the one-letter state, ticks utime +
// stime + cutime + cstime). A process that ends while it is read is left out.
export function processes() {
  const all = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      // After "(comm) ": [0]=state [1]=ppid ... [11]=utime [12]=stime [13]=cutime [14]=cstime
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      all.push({ pid: e, ppid: f[1], stat: f[0], comm, ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // gone
    }
  }
  return all;
}

// The processes whose parent chain reaches @rootPid (not the root itself),
// parents before their children; @all: a processes() snapshot to use.
export function descendants(rootPid, all = processes()) {
  const kids = new Map();
  for (const s of all) {
    if (!kids.has(s.ppid)) kids.set(s.ppid, []);
    kids.get(s.ppid).push(s);
  }
  const out = [];
  const walk = (p) => { for (const k of kids.get(p) || []) { out.push(k); walk(k.pid); } };
  walk(String(rootPid));
  return out;
}

// ---- test clips ----------------------------------------------------------

// A clip for a room's camera: @frames frames of GStreamer's videotestsrc (its @pattern and
// @props), 1280x720 I420 at 30 fps, written once as raw frames (anyroomd's clip camera,
// ANYROOM_TEST_CLIP) and once as Y4M (Chromium's --use-file-for-fake-video-capture), both
// under @dir as @name.yuv and @name.y4m. -> {raw, y4m, frames}
export function writeTestClip(dir, name, { pattern = 'ball', props = [], frames = 60 } = {}) {
  const raw = path.join(dir, `${name}.yuv`);
  const y4m = path.join(dir, `${name}.y4m`);
  execFileSync('gst-launch-1.0', ['-q', 'videotestsrc', `pattern=${pattern}`, `num-buffers=${frames}`, ...props,
    '!', 'video/x-raw,format=I420,width=1280,height=720,framerate=30/1', '!', 'filesink', `location=${raw}`]);
  const size = 1280 * 720 * 3 / 2;
  const fd = fs.openSync(raw, 'r');
  const out = fs.openSync(y4m, 'w');
  const buf = Buffer.alloc(size);
  fs.writeSync(out, 'YUV4MPEG2 W1280 H720 F30:1 Ip A1:1 C420jpeg\n');
  for (let i = 0; fs.readSync(fd, buf, 0, size, i * size) === size; i++) {
    fs.writeSync(out, 'FRAME\n');
    fs.writeSync(out, buf);
  }
  fs.closeSync(fd);
  fs.closeSync(out);
  return { raw, y4m, frames };
}

// ---- anyroomd / anyroomctl -----------------------------------------------

export function buildDir() {
  const b = process.env.AR_BUILD_DIR || path.resolve(LAB, '../../build');
  return b;
}

// Start anyroomd with private XDG dirs under tmp; log into tmp/anyroomd.log.
// netns: run it in that network namespace (ip netns exec; same PID); the
// control socket is a file, so anyroomctl reaches it from anywhere.
// nofile: run it with that RLIMIT_NOFILE (soft and hard; prlimit execs it, same PID).
// @cwd: the daemon's working directory (default: the caller's, the build folder under meson).
export async function startAnyroomd({ tmp, board = 'host', extraArgs = [], timeoutMs = 15000, netns = null, log: logName = 'anyroomd.log', env: extraEnv = {}, nofile = null, cwd = undefined }) {
  // Run private copies: other people may relink the build tree meanwhile.
  const binDir = path.join(tmp, 'bin');
  fs.mkdirSync(binDir, { recursive: true });
  for (const b of ['anyroomd', 'anyroomctl']) {
    const src = path.join(buildDir(), 'firmware', b);
    if (!fs.existsSync(src)) throw new Error(`${src} does not exist (build first: ./build.sh build)`);
    fs.copyFileSync(src, path.join(binDir, b));
    fs.chmodSync(path.join(binDir, b), 0o755);
  }
  const bin = path.join(binDir, 'anyroomd');
  const ctlBin = path.join(binDir, 'anyroomctl');
  const dirs = {};
  for (const d of ['runtime', 'config', 'state']) {
    dirs[d] = path.join(tmp, `xdg-${d}`);
    fs.mkdirSync(dirs[d], { recursive: true, mode: 0o700 });
  }
  const socket = path.join(tmp, 'anyroomd.sock');
  const log = path.join(tmp, logName);
  const env = {
    ...process.env,
    XDG_RUNTIME_DIR: dirs.runtime,
    XDG_CONFIG_HOME: dirs.config,
    XDG_STATE_HOME: dirs.state,
    G_MESSAGES_DEBUG: 'all',
    ...extraEnv,
  };
  if (process.env.AR_SOURCE_DIR && !env.ANYROOM_BOARD_DIR) env.ANYROOM_BOARD_DIR = path.join(process.env.AR_SOURCE_DIR, 'board');
  // AR_DAEMON_ENV: a JSON object of variables for anyroomd alone (profiling, e.g. heaptrack's
  // LD_PRELOAD: tests/bench/heap-profile.sh), never for the lab's other processes.
  if (process.env.AR_DAEMON_ENV) {
    let more;
    try {
      more = JSON.parse(process.env.AR_DAEMON_ENV);
    } catch (e) {
      throw new Error(`AR_DAEMON_ENV is not JSON: ${e.message}`);
    }
    if (!more || typeof more !== 'object' || Array.isArray(more)) throw new Error('AR_DAEMON_ENV must be a JSON object');
    for (const [k, v] of Object.entries(more)) env[k] = String(v);
  }
  const args = ['--socket', socket, ...(board ? ['--board', board] : []), ...extraArgs];
  const cmd = nofile ? ['prlimit', `--nofile=${nofile}:${nofile}`, '--', bin, ...args] : [bin, ...args];
  const p = netns
    ? startProcess('ip', ['netns', 'exec', netns, ...cmd], { logFile: log, env, cwd })
    : startProcess(cmd[0], cmd.slice(1), { logFile: log, env, cwd });
  const d = {
    ...p, socket, log, env, bin, ctlBin,
    logTail: (n = 80) => tail(log, n),
    ctl: (...a) => anyroomctl(socket, a, { bin: ctlBin }),
    async status() {
      const r = await anyroomctl(socket, ['status', '--json'], { timeoutMs: 10000, bin: ctlBin });
      if (r.code !== 0) {
        throw new Error(`anyroomctl status --json exited ${r.code}: ${r.stderr.trim()}` +
          (p.exited ? `; anyroomd exited: ${JSON.stringify(p.exited)}` : ''));
      }
      try {
        return JSON.parse(r.stdout);
      } catch (e) {
        throw new Error(`anyroomctl status --json printed invalid JSON (${e.message}): ${r.stdout.slice(0, 500)}`);
      }
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.exited) throw new Error(`anyroomd exited during startup (${JSON.stringify(p.exited)}):\n${d.logTail()}`);
    if (fs.existsSync(socket)) {
      const r = await anyroomctl(socket, ['status', '--json'], { timeoutMs: 5000, bin: ctlBin });
      if (r.code === 0) return d;
    }
    if (Date.now() > deadline) {
      await p.stop();
      throw new Error(`anyroomd did not answer on ${socket} within ${timeoutMs} ms:\n${d.logTail()}`);
    }
    await sleep(100);
  }
}

// anyroomd with the web engine as the web-engine tests and bench run it: tmp/anyroom.conf with
// the room's name, test camera and microphone, no speaker or display, the admin API on
// 127.0.0.1:8443, a headless meeting browser with the bridge, and tmp/recipes/ holding the lab
// recipe @recipe (a file in tests/lab/recipes/); @extraConfig: more lines after [device].
export async function startWebAnyroomd({ tmp, roomName, recipe, extraConfig = [], timeoutMs = 30000 }) {
  const recipes = path.join(tmp, 'recipes');
  fs.mkdirSync(recipes, { recursive: true });
  fs.copyFileSync(path.join(LAB, 'recipes', recipe), path.join(recipes, recipe));
  const conf = path.join(tmp, 'anyroom.conf');
  fs.writeFileSync(conf, [
    '[room]', `name=${roomName}`,
    '[device]', 'camera=test', 'microphone=test', 'speaker=none', 'display=none',
    ...extraConfig,
    '[admin]', 'listen=127.0.0.1:8443',
    '[web]', 'headless=true', 'browser-flags=--no-sandbox;--disable-gpu;--disable-dev-shm-usage',
    'bridge=true', `recipes=${recipes}`,
    '',
  ].join('\n'));
  return startAnyroomd({ tmp, extraArgs: ['--config', conf], timeoutMs });
}

export function anyroomctl(socket, args, { bin = path.join(buildDir(), 'firmware', 'anyroomctl'), ...opts } = {}) {
  const a = socket ? ['--socket', socket, ...args] : args;
  return run(bin, a, { timeoutMs: 90000, ...opts });
}

// ---- tamper proxy ----------------------------------------------------------

export async function startTamperProxy({ tmp, upstream = 'http://127.0.0.1:8088', tamper = true, dump = null }) {
  const portFile = path.join(tmp, `tamper-proxy-${process.pid}-${Date.now()}.port`);
  const log = path.join(tmp, `tamper-proxy-${tamper ? 'tamper' : 'pass'}-${Date.now()}.log`);
  const args = [path.join(LAB, 'tamper-proxy.py'), '--upstream', upstream, '--port-file', portFile];
  if (!tamper) args.push('--no-tamper');
  if (dump) args.push('--dump', dump);
  const p = startProcess('python3', args, { logFile: log });
  for (let t = 0; t < 10000; t += 50) {
    if (p.exited) throw new Error(`tamper-proxy exited: ${tail(log)}`);
    if (fs.existsSync(portFile)) {
      const port = Number(fs.readFileSync(portFile, 'utf8').trim());
      return { ...p, port, log, logTail: (n = 20) => tail(log, n), logText: () => fs.readFileSync(log, 'utf8') };
    }
    await sleep(50);
  }
  await p.stop();
  throw new Error('tamper-proxy did not start within 10 s');
}

// ---- a tiny Janus HTTP client (for checks, not for media) -----------------

export class JanusHttp {
  constructor(base) {
    this.base = base.replace(/\/$/, '');
    this.tx = 0;
    this.session = null;
  }

  async post(pathSuffix, msg) {
    msg.transaction = `http${++this.tx}`;
    const r = await fetch(this.base + pathSuffix, {
      method: 'POST', body: JSON.stringify(msg), headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(10000),
    });
    return r.json();
  }

  async create() {
    const r = await this.post('', { janus: 'create' });
    if (r.janus !== 'success') throw new Error(`create: ${JSON.stringify(r)}`);
    this.session = r.data.id;
    return this.session;
  }

  async attach(plugin = 'janus.plugin.videoroom') {
    const r = await this.post(`/${this.session}`, { janus: 'attach', plugin });
    if (r.janus !== 'success') throw new Error(`attach: ${JSON.stringify(r)}`);
    return r.data.id;
  }

  async message(handle, body, jsep) {
    const m = { janus: 'message', body };
    if (jsep) m.jsep = jsep;
    return this.post(`/${this.session}/${handle}`, m);
  }

  // Long-poll until pred(event) holds (bounded).
  async waitEvent(pred, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await fetch(`${this.base}/${this.session}?rid=${Date.now()}&maxev=10`, {
        signal: AbortSignal.timeout(Math.max(1000, deadline - Date.now())),
      }).then((x) => x.json()).catch(() => null);
      for (const ev of [].concat(r || [])) if (pred(ev)) return ev;
    }
    throw new Error(`no matching Janus event within ${timeoutMs} ms`);
  }

  async destroy() {
    if (this.session) await this.post(`/${this.session}`, { janus: 'destroy' }).catch(() => {});
    this.session = null;
  }
}

// Subscribe to a feed over HTTP at `base` and return Janus's offer SDP.
export async function subscriberOfferSdp(base, room, feed) {
  const j = new JanusHttp(base);
  await j.create();
  try {
    const h = await j.attach();
    const ack = await j.message(h, { request: 'join', ptype: 'subscriber', room, streams: [{ feed }] });
    if (ack.janus === 'event' && ack.jsep) return ack.jsep.sdp;
    const ev = await j.waitEvent((e) => e.sender === h && e.jsep);
    return ev.jsep.sdp;
  } finally {
    await j.destroy();
  }
}

export function fingerprints(sdp) {
  return [...sdp.matchAll(/a=fingerprint:(\S+) (\S+)/g)].map((m) => `${m[1]} ${m[2]}`);
}
