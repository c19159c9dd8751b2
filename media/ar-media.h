/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-media.h: the Anyroom media engine.
 *
 * Knows GStreamer; knows no signalling. A provider (Janus, WHIP, ...) drives
 * peers through this API with SDP strings and ICE candidate strings only.
 *
 * Threading: every callback of an ArPeer is invoked from the GMainContext that
 * was the thread-default context when the peer was created (never from a
 * GStreamer streaming thread). All functions must be called from that context.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AR_MEDIA_ERROR (ar_media_error_quark())
GQuark ar_media_error_quark(void);

typedef enum {
  AR_MEDIA_ERROR_FAILED,      /* generic */
  AR_MEDIA_ERROR_NO_ELEMENT,  /* a needed GStreamer element is missing */
  AR_MEDIA_ERROR_NO_ENCODER,  /* no usable encoder for the wanted codec */
  AR_MEDIA_ERROR_PIPELINE,    /* a pipeline refused to start or posted an error */
  AR_MEDIA_ERROR_SDP,         /* remote SDP is malformed or unusable */
  AR_MEDIA_ERROR_CANDIDATE,   /* remote candidate malformed */
  AR_MEDIA_ERROR_ICE,         /* ICE failed */
  AR_MEDIA_ERROR_DTLS,        /* DTLS failed */
  AR_MEDIA_ERROR_FINGERPRINT, /* remote certificate does not match a=fingerprint */
  AR_MEDIA_ERROR_TIMEOUT,
  AR_MEDIA_ERROR_DEAD_PEER, /* connected, then nothing (no RTP, no RTCP) for AR_PEER_DEAD_TIMEOUT_S
                             */
  AR_MEDIA_ERROR_NETWORK,   /* the local address the connection used went away */
  AR_MEDIA_ERROR_TURN_TLS,  /* the only relays (turns:, relay-only) refused: e.g. bad certificate */
} ArMediaError;

typedef enum {
  AR_VIDEO_CODEC_AUTO,
  AR_VIDEO_CODEC_H264,
  AR_VIDEO_CODEC_VP8,
} ArVideoCodec;

const char *ar_video_codec_to_string(ArVideoCodec codec);
gboolean ar_video_codec_from_string(const char *s, ArVideoCodec *out);

/* What the board profile + config say about the media devices.
 * Strings are owned by the caller and copied by ar_media_engine_new(). */
typedef struct {
  /* "auto" (first V4L2 capture device, else test pattern), "test", or a
   * device path like "/dev/video0". */
  const char *video_source;
  /* "auto" (default ALSA capture if present, else test tone), "test", or an
   * ALSA device name. */
  const char *audio_source;
  /* "auto" (default ALSA playback if present, else discard), "none", or an
   * ALSA device name. */
  const char *audio_sink;
  /* "auto" (a window if $DISPLAY or $WAYLAND_DISPLAY is set, else none),
   * "none", "kiosk" or "window". "kiosk": the room screen is the kiosk
   * browser, which shows the remote video itself from the encoded frames
   * (ar_media_engine_set_video_sink); the engine renders nothing, as "none". */
  const char *video_sink;
  /* Encoder element factory names in order of preference; NULL-terminated.
   * NULL means the built-in default list (hardware first, then software). */
  const char *const *encoders;
  /* Decoder element factory names (video or audio) that the receive path's
   * decodebin tries first, in this order; the others follow in GStreamer's
   * rank order. Names not installed here are skipped. NULL or empty: GStreamer's
   * ranks alone. */
  const char *const *decoders;
  ArVideoCodec codec;             /* AUTO: codec of the first usable encoder */
  guint width, height, framerate; /* capture/send format, e.g. 1280x720@30 */
  guint video_bitrate_kbps;       /* target, e.g. 1500 */
  guint jitter_latency_ms;        /* webrtcbin latency, e.g. 60 (not 200) */
  /* The microphone's processing (webrtcdsp; the speaker's sound is the echo
   * canceller's reference): each on by default. */
  gboolean echo_cancellation, noise_suppression, gain_control;
  /* Decode received video even when nothing here shows it (the room screen
   * decodes it itself): for diagnostics (the received picture's luma) and
   * tests. FALSE by default: only a "window" video sink makes anyroomd decode. */
  gboolean decode_received_video;
} ArMediaConfig;

void ar_media_config_init_defaults(ArMediaConfig *cfg);

/* The device values of an ArMediaConfig (NULL means "auto"). */
typedef enum {
  AR_MEDIA_SETTING_VIDEO_SOURCE, /* camera: auto | test | a /dev/ path */
  AR_MEDIA_SETTING_AUDIO_SOURCE, /* microphone: auto | test | an ALSA device name */
  AR_MEDIA_SETTING_AUDIO_SINK,   /* speaker: auto | none | an ALSA device name */
  AR_MEDIA_SETTING_VIDEO_SINK,   /* display: auto | none | kiosk | window */
} ArMediaSetting;

/* TRUE if the engine accepts @value for @setting; else an AR_MEDIA_ERROR
 * naming the valid values. Touches no device (a /dev/ path need not exist):
 * the same rules ar_media_engine_new() and ar_media_engine_set_devices()
 * apply before they look for devices. */
gboolean ar_media_setting_check(ArMediaSetting setting, const char *value,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Checks every value of @cfg (NULL: the defaults) as ar_media_engine_new()
 * does before it touches devices or GStreamer: the four device values, the
 * video size, frame rate, bitrate, jitter latency and codec. Encoder and
 * decoder names are not checked: names not installed are skipped by design. */
gboolean ar_media_config_check(const ArMediaConfig *cfg, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* ---- encoder selection (pure logic, unit-tested) ---- */

typedef struct {
  const char *factory; /* e.g. "x264enc" */
  ArVideoCodec codec;
  gboolean hardware;
} ArEncoderInfo;

/* The built-in preference list, hardware first:
 * v4l2h264enc, vah264enc, vaapih264enc, nvh264enc, x264enc, vp8enc. */
const ArEncoderInfo *ar_encoder_table(gsize *n_out);

/* Returns TRUE if the factory exists and can be brought to READY. */
typedef gboolean (*ArEncoderProbeFunc)(const char *factory, gpointer user_data);
gboolean ar_encoder_probe_default(const char *factory, gpointer user_data);

/* Pick the first encoder from @preference (NULL = built-in table order) that
 * is known (in the table), matches @codec (AUTO = any) and passes @probe.
 * Returns the table entry, or NULL with AR_MEDIA_ERROR_NO_ENCODER naming what
 * was tried. */
const ArEncoderInfo *ar_encoder_select(const char *const *preference, ArVideoCodec codec,
                                       ArEncoderProbeFunc probe, gpointer probe_data,
                                       GError **error);

/* ---- ICE servers (pure logic, unit-tested) ---- */

typedef enum { AR_ICE_STUN, AR_ICE_TURN, AR_ICE_TURNS } ArIceScheme;
typedef enum {
  AR_ICE_TRANSPORT_DEFAULT, /* turn: without ?transport: webrtcbin tries UDP and TCP */
  AR_ICE_TRANSPORT_UDP,
  AR_ICE_TRANSPORT_TCP, /* always for turns: */
} ArIceTransport;

typedef struct {
  ArIceScheme scheme;
  char host[254]; /* without [] for IPv6 */
  gboolean ipv6;
  guint16 port; /* default 3478, turns: 5349 */
  ArIceTransport transport;
} ArIceUri;

#define AR_ICE_MAX_TURN 8

/* Parses "stun:host[:port]", "turn:host[:port][?transport=udp|tcp]" or
 * "turns:host[:port][?transport=tcp]" (RFC 7064/7065). Untrusted input:
 * bounded (512 bytes), no credentials in the URI. @out untouched on error. */
gboolean ar_ice_uri_parse(const char *uri, ArIceUri *out, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The webrtcbin form: "stun://host:port", "turn://user:pass@host:port[?transport=..]"
 * or "turns://user:pass@host:port", user and password percent-encoded.
 * TURN needs @username and @password. Errors never contain the password. */
char *ar_ice_uri_to_webrtcbin(const char *uri, const char *username, const char *password,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* "turn://user:***@host:port..." for logs. */
char *ar_ice_redact(const char *webrtcbin_uri);

/* What every peer of an engine gets: webrtcbin forms (owned). */
typedef struct {
  char *stun;          /* NULL = none */
  char **turn;         /* NULL-terminated, may be empty or NULL */
  gboolean relay_only; /* ice-transport-policy=relay */
  /* turns: servers: PEM CA file to verify them with; NULL = the system's
   * trust store. libnice has no TLS, so the engine carries each turns:
   * connection over its own verified TLS (media/ar-turn-tls.c). */
  char *tls_ca_file;
} ArIceConfig;

/* Checks and converts lists of RFC URIs into @out (replaced only on success).
 * Only the first STUN URI is used (webrtcbin takes one). relay-only without a
 * TURN server is an error. */
gboolean ar_ice_config_build(ArIceConfig *out, const char *const *stun, const char *const *turn,
                             const char *username, const char *password, gboolean relay_only,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_ice_config_clear(ArIceConfig *ice);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ArIceConfig, ar_ice_config_clear)

/* ---- engine ---- */

typedef struct _ArMediaEngine ArMediaEngine;

/* Initializes GStreamer if needed, validates that the needed elements exist,
 * selects the encoder. Does not open devices yet. */
ArMediaEngine *ar_media_engine_new(const ArMediaConfig *cfg,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;
void ar_media_engine_free(ArMediaEngine *engine);
const ArEncoderInfo *ar_media_engine_get_encoder(ArMediaEngine *engine);
/* Changes the camera, microphone and speaker ("auto", "test"/"none", a
 * device) for captures opened and peers created from now on; a call in
 * progress keeps its capture (ar_media_engine_capture_acquire). On error (an
 * unusable value, a missing element) nothing changes. */
gboolean ar_media_engine_set_devices(ArMediaEngine *engine, const char *video_source,
                                     const char *audio_source, const char *audio_sink,
                                     GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Human-readable description of the chosen sources/sinks, for logs/status. */
const char *ar_media_engine_describe(ArMediaEngine *engine);
/* The ICE servers given to peers created from now on (copied). NULL = none.
 * Starts a loopback TLS shim per turns: server (fails if the CA file cannot
 * be read); on failure the previous servers stay. */
gboolean ar_media_engine_set_ice(ArMediaEngine *engine, const ArIceConfig *ice,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArMediaEngine, ar_media_engine_free)

/* ---- capture: camera and microphone, opened once per call ----
 * One capture graph (ar-capture.h) feeds every consumer: a native call's
 * peers, the web engine's bridge. Whoever owns the call holds a reference for
 * the call's whole life, so a reconnection reuses the open camera. */

typedef struct _ArCapture ArCapture;

/* The engine's capture, opened (camera and microphone started) if no one
 * holds one yet or the last one failed; a new reference. Device errors (a
 * camera that is missing or busy, an ALSA error) come back here as
 * AR_MEDIA_ERROR_PIPELINE. A capture keeps the devices it opened with:
 * ar_media_engine_set_devices() applies to the next one. */
/* The engine's media settings (size, frame rate, devices). */
const ArMediaConfig *ar_media_engine_get_config(ArMediaEngine *engine);

ArCapture *ar_media_engine_capture_acquire(ArMediaEngine *engine,
                                           GError **error) G_GNUC_WARN_UNUSED_RESULT;
ArCapture *ar_capture_ref(ArCapture *capture);
/* The last reference stops the graph and closes the devices. Accepts NULL.
 * Call it in the capture's context. */
void ar_capture_unref(ArCapture *capture);
/* Why the capture stopped (a device error), or NULL while it runs. */
const GError *ar_capture_get_error(ArCapture *capture);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArCapture, ar_capture_unref)

/* ---- media controls: apply at once to every peer of the engine, and to
 * peers created later (they last as long as the engine) ---- */

#define AR_MEDIA_VOLUME_MAX 100
#define AR_MEDIA_VOLUME_DEFAULT 70

/* Muted: the microphone's samples are replaced by digital silence before the
 * Opus encoder (the far end receives no audio energy). */
void ar_media_engine_set_microphone_muted(ArMediaEngine *engine, gboolean muted);
gboolean ar_media_engine_get_microphone_muted(ArMediaEngine *engine);
/* Off: every camera frame is replaced by a black frame before the encoder
 * (the far end sees a dark picture that costs almost no bitrate, never the
 * live camera nor a frozen last frame). */
void ar_media_engine_set_camera_enabled(ArMediaEngine *engine, gboolean enabled);
gboolean ar_media_engine_get_camera_enabled(ArMediaEngine *engine);
/* The microphone's processing for the next capture (a running call keeps
 * what it opened with). */
void ar_media_engine_set_processing(ArMediaEngine *engine, gboolean echo_cancellation,
                                    gboolean noise_suppression, gboolean gain_control);

/* Speaker volume 0..AR_MEDIA_VOLUME_MAX (clamped): a gain on received audio
 * before the speaker, ar_media_volume_to_gain(). */
void ar_media_engine_set_speaker_volume(ArMediaEngine *engine, guint level);
guint ar_media_engine_get_speaker_volume(ArMediaEngine *engine);
/* The gain of a volume level: cubic, 0 -> 0.0, 100 -> 1.0. */
double ar_media_volume_to_gain(guint level);

/* ---- encoded video for a renderer outside the pipeline ---- */

/* One encoded frame of a track: H.264 as an Annex B access unit (SPS/PPS in
 * band before every IDR), VP8 as one frame. Borrowed for the call. */
typedef struct {
  const char *track;  /* the peer's label ("publisher", "feed-1234") */
  gboolean local;     /* our own camera (self view), after the camera-off gate */
  ArVideoCodec codec; /* H264 or VP8 */
  gboolean key;       /* a key frame: decoding can start here */
  gint64 pts_us;
  GBytes *data;
} ArVideoUnit;

typedef struct {
  /* Every encoded frame of every peer created while the funcs are set. */
  void (*unit)(const ArVideoUnit *unit, gpointer user_data);
  /* A track's peer closed: no more units of @track. */
  void (*ended)(const char *track, gpointer user_data);
} ArVideoSinkFuncs;

/* Sets (or, with NULL, clears) where encoded video goes; peers created from
 * then on are tapped (no decoding, no re-encoding). Called in the context
 * peers are created in, and called back there. */
void ar_media_engine_set_video_sink(ArMediaEngine *engine, const ArVideoSinkFuncs *funcs,
                                    gpointer user_data);
/* Asks the sender of @track for a key frame (RTCP PLI for a remote track, a
 * forced key frame of our encoder for the local one). FALSE: no such track. */
gboolean ar_media_engine_request_key_frame(ArMediaEngine *engine, const char *track);
/* ---- devices (ar-media-devices.c): block for a bounded time, call from a
 * worker thread ---- */

typedef enum {
  AR_MEDIA_DEVICE_CAMERA,
  AR_MEDIA_DEVICE_MICROPHONE,
  AR_MEDIA_DEVICE_SPEAKER,
} ArMediaDeviceKind;

typedef struct {
  ArMediaDeviceKind kind;
  char *id;   /* what [device] camera/microphone/speaker takes: "auto", "/dev/video0", "hw:1,0" */
  char *name; /* for people */
} ArMediaDevice;

#define AR_MEDIA_MAX_DEVICES 64
#define AR_MEDIA_SNAPSHOT_MAX_BYTES (512 * 1024)

void ar_media_device_free(ArMediaDevice *device);
const char *ar_media_device_kind_to_string(ArMediaDeviceKind kind);
/* The choices (GstDeviceMonitor: V4L2 cameras, ALSA capture and playback
 * devices), after the fixed ones (auto, test/none). ArMediaDevice*. */
GPtrArray *ar_media_list_devices(void);
/* A 440 Hz tone of @ms (100..5000) through @speaker ("auto" = ALSA default;
 * refused unless ar_media_setting_check(AR_MEDIA_SETTING_AUDIO_SINK) takes
 * it); returns when played. */
gboolean ar_media_play_test_tone(const char *speaker, guint ms,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* A JPEG of @camera ("test", "auto", a V4L2 path that
 * ar_media_setting_check(AR_MEDIA_SETTING_VIDEO_SOURCE) takes) scaled to @width x @height
 * (at most 1280x720, AR_MEDIA_SNAPSHOT_MAX_BYTES). The device must be free:
 * not during a call (its capture holds the camera from join to the end). */
GBytes *ar_media_camera_snapshot(const char *camera, guint width, guint height,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* ---- peers ---- */

typedef struct _ArPeer ArPeer;

/* Dead-peer detection (libnice 0.1.21 has no ICE consent freshness): once
 * CONNECTED, a peer that receives nothing at all from the remote side (no RTP,
 * no RTCP, no DTLS) for this long goes FAILED with AR_MEDIA_ERROR_DEAD_PEER.
 * A RECV peer hears RTP; a SEND peer only RTCP: measured at most 0.5 s apart
 * from Janus, and from another webrtcbin once our RTP sessions send RTCP
 * every ~1 s (rtpsession's 5 s default gave gaps up to 5 s). 6 s is well above
 * those gaps and above a 3 s network blackout the call must survive, and ends
 * a call whose server died within 10 s (checked every 0.5 s).
 * See docs/network.md "Liveness". */
#define AR_PEER_DEAD_TIMEOUT_S 6

typedef enum {
  AR_PEER_SEND, /* publishes the room's camera + microphone; sendonly; we offer */
  AR_PEER_RECV, /* receives a remote participant; recvonly; remote offers */
} ArPeerDirection;

typedef enum {
  AR_PEER_STATE_NEW,
  AR_PEER_STATE_CONNECTING,
  AR_PEER_STATE_CONNECTED, /* ICE + DTLS up AND remote fingerprint verified */
  AR_PEER_STATE_FAILED,    /* terminal; error given */
  AR_PEER_STATE_CLOSED,    /* terminal; after ar_peer_close() */
} ArPeerState;

const char *ar_peer_state_to_string(ArPeerState state);

typedef enum {
  AR_PEER_EVENT_FIRST_VIDEO_FRAME, /* RECV: first decoded video frame; SEND: first encoded frame */
  AR_PEER_EVENT_FIRST_AUDIO,       /* RECV: first decoded audio buffer */
} ArPeerEvent;

typedef struct {
  /* The local description is ready and already applied locally:
   * type is "offer" or "answer". The provider sends it to the remote side. */
  void (*local_description)(ArPeer *peer, const char *type, const char *sdp, gpointer user_data);
  /* A local ICE candidate ("candidate:..." line without "a="), with its
   * m-line index; candidate == NULL means gathering is complete. */
  void (*local_candidate)(ArPeer *peer, guint mline_index, const char *candidate,
                          gpointer user_data);
  /* State changes. error is set only for FAILED. */
  void (*state_changed)(ArPeer *peer, ArPeerState state, const GError *error, gpointer user_data);
  /* Optional. */
  void (*media_event)(ArPeer *peer, ArPeerEvent event, gpointer user_data);
} ArPeerCallbacks;

/* Creates a peer (its own pipeline). Nothing is sent to the network until
 * ar_peer_start (SEND) or ar_peer_set_remote_description (RECV).
 * @label is for logs/stats ("publisher", "feed-1234"). */
ArPeer *ar_peer_new(ArMediaEngine *engine, ArPeerDirection direction, const char *label,
                    const ArPeerCallbacks *callbacks, gpointer user_data,
                    GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Before ar_peer_start(): a RECV peer makes the offer itself (recvonly audio and video, the
 * codecs the room decodes) and takes an answer (WHEP). SEND peers always offer. */
void ar_peer_set_offering(ArPeer *peer);

/* Before ar_peer_start(): more ICE servers for this peer alone (the signalling named them, e.g.
 * a WHIP endpoint's Link headers): @ice's TURN servers are added to the engine's; its STUN
 * server is used when the engine gave none (webrtcbin takes one). */
gboolean ar_peer_add_ice(ArPeer *peer, const ArIceConfig *ice,
                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* SEND: starts capture + encode and creates the offer (-> local_description).
 * RECV: starts the pipeline; waits for the remote offer (or, offering, creates its own). */
gboolean ar_peer_start(ArPeer *peer, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Applies the remote description. For RECV with an offer, an answer is
 * created and reported through local_description. The SDP is untrusted:
 * it is size-checked (64 KiB) and parsed; on error nothing changes.
 * The a=fingerprint lines are remembered for verification. */
gboolean ar_peer_set_remote_description(ArPeer *peer, const char *type, const char *sdp,
                                        GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Adds a remote candidate ("candidate:..." with or without "a="); NULL or ""
 * marks end of candidates. Untrusted: size-checked; malformed -> error. */
gboolean ar_peer_add_remote_candidate(ArPeer *peer, guint mline_index, const char *candidate,
                                      GError **error) G_GNUC_WARN_UNUSED_RESULT;

ArPeerState ar_peer_get_state(ArPeer *peer);
ArPeerDirection ar_peer_get_direction(ArPeer *peer);
const char *ar_peer_get_label(ArPeer *peer);

/* Per-track counters, refreshed about once a second from webrtcbin stats and
 * our own pad probes. */
typedef struct {
  char kind[8];         /* "audio" | "video" */
  char direction[8];    /* "send" | "recv" */
  char codec[16];       /* "H264", "VP8", "OPUS", or "" before negotiation */
  guint width, height;  /* video only: caps of sent/decoded frames */
  guint64 frames;       /* video: encoded (send) / decoded (recv) frames */
  guint64 packets;      /* RTP packets sent / received */
  guint64 bytes;        /* RTP payload bytes sent / received */
  guint64 packets_lost; /* recv: from inbound stats; send: from RR */
  guint64 nack_count;
  double bitrate_bps; /* over the last refresh interval */
  double framerate;   /* video: frames/s over the last interval */
  double rtt_ms;      /* from RTCP (remote-inbound), -1 if unknown */
  double jitter_ms;   /* RTP interarrival jitter: recv: ours (inbound), send: the far end's report
                         (remote-inbound); -1 if unknown */
  double audio_level; /* recv audio: RMS dBov over last interval (-127..0), send: same on captured
                         audio */
  double luma;        /* recv video: mean luma (0..255) of the last decoded frame, -1 if unknown */
  guint64 freezes;    /* video: times no new frame came for AR_FREEZE_MIN_MS or more (recv:
                         decoded, send: encoded) */
  double freeze_ms;   /* video: the total length of those gaps */
  /* recv video, latency benchmark only (ANYROOM_TEST_STAMP=1, decoded video):
   * time stamps read in the far end's picture, and the delay since they were
   * written (the median and 95th percentile of the last 4096), in ms. */
  guint64 stamps;
  double stamp_p50_ms, stamp_p95_ms;
  /* send video of the native engine: the bandwidth controller's target
   * bitrate (0: none) and what holds it below the configured one ("none",
   * "loss", "delay", "remb", "ramp": growing back). */
  guint target_kbps;
  char limit[8];
} ArTrackStats;

/* A video freeze, as the loss lab counts them: no new frame for 1 s. */
#define AR_FREEZE_MIN_MS 1000

/* Returns a newly allocated array of ArTrackStats (g_array_unref it).
 * Never NULL. */
GArray *ar_peer_get_stats(ArPeer *peer);
/* The selected ICE candidate pair of the peer's transport, as
 * "<local type>[/<relay protocol>] -> <remote type>", e.g. "relay/tcp -> host",
 * "host -> host"; NULL before a pair is selected (refreshed with the stats). */
char *ar_peer_get_ice_path(ArPeer *peer);

/* Closes the pipeline and the connection. Idempotent; after it the peer reports
 * no more callbacks except state_changed(CLOSED) (synchronously, once). */
void ar_peer_close(ArPeer *peer);
/* Closes if needed and frees. Accepts NULL. */
void ar_peer_free(ArPeer *peer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArPeer, ar_peer_free)

/* ---- DTLS fingerprint verification (webrtcbin does not do it) ---- */

/* Parses every a=fingerprint line of an SDP (session and media level) into
 * normalized "sha-256 AB:CD:..." strings (algorithm lowercase, hex uppercase).
 * Returns NULL-terminated strv, or NULL + error if there is none or one is
 * malformed. */
char **ar_sdp_get_fingerprints(const char *sdp, GError **error);

/* Computes the fingerprint of a PEM certificate with @algorithm ("sha-256",
 * "sha-384", "sha-512", "sha-1"), in the normalized form above. */
char *ar_certificate_fingerprint(const char *pem, const char *algorithm, GError **error);

/* TRUE if the certificate matches one of the fingerprints. */
gboolean ar_fingerprint_verify(const char *pem, const char *const *fingerprints, GError **error);

G_END_DECLS
