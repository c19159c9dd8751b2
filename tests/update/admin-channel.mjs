// The admin page's update channel line and its "Install the offered release now" button in a
// real headless Chromium: log in, see the channel's offer, click, see the result.
//   node tests/update/admin-channel.mjs ADMIN_URL CERT_PEM PASSWORD VERSION SCREENSHOT
// Exit 0 when the page showed VERSION offered and then says the release is installed.
import fs from 'node:fs';
import { adminLoggedIn } from '../lab/admin-browser.mjs';

const [url, certPath, password, version, shot] = process.argv.slice(2);
let b = null;
let rc = 1;
try {
  b = await adminLoggedIn({ url, certPem: fs.readFileSync(certPath, 'utf8'), password });
  const page = b.page;
  await page.waitForSelector('#update-channel-install:not([hidden])', { timeout: 30000 });
  const offered = await page.textContent('#update-channel-state');
  await page.click('#update-channel-install');
  await page.waitForFunction(() => /Installed|failed/.test(document.querySelector('#message').textContent),
    null, { timeout: 120000 });
  const message = await page.textContent('#message');
  if (shot) await page.screenshot({ path: shot, fullPage: true });
  console.log(`# channel line: ${offered}; message: ${message}`);
  rc = offered.includes(`${version} offered`) && message.startsWith('Installed') ? 0 : 1;
} catch (e) {
  console.log(`# ${e.message.split('\n')[0]}`);
} finally {
  if (b) await b.close();
}
process.exit(rc);
