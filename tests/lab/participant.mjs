// Anyroom test lab: a headless Chromium participant in a Janus VideoRoom.
//
//   import { launchParticipant } from './participant.mjs';
//   const alice = await launchParticipant({ display: 'alice', room: 1234 });
//   await alice.waitJoined();
//   const feed = await alice.waitForFeed('Room');          // first frame decoded
//   const { video, audio } = await alice.stats('Room');
//   await alice.screenshot('/tmp/alice.png');
//   await alice.close();
//
// Each participant is its own Chromium (Debian's /usr/bin/chromium driven by
// playwright-core) with a fresh --user-data-dir and fake camera/microphone,
// opening our page (participant/index.html, a minimal VideoRoom client over
// WebSocket) from a static server on 127.0.0.1:<free port>.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serveStatic } from './participant/server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.AR_CHROMIUM || '/usr/bin/chromium';

// DESIGN.md "Facts checked on these machines"; playwright adds --headless.
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Kill the Chromium processes that use this (unique, ours) user-data-dir.
function killChromiumOf(dir) {
  let ids = [];
  try { ids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch { return; }
  for (const id of ids) {
    try {
      const cmd = fs.readFileSync(`/proc/${id}/cmdline`, 'utf8');
      if (cmd.includes(`--user-data-dir=${dir}\0`) || cmd.endsWith(`--user-data-dir=${dir}`)) process.kill(Number(id), 'SIGKILL');
    } catch { /* gone */ }
  }
}

// Profiles still open when this process ends (even on SIGTERM/SIGINT) are
// cleaned up: browsers killed, directories removed.
const liveDirs = new Set();
function cleanupAllSync() {
  for (const dir of liveDirs) {
    killChromiumOf(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  liveDirs.clear();
}
process.on('exit', cleanupAllSync);
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.once(sig, () => {
    cleanupAllSync();
    process.exit(128 + n);
  });
}

// A Chromium someone else started with --remote-debugging-port, driven over its DevTools
// WebSocket (WS, printed as "DevTools listening on ws://..."): playwright's Browser.
export function connectChromium(ws, { timeoutMs = 30000 } = {}) {
  return chromium.connectOverCDP(ws, { timeout: timeoutMs });
}

// Poll fn() until it returns a truthy value; throw `what` after timeoutMs.
export async function waitFor(what, fn, { timeoutMs = 30000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// Launch a headless Chromium with fake devices. Returns {context, page, dir, close}.
// @netns: Chromium runs inside that network namespace (`ip netns exec`, a wrapper in its
// profile directory; playwright drives it over a pipe, which crosses namespaces).
export async function launchChromium({ name = 'chromium', logDir = null, viewport = { width: 1280, height: 800 }, ignoreHTTPSErrors = false, extraArgs = [], netns = null } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ar-chromium-${name}-`));
  liveDirs.add(dir);
  let executablePath = CHROMIUM;
  if (netns) {
    if (!/^[A-Za-z0-9_.-]+$/.test(netns)) throw new Error(`launchChromium: bad namespace name ${netns}`);
    executablePath = path.join(dir, 'in-netns.sh');
    fs.writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${netns} ${JSON.stringify(CHROMIUM)} "$@"\n`, { mode: 0o755 });
  }
  let context;
  try {
    context = await chromium.launchPersistentContext(dir, {
      executablePath,
      headless: true,
      // In a namespace its page comes through playwright (no address Chromium knows), and the
      // local network access checks would block its WebSocket to the namespace's loopback.
      args: [...CHROMIUM_FLAGS.map((f) => (netns && f.startsWith('--disable-features=') ? `${f},LocalNetworkAccessChecks` : f)), ...extraArgs],
      viewport,
      ignoreHTTPSErrors,
      timeout: 30000,
    });
  } catch (e) {
    killChromiumOf(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
    throw new Error(`cannot start ${CHROMIUM}: ${e.message}`);
  }
  const page = context.pages()[0] || (await context.newPage());
  let logStream = null;
  if (logDir) {
    fs.mkdirSync(logDir, { recursive: true });
    logStream = fs.createWriteStream(path.join(logDir, `chromium-${name}.log`));
    page.on('console', (m) => logStream.write(`${new Date().toISOString()} ${m.type()} ${m.text()}\n`));
    page.on('pageerror', (e) => logStream.write(`${new Date().toISOString()} pageerror ${e.message}\n`));
  }
  const close = async () => {
    await Promise.race([context.close().catch(() => {}), sleep(10000)]);
    killChromiumOf(dir); // whatever did not exit by itself
    if (logStream) logStream.end();
    fs.rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };
  return { context, page, dir, close };
}

export class Participant {
  constructor({ display, room, browser, server, url }) {
    this.display = display;
    this.room = room;
    this.browser = browser;
    this.page = browser.page;
    this.server = server;
    this.url = url;
    this.closed = false;
  }

  // Snapshot of window.lab.
  async state() {
    return this.page.evaluate(() => JSON.parse(JSON.stringify(window.lab)));
  }

  async error() {
    return this.page.evaluate(() => window.lab && window.lab.error);
  }

  // Joined the room and (when publishing) Janus answered our offer.
  async waitJoined({ timeoutMs = 30000, publishing = true } = {}) {
    await waitFor(`${this.display} to join room ${this.room}`, async () => {
      const s = await this.page.evaluate(() => window.lab && {
        joined: window.lab.joined, publishing: window.lab.publishing, webrtcup: window.lab.webrtcup,
        error: window.lab.error,
      });
      if (s && s.error) throw new Error(`${this.display}: ${s.error}`);
      return s && s.joined && (!publishing || (s.publishing && s.webrtcup));
    }, { timeoutMs });
  }

  async feedIdOf(display) {
    return this.page.evaluate((d) => {
      for (const [id, f] of Object.entries(window.lab.feeds)) if (f.display === d) return id;
      return null;
    }, display);
  }

  // Wait until a feed with this display name is in the room and (decoded:
  // true) its first video frame has been decoded. Returns the feed id.
  async waitForFeed(display, { timeoutMs = 30000, decoded = true } = {}) {
    return waitFor(`${this.display} to ${decoded ? 'decode video from' : 'see'} feed "${display}"`, async () => {
      const r = await this.page.evaluate(([d, dec]) => {
        if (window.lab.error) return { error: window.lab.error };
        for (const [id, f] of Object.entries(window.lab.feeds)) {
          if (f.display !== d) continue;
          if (!dec || window.lab.firstFrameAt[id] !== undefined) return { id };
        }
        return null;
      }, [display, decoded]);
      if (r && r.error) throw new Error(`${this.display}: ${r.error}`);
      return r && r.id;
    }, { timeoutMs });
  }

  // Wait for any feed whose display is not in `exclude` (decoded: true =
  // first frame decoded). Returns {id, display}.
  async waitForAnyFeed({ exclude = [], timeoutMs = 30000, decoded = true } = {}) {
    return waitFor(`${this.display} to ${decoded ? 'decode video from' : 'see'} a feed other than [${exclude}]`, async () => {
      const r = await this.page.evaluate(([ex, dec]) => {
        if (window.lab.error) return { error: window.lab.error };
        for (const [id, f] of Object.entries(window.lab.feeds)) {
          if (ex.includes(f.display)) continue;
          if (!dec || window.lab.firstFrameAt[id] !== undefined) return { id, display: f.display };
        }
        return null;
      }, [exclude, decoded]);
      if (r && r.error) throw new Error(`${this.display}: ${r.error}`);
      return r && r.id ? r : null;
    }, { timeoutMs });
  }

  // Wait until the feed with this display name is gone (unpublished/left).
  async waitFeedGone(display, { timeoutMs = 15000 } = {}) {
    return waitFor(`feed "${display}" to disappear for ${this.display}`, async () => !(await this.feedIdOf(display)), { timeoutMs });
  }

  // Date.now() in the page when the feed's first frame was decoded (or null).
  async firstFrameAt(display) {
    return this.page.evaluate((d) => {
      for (const [id, f] of Object.entries(window.lab.feeds)) {
        if (f.display === d) return window.lab.firstFrameAt[id] ?? null;
      }
      return null;
    }, display);
  }

  // Fresh getStats() of the feed: {video: {framesDecoded, frameWidth,
  // frameHeight, ...}, audio: {packetsReceived, totalAudioEnergy, audioLevel, ...}}.
  // The latency benchmark (docs/latency.md): delays from the time stamp in @display's picture to
  // its display here, for each new stamped frame between stampStart and stampStop
  // (-> {samples: [ms...], unread: frames without a readable stamp}).
  async stampStart(display) {
    const id = await this.feedIdOf(display);
    if (!id) throw new Error(`no feed "${display}" at ${this.display}`);
    if (!(await this.page.evaluate((fid) => window.labStampStart(Number(fid)), id))) throw new Error(`no video of "${display}" at ${this.display}`);
    this.stampFeed = id;
  }

  async stampStop() {
    return this.page.evaluate((fid) => window.labStampStop(Number(fid)), this.stampFeed);
  }

  async stats(display) {
    const id = await this.feedIdOf(display);
    if (!id) throw new Error(`${this.display}: no feed "${display}" in the room`);
    return this.page.evaluate((fid) => window.labFeedStats(Number(fid)), id);
  }

  // The mean colour {r, g, b} of the feed's current frame as this participant sees it.
  async frameColor(display) {
    const id = await this.feedIdOf(display);
    if (!id) throw new Error(`${this.display}: no feed "${display}" in the room`);
    return this.page.evaluate((fid) => window.labFeedColor(Number(fid)), id);
  }

  // Freezes >= 1 s of a feed's decoded video, sampled in the page (gapStart,
  // then gapStop returns {freezes, freezeMs, maxGapMs, frames, durationMs, long:
  // [{end (epoch ms), ms}] for the gaps of 500 ms or more}).
  async gapStart(display) {
    const id = await this.feedIdOf(display);
    if (!id) throw new Error(`${this.display}: no feed "${display}" in the room`);
    await this.page.evaluate((fid) => window.labGapStart(Number(fid)), id);
    return id;
  }

  async gapStop(id) {
    return this.page.evaluate((fid) => window.labGapStop(Number(fid)), id);
  }

  async publisherStats() {
    return this.page.evaluate(() => window.labPublisherStats());
  }

  async screenshot(file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file });
    return file;
  }

  async leave() {
    await Promise.race([this.page.evaluate(() => window.labLeave && window.labLeave()).catch(() => {}), sleep(5000)]);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.leave();
    await this.browser.close();
    await this.server.close();
  }
}

// Start Chromium, open our page and join the room. Does not wait for the
// join to finish: call waitJoined().
// @netns: the participant's Chromium runs in that network namespace (launchChromium); its page
// still comes from this process's server (playwright fetches it here and hands it over), and
// @janus must be reachable from the namespace. @maxKbps: its video sends at most that.
export async function launchParticipant({
  display, room = 1234, janus = 'ws://127.0.0.1:8188', pin = null, publish = true, logDir = null,
  stamp = false, chromiumArgs = [], netns = null, maxKbps = 0,
} = {}) {
  if (!display) throw new Error('launchParticipant: display is required');
  const server = await serveStatic(path.join(HERE, 'participant'));
  let browser;
  try {
    browser = await launchChromium({ name: display, logDir, extraArgs: chromiumArgs, netns });
    if (netns) await browser.context.route(`${server.url}**`, async (route) => route.fulfill({ response: await route.fetch() }));
  } catch (e) {
    if (browser) await browser.close();
    await server.close();
    throw e;
  }
  const q = new URLSearchParams({ server: janus, room: String(room), display });
  if (pin !== null) q.set('pin', pin);
  if (!publish) q.set('publish', '0');
  if (stamp) q.set('stamp', '1');
  if (maxKbps > 0) q.set('maxkbps', String(maxKbps));
  const url = `${server.url}index.html?${q}`;
  const p = new Participant({ display, room, browser, server, url });
  // Chromium aborts a navigation when its network changes under it (seen once in a lab
  // namespace, 2026-12-07: net::ERR_NETWORK_CHANGED as the page loaded): load it again.
  for (let attempt = 1; ; attempt++) {
    try {
      await browser.page.goto(url, { timeout: 15000 });
      return p;
    } catch (e) {
      if (attempt < 3 && /ERR_NETWORK_CHANGED/.test(String(e && e.message))) continue;
      await p.close();
      throw e;
    }
  }
}
