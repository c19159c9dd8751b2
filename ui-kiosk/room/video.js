// Anyroom room screen: the native call's video. anyroomd sends each track's
// encoded frames (H.264 Annex B access units or VP8 frames, no re-encoding)
// over an authenticated WebSocket; WebCodecs decodes them here and a canvas
// per track shows them. See docs/decisions.md "Native-call video on the room
// page". The page acknowledges what it received so anyroomd can bound what
// it sends (a slow page loses frames up to the next key frame).
'use strict';

const AR_VIDEO = (() => {
  const MAX_DECODE_QUEUE = 30;
  const ACK_EVERY = 5;
  const textDecoder = new TextDecoder();

  // avc1.PPCCLL from the first SPS of an Annex B access unit.
  function h264CodecString(data) {
    for (let i = 0; i + 7 < data.length; i++) {
      if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1 && (data[i + 3] & 0x1f) === 7) {
        const hex = (b) => b.toString(16).padStart(2, '0');
        return `avc1.${hex(data[i + 4])}${hex(data[i + 5])}${hex(data[i + 6])}`;
      }
    }
    return null;
  }

  // Header: version, flags (1 key, 2 local, 4 replayed from the cache), codec (1 H264, 2 VP8),
  // track name length, pts (float64 us), name, frame.
  function parse(buf) {
    const v = new DataView(buf);
    if (buf.byteLength < 13 || v.getUint8(0) !== 1) return null;
    const flags = v.getUint8(1);
    const n = v.getUint8(3);
    if (n === 0 || 12 + n > buf.byteLength) return null;
    return {
      key: (flags & 1) !== 0,
      local: (flags & 2) !== 0,
      replay: (flags & 4) !== 0,
      codec: v.getUint8(2) === 1 ? 'h264' : 'vp8',
      pts: v.getFloat64(4),
      track: textDecoder.decode(new Uint8Array(buf, 12, n)),
      data: new Uint8Array(buf, 12 + n),
    };
  }

  class Track {
    constructor(name, local, canvas) {
      this.name = name;
      this.local = local;
      this.canvas = canvas;
      this.ctx = canvas.getContext('2d', { alpha: false });
      this.decoder = null;
      this.waitKey = true;
      this.frames = 0;     // decoded and drawn
      this.chunks = 0;
      this.dropped = 0;
      this.errors = 0;
      this.lastTs = 0;
    }

    reset() {
      if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
      this.decoder = null;
      this.waitKey = true;
    }

    configure(unit) {
      const codec = unit.codec === 'h264' ? h264CodecString(unit.data) : 'vp8';
      if (!codec) return false;
      this.decoder = new VideoDecoder({
        output: (frame) => {
          if (this.canvas.width !== frame.displayWidth || this.canvas.height !== frame.displayHeight) {
            this.canvas.width = frame.displayWidth;
            this.canvas.height = frame.displayHeight;
          }
          this.ctx.drawImage(frame, 0, 0);
          frame.close();
          this.frames++;
        },
        error: (e) => {
          this.errors++;
          console.warn(`video ${this.name}: ${e.message}`);
          this.reset();
        },
      });
      // No description: H.264 is Annex B with SPS/PPS in band.
      this.decoder.configure({ codec, optimizeForLatency: true });
      return true;
    }

    push(unit) {
      if (this.waitKey && !unit.key) { this.dropped++; return; }
      // Replayed frames (a reconnect's catch-up from the last key frame) come
      // in a burst: only live frames count against the decode queue.
      if (!unit.replay && this.decoder && this.decoder.decodeQueueSize > MAX_DECODE_QUEUE) {
        // The decoder falls behind: start again at the next key frame.
        this.dropped++;
        this.reset();
        return;
      }
      if (!this.decoder && !this.configure(unit)) { this.dropped++; return; }
      this.waitKey = false;
      // Timestamps only need to grow; the sender's may be missing.
      const ts = unit.pts > this.lastTs ? unit.pts : this.lastTs + 1;
      this.lastTs = ts;
      try {
        this.decoder.decode(new EncodedVideoChunk({ type: unit.key ? 'key' : 'delta', timestamp: ts, data: unit.data }));
        this.chunks++;
      } catch (e) {
        this.errors++;
        this.reset();
      }
    }

    close() { this.reset(); }
  }

  // opts: { url, makeCanvas(name, local) -> canvas, dropCanvas(name), onChange() }
  function connect(opts) {
    const tracks = new Map();
    let received = 0;
    let ws = null;
    let closed = false;
    let retry = 500;

    function open() {
      ws = new WebSocket(opts.url);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => { retry = 500; };
      ws.onmessage = (ev) => {
        if (typeof ev.data === 'string') {
          let m = null;
          try { m = JSON.parse(ev.data); } catch { return; }
          if (m && m.event === 'track-ended') drop(m.track);
          return;
        }
        received++;
        if (received % ACK_EVERY === 0) ws.send(`ack ${received}`);
        const unit = parse(ev.data);
        if (!unit) return;
        let t = tracks.get(unit.track);
        if (!t) {
          const canvas = opts.makeCanvas(unit.track, unit.local);
          if (!canvas) return;
          t = new Track(unit.track, unit.local, canvas);
          tracks.set(unit.track, t);
          if (opts.onChange) opts.onChange();
        }
        t.push(unit);
      };
      ws.onclose = () => {
        // Start over: the server sends every track from its last key frame.
        for (const name of [...tracks.keys()]) drop(name);
        received = 0;
        if (!closed) setTimeout(open, retry = Math.min(retry * 2, 8000));
      };
    }

    function drop(name) {
      const t = tracks.get(name);
      if (!t) return;
      t.close();
      tracks.delete(name);
      opts.dropCanvas(name);
      if (opts.onChange) opts.onChange();
    }

    open();
    return {
      tracks,
      stats: () => [...tracks.values()].map((t) => ({
        track: t.name, local: t.local, frames: t.frames, chunks: t.chunks, dropped: t.dropped, errors: t.errors,
        width: t.canvas.width, height: t.canvas.height,
      })),
      close: () => { closed = true; if (ws) ws.close(); },
    };
  }

  return { connect, parse, h264CodecString };
})();
