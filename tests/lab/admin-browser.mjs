// Test lab: a headless Chromium for the HTTPS admin UI tests, and a node
// HTTPS client that trusts anyroomd's self-signed certificate by its SHA-256
// fingerprint (and nothing else).
//   const b = await launchAdminBrowser({ spki, hostMap: ['evil.example'] });
//   ... b.context, b.newPage() ...; await b.close();
// spki: base64 SHA-256 of the certificate's public key; Chromium then accepts
// exactly that certificate (--ignore-certificate-errors-spki-list), no other.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.AR_CHROMIUM || '/usr/bin/chromium';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// SPKI pin and SHA-256 fingerprint ("AB:CD:...") of a PEM certificate.
export function certPins(pem) {
  const x = new crypto.X509Certificate(pem);
  const spkiDer = x.publicKey.export({ type: 'spki', format: 'der' });
  return {
    spki: crypto.createHash('sha256').update(spkiDer).digest('base64'),
    fingerprint256: x.fingerprint256,
  };
}

export async function launchAdminBrowser({ spki, hostMap = [], viewport = { width: 1100, height: 900 } }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-chromium-admin-'));
  const args = [
    `--ignore-certificate-errors-spki-list=${spki}`,
    '--no-first-run', '--no-default-browser-check', '--disable-sync',
    '--disable-background-networking', '--disable-component-update',
  ];
  if (hostMap.length) args.push(`--host-resolver-rules=${hostMap.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}`);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args, viewport, timeout: 90000,
  });
  // The browser's own PID, to make sure it is gone at the end.
  let pid = null;
  try {
    const b = context.browser();
    pid = b && b.process ? b.process().pid : null;
  } catch { pid = null; }
  const close = async () => {
    await Promise.race([context.close().catch(() => {}), sleep(10000)]);
    if (pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { context, page: context.pages()[0] || (await context.newPage()), close, dir };
}

// The first page of a freshly started Chromium, until @selector shows. Seen on a loaded 2-core
// machine: a first navigation over 30 s (Playwright's default bound), and once a page that
// never reached anyroomd at all (two TLS handshakes aborted by the browser, no GET logged, the
// selector never shown). Up to @tries navigations, each bounded; what the page showed is printed
// (URL, title, text) before each retry, with the time it took.
export async function firstPage(page, url, { selector = 'body', timeoutMs = 60000, tries = 3 } = {}) {
  const t0 = Date.now();
  let last = null;
  for (let i = 1; i <= tries; i++) {
    try {
      await page.goto(url, { timeout: timeoutMs, waitUntil: 'domcontentloaded' });
      await page.waitForSelector(selector, { timeout: timeoutMs });
      console.log(`first page ${url}: ${Date.now() - t0} ms (try ${i})`);
      return;
    } catch (e) {
      last = e;
      let shown = '';
      try {
        const text = (await page.evaluate(() => document.body ? document.body.innerText : '')).replace(/\s+/g, ' ');
        shown = ` showing ${page.url()} "${await page.title()}": ${text.slice(0, 300)}`;
      } catch { /* the page is gone */ }
      console.log(`first page ${url}: try ${i} failed after ${Date.now() - t0} ms: ${e.message.split('\n')[0]}${shown}`);
    }
  }
  throw last;
}

// An admin browser showing @selector at @url: firstPage() in a freshly launched browser, and,
// if that browser never gets there, once more in a new one (its own profile and processes).
export async function launchAdminBrowserAt({ url, selector, launches = 2, tries = 2, timeoutMs = 45000, ...options }) {
  let last = null;
  for (let i = 1; i <= launches; i++) {
    const browser = await launchAdminBrowser(options);
    try {
      await firstPage(browser.page, url, { selector, tries, timeoutMs });
      return browser;
    } catch (e) {
      last = e;
      console.log(`admin browser ${i} of ${launches} never showed ${selector}: closing it`);
      await browser.close();
    }
  }
  throw last;
}

// An admin browser logged in at @url (the room's admin origin) with @password, on the page's
// @tab; the room's certificate (PEM) pinned. Returns the browser ({page, close}).
export async function adminLoggedIn({ url, certPem, password, tab = 'system', timeoutMs = 30000 }) {
  const { spki } = certPins(certPem);
  const b = await launchAdminBrowser({ spki });
  try {
    await b.page.goto(`${url}/admin/`, { timeout: timeoutMs });
    await b.page.fill('#login-password', password);
    await b.page.click('#login-form button[type=submit]');
    await b.page.click(`#tabs [data-tab=${tab}]`, { timeout: timeoutMs });
    return b;
  } catch (e) {
    await b.close();
    throw e;
  }
}

// One HTTPS request to host:port (127.0.0.1 by default) that fails unless
// the server's certificate has the expected SHA-256 fingerprint. Resolves
// {status, headers, text, json}.
export function pinnedRequest({ port, fingerprint256, method = 'GET', path: p = '/', headers = {}, body = null, host = '127.0.0.1', timeoutMs = 30000 }) {
  return new Promise((resolve, reject) => {
    const data = body === null ? null : (typeof body === 'string' ? body : JSON.stringify(body));
    const h = { ...headers };
    if (data !== null) {
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
      h['Content-Length'] = Buffer.byteLength(data);
    }
    const req = https.request({
      host, port, method, path: p, headers: h, agent: false,
      rejectUnauthorized: false, // the fingerprint is checked on secureConnect instead
      timeout: timeoutMs,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('socket', (sock) => {
      sock.on('secureConnect', () => {
        const fp = sock.getPeerCertificate().fingerprint256;
        if (fp !== fingerprint256) {
          req.destroy(new Error(`TLS certificate fingerprint ${fp} is not the expected ${fingerprint256}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: timed out`)));
    req.on('error', reject);
    if (data !== null) req.write(data);
    req.end();
  });
}
