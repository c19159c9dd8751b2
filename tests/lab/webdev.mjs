// Anyroom test lab: the room's devices in a web call (issue 11, part 5).
//
//   import { startWebDev, launchWebBrowser } from './webdev.mjs';
//   const dev = await startWebDev({ tmp });        // ar-webdev: ArWebMedia + ArBridge
//   await dev.cmd('call on'); await dev.cmd('start');
//   const b = await launchWebBrowser({ env: dev.env, name: 'meeting' });
//   ...
//   await b.close(); await dev.stop();
//
// startWebDev() runs the test program ar-webdev (tests/integration/ar-webdev.c), which starts
// the product's per-call media environment (firmware/bridge/ar-web-media.c: private session
// D-Bus, pipewire, wireplumber, xdg-permission-store, xdg-desktop-portal with the room's Access
// backend, a private PulseAudio with the null sinks) in a folder under @tmp, and an ArBridge
// (media/ar-bridge.c) fed by videotestsrc/audiotestsrc. Every child process is ar-webdev's
// (PR_SET_PDEATHSIG): stopping ar-webdev by PID stops them all, even on a failure.
//
// launchWebBrowser() starts Debian's Chromium headless with NO fake device or fake UI flag:
// the camera comes through the PipeWire camera portal (--enable-features=WebRtcPipeWireCamera),
// the microphone and speaker through PulseAudio (PULSE_SERVER).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';
import { buildDir, sleep } from './lab.mjs';
import { CHROMIUM } from './participant.mjs';

export const WEB_BROWSER_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-features=WebRtcPipeWireCamera',
  '--autoplay-policy=no-user-gesture-required',
];

// Starts ar-webdev; resolves {pid, env, dir, cmd(line) -> reply, log(), stop()}.
export async function startWebDev({ tmp, timeoutMs = 20000 } = {}) {
  const bin = path.join(buildDir(), 'tests', 'integration', 'ar-webdev');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: build first (ninja -C build)`);
  // AR_WEBDEV_WRAPPER: a command prefix to run ar-webdev under (e.g. a script that enters a
  // Debian 13 chroot, with AR_CHROMIUM a script that runs that chroot's Chromium).
  const wrap = (process.env.AR_WEBDEV_WRAPPER || '').split(' ').filter(Boolean);
  const child = wrap.length
    ? spawn(wrap[0], [...wrap.slice(1), bin, tmp], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(bin, [tmp], { stdio: ['pipe', 'pipe', 'pipe'] });
  const dev = { pid: child.pid, env: {}, dir: null, exited: null, lines: [] };
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; if (stderr.length > 65536) stderr = stderr.slice(-32768); });
  child.on('exit', (code, sig) => { dev.exited = { code, sig }; });
  // Written to after it exited: EPIPE, which the next command reports (dev.exited).
  child.stdin.on('error', (e) => { stderr += `stdin: ${e.message}\n`; });
  const rl = readline.createInterface({ input: child.stdout });
  const waiters = [];
  rl.on('line', (line) => {
    dev.lines.push(line);
    if (line.startsWith('#')) return;
    if (line.startsWith('env ')) {
      const kv = line.slice(4);
      const i = kv.indexOf('=');
      dev.env[kv.slice(0, i)] = kv.slice(i + 1);
      return;
    }
    const w = waiters.shift();
    if (w) w(line);
  });
  const next = (what, ms) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ar-webdev: no answer to '${what}' within ${ms} ms; stderr: ${stderr.slice(-2000)}`)), ms);
    waiters.push((line) => { clearTimeout(timer); resolve(line); });
  });
  const first = await next('start', timeoutMs).catch(async (e) => { child.kill('SIGKILL'); throw e; });
  if (!first.startsWith('ready ')) {
    child.kill('SIGKILL');
    throw new Error(`ar-webdev did not start: ${first}; stderr: ${stderr.slice(-2000)}`);
  }
  dev.dir = first.slice(6);
  // One command at a time; resolves the reply line, throws on "error ...".
  let chain = Promise.resolve();
  dev.cmd = (line, ms = 15000) => {
    const p = chain.then(async () => {
      if (dev.exited) throw new Error(`ar-webdev exited (${JSON.stringify(dev.exited)}) before '${line}'`);
      const answer = next(line, ms);
      child.stdin.write(line + '\n');
      const r = await answer;
      if (r.startsWith('error')) throw new Error(`ar-webdev '${line}': ${r}`);
      return r;
    });
    chain = p.catch(() => {});
    return p;
  };
  // "speaker" -> {rms, peak, samples}
  dev.speaker = async () => {
    const r = await dev.cmd('speaker');
    const m = /rms=(\S+) peak=(\S+) samples=(\d+)/.exec(r);
    return { rms: Number(m[1]), peak: Number(m[2]), samples: Number(m[3]) };
  };
  dev.portal = async () => {
    const r = await dev.cmd('portal');
    const m = /requests=(\d+) granted=(\d+)/.exec(r);
    return { requests: Number(m[1]), granted: Number(m[2]) };
  };
  // The children's logs (kept under the per-call folder while ar-webdev runs).
  dev.log = () => {
    let out = `ar-webdev stdout:\n${dev.lines.slice(-40).join('\n')}\nstderr:\n${stderr.slice(-3000)}\n`;
    try {
      for (const f of fs.readdirSync(dev.dir).filter((x) => x.endsWith('.log'))) {
        const t = fs.readFileSync(path.join(dev.dir, f), 'utf8').split('\n').slice(-15).join('\n');
        out += `--- ${f}\n${t}\n`;
      }
    } catch { /* gone */ }
    return out;
  };
  dev.stop = async () => {
    if (dev.exited) return dev.exited;
    child.stdin.end(); // EOF: ar-webdev stops the bridge and its children and exits
    for (let t = 0; t < 8000 && !dev.exited; t += 50) await sleep(50);
    if (!dev.exited) {
      process.kill(child.pid, 'SIGKILL'); // its children die with it (PR_SET_PDEATHSIG)
      for (let t = 0; t < 2000 && !dev.exited; t += 50) await sleep(50);
    }
    return dev.exited;
  };
  return dev;
}

// Kill the Chromium processes that use this (unique, ours) user-data-dir.
function killChromiumOf(dir) {
  for (const id of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${id}/cmdline`, 'utf8');
      if (cmd.includes(`--user-data-dir=${dir}`)) process.kill(Number(id), 'SIGKILL');
    } catch { /* gone */ }
  }
}

// Profiles still open when this process ends (participant.mjs turns SIGINT/SIGTERM/SIGHUP into
// an exit) are cleaned up: browsers killed, folders removed. ar-webdev ends by itself when its
// stdin closes with us.
const liveDirs = new Set();
process.on('exit', () => {
  for (const dir of liveDirs) {
    killChromiumOf(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A headless Chromium with the web call's environment; resolves {context, page, close()}.
export async function launchWebBrowser({ env, name = 'meeting', logDir = null }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ar-webdev-${name}-`));
  liveDirs.add(dir);
  let context;
  try {
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: WEB_BROWSER_FLAGS,
      // Playwright mutes audio by default; the room's speaker must hear the page.
      ignoreDefaultArgs: ['--mute-audio'],
      env: { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8', ...env },
      timeout: 30000,
    });
  } catch (e) {
    killChromiumOf(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
    throw new Error(`cannot start ${CHROMIUM}: ${e.message}`);
  }
  const page = context.pages()[0] || (await context.newPage());
  const logLines = [];
  page.on('console', (m) => logLines.push(`${m.type()} ${m.text()}`));
  page.on('pageerror', (e) => logLines.push(`pageerror ${e.message}`));
  const close = async () => {
    await Promise.race([context.close().catch(() => {}), sleep(10000)]);
    killChromiumOf(dir);
    if (logDir) {
      fs.mkdirSync(logDir, { recursive: true });
      fs.writeFileSync(path.join(logDir, `chromium-${name}.log`), logLines.join('\n') + '\n');
    }
    fs.rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };
  return { context, page, close, logLines };
}
