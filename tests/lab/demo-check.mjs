// Anyroom test lab: join the Janus demo page (videoroomtest.html) in headless
// Chromium like a person would (Start, type a name, Join), wait until a remote
// feed's video decodes, save a screenshot. Exit 0 when the room's video was
// seen, 1 otherwise.
//
//   node tests/lab/demo-check.mjs URL SCREENSHOT [--expect DISPLAY] [--timeout S]
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium, waitFor } from './participant.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const expect = opt('--expect', null);
const timeoutS = Number(opt('--timeout', '60'));
const [url, shot] = args;
if (!url || !shot) {
  console.error('usage: demo-check.mjs URL SCREENSHOT [--expect DISPLAY] [--timeout S]');
  process.exit(2);
}

const log = (m) => console.log(`demo-check: ${m}`);
const logDir = path.dirname(path.resolve(shot));
fs.mkdirSync(logDir, { recursive: true });
const browser = await launchChromium({ name: 'demo-check', logDir, viewport: { width: 1280, height: 900 } });
let ok = false;
const deadline = Date.now() + timeoutS * 1000;
const left = () => Math.max(1000, deadline - Date.now());
try {
  const page = browser.page;
  page.on('dialog', (d) => { log(`dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
  await page.goto(url, { timeout: 15000 });
  await page.click('#start', { timeout: left() });
  await page.fill('#username', 'democheck', { timeout: left() });
  await page.click('#register', { timeout: left() });
  log('pressed Start, registered as democheck');

  // Remote feeds live in #videoremote1..N; their names in #remote1..N.
  const seen = await waitFor('a remote feed to decode video on the demo page', async () => {
    const r = await page.evaluate(() => {
      const out = [];
      for (let i = 1; i <= 16; i++) {
        const box = document.getElementById('videoremote' + i);
        if (!box) continue;
        const name = (document.getElementById('remote' + i) || {}).textContent || '';
        for (const v of box.querySelectorAll('video')) {
          const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : { totalVideoFrames: 0 };
          out.push({ name: name.trim(), w: v.videoWidth, h: v.videoHeight, frames: q.totalVideoFrames });
        }
      }
      const bootbox = document.querySelector('.bootbox-body');
      return { feeds: out, alert: bootbox ? bootbox.textContent : null };
    });
    if (r.alert) throw new Error(`the demo page shows an error: ${r.alert}`);
    return r.feeds.find((f) => f.w > 0 && f.frames > 0 && (!expect || f.name === expect)) || null;
  }, { timeoutMs: left(), intervalMs: 250 });
  log(`remote feed "${seen.name}" decodes ${seen.w}x${seen.h}`);
  // Frames keep coming for 2 s.
  const count = () => page.evaluate((n) => {
    for (let i = 1; i <= 16; i++) {
      const label = document.getElementById('remote' + i);
      if (!label || label.textContent.trim() !== n) continue;
      const v = document.querySelector('#videoremote' + i + ' video');
      if (v) return v.getVideoPlaybackQuality().totalVideoFrames;
    }
    return 0;
  }, seen.name);
  const f0 = await count();
  await new Promise((r) => setTimeout(r, 2000));
  const f1 = await count();
  log(`frames over 2 s: ${f1 - f0}`);
  await page.screenshot({ path: shot });
  log(`screenshot: ${shot}`);
  ok = f1 - f0 > 10;
  if (!ok) log('the remote video stalled');
} catch (e) {
  log(`FAILED: ${e.message}`);
  try { await browser.page.screenshot({ path: shot }); log(`screenshot of the failure: ${shot}`); } catch { /* none */ }
} finally {
  await browser.close();
}
process.exit(ok ? 0 : 1);
