// Test fixture (not product code): helpers the test calls with page.evaluate().
'use strict';
const fx = {
  stream: null,
  analyser: null,
  ctx: null,
  frames: 0,
  ended: {},
  tone: null,
};
window.fx = fx;

// getUserMedia with the room's devices; resolves {ok, ms, label, error}.
fx.open = async function open({ video = true, audio = true } = {}) {
  const t0 = performance.now();
  try {
    const constraints = {
      video: video ? { width: 640, height: 480, frameRate: 30 } : false,
      audio: audio ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false } : false,
    };
    fx.stream = await navigator.mediaDevices.getUserMedia(constraints);
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}`, ms: performance.now() - t0 };
  }
  const gumMs = performance.now() - t0;
  const labels = {};
  for (const t of fx.stream.getTracks()) {
    labels[t.kind] = t.label;
    fx.ended[t.kind] = false;
    t.addEventListener('ended', () => { fx.ended[t.kind] = true; });
  }
  let firstFrameMs = null;
  if (video) {
    const v = document.getElementById('v');
    v.srcObject = fx.stream;
    await new Promise((resolve) => {
      const cb = () => { fx.frames++; if (firstFrameMs === null) { firstFrameMs = performance.now() - t0; resolve(); } v.requestVideoFrameCallback(cb); };
      v.requestVideoFrameCallback(cb);
      setTimeout(resolve, 10000);
    });
  }
  if (audio) {
    fx.ctx = fx.ctx || new AudioContext();
    await fx.ctx.resume();
    const src = fx.ctx.createMediaStreamSource(fx.stream);
    fx.analyser = fx.ctx.createAnalyser();
    fx.analyser.fftSize = 2048;
    src.connect(fx.analyser);
  }
  return { ok: true, gumMs, firstFrameMs, labels };
};

// The colour at the centre of the current video frame: [r, g, b].
fx.color = function color() {
  const v = document.getElementById('v');
  const c = document.getElementById('c');
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(v, 0, 0, c.width, c.height);
  const d = g.getImageData(c.width / 2, c.height / 2, 1, 1).data;
  return [d[0], d[1], d[2]];
};

// Frames shown over @ms, as a rate.
fx.frameRate = async function frameRate(ms = 2000) {
  const f0 = fx.frames;
  await new Promise((r) => setTimeout(r, ms));
  return ((fx.frames - f0) * 1000) / ms;
};

// The microphone's RMS (dBFS) over @ms.
fx.micLevel = async function micLevel(ms = 500) {
  const buf = new Float32Array(fx.analyser.fftSize);
  let sum = 0;
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    fx.analyser.getFloatTimeDomainData(buf);
    for (const x of buf) { sum += x * x; n++; }
    await new Promise((r) => setTimeout(r, 20));
  }
  const rms = Math.sqrt(sum / n);
  return rms > 1e-9 ? 20 * Math.log10(rms) : -180;
};

// A tone of the page's own on the default output (the room's speaker through the bridge).
fx.playTone = async function playTone(on = true) {
  fx.ctx = fx.ctx || new AudioContext();
  await fx.ctx.resume();
  if (on && !fx.tone) {
    fx.tone = fx.ctx.createOscillator();
    fx.tone.frequency.value = 1000;
    const gain = fx.ctx.createGain();
    gain.gain.value = 0.5;
    fx.tone.connect(gain).connect(fx.ctx.destination);
    fx.tone.start();
  } else if (!on && fx.tone) {
    fx.tone.stop();
    fx.tone = null;
  }
  return fx.ctx.state;
};

fx.trackStates = function trackStates() {
  const s = {};
  for (const t of (fx.stream ? fx.stream.getTracks() : [])) s[t.kind] = t.readyState;
  return { states: s, ended: { ...fx.ended } };
};
