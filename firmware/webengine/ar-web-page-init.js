// The meeting page's init script (ar_web_page_init_script(), ar-web-page.h): it runs in every
// document of the meeting page before the page's own scripts. Built into anyroomd as a C string
// (ar-web-page-init.h, made by embed-js.py at build time). It gives the page nothing of the room:
// it only keeps what the engine reads (peer connections, capture counters) and makes the room's
// camera sturdier.
(() => {
  // ---- getUserMedia: a busy capture is tried again; a camera the capture lost comes back ----
  const md = window.MediaDevices && MediaDevices.prototype;
  const T = window.MediaStreamTrack && MediaStreamTrack.prototype;
  if (!md || !md.getUserMedia || md.getUserMedia.__arWrapped || !T) return;
  const gum = md.getUserMedia;
  const enumerate = md.enumerateDevices;
  const realStop = T.stop;
  const enabledOf = Object.getOwnPropertyDescriptor(T, 'enabled');
  const stateOf = Object.getOwnPropertyDescriptor(T, 'readyState');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const counters = { retries: 0, restarted: 0, lost: 0 };
  // Read by the engine with the statistics (ar_web_page_stats_expression()).
  Object.defineProperty(window, '__arCapture', { get: () => ({ ...counters }) });
  Object.defineProperty(window, '__arGumRetries', { get: () => counters.retries });

  // A NotReadableError ("Could not start video source") or an AbortError ("Timeout starting
  // video source") is tried again twice, 0.8 s apart, before the page hears of it: Chromium's
  // capture process may have ended while the camera started (below) and start again.
  const open = async (self, constraints) => {
    for (let i = 0; ; i++) {
      try {
        return await gum.call(self, constraints);
      } catch (e) {
        if (i >= 2 || !e || (e.name !== 'NotReadableError' && e.name !== 'AbortError')) throw e;
        counters.retries++;
        await sleep(800);
      }
    }
  };

  // Is a camera with @deviceId still listed? It is not when the room took its camera back
  // (the call ends): then the page hears of the ended track at once.
  const stillListed = async (self, deviceId) => {
    try {
      const list = await enumerate.call(self);
      return list.some((d) => d.kind === 'videoinput' && (!deviceId || d.deviceId === deviceId));
    } catch (e) {
      return false;
    }
  };

  // Chromium's capture process can end under the page (a race in its PipeWire camera code,
  // seen under load: "Check failed: !race_checker.RaceDetected()"). The page's camera track
  // then ends and the meeting sees no picture from the room for the rest of the call. A video
  // track of getUserMedia's that ends without the page stopping it, while the camera is still
  // listed, is opened again with the page's constraints and put in its place: in every peer
  // connection that sends it and in getUserMedia's stream. The page keeps its track object:
  // enabled, readyState, stop() and getSettings() follow the new track. The page hears
  // "ended" only when that fails (about 15 s of tries). A clone the page made is not renewed;
  // one made after a renewal clones the live camera.
  // The page's track object -> the track behind it now. A page that gives its kept track to a
  // new peer connection (a reconnect: addTrack, addTransceiver, replaceTrack) or a new stream
  // after a renewal gets the live camera, not the dead track.
  const behind = new WeakMap();
  const live = (t) => (t && behind.has(t) ? behind.get(t)() : t);
  const swapArg = (proto, name, index) => {
    const f = proto && proto[name];
    if (typeof f !== 'function') return;
    Object.defineProperty(proto, name, {
      configurable: true, writable: true,
      value: { [name](...a) { if (a.length > index) a[index] = live(a[index]); return f.apply(this, a); } }[name],
    });
  };
  swapArg(window.RTCPeerConnection && RTCPeerConnection.prototype, 'addTrack', 0);
  swapArg(window.RTCPeerConnection && RTCPeerConnection.prototype, 'addTransceiver', 0);
  swapArg(window.RTCRtpSender && RTCRtpSender.prototype, 'replaceTrack', 0);
  swapArg(window.MediaStream && MediaStream.prototype, 'addTrack', 0);
  const OrigStream = window.MediaStream;
  if (OrigStream) {
    const Stream = function MediaStream(arg) {
      if (!new.target) return OrigStream(arg); // throws as the original does
      return Array.isArray(arg) ? new OrigStream(arg.map(live)) : arguments.length ? new OrigStream(arg) : new OrigStream();
    };
    Stream.prototype = OrigStream.prototype;
    Object.setPrototypeOf(Stream, OrigStream);
    window.MediaStream = Stream;
  }

  const renew = (self, stream, track, constraints) => {
    let current = track;
    behind.set(track, () => current);
    let stopped = false;
    let enabled = enabledOf.get.call(track);
    let passing = false;
    const own = (name, d) => Object.defineProperty(track, name, { configurable: true, ...d });
    own('enabled', {
      get: () => enabled,
      set: (v) => {
        enabled = !!v;
        enabledOf.set.call(track, enabled);
        if (current !== track) enabledOf.set.call(current, enabled);
      },
    });
    own('readyState', { get: () => stateOf.get.call(current) });
    own('stop', {
      value: function stop() {
        stopped = true;
        realStop.call(track);
        if (current !== track) realStop.call(current);
      },
    });
    for (const name of ['getSettings', 'getConstraints', 'getCapabilities', 'applyConstraints', 'clone'])
      if (typeof T[name] === 'function') own(name, { value: (...a) => T[name].apply(current, a) });
    const deviceId = (T.getSettings.call(track) || {}).deviceId;
    const ask = { video: constraints && constraints.video !== undefined ? constraints.video : true };

    const giveUp = () => {
      counters.lost++;
      passing = true;
      try { track.dispatchEvent(new Event('ended')); } finally { passing = false; }
    };
    const lostTrack = async () => {
      if (stopped) return;
      if (!(await stillListed(self, deviceId))) { giveUp(); return; }
      for (let i = 0; i < 5 && !stopped; i++) {
        await sleep(500 * 2 ** i); // 0.5, 1, 2, 4, 8 s
        let fresh = null;
        try {
          // A request the capture never answers counts as failed after 10 s (a late answer's
          // tracks are stopped): the tries go on.
          const asked = gum.call(self, ask);
          const got = await Promise.race([asked, sleep(10000).then(() => null)]);
          if (!got) {
            asked.then((x) => { for (const t of x.getTracks()) realStop.call(t); }, () => {});
            continue;
          }
          fresh = got.getVideoTracks()[0] || null;
        } catch (e) {
          continue;
        }
        if (!fresh) continue;
        if (stopped) { realStop.call(fresh); return; }
        enabledOf.set.call(fresh, enabled);
        const old = current;
        current = fresh;
        for (const pc of window.__arPeerConnections || []) {
          let senders = [];
          try { senders = pc.getSenders(); } catch (e) { /* closed */ }
          for (const s of senders)
            if (s.track === old || s.track === track) s.replaceTrack(fresh).catch(() => {});
        }
        if (stream.getTracks().includes(old)) {
          stream.removeTrack(old);
          stream.addTrack(fresh);
        }
        fresh.addEventListener('ended', lostTrack);
        counters.restarted++;
        return;
      }
      if (!stopped) giveUp();
    };
    // Registered before the page can listen: while the track is being renewed, the page's
    // own "ended" listeners do not run.
    track.addEventListener('ended', (ev) => {
      if (passing) return;
      ev.stopImmediatePropagation();
      lostTrack();
    });
    // The capture can end before getUserMedia's answer reaches the page: the track is then born
    // ended and never fires "ended" (seen: the capture process aborted 300 ms into the call).
    if (stateOf.get.call(track) === 'ended') lostTrack();
  };

  const wrapped = function getUserMedia(constraints) {
    const self = this;
    return (async () => {
      const stream = await open(self, constraints);
      for (const t of stream.getVideoTracks()) renew(self, stream, t, constraints);
      return stream;
    })();
  };
  Object.defineProperty(wrapped, '__arWrapped', { value: true });
  md.getUserMedia = wrapped;
})();
(() => {
  // ---- every RTCPeerConnection the page makes, for the engine's statistics ----
  // Weakly enough: closed ones are skipped and the oldest dropped past 64. The wrapper stays a
  // real RTCPeerConnection: instanceof and statics hold.
  const Orig = window.RTCPeerConnection;
  if (!Orig || Orig.__arWrapped) return;
  const list = [];
  Object.defineProperty(window, '__arPeerConnections', { value: list });
  const Wrapped = function (...args) {
    const pc = new Orig(...args);
    list.push(pc);
    if (list.length > 64) list.shift();
    return pc;
  };
  Wrapped.prototype = Orig.prototype;
  Object.setPrototypeOf(Wrapped, Orig);
  Object.defineProperty(Wrapped, '__arWrapped', { value: true });
  window.RTCPeerConnection = Wrapped;
})();
