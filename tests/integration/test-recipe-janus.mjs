// Integration: the test lab's administrator recipe (tests/lab/recipes/
// janus-videoroom.json) against the real Janus VideoRoom demo page
// (janus-demos' videoroomtest.html) and a real Janus: the recipe's steps join,
// its probes tell in-call, removed (kicked), ended (room destroyed) and denied
// (a room with a PIN the page cannot send), its mute control reads the page's
// button before it clicks, and its leave steps leave.
//
// The recipe runner below is a test fixture: a few lines of Playwright that
// follow the recipe format (docs/recipes.md) the way the meeting browser does
// over CDP. It checks the recipe data against the page, not the engine.
//
// Runs inside a private network namespace, TAP output:
//   tests/integration/run-in-lab.sh tests/integration/test-recipe-janus.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startJanus } from '../lab/janus.mjs';
import { renderJanusDemos } from '../lab/janus-demos.mjs';
import { launchChromium } from '../lab/participant.mjs';
import { serveStatic } from '../lab/participant/server.mjs';
import { JanusHttp, buildDir, mkTemp, sleep } from '../lab/lab.mjs';

const SRC = process.env.AR_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const RECIPE = JSON.parse(fs.readFileSync(path.join(SRC, 'tests/lab/recipes/janus-videoroom.json'), 'utf8'));
const OUT = path.join(buildDir(), 'meson-logs', 'lab', 'recipe-janus');
const TMP = mkTemp('ar-it-recipe-janus-');
const ENFORCE = process.env.AR_NETNS_ADDR1 || '10.97.0.1';
const STATES = ['captcha', 'sign-in-required', 'denied', 'removed', 'ended', 'error', 'in-call', 'lobby', 'pre-join'];

let janus = null;
let web = null;

// ---- the recipe runner (fixture) ----

function locate(page, step, sel) {
  const root = step.frame ? page.frameLocator(step.frame) : page;
  let loc = root.locator(sel);
  if (step.text) loc = loc.filter({ hasText: step.text });
  return loc.first();
}

// The first selector (newest UI first) whose element is visible, within the step's timeout.
async function element(page, step) {
  const deadline = Date.now() + (step['timeout-ms'] || 10000);
  for (;;) {
    for (const sel of step.selectors || []) {
      const loc = locate(page, step, sel);
      if (await loc.isVisible().catch(() => false)) return loc;
    }
    if (Date.now() > deadline) return null;
    await sleep(100);
  }
}

// ar_recipe_toggle_state(): the longest matching prefix, any case.
function toggleState(step, value) {
  if (value == null) return 'unknown';
  const v = value.trim().toLowerCase();
  const best = (words) => Math.max(0, ...words.filter((w) => v.startsWith(w.toLowerCase())).map((w) => w.length));
  const on = best(step.state.on), off = best(step.state.off);
  return on === off ? 'unknown' : on > off ? 'on' : 'off';
}

async function runStep(page, step, vars) {
  if (step.action === 'script') return page.evaluate(step.script);
  const el = step.selectors ? await element(page, step) : null;
  if (step.selectors && !el) {
    if (step.optional) return 'skipped';
    throw new Error(`step ${step.action} ${JSON.stringify(step.selectors)}: no element within ${step['timeout-ms'] || 10000} ms`);
  }
  switch (step.action) {
    case 'wait-for':
      return 'found';
    case 'click':
      await el.click();
      return 'clicked';
    case 'fill': {
      const value = step.value.replace(/\{(display-name|room-email)\}/g, (_, k) => vars[k]);
      await el.fill('');
      if (step.typing === 'set') await el.fill(value);
      else await el.pressSequentially(value);
      return 'filled';
    }
    case 'toggle': {
      const attr = step.state.attribute;
      const value = attr === 'text' ? await el.textContent() : await el.getAttribute(attr);
      const s = toggleState(step, value);
      if (s === 'unknown' || (s === 'on') === (step.want === 'on')) return `left ${s}`;
      await el.click();
      return 'clicked';
    }
    case 'press':
      await (el ? el.press(step.key === 'Space' ? ' ' : step.key) : page.keyboard.press(step.key === 'Space' ? ' ' : step.key));
      return 'pressed';
    default:
      throw new Error(`unknown action ${step.action}`);
  }
}

// The first state (in the recipe's order) whose probe matches.
async function probe(page) {
  for (const state of STATES) {
    const p = RECIPE.probes[state];
    if (p['not-applicable']) continue;
    const hit = await page.evaluate(({ selectors = [], texts = [], script = null }) => {
      if (selectors.some((s) => document.querySelector(s))) return true;
      const body = document.body ? document.body.innerText : '';
      if (texts.some((t) => body.includes(t))) return true;
      // eslint-disable-next-line no-eval
      return script ? !!(0, eval)(script) : false;
    }, p).catch(() => false);
    if (hit) return { state, message: p.message || null };
  }
  return { state: 'unknown', message: null };
}

async function waitProbe(page, want, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    last = await probe(page);
    if (last.state === want) return last;
    await sleep(200);
  }
  throw new Error(`state ${want} not seen within ${timeoutMs} ms (last: ${last && last.state})`);
}

async function join(page, room, name = 'Board Room 3!') {
  // The join URL as ar_recipe_build_join_url() makes it (checked in test-recipes).
  // Chromium aborts loads when its network changes under it (another suite making namespaces
  // beside this one; CI, 2026-12-07: the demo's scripts failed with net::ERR_NETWORK_CHANGED
  // and the page never showed its form): the page (the fixture's, not what is tested) again.
  for (let attempt = 1; ; attempt++) {
    await page.goto(`${web.url}videoroomtest.html?room=${room}`);
    const loaded = await page.evaluate('typeof Janus === "function" && typeof $ === "function"').catch(() => false);
    if (loaded || attempt >= 3) break;
  }
  const vars = { 'display-name': name.replace(/[^A-Za-z0-9]/g, '').slice(0, 32) || 'MeetingRoom' };
  const done = [];
  for (const step of RECIPE.steps) done.push(await runStep(page, step, vars));
  return done;
}

async function withBrowser(name, fn) {
  const b = await launchChromium({ name, logDir: OUT });
  try {
    await fn(b.page);
  } catch (e) {
    fs.mkdirSync(OUT, { recursive: true });
    await b.page.screenshot({ path: path.join(OUT, `${name}.png`) }).catch(() => {});
    throw e;
  } finally {
    await b.close();
  }
}

async function videoroom(body) {
  const j = new JanusHttp('http://127.0.0.1:8088/janus');
  await j.create();
  try {
    const h = await j.attach();
    const r = await j.message(h, body);
    return r.plugindata && r.plugindata.data;
  } finally {
    await j.destroy();
  }
}

before(async () => {
  janus = await startJanus({ dir: path.join(TMP, 'janus'), iceEnforce: ENFORCE });
  // The demo pages with the lab's settings.js (as tests/lab/run-demo.sh has them).
  web = await serveStatic(renderJanusDemos(path.join(TMP, 'demos')));
});

after(async () => {
  if (web) await web.close();
  if (janus) await janus.stop();
  fs.rmSync(TMP, { recursive: true, force: true });
});

test('the recipe joins; mute reads the button first; leave leaves', { timeout: 120000 }, async (t) => {
  await withBrowser('join', async (page) => {
    assert.equal((await probe(page)).state, 'unknown'); // about:blank: no probe matches
    const done = await join(page, 1234);
    t.diagnostic(`steps: ${done.join(', ')}`);
    await waitProbe(page, 'in-call');
    assert.equal(await page.evaluate(() => window.myusername), 'BoardRoom3');

    const mute = RECIPE.controls.mute, unmute = RECIPE.controls.unmute;
    assert.equal(await runStep(page, mute, {}), 'clicked');
    assert.equal(await page.evaluate(() => sfutest.isAudioMuted()), true);
    assert.equal(await runStep(page, mute, {}), 'left off'); // already muted: not clicked again
    assert.equal(await page.evaluate(() => sfutest.isAudioMuted()), true);
    assert.equal(await runStep(page, unmute, {}), 'clicked');
    assert.equal(await page.evaluate(() => sfutest.isAudioMuted()), false);
    assert.equal((await probe(page)).state, 'in-call');

    for (const step of RECIPE.leave) await runStep(page, step, {});
    await waitProbe(page, 'pre-join', 15000); // janus.destroy(), the page reloads
    // The page's session destroy reaches Janus's VideoRoom a moment later (its
    // handle hangs up asynchronously): the room is empty within 10 s.
    let list = null;
    for (const deadline = Date.now() + 10000; ;) {
      list = await videoroom({ request: 'listparticipants', room: 1234 });
      if ((list.participants || []).length === 0 || Date.now() > deadline) break;
      await sleep(200);
    }
    assert.equal((list.participants || []).length, 0, JSON.stringify(list));
  });
});

test('kicked: the removed probe says so', { timeout: 120000 }, async () => {
  await withBrowser('kicked', async (page) => {
    await join(page, 1234);
    await waitProbe(page, 'in-call');
    const id = await page.evaluate(() => window.myid);
    assert.ok(id, 'the page knows its publisher id');
    await sleep(1000); // let the PeerConnection come up before it is torn down
    const r = await videoroom({ request: 'kick', room: 1234, id });
    assert.equal(r.videoroom, 'success', JSON.stringify(r));
    const s = await waitProbe(page, 'removed', 20000);
    assert.equal(s.message, 'Removed from the meeting');
  });
});

test('room destroyed: the ended probe says so', { timeout: 120000 }, async () => {
  await withBrowser('destroyed', async (page) => {
    const created = await videoroom({ request: 'create', room: 5678, permanent: false, publishers: 6 });
    assert.equal(created.videoroom, 'created', JSON.stringify(created));
    await join(page, 5678);
    await waitProbe(page, 'in-call');
    const r = await videoroom({ request: 'destroy', room: 5678, permanent: false });
    assert.equal(r.videoroom, 'destroyed', JSON.stringify(r));
    const s = await waitProbe(page, 'ended', 20000);
    assert.equal(s.message, 'The meeting ended');
  });
});

test('a room with a PIN: the denied probe says so', { timeout: 120000 }, async () => {
  await withBrowser('pin', async (page) => {
    await join(page, 4321);
    const s = await waitProbe(page, 'denied', 20000);
    assert.equal(s.message, 'The room asks for a PIN this page cannot send');
  });
});

test('no such room: the error probe says so', { timeout: 120000 }, async () => {
  await withBrowser('no-room', async (page) => {
    await join(page, 999999);
    const s = await waitProbe(page, 'error', 20000);
    assert.equal(s.message, RECIPE.probes.error.message);
  });
});
