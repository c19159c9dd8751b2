// Anyroom test lab: a minimal Janus VideoRoom participant, written for the lab.
//
// Page parameters (query string):
//   server   Janus WebSocket URL (default ws://127.0.0.1:8188)
//   room     VideoRoom room id (default 1234)
//   display  our display name (default "participant")
//   pin      room pin (optional)
//   publish  "0" to join without publishing (default: publish camera+mic)
//   stamp    "1": publish a 1280x720 canvas at 30 fps whose every frame carries the time it was
//            drawn, in the code media/ar-stamp.c writes (docs/latency.md), instead of the camera
//   maxkbps  the most our video may send (RTCRtpSender encodings' maxBitrate), as a room
//            system's configured bitrate: Chromium as the room in the bandwidth lab
//
// One WebSocket (subprotocol janus-protocol), one session, one publisher handle,
// one subscriber handle per remote feed. Full trickle both ways, iceServers: [].
// State for the test driver is in window.lab:
//   joined       true once the publisher handle joined the room
//   publishing   true once Janus answered our publish offer
//   webrtcup     true once the publisher PeerConnection is up (Janus "webrtcup")
//   myId         our publisher id
//   feeds        {feedId: {display, subscribed, webrtcup, stats: {video, audio}}}
//   gone         {feedId: {display, at}} feeds that unpublished or left
//   firstFrameAt {feedId: Date.now() when getStats first showed framesDecoded > 0}
//   local        {width, height, audio} what getUserMedia gave us
//   error        the first fatal error (string) or null
//   log          recent events (strings)
'use strict';

(function () {
  const params = new URLSearchParams(location.search);
  const SERVER = params.get('server') || 'ws://127.0.0.1:8188';
  const ROOM = Number(params.get('room') || 1234);
  const DISPLAY = params.get('display') || 'participant';
  const PIN = params.get('pin');
  const STAMP = params.get('stamp') === '1';
  const PUBLISH = params.get('publish') !== '0';
  const MAX_KBPS = Number(params.get('maxkbps') || 0);
  const KEEPALIVE_MS = 20000;
  const STATS_FAST_MS = 50;
  const STATS_SLOW_MS = 500;

  const lab = {
    joined: false,
    publishing: false,
    webrtcup: false,
    myId: null,
    feeds: {},
    gone: {},
    firstFrameAt: {},
    local: null,
    error: null,
    log: [],
  };
  window.lab = lab;

  function note(msg) {
    const line = new Date().toISOString().slice(11, 23) + ' ' + msg;
    lab.log.push(line);
    if (lab.log.length > 300) lab.log.shift();
    console.log('[lab] ' + msg);
    const el = document.getElementById('status');
    if (el) el.textContent = line;
  }
  function fail(msg) {
    if (!lab.error) lab.error = String(msg);
    note('ERROR ' + msg);
  }

  // ---- Janus API over WebSocket ------------------------------------------
  let ws = null;
  let sessionId = null;
  let nextTx = 1;
  const pending = new Map();   // transaction -> {resolve, reject, ackOnly}
  const handles = new Map();   // handle id -> {onEvent, onTrickle, onWebrtcUp, onHangup}

  function connect() {
    return new Promise((resolve, reject) => {
      ws = new WebSocket(SERVER, 'janus-protocol');
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error('WebSocket error talking to ' + SERVER));
      ws.onclose = (ev) => {
        note('WebSocket closed (' + ev.code + ')');
        for (const p of pending.values()) p.reject(new Error('WebSocket closed'));
        pending.clear();
      };
      ws.onmessage = (ev) => {
        let msg;
        try { msg = JSON.parse(ev.data); } catch (e) { note('bad JSON from Janus'); return; }
        dispatch(msg);
      };
    });
  }

  function request(msg, opts = {}) {
    const transaction = 'lab' + (nextTx++);
    msg.transaction = transaction;
    if (sessionId !== null && msg.janus !== 'create') msg.session_id = sessionId;
    return new Promise((resolve, reject) => {
      pending.set(transaction, { resolve, reject, ackOnly: !!opts.ackOnly });
      const timer = setTimeout(() => {
        if (pending.delete(transaction)) reject(new Error('Janus did not answer ' + msg.janus + ' in 15 s'));
      }, 15000);
      pending.get(transaction).timer = timer;
      ws.send(JSON.stringify(msg));
    });
  }

  function settle(tx, fn, value) {
    const p = pending.get(tx);
    if (!p) return false;
    pending.delete(tx);
    clearTimeout(p.timer);
    p[fn](value);
    return true;
  }

  function dispatch(msg) {
    const tx = msg.transaction;
    const h = msg.sender !== undefined ? handles.get(msg.sender) : undefined;
    switch (msg.janus) {
      case 'ack':
        if (tx && pending.has(tx) && pending.get(tx).ackOnly) settle(tx, 'resolve', msg);
        return;
      case 'success':
        if (tx) settle(tx, 'resolve', msg);
        return;
      case 'error':
        if (tx && settle(tx, 'reject', new Error('Janus error ' + msg.error.code + ': ' + msg.error.reason))) return;
        note('Janus error ' + JSON.stringify(msg.error));
        return;
      case 'event': {
        const data = (msg.plugindata && msg.plugindata.data) || {};
        if (tx && pending.has(tx)) {
          if (data.error) {
            settle(tx, 'reject', new Error('VideoRoom error ' + data.error_code + ': ' + data.error));
          } else {
            settle(tx, 'resolve', { data, jsep: msg.jsep });
          }
          return;
        }
        if (h && h.onEvent) h.onEvent(data, msg.jsep);
        return;
      }
      case 'trickle':
        if (h && h.onTrickle) h.onTrickle(msg.candidate);
        return;
      case 'webrtcup':
        if (h && h.onWebrtcUp) h.onWebrtcUp();
        return;
      case 'hangup':
        note('hangup on handle ' + msg.sender + ': ' + msg.reason);
        if (h && h.onHangup) h.onHangup(msg.reason);
        return;
      case 'media':
      case 'slowlink':
        return;
      case 'detached':
        handles.delete(msg.sender);
        return;
      case 'timeout':
        fail('Janus session timed out');
        return;
      default:
        note('unhandled Janus message ' + msg.janus);
    }
  }

  async function attach() {
    const r = await request({ janus: 'attach', plugin: 'janus.plugin.videoroom' });
    const id = r.data.id;
    const h = { id };
    handles.set(id, h);
    return h;
  }
  function message(h, body, jsep) {
    const msg = { janus: 'message', handle_id: h.id, body };
    if (jsep) msg.jsep = jsep;
    return request(msg);
  }
  function trickle(h, candidate) {
    return request({ janus: 'trickle', handle_id: h.id, candidate }, { ackOnly: true })
      .catch((e) => note('trickle failed: ' + e.message));
  }

  // Candidates from Janus may come before the remote description is set.
  function wireIce(h, pc) {
    const early = [];
    h.onTrickle = (c) => {
      const cand = (!c || c.completed) ? null : c;
      if (!pc.remoteDescription) { early.push(cand); return; }
      pc.addIceCandidate(cand || undefined).catch((e) => note('addIceCandidate: ' + e.message));
    };
    h.flushEarly = () => {
      for (const c of early.splice(0)) {
        pc.addIceCandidate(c || undefined).catch((e) => note('addIceCandidate: ' + e.message));
      }
    };
    pc.onicecandidate = (ev) => {
      if (ev.candidate && ev.candidate.candidate) {
        trickle(h, { candidate: ev.candidate.candidate, sdpMid: ev.candidate.sdpMid,
          sdpMLineIndex: ev.candidate.sdpMLineIndex });
      } else if (!ev.candidate) {
        trickle(h, { completed: true });
      }
    };
    pc.oniceconnectionstatechange = () => note('ICE ' + h.id + ' ' + pc.iceConnectionState);
  }

  // ---- publisher ---------------------------------------------------------
  let pub = null;
  let pubPc = null;
  let privateId = null;

  async function joinRoom() {
    pub = await attach();
    pub.onEvent = onPublisherEvent;
    pub.onWebrtcUp = () => { lab.webrtcup = true; note('publisher webrtcup'); };
    const body = { request: 'join', ptype: 'publisher', room: ROOM, display: DISPLAY };
    if (PIN !== null) body.pin = PIN;
    const r = await message(pub, body);
    if (r.data.videoroom !== 'joined') throw new Error('unexpected join answer ' + JSON.stringify(r.data));
    lab.myId = r.data.id;
    privateId = r.data.private_id;
    lab.joined = true;
    note('joined room ' + ROOM + ' as ' + DISPLAY + ' (' + lab.myId + ')');
    onPublishers(r.data.publishers || []);
  }

  // ---- the latency benchmark's time stamps (the code of media/ar-stamp.c) ----
  const STAMP_BLOCK = 16;
  const STAMP_COLS = 16;
  const now32 = () => Date.now() % 4294967296;

  // A canvas stream whose frames carry the time they were drawn.
  function stampedStream() {
    const c = document.createElement('canvas');
    c.width = 1280; c.height = 720;
    const g = c.getContext('2d');
    let n = 0;
    const draw = () => {
      g.fillStyle = '#1f3a5f';
      g.fillRect(0, 0, c.width, c.height);
      g.fillStyle = '#e0c040'; // something moves, as a camera's picture does
      g.fillRect((n++ * 8) % (c.width - 120), 300, 120, 120);
      const ms = now32();
      const rows = [Math.floor(ms / 65536), ms % 65536, 65535 - (ms % 65536)];
      for (let r = 0; r < 3; r++) {
        for (let col = 0; col < STAMP_COLS; col++) {
          g.fillStyle = (rows[r] >> (STAMP_COLS - 1 - col)) & 1 ? '#ffffff' : '#000000';
          g.fillRect(col * STAMP_BLOCK, r * STAMP_BLOCK, STAMP_BLOCK, STAMP_BLOCK);
        }
      }
    };
    draw();
    setInterval(draw, 1000 / 30);
    return c.captureStream(30);
  }

  // Reads the stamp in the top-left corner of @video's current frame, or null.
  const stampCanvas = document.createElement('canvas');
  stampCanvas.width = STAMP_COLS * STAMP_BLOCK; stampCanvas.height = 3 * STAMP_BLOCK;
  const stampCtx = stampCanvas.getContext('2d', { willReadFrequently: true });
  function readStamp(video) {
    if (!video.videoWidth || video.videoWidth < stampCanvas.width) return null;
    stampCtx.drawImage(video, 0, 0, stampCanvas.width, stampCanvas.height, 0, 0, stampCanvas.width, stampCanvas.height);
    const d = stampCtx.getImageData(0, 0, stampCanvas.width, stampCanvas.height).data;
    const rows = [0, 0, 0];
    const q = STAMP_BLOCK / 4;
    for (let r = 0; r < 3; r++) {
      for (let col = 0; col < STAMP_COLS; col++) {
        let sum = 0; let k = 0;
        for (let y = r * STAMP_BLOCK + q; y < (r + 1) * STAMP_BLOCK - q; y++) {
          for (let x = col * STAMP_BLOCK + q; x < (col + 1) * STAMP_BLOCK - q; x++) {
            const i = (y * stampCanvas.width + x) * 4;
            sum += (d[i] + d[i + 1] + d[i + 2]) / 3; k++;
          }
        }
        rows[r] = rows[r] * 2 + (sum / k > 128 ? 1 : 0);
      }
    }
    if (rows[1] + rows[2] !== 65535) return null;
    return rows[0] * 65536 + rows[1];
  }

  // Delay from stamp to display of each new stamped frame of a feed (requestVideoFrameCallback:
  // called as a frame is composited, i.e. shown).
  const stampWatches = new Map();
  window.labStampStart = function (feedId) {
    const fig = document.getElementById('feed-' + feedId);
    const v = fig && fig.querySelector('video');
    if (!v) return false;
    const w = { samples: [], unread: 0, last: null, stop: false };
    stampWatches.set(feedId, w);
    const onFrame = () => {
      if (w.stop) return;
      const ms = readStamp(v);
      if (ms === null) w.unread++;
      else if (ms !== w.last) {
        let delay = now32() - ms;
        if (delay < -2147483648) delay += 4294967296;
        if (delay >= 0 && delay < 10000) w.samples.push(delay);
        w.last = ms;
      }
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
    return true;
  };
  window.labStampStop = function (feedId) {
    const w = stampWatches.get(feedId);
    if (!w) return null;
    w.stop = true;
    stampWatches.delete(feedId);
    return { samples: w.samples, unread: w.unread };
  };

  async function publish() {
    let stream;
    if (STAMP) {
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      stream = stampedStream();
      for (const t of mic.getAudioTracks()) stream.addTrack(t);
    } else try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      });
    } catch (e) {
      note('getUserMedia 1280x720 failed (' + e.name + '), trying defaults');
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    }
    const vt = stream.getVideoTracks()[0];
    const s = vt ? vt.getSettings() : {};
    lab.local = { width: s.width, height: s.height, frameRate: s.frameRate, audio: stream.getAudioTracks().length > 0 };
    const preview = document.getElementById('local');
    preview.srcObject = stream;

    pubPc = new RTCPeerConnection({ iceServers: [] });
    wireIce(pub, pubPc);
    for (const t of stream.getTracks()) pubPc.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
    const offer = await pubPc.createOffer();
    await pubPc.setLocalDescription(offer);
    const r = await message(pub, { request: 'publish', display: DISPLAY },
      { type: offer.type, sdp: offer.sdp });
    if (!r.jsep) throw new Error('Janus gave no answer to our publish offer: ' + JSON.stringify(r.data));
    await pubPc.setRemoteDescription(r.jsep);
    pub.flushEarly();
    if (MAX_KBPS > 0) {
      for (const sender of pubPc.getSenders()) {
        if (!sender.track || sender.track.kind !== 'video') continue;
        const p = sender.getParameters();
        if (!p.encodings || !p.encodings.length) p.encodings = [{}];
        p.encodings[0].maxBitrate = MAX_KBPS * 1000;
        await sender.setParameters(p);
        note('video capped at ' + MAX_KBPS + ' kbit/s');
      }
    }
    lab.publishing = true;
    const m = /a=rtpmap:\d+ (H264|VP8|VP9|AV1)\//.exec(r.jsep.sdp);
    lab.publishCodec = m ? m[1] : null;
    note('publishing ' + lab.local.width + 'x' + lab.local.height + ' ' + lab.publishCodec);
  }

  function onPublisherEvent(data, jsep) {
    if (data.publishers) onPublishers(data.publishers);
    if (data.unpublished !== undefined && data.unpublished !== 'ok') dropFeed(data.unpublished, 'unpublished');
    if (data.leaving !== undefined && data.leaving !== 'ok') dropFeed(data.leaving, 'left');
    if (data.error) note('VideoRoom event error ' + data.error_code + ': ' + data.error);
  }

  function onPublishers(list) {
    for (const p of list) {
      if (p.id === lab.myId || p.dummy) continue;
      if (lab.feeds[p.id]) continue;
      subscribe(p.id, p.display || String(p.id)).catch((e) => {
        note('subscribing to ' + p.id + ' failed: ' + e.message);
        if (lab.feeds[p.id]) lab.feeds[p.id].error = e.message;
      });
    }
  }

  // ---- subscribers: one handle per feed ------------------------------------
  const subs = new Map(); // feedId -> {h, pc, el}

  async function subscribe(feedId, display) {
    lab.feeds[feedId] = { display, subscribed: false, webrtcup: false, stats: null, error: null };
    delete lab.gone[feedId];
    note('new feed ' + feedId + ' (' + display + ')');
    const h = await attach();
    const pc = new RTCPeerConnection({ iceServers: [] });
    const sub = { h, pc, els: [] };
    subs.set(feedId, sub);
    wireIce(h, pc);
    h.onWebrtcUp = () => { if (lab.feeds[feedId]) lab.feeds[feedId].webrtcup = true; };
    h.onHangup = () => {};
    h.onEvent = (data) => {
      if (data.error) note('subscriber ' + feedId + ' error: ' + data.error);
    };
    pc.ontrack = (ev) => attachTrack(feedId, display, ev.track);
    const body = { request: 'join', ptype: 'subscriber', room: ROOM, streams: [{ feed: feedId }] };
    if (privateId !== null) body.private_id = privateId;
    if (PIN !== null) body.pin = PIN;
    const r = await message(h, body);
    if (!subs.has(feedId)) return; // dropped meanwhile
    if (!r.jsep) throw new Error('no offer in subscriber answer: ' + JSON.stringify(r.data));
    await pc.setRemoteDescription(r.jsep);
    h.flushEarly();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await message(h, { request: 'start', room: ROOM }, { type: answer.type, sdp: answer.sdp });
    if (lab.feeds[feedId]) lab.feeds[feedId].subscribed = true;
    note('subscribed to ' + feedId + ' (' + display + ')');
  }

  function attachTrack(feedId, display, track) {
    const sub = subs.get(feedId);
    if (!sub) return;
    const box = document.getElementById('feeds');
    let el;
    if (track.kind === 'video') {
      const fig = document.createElement('figure');
      fig.id = 'feed-' + feedId;
      el = document.createElement('video');
      el.autoplay = true; el.muted = true; el.playsInline = true;
      const cap = document.createElement('figcaption');
      cap.textContent = display;
      fig.append(el, cap);
      box.append(fig);
      sub.els.push(fig);
    } else {
      el = document.createElement('audio');
      el.autoplay = true;
      document.body.append(el);
      sub.els.push(el);
    }
    el.srcObject = new MediaStream([track]);
    el.play().catch((e) => note('play() ' + track.kind + ': ' + e.message));
  }

  function dropFeed(feedId, why) {
    const f = lab.feeds[feedId];
    lab.gone[feedId] = { display: f ? f.display : String(feedId), at: Date.now(), why };
    delete lab.feeds[feedId];
    const sub = subs.get(feedId);
    subs.delete(feedId);
    note('feed ' + feedId + ' ' + why);
    if (!sub) return;
    for (const el of sub.els) el.remove();
    try { sub.pc.close(); } catch (e) { /* closed */ }
    request({ janus: 'detach', handle_id: sub.h.id }).catch(() => {});
    handles.delete(sub.h.id);
  }

  // ---- stats ---------------------------------------------------------------
  async function feedStats(feedId) {
    const sub = subs.get(feedId);
    if (!sub) return null;
    const out = { video: null, audio: null, at: Date.now() };
    const report = await sub.pc.getStats();
    const codecs = {};
    report.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        out.video = {
          framesDecoded: s.framesDecoded || 0, frameWidth: s.frameWidth || 0,
          frameHeight: s.frameHeight || 0, framesPerSecond: s.framesPerSecond || 0,
          packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0,
          bytesReceived: s.bytesReceived || 0, codec: codecs[s.codecId] || null,
          keyFramesDecoded: s.keyFramesDecoded || 0,
          // Chromium's own freeze definition (a frame later than
          // max(3 x the average frame duration, average + 150 ms)).
          freezeCount: s.freezeCount || 0, totalFreezesDuration: s.totalFreezesDuration || 0,
          pauseCount: s.pauseCount || 0, nackCount: s.nackCount || 0, pliCount: s.pliCount || 0,
        };
      } else if (s.kind === 'audio') {
        out.audio = {
          packetsReceived: s.packetsReceived || 0, totalAudioEnergy: s.totalAudioEnergy || 0,
          audioLevel: s.audioLevel || 0, totalSamplesReceived: s.totalSamplesReceived || 0,
          codec: codecs[s.codecId] || null,
        };
      }
    });
    return out;
  }
  window.labFeedStats = feedStats;

  // The mean colour of a feed's current video frame, {r, g, b} 0..255 (or null before a frame):
  // tests assert what the far end SEES (the room's test pattern, or black when its camera is off).
  window.labFeedColor = function (feedId) {
    const fig = document.getElementById('feed-' + feedId);
    const v = fig && fig.querySelector('video');
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
  };

  // Freezes as the loss lab counts them: no new decoded frame for >= 1 s,
  // sampled from getStats every 100 ms (resolution 0.1 s).
  const gapWatches = new Map();
  window.labGapStart = function (feedId) {
    const w = { frames: null, last: null, start: Date.now(), freezes: 0, freezeMs: 0, maxGapMs: 0, frames0: null, long: [] };
    w.timer = setInterval(async () => {
      const st = await feedStats(feedId).catch(() => null);
      if (!st || !st.video) return;
      const now = Date.now();
      if (w.frames0 === null) w.frames0 = st.video.framesDecoded;
      if (st.video.framesDecoded !== w.frames) {
        if (w.last !== null) {
          const gap = now - w.last;
          w.maxGapMs = Math.max(w.maxGapMs, gap);
          if (gap >= 1000) { w.freezes++; w.freezeMs += gap; }
          // Where the longer gaps were (ends, epoch ms), for a report to place them.
          if (gap >= 500 && w.long.length < 50) w.long.push({ end: now, ms: gap });
        }
        w.frames = st.video.framesDecoded;
        w.last = now;
      }
    }, 100);
    gapWatches.set(feedId, w);
  };
  window.labGapStop = function (feedId) {
    const w = gapWatches.get(feedId);
    if (!w) return null;
    clearInterval(w.timer);
    gapWatches.delete(feedId);
    return { freezes: w.freezes, freezeMs: w.freezeMs, maxGapMs: w.maxGapMs,
      frames: (w.frames || 0) - (w.frames0 || 0), durationMs: Date.now() - w.start, long: w.long };
  };

  window.labPublisherStats = async function () {
    if (!pubPc) return null;
    const out = { connectionState: pubPc.connectionState };
    const report = await pubPc.getStats();
    report.forEach((s) => {
      if (s.type === 'outbound-rtp') {
        out[s.kind] = { packetsSent: s.packetsSent, framesEncoded: s.framesEncoded,
          frameWidth: s.frameWidth, frameHeight: s.frameHeight, encoderImplementation: s.encoderImplementation,
          // Key frame requests that reached this sender (from Janus, on behalf of subscribers).
          pliCount: s.pliCount || 0, firCount: s.firCount || 0, keyFramesEncoded: s.keyFramesEncoded || 0,
          framesPerSecond: s.framesPerSecond || 0, bytesSent: s.bytesSent || 0,
          // The encoder's target from the browser's own bandwidth estimate (Chromium).
          targetBitrate: s.targetBitrate || 0, retransmittedBytesSent: s.retransmittedBytesSent || 0,
          qualityLimitationReason: s.qualityLimitationReason || null };
      }
    });
    return out;
  };

  async function pollStats() {
    let fast = false;
    for (const feedId of Array.from(subs.keys())) {
      try {
        const st = await feedStats(feedId);
        const f = lab.feeds[feedId];
        if (!st || !f) continue;
        f.stats = st;
        if (st.video && st.video.framesDecoded > 0 && lab.firstFrameAt[feedId] === undefined) {
          lab.firstFrameAt[feedId] = st.at;
          note('first frame from ' + f.display + ' ' + st.video.frameWidth + 'x' + st.video.frameHeight);
        }
        if (lab.firstFrameAt[feedId] === undefined) fast = true;
      } catch (e) { /* pc closing */ }
    }
    setTimeout(pollStats, fast ? STATS_FAST_MS : STATS_SLOW_MS);
  }

  // ---- leave ---------------------------------------------------------------
  window.labLeave = async function () {
    for (const feedId of Array.from(subs.keys())) dropFeed(feedId, 'closed');
    if (pub) {
      try { await message(pub, { request: 'leave' }); } catch (e) { /* ignore */ }
    }
    if (pubPc) pubPc.close();
    try { await request({ janus: 'destroy' }); } catch (e) { /* ignore */ }
    if (ws) ws.close();
  };

  // ---- main ----------------------------------------------------------------
  async function main() {
    document.getElementById('me').textContent = DISPLAY + ' in room ' + ROOM;
    await connect();
    const r = await request({ janus: 'create' });
    sessionId = r.data.id;
    setInterval(() => {
      request({ janus: 'keepalive' }, { ackOnly: true }).catch((e) => note('keepalive: ' + e.message));
    }, KEEPALIVE_MS);
    await joinRoom();
    pollStats();
    if (PUBLISH) await publish();
  }
  main().catch((e) => fail(e.message || e));
})();
