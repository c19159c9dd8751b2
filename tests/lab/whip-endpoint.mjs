// TEST FRONT (written for the tests, not a real WHIP/WHEP server): a WHIP endpoint (and, with
// mode 'whep', a WHEP one) whose WebRTC stack is a real, independent one: a headless Chromium
// page answers each offer with its own RTCPeerConnection. WHIP: it decodes what it receives.
// WHEP: it sends its camera and microphone (Chromium's fake devices) into the offer's recvonly
// sections. This front only carries HTTP (RFC 9725):
//   POST <path>  (application/sdp; Bearer token when one is set)  -> 201, Location, ETag, Link
//   PATCH /whip/session/ID (application/trickle-ice-sdpfrag)       -> 204, or 405 when told to
//   DELETE /whip/session/ID                                        -> 200 (the page's peer closes)
// Options for the tests' protocol paths:
//   counterOffer (whep): the POST is answered 406 with the page's own offer (sendonly camera and
//     microphone; the shape of the WHEP draft's counter-offer); the room's answer comes back as
//     PATCH application/sdp with If-Match the ETag (412 without it);
//   busy: N: the first N POSTs get 429 with Retry-After: busyAfterS;
//   redirect: a POST to `redirect` gets 307 to `path`;
//   silentPath: a POST there is never answered; a POST to any path ending in /bare406 gets a
//     406 with no body;
//   deleteDelayMs: DELETE answers that much later; deleteStatus: DELETE answers this status;
//   link: the Link header value (default a STUN server that does not exist);
//   whepPath: a second endpoint path on the same front answered as WHEP (the page sends), for
//     a two-way link (WHIP at `path`, WHEP at `whepPath`).
// drop(id) closes the page's peer behind the room's back (the session breaks; a later DELETE
// of it gets 404). Each request also has `t` (arrival, ms) and `doneT` (its answer sent).
// startStunServer(): a STUN binding responder (UDP) that counts the requests it got.
// Every request is kept in `requests` ({method, path, auth, type, body}) for the test to read.
import dgram from 'node:dgram';
import http from 'node:http';
import { launchChromium } from './participant.mjs';

const PAGE = `<!doctype html><meta charset="utf-8"><title>WHIP endpoint (test)</title><body>
<script>
window.whip = {
  pcs: {},
  // A counter-offer (WHEP 406): the page offers its camera and microphone, sendonly.
  async counterOffer(id) {
    const pc = new RTCPeerConnection();
    this.pcs[id] = { pc, video: null };
    const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    for (const t of media.getTracks()) pc.addTransceiver(t, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    return this.answerOf(pc);
  },
  async acceptAnswer(id, sdp) {
    const s = this.pcs[id];
    if (!s) return false;
    await s.pc.setRemoteDescription({ type: 'answer', sdp });
    return true;
  },
  drop(id) {
    const s = this.pcs[id];
    if (s) { s.pc.close(); delete this.pcs[id]; }
    return !!s;
  },
  async answer(id, offer, send) {
    const pc = new RTCPeerConnection();
    const s = { pc, video: null };
    this.pcs[id] = s;
    if (send) {
      const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      for (const t of pc.getTransceivers()) {
        const track = media.getTracks().find((k) => k.kind === t.receiver.track.kind);
        if (!track) continue;
        t.direction = 'sendonly';
        await t.sender.replaceTrack(track);
      }
      await pc.setLocalDescription(await pc.createAnswer());
      return this.answerOf(pc);
    }
    pc.ontrack = (e) => {
      if (e.track.kind === 'audio') {
        // Played (muted output is enough): Chromium counts totalAudioEnergy at playout.
        const a = document.createElement('audio');
        a.autoplay = true;
        a.srcObject = new MediaStream([e.track]);
        document.body.appendChild(a);
        return;
      }
      if (s.video) return;
      const v = document.createElement('video');
      v.muted = true; v.autoplay = true; v.playsInline = true;
      v.srcObject = new MediaStream([e.track]);
      document.body.appendChild(v);
      s.video = v;
    };
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    return this.answerOf(pc);
  },
  // The answer once gathering is complete (at most 3 s): its candidates are in it.
  async answerOf(pc) {
    await new Promise((done) => {
      if (pc.iceGatheringState === 'complete') return done();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && done());
      setTimeout(done, 3000);
    });
    return pc.localDescription.sdp;
  },
  async stats(id) {
    const s = this.pcs[id];
    if (!s) return null;
    const out = { state: s.pc.connectionState, video: null, audio: null, sentFrames: 0 };
    (await s.pc.getStats()).forEach((r) => {
      if (r.type === 'outbound-rtp' && r.kind === 'video') out.sentFrames = r.framesEncoded || 0;
      if (r.type !== 'inbound-rtp') return;
      if (r.kind === 'video') out.video = { framesDecoded: r.framesDecoded || 0, width: r.frameWidth || 0, height: r.frameHeight || 0 };
      if (r.kind === 'audio') out.audio = { energy: r.totalAudioEnergy || 0, packets: r.packetsReceived || 0 };
    });
    return out;
  },
  color(id) {
    const s = this.pcs[id];
    const v = s && s.video;
    if (!v || !v.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = 64; c.height = 36;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0, c.width, c.height);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let r = 0, gr = 0, b = 0;
    for (let i = 0; i < d.length; i += 4) { r += d[i]; gr += d[i + 1]; b += d[i + 2]; }
    const n = d.length / 4;
    return { r: Math.round(r / n), g: Math.round(gr / n), b: Math.round(b / n) };
  },
  close(id) {
    const s = this.pcs[id];
    if (s) { s.pc.close(); delete this.pcs[id]; }
    return !!s;
  },
  open() { return Object.keys(this.pcs).length; },
};
</script>`;

// TEST FIXTURE: a STUN binding responder (RFC 5389, XOR-MAPPED-ADDRESS and FINGERPRINT) on UDP
// @host, for an endpoint's Link ice-server; `count` is the binding requests it answered.
export async function startStunServer(host) {
  const sock = dgram.createSocket('udp4');
  const out = { port: 0, count: 0, close: () => new Promise((ok) => sock.close(ok)) };
  sock.on('message', (m, rinfo) => {
    if (m.length < 20 || m.readUInt16BE(0) !== 0x0001) return;
    out.count++;
    // libnice's discovery speaks RFC 3489 (no magic cookie): MAPPED-ADDRESS; RFC 5389
    // clients get XOR-MAPPED-ADDRESS and a FINGERPRINT.
    const rfc5389 = m.readUInt32BE(4) === 0x2112a442;
    const res = Buffer.alloc(rfc5389 ? 40 : 32);
    res.writeUInt16BE(0x0101, 0);
    res.writeUInt16BE(res.length - 20, 2);
    m.copy(res, 4, 4, 20); // cookie and transaction id (RFC 3489: a 16-byte id)
    const a = rinfo.address.split('.').map(Number);
    const ip = (((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0);
    res.writeUInt16BE(rfc5389 ? 0x0020 : 0x0001, 20);
    res.writeUInt16BE(8, 22);
    res.writeUInt8(0, 24);
    res.writeUInt8(1, 25);
    res.writeUInt16BE(rfc5389 ? rinfo.port ^ 0x2112 : rinfo.port, 26);
    res.writeUInt32BE(rfc5389 ? (ip ^ 0x2112a442) >>> 0 : ip, 28);
    if (rfc5389) {
      res.writeUInt16BE(0x8028, 32);
      res.writeUInt16BE(4, 34);
      res.writeUInt32BE((crc32(res.subarray(0, 32)) ^ 0x5354554e) >>> 0, 36);
    }
    sock.send(res, rinfo.port, rinfo.address);
  });
  await new Promise((ok) => sock.bind(0, host, ok));
  out.port = sock.address().port;
  return out;
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

export async function startWhipEndpoint({
  token = null, logDir = null, host = '127.0.0.1', path = '/whip/ep', patch = true, mode = 'whip',
  counterOffer = false, busy = 0, busyAfterS = 2, redirect = null, silentPath = null,
  deleteDelayMs = 0, deleteStatus = 0, link = '<stun:stun.invalid:3478>; rel="ice-server"',
  whepPath = null,
} = {}) {
  const opts = { busy, busyAfterS, deleteDelayMs, deleteStatus, link, counterOffer, redirect, silentPath };
  const browser = await launchChromium({ name: `${mode}-endpoint`, logDir });
  const requests = [];
  let next = 1;
  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size <= 262144) chunks.push(c); });
    req.on('end', async () => {
      const r = { t: Date.now(), doneT: 0, method: req.method, path: req.url, auth: req.headers.authorization || null, type: req.headers['content-type'] || null, ifMatch: req.headers['if-match'] || null, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      const send = (status, headers = {}, body = '') => { res.writeHead(status, headers); res.end(body); r.doneT = Date.now(); };
      // The page itself, from localhost (a secure context: getUserMedia for WHEP).
      if (r.method === 'GET' && r.path === '/__page') return send(200, { 'Content-Type': 'text/html' }, PAGE);
      try {
        if (token && r.auth !== `Bearer ${token}`) return send(401);
        if (r.method === 'POST' && opts.redirect && r.path === opts.redirect) return send(307, { Location: path });
        if (r.method === 'POST' && r.path.endsWith('/bare406')) return send(406); // no counter-offer
        if (r.method === 'POST' && opts.silentPath && r.path === opts.silentPath) return; // never answered
        if (r.method === 'POST' && (r.path === path || (whepPath && r.path === whepPath))) {
          if (r.type !== 'application/sdp') return send(415);
          if (opts.busy > 0) {
            opts.busy--;
            return send(429, { 'Retry-After': String(opts.busyAfterS) });
          }
          const id = String(next++);
          r.session = id;
          if (opts.counterOffer) {
            const offer = await browser.page.evaluate((i) => window.whip.counterOffer(i), id);
            return send(406, {
              'Content-Type': 'application/sdp',
              Location: `/whip/session/${id}`,
              ETag: `"s${id}"`,
            }, offer);
          }
          const answer = await browser.page.evaluate(([i, o, w]) => window.whip.answer(i, o, w), [id, r.body, mode === 'whep' || r.path === whepPath]);
          return send(201, {
            'Content-Type': 'application/sdp',
            Location: `/whip/session/${id}`,
            ETag: `"s${id}"`,
            Link: opts.link,
          }, answer);
        }
        const m = /^\/whip\/session\/(\d+)$/.exec(r.path);
        if (m && r.method === 'PATCH' && r.type === 'application/sdp') {
          if (r.ifMatch !== `"s${m[1]}"`) return send(412);
          const ok = await browser.page.evaluate(([i, sdp]) => window.whip.acceptAnswer(i, sdp), [m[1], r.body]);
          return send(ok ? 204 : 404);
        }
        if (m && r.method === 'PATCH') return patch ? send(204) : send(405);
        if (m && r.method === 'DELETE') {
          if (opts.deleteDelayMs) await new Promise((ok) => setTimeout(ok, opts.deleteDelayMs));
          const had = await browser.page.evaluate((i) => window.whip.close(i), m[1]);
          return send(opts.deleteStatus || (had ? 200 : 404));
        }
        return send(404);
      } catch (e) {
        r.error = String(e.message);
        console.log(`test WHIP/WHEP front: ${r.method} ${r.path}: ${r.error}`);
        return send(500, { 'Content-Type': 'text/plain' }, r.error);
      }
    });
  });
  // Every address of the namespace: the room reaches it at @host, the page loads from localhost.
  await new Promise((ok) => server.listen(0, '0.0.0.0', ok));
  const port = server.address().port;
  await browser.page.goto(`http://localhost:${port}/__page`);
  requests.length = 0;
  return {
    port,
    url: `http://${host}:${port}${path}`,
    requests,
    page: browser.page,
    stats: (id) => browser.page.evaluate((i) => window.whip.stats(i), String(id)),
    color: (id) => browser.page.evaluate((i) => window.whip.color(i), String(id)),
    open: () => browser.page.evaluate(() => window.whip.open()),
    drop: (id) => browser.page.evaluate((i) => window.whip.drop(i), String(id)),
    opts, // every option above but token, path, mode, whepPath: changeable between steps
    async close() {
      await browser.close();
      const closed = new Promise((ok) => server.close(ok));
      server.closeAllConnections(); // keep-alive connections would hold close() for minutes
      await closed;
    },
  };
}
