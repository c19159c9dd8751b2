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

// The first page of a freshly started Chromium: on a loaded 2-core machine its first
// navigation has been seen to take over 30 s (Playwright's default bound). Up to @tries
// navigations, each bounded by @timeoutMs; prints how long it took as a TAP comment.
export async function firstPage(page, url, { timeoutMs = 90000, tries = 2 } = {}) {
  const t0 = Date.now();
  let last = null;
  for (let i = 1; i <= tries; i++) {
    try {
      const resp = await page.goto(url, { timeout: timeoutMs, waitUntil: 'domcontentloaded' });
      console.log(`first page ${url}: ${Date.now() - t0} ms (try ${i})`);
      return resp;
    } catch (e) {
      last = e;
      console.log(`first page ${url}: try ${i} failed after ${Date.now() - t0} ms: ${e.message.split('\n')[0]}`);
    }
  }
  throw last;
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
