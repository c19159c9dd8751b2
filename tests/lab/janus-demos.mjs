// Anyroom test lab: Janus's own demo pages (Debian's janus-demos, e.g. videoroomtest.html) with
// a settings.js of ours (a fixture) pointing at the lab's Janus, from node.
//
//   renderJanusDemos(dir)                       // DIR ready to serve; the caller serves it
//   const demos = await serveJanusDemos({ dir, logFile });  // http://127.0.0.1:8000/
//   ... demos.pid, demos.url
//   await demos.stop();
//
// janus-demos.sh renders the folder (single source of truth, also for run-demo.sh) and, with
// --foreground, execs the web server, so the child's PID is the server's.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { LAB, run, startProcess } from './lab.mjs';
import { waitFor } from './participant.mjs';

const SCRIPT = path.join(LAB, 'janus-demos.sh');

export function renderJanusDemos(dir, { wsPort = 8188 } = {}) {
  execFileSync(SCRIPT, ['--render-only', '--ws-port', String(wsPort), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

// Renders @dir and serves it on 127.0.0.1:@port (output into @logFile); resolves once
// settings.js answers (at most 15 s). Returns startProcess()'s handle with url.
export async function serveJanusDemos({ dir, logFile, port = 8000, wsPort = 8188 }) {
  const p = startProcess(SCRIPT, ['--foreground', '--port', String(port), '--ws-port', String(wsPort), dir], { logFile });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor('the demo web server', async () => {
      if (p.exited) throw new Error(`the demo web server exited (${JSON.stringify(p.exited)}); see ${logFile}`);
      const r = await run('python3', ['-c', `import urllib.request; urllib.request.urlopen("${url}/settings.js", timeout=1)`], { timeoutMs: 3000 });
      return r.code === 0;
    }, { timeoutMs: 15000, intervalMs: 200 });
  } catch (e) {
    await p.stop();
    throw e;
  }
  p.url = url;
  return p;
}
