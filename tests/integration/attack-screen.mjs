// Test helper (run inside the attack lab's room namespace with
// `ip netns exec`): opens URL in a real headless Chromium the way the room
// display does, waits until SELECTOR is visible, prints its text and saves a
// screenshot to PNG. The room's certificate is self-signed and made for this
// run: this helper ignores certificate errors (the kiosk launcher pins it;
// that is tested in test-kiosk.mjs).
//   node attack-screen.mjs URL SELECTOR PNG
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(path.dirname(new URL(import.meta.url).pathname), '../lab/package.json'));
const { chromium } = require('playwright-core');

const [url, selector, png] = process.argv.slice(2);

// One browser; TRUE when SELECTOR showed. Seen once on a loaded machine: a browser whose TLS
// handshakes with the room failed and which never loaded the page; a second one is tried.
async function attempt(n) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-attack-screen-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.AR_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1920, height: 1080 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    await page.goto(url, { timeout: 30000 });
    try {
      await page.waitForSelector(selector, { state: 'visible', timeout: 30000 });
    } catch (e) {
      const text = await page.evaluate(() => (document.body ? document.body.innerText : '')).catch(() => '');
      console.error(`attempt ${n}: ${e.message.split('\n')[0]}; the page (${page.url()}) shows: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
      return false;
    }
    console.log(await page.textContent(selector));
    await page.screenshot({ path: png });
    return true;
  } finally {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (!(await attempt(1)) && !(await attempt(2))) process.exit(1);
