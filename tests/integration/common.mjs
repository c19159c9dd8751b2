// Helpers shared by the integration tests (node:test, TAP).
import http from 'node:http';
import { test } from 'node:test';
import { waitFor } from '../lab/participant.mjs';

// test() wrappers that remember whether any step failed (after() then prints
// logs). onFail(error) runs on a failure, always() after every step.
export function stepper({ timeout = 120000, onFail = null, always = null } = {}) {
  let anyFailed = false;
  let current = null;
  // An error thrown outside a step's own chain (an event handler, a promise nobody awaits) fails
  // the running step through node:test, which says so on stdout only: say it on stderr too.
  const stray = (kind) => (e) => {
    anyFailed = true;
    console.error(`# ${kind} during step ${JSON.stringify(current)}:\n${String(e && e.stack || e).replace(/^/gm, '#   ')}`);
  };
  process.on('uncaughtException', stray('uncaught exception'));
  process.on('unhandledRejection', stray('unhandled rejection'));
  const step = (name, fn, stepTimeout = timeout) =>
    test(name, { timeout: stepTimeout }, async (t) => {
      current = name;
      // A step that runs out of time is cancelled by node:test without an exception here (the
      // signal also aborts when a step ends: only an abort before that is a cancel).
      let ended = false;
      t.signal.addEventListener('abort', () => {
        if (ended) return;
        anyFailed = true;
        console.error(`# step cancelled (timeout ${stepTimeout} ms or the run ended): ${name}`);
      });
      try {
        await fn(t);
        ended = true;
      } catch (e) {
        ended = true;
        anyFailed = true;
        // On stderr too: meson reads stdout as TAP and shows only stderr in a failed run's log.
        console.error(`# step failed: ${name}\n${String(e && e.stack || e).replace(/^/gm, '#   ')}`);
        if (onFail) await onFail(e);
        throw e;
      } finally {
        if (always) await always();
      }
    });
  return { step, failed: () => anyFailed };
}

// One message for an anyroomctl result that was not what a test expected, on
// one line (a message of several lines breaks meson's reading of the TAP).
export function ctlFail(r, what) {
  const line = (s) => s.trim().replace(/\s*\n\s*/g, ' | ');
  return `${what}: exit ${r.code}${r.timedOut ? ' (timed out)' : ''} after ${Math.round(r.ms)} ms; ` +
    `stdout: ${line(r.stdout)}; stderr: ${line(r.stderr)}`;
}

// The participant id of @display in anyroomd's status, or null.
export function participantId(status, display) {
  const p = (status.participants || []).find((x) => x.display === display);
  return p ? String(p.id) : null;
}

// Tracks of a kind and direction, optionally of one participant's peer.
export function tracksOf(status, { peerId = null, kind, direction }) {
  return (status.tracks || []).filter((tr) => tr.kind === kind && tr.direction === direction &&
    (peerId === null || String(tr.peer).includes(peerId)));
}

// One line of anyroomd's status for diagnostics.
export function statusSummary(s) {
  const tr = (s.tracks || []).map((x) => `${x.peer}/${x.kind}/${x.direction} ${x.codec || ''} ${x.width || ''}x${x.height || ''} frames=${x.frames} packets=${x.packets}`);
  return `state=${s.state} error=${s.error} participants=${JSON.stringify(s.participants)} tracks=[${tr.join('; ')}]`;
}

// Waits (bounded) until anyroomd reports @state; returns that status.
// @failOn: states that end the wait at once (a join that already failed will not connect).
export async function waitState(daemon, state, { timeoutMs = 10000, intervalMs = 200, failOn = [] } = {}) {
  let last = null;
  try {
    return await waitFor(`anyroomd state ${state}`, async () => {
      last = await daemon.status();
      if (failOn.includes(last.state)) throw new Error(`anyroomd went ${last.state}, not ${state}`);
      return last.state === state ? last : null;
    }, { timeoutMs, intervalMs });
  } catch (e) {
    throw new Error(`${e.message}; last status: ${last && statusSummary(last)}`);
  }
}

// Polls @fn until it gives something truthy, and returns it; throws after @timeoutMs.
export async function until(what, fn, timeoutMs = 15000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// A request on a room's Unix socket (the API anyroomctl uses), @body sent as it is (a string:
// raw, for tests of bad input); {status, text, json (null when not JSON)}. 10 s at most.
export function localRequest(socket, method, path, body = '') {
  return new Promise((resolve, reject) => {
    const rq = http.request({ socketPath: socket, method, path, headers: { 'Content-Type': 'application/json', Connection: 'close' } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { json = null; }
        resolve({ status: res.statusCode, text, json });
      });
    });
    rq.on('error', reject);
    rq.setTimeout(10000, () => rq.destroy(new Error('no answer from the local socket in 10 s')));
    rq.end(body);
  });
}
