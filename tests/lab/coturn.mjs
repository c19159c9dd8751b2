// Anyroom test lab: coturn (Debian's turnserver) in a namespace of our own.
//
//   const turn = await startCoturn({ dir, netns, listenIp: '10.98.1.1', relayIp: '10.98.2.1' });
//   turn.restCredentials(600)   -> {username, password} (use-auth-secret scheme)
//   turn.sessions()             -> lines of its log that describe allocations
//   await turn.stop();
//
// Listens on listenIp: 3478 (UDP and TCP) and 443 (TLS, a throwaway
// self-signed certificate made with the openssl CLI in dir); relays from
// relayIp only. Authentication: use-auth-secret with a random secret (TURN
// REST credentials), so the test never needs a long-term password.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sleep, startProcess, tail } from './lab.mjs';

export function makeSelfSignedCert(dir, cn) {
  const cert = path.join(dir, 'turn-cert.pem');
  const key = path.join(dir, 'turn-key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${cn}`,
    '-addext', `subjectAltName=IP:${cn}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return { cert, key };
}

function listening(netns, port, proto) {
  const r = spawnSync('ip', ['netns', 'exec', netns, 'ss', '-H', proto === 'udp' ? '-lun' : '-ltn'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.split('\n').some((l) => l.includes(`:${port} `));
}

// extra: more turnserver.conf lines (e.g. 'max-allocate-lifetime=90').
export async function startCoturn({ dir, netns, listenIp, relayIp, allowedPeers = [], extra = [], timeoutMs = 10000 }) {
  fs.mkdirSync(dir, { recursive: true });
  const secret = crypto.randomBytes(24).toString('hex');
  const { cert, key } = makeSelfSignedCert(dir, listenIp);
  const log = path.join(dir, 'turnserver.log');
  const conf = path.join(dir, 'turnserver.conf');
  fs.writeFileSync(path.join(dir, 'secret'), secret, { mode: 0o600 });
  fs.writeFileSync(conf, [
    `listening-ip=${listenIp}`,
    `relay-ip=${relayIp}`,
    'listening-port=3478',
    'tls-listening-port=443',
    'no-dtls',
    `cert=${cert}`,
    `pkey=${key}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    'realm=anyroom.lab',
    'fingerprint',
    'no-cli',
    'no-multicast-peers',
    ...allowedPeers.map((a) => `allowed-peer-ip=${a}`),
    'min-port=49152',
    'max-port=49300',
    `userdb=${path.join(dir, 'turndb')}`,
    `pidfile=${path.join(dir, 'turnserver.pid')}`,
    `log-file=${log}`,
    'simple-log',
    'verbose',
    'no-stdout-log',
    ...extra,
    '',
  ].join('\n'), { mode: 0o600 });
  const p = startProcess('ip', ['netns', 'exec', netns, 'turnserver', '-c', conf], {
    logFile: path.join(dir, 'turnserver.stdout'),
  });
  const t = {
    ...p, dir, log, secret, cert, listenIp, relayIp,
    logTail: (n = 40) => tail(log, n),
    logText: () => { try { return fs.readFileSync(log, 'utf8'); } catch { return ''; } },
    // TURN REST credentials: username "<expiry>:anyroom", password
    // base64(HMAC-SHA1(secret, username)).
    restCredentials(ttlS = 600) {
      const username = `${Math.floor(Date.now() / 1000) + ttlS}:anyroom`;
      const password = crypto.createHmac('sha1', secret).update(username).digest('base64');
      return { username, password };
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!(listening(netns, 3478, 'udp') && listening(netns, 3478, 'tcp') && listening(netns, 443, 'tcp'))) {
    if (p.exited) throw new Error(`turnserver exited during startup (${JSON.stringify(p.exited)}):\n${t.logTail()}\n${tail(path.join(dir, 'turnserver.stdout'))}`);
    if (Date.now() > deadline) {
      await p.stop();
      throw new Error(`turnserver did not listen on ${listenIp}:3478/443 within ${timeoutMs} ms:\n${t.logTail()}`);
    }
    await sleep(100);
  }
  return t;
}
