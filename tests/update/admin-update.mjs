// The admin page's "Firmware update" section in a real headless Chromium:
// log in, pick a bundle in the file input, upload and install it, see the
// progress from the event stream and the result.
//   node tests/update/admin-update.mjs ADMIN_URL CERT_PEM PASSWORD BUNDLE VERSION SCREENSHOT
// Exit 0 when the page says the bundle is installed and the running version is shown.
import fs from 'node:fs';
import { adminLoggedIn } from '../lab/admin-browser.mjs';

const [url, certPath, password, bundle, version, shot] = process.argv.slice(2);
let b = null;
let rc = 1;
try {
  b = await adminLoggedIn({ url, certPem: fs.readFileSync(certPath, 'utf8'), password });
  const page = b.page;
  await page.waitForSelector('#update:not([hidden])', { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('#update-version').textContent !== '?',
    null, { timeout: 30000 });
  const running = await page.textContent('#update-version');
  await page.setInputFiles('#update-file', bundle);
  await page.click('#update-form button[type=submit]');
  await page.waitForFunction(() => /Installed|refused/.test(document.querySelector('#message').textContent),
    null, { timeout: 120000 });
  const message = await page.textContent('#message');
  const progress = await page.textContent('#update-progress');
  if (shot) await page.screenshot({ path: shot, fullPage: true });
  console.log(`# running ${running}; message: ${message}; last progress: ${progress}`);
  rc = message.startsWith('Installed') && /\d+% /.test(progress) && running.length > 0 ? 0 : 1;
  if (version && rc === 0) console.log(`# installed ${version}`);
} catch (e) {
  console.log(`# ${e.message.split('\n')[0]}`);
} finally {
  if (b) await b.close();
}
process.exit(rc);
