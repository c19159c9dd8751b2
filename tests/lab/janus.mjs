// Anyroom test lab: start/stop a Janus with our config from node.
//
//   const janus = await startJanus({ dir, iceEnforce: '10.97.0.1' });
//   ... janus.pid, janus.log (path), janus.logTail(n)
//   await janus.stop();
//
// The config is rendered by janus-start.sh (single source of truth), which
// then execs janus, so the child's PID is Janus's PID.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function janusInfo(httpPort = 8088) {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 1000);
  try {
    const r = await fetch(`http://127.0.0.1:${httpPort}/janus/info`, { signal: ctl.signal });
    const j = await r.json();
    return j.janus === 'server_info' ? j : null;
  } catch {
    return null;
  } finally {
    clearTimeout(t);
  }
}

// timeoutMs: a bound on a failure path; Janus answers in about 1 s here, longer while CI builds
// the qemu image beside the integration suite (recipe-janus failed once there, in 28 s).
export async function startJanus({ dir, iceEnforce = null, httpPort = 8088, wsPort = 8188, timeoutMs = 45000 }) {
  fs.mkdirSync(dir, { recursive: true });
  if (await janusInfo(httpPort)) {
    throw new Error(`something already answers on 127.0.0.1:${httpPort}/janus/info; refusing to start a second Janus`);
  }
  const args = ['--foreground', '--http-port', String(httpPort), '--ws-port', String(wsPort)];
  if (iceEnforce) args.push('--ice-enforce', iceEnforce);
  args.push(dir);
  const out = fs.openSync(path.join(dir, 'janus.stdout'), 'w');
  const child = spawn(path.join(HERE, 'janus-start.sh'), args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let exited = null;
  child.on('exit', (code, sig) => { exited = { code, sig }; });
  const log = path.join(dir, 'janus.log');
  const j = {
    pid: child.pid,
    dir,
    log,
    child,
    logTail(n = 40) {
      try {
        const lines = fs.readFileSync(log, 'utf8').split('\n');
        return lines.slice(-n - 1).join('\n');
      } catch {
        return '(no Janus log)';
      }
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      for (let i = 0; i < 50 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
      for (let i = 0; i < 20 && !exited; i++) await sleep(100);
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`janus exited during startup (${JSON.stringify(exited)}):\n${j.logTail()}`);
    if (await janusInfo(httpPort)) return j;
    if (Date.now() > deadline) {
      await j.stop();
      throw new Error(`janus did not answer /janus/info within ${timeoutMs} ms:\n${j.logTail()}`);
    }
    await sleep(100);
  }
}
