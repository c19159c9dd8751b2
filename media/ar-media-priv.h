/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-media-priv.h: private declarations shared by the media engine sources.
 */
#pragma once

#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/video/video.h>

#include "ar-media.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN(ar_media_debug);
#define GST_CAT_DEFAULT ar_media_debug

/* Initializes GStreamer (once) and the "armedia" debug category. */
gboolean ar_media_init(GError **error);

/* Limits on untrusted input. */
#define AR_MEDIA_MAX_SDP_SIZE (64 * 1024)
#define AR_MEDIA_MAX_CANDIDATE_SIZE 1024

/* RTP payload types used in our offers. */
#define AR_MEDIA_PT_VIDEO 96
#define AR_MEDIA_PT_AUDIO 111
/* The transport-wide congestion control header extension (the sequence
 * numbers the far end's feedback reports arrival times of), on our video. */
#define AR_MEDIA_EXT_TWCC 3
#define AR_MEDIA_TWCC_URI                                                                          \
  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
/* The playout-delay header extension (ar-playout-delay.c), on our video. */
#define AR_MEDIA_EXT_PLAYOUT_DELAY 4
#define AR_MEDIA_PLAYOUT_DELAY_URI "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
/* What we ask of the receiver: show frames as soon as they are decoded (a
 * minimum of 0), and hold them at most this long for jitter. */
#define AR_MEDIA_PLAYOUT_MIN_MS 0
#define AR_MEDIA_PLAYOUT_MAX_MS 300

/* ---- playout delay (ar-playout-delay.c) ---- */

#define AR_PLAYOUT_DELAY_SIZE 3
G_DECLARE_FINAL_TYPE(ArPlayoutDelay, ar_playout_delay, AR, PLAYOUT_DELAY, GstRTPHeaderExtension)
/* A new extension (a full reference) that asks for a playout delay between
 * @min_ms and @max_ms (10 ms steps, at most 40.95 s; max at least min). */
GstRTPHeaderExtension *ar_playout_delay_new(guint min_ms, guint max_ms);
/* The extension's 3 bytes for @min_ms..@max_ms into @data; 0 if @size is short. */
gsize ar_playout_delay_pack(guint min_ms, guint max_ms, guint8 *data, gsize size);

/* ---- encoder (ar-encoder.c) ---- */

/* Builds (floating reference) "scale ! rate ! scale caps ! encoder ! caps ! parser ! payloader !
 * rtp caps" in a bin with a "sink" ghost pad (raw video) and a "src" ghost pad (RTP). The
 * payloader is named "pay" inside the bin; its sink pad carries one buffer per encoded
 * frame. The scaler and rate pass frames through untouched until
 * ar_encoder_set_picture() asks for less. */
GstElement *ar_encoder_make_bin(const ArEncoderInfo *info, guint bitrate_kbps, guint framerate,
                                GError **error);
/* The bandwidth controller's outputs, on a bin of ar_encoder_make_bin() while
 * it runs: the encoder's bitrate, and the picture it encodes (0 x 0 at 0 fps:
 * what comes in, untouched). */
void ar_encoder_set_bitrate(GstElement *bin, const ArEncoderInfo *info, guint bitrate_kbps);
void ar_encoder_set_picture(GstElement *bin, guint width, guint height, guint framerate);
/* The RTP caps we offer for @codec (payload type @pt). */
GstCaps *ar_encoder_rtp_caps(ArVideoCodec codec, guint pt);
/* The id of the transport-wide sequence number extension in CAPS (an
 * "extmap-N" field naming its URI), or 0. */
guint ar_rtp_caps_twcc_id(const GstCaps *caps);
/* The transport-wide sequence number that extension @id carries in @buffer
 * (an RTP packet), and the packet's payload size: FALSE if it has none. */
gboolean ar_rtp_buffer_twcc_seqnum(GstBuffer *buffer, guint id, guint16 *seqnum,
                                   guint *payload_size);

/* ---- decoder preference (ar-decoder.c) ---- */

/* Reorders decodebin's candidate factories (GstElementFactory *, best rank
 * first): the ones named in @preference, in its order, ahead of the other
 * decoders, which keep their order. Non-decoders that came before the first
 * decoder (parsers, depayloaders) stay in front: decodebin must still try a
 * parser first. Unknown and repeated names are ignored; NULL or an empty
 * @preference keeps the order. Returns a new list of the same factories (not
 * referenced: free it with g_list_free); @factories is not changed. */
GList *ar_decoder_sort(const GList *factories, const char *const *preference);
/* Makes @decodebin try the decoders of @preference (copied) first, through
 * its autoplug-sort signal: this decodebin only, never the global ranks.
 * NULL or empty: nothing is connected (GStreamer's ranks). */
void ar_decoder_attach(GstElement *decodebin, const char *const *preference);
/* A decoder for @media_type (e.g. "audio/x-opus") where no decodebin is used: the first of
 * @preference that is a decoder taking it, else @fallback (what decodebin's ranks pick); NULL if
 * neither can be made. */
GstElement *ar_decoder_make(const char *const *preference, const char *media_type,
                            const char *fallback);
/* TRUE if @element's factory classifies it as a decoder. */
gboolean ar_decoder_is_decoder(GstElement *element);
/* The factory name of the decoder inside @bin (recursively), or NULL. */
char *ar_decoder_find_in(GstBin *bin);

/* ---- config values (ar-media-config.c) ---- */

/* What a device value asks for. */
typedef enum {
  AR_MEDIA_VALUE_AUTO,   /* "auto" (or NULL): looked for when the engine resolves it */
  AR_MEDIA_VALUE_OFF,    /* sources "test" (generated); sinks "none", video sink "kiosk" */
  AR_MEDIA_VALUE_DEVICE, /* a /dev/ path, an ALSA name, video sink "window" */
} ArMediaValue;

/* The element for an audio device value the settings took (NULL: the
 * default device): alsasrc/alsasink, or pulsesrc/pulsesink for "pulse:NAME";
 * *@element_device (may be NULL) the value of its "device" property. */
#define AR_MEDIA_PULSE_PREFIX "pulse:"
const char *ar_media_audio_element(const char *device, gboolean source,
                                   const char **element_device);

/* ar_media_setting_check() that also says what the value asks for. */
gboolean ar_media_setting_parse(ArMediaSetting setting, const char *value, ArMediaValue *out,
                                GError **error);

/* ---- engine (ar-media-engine.c) ---- */

const ArIceConfig *ar_media_engine_get_ice(ArMediaEngine *engine);

/* ar-turn-tls.c: a loopback listener whose connections go on over verified
 * TLS to host:port (libnice has no TLS client). */
typedef struct _ArTurnTls ArTurnTls;
ArTurnTls *ar_turn_tls_new(const char *host, guint16 port, const char *ca_file, GError **error);
guint16 ar_turn_tls_get_local_port(ArTurnTls *tls);
void ar_turn_tls_free(ArTurnTls *tls);
/* Called (in the shim's context) after each TLS connection attempt: @message
 * is why it failed ("TURN over TLS: host:443: Unacceptable TLS certificate"),
 * or NULL when the certificate was verified. */
typedef void (*ArTurnTlsResultFunc)(ArTurnTls *tls, const char *message, gpointer data);
void ar_turn_tls_set_result_func(ArTurnTls *tls, ArTurnTlsResultFunc func, gpointer data);

/* Peers register with their engine (ar-peer.c), so that a failure every peer
 * shares (the only TURN relays refused) reaches them at once. */
void ar_media_engine_add_peer(ArMediaEngine *engine, ArPeer *peer);
void ar_media_engine_remove_peer(ArMediaEngine *engine, ArPeer *peer);
/* Why the last turns: connection failed, or NULL (verified since, or none). */
const char *ar_media_engine_get_turn_tls_error(ArMediaEngine *engine);
/* ar-peer.c: every relay this peer may use (relay-only, all turns:) was
 * refused: a peer still connecting fails now, not at the join timeout. */
void ar_peer_turn_tls_refused(ArPeer *peer, const char *message);
GstElement *ar_media_engine_make_video_sink(ArMediaEngine *engine, GError **error);

/* ---- media controls (ar-media-controls.c) ---- */

/* Shared, refcounted state read by pad probes on streaming threads. */
typedef struct _ArMediaControls ArMediaControls;
ArMediaControls *ar_media_controls_new(void);
ArMediaControls *ar_media_controls_ref(ArMediaControls *c);
void ar_media_controls_unref(ArMediaControls *c);
void ar_media_controls_set_mic_muted(ArMediaControls *c, gboolean muted);
gboolean ar_media_controls_get_mic_muted(ArMediaControls *c);
void ar_media_controls_set_camera_enabled(ArMediaControls *c, gboolean enabled);
gboolean ar_media_controls_get_camera_enabled(ArMediaControls *c);
void ar_media_controls_set_volume(ArMediaControls *c, guint level);
guint ar_media_controls_get_volume(ArMediaControls *c);
/* @pad carries S16 audio from the microphone: zeroed while muted. */
void ar_media_controls_attach_microphone(ArMediaControls *c, GstPad *pad);
/* @pad carries raw camera video: black frames while the camera is off. */
void ar_media_controls_attach_camera(ArMediaControls *c, GstPad *pad);
/* @pad carries S16 audio to the speaker: scaled by the volume. */
void ar_media_controls_attach_speaker(ArMediaControls *c, GstPad *pad);
ArMediaControls *ar_media_engine_get_controls(ArMediaEngine *engine);
/* A black frame of @info (video-range black for YUV), or NULL. */
GstBuffer *ar_media_make_black_frame(const GstVideoInfo *info);

/* ---- capture graph (ar-capture.c) ---- */

typedef struct {
  const char *video_device;   /* V4L2 path; NULL: the moving test pattern */
  const char *audio_device;   /* ALSA name; NULL: the 440 Hz test tone */
  const char *speaker_device; /* ALSA name; NULL: discarded (in real time) */
  guint width, height, framerate;
  /* The microphone's processing (webrtcdsp), each on or off. */
  gboolean echo_cancellation, noise_suppression, gain_control;
} ArCaptureSpec;

/* Builds and starts the graph (the devices open here), gated by @controls. */
ArCapture *ar_capture_new(const ArCaptureSpec *spec, ArMediaControls *controls, GError **error);
/* *@slot (the engine's pointer to its current capture) is cleared when the
 * capture fails or is freed. */
void ar_capture_set_owner_slot(ArCapture *capture, ArCapture **slot);

/* ---- the lab's clip camera (ar-test-clip.c; ANYROOM_TEST_CLIP) ---- */

/* A live source of FILE's raw I420 frames of @width x @height, looped at @framerate. */
GstElement *ar_test_clip_new(const char *file, guint width, guint height, guint framerate,
                             GError **error);

/* ---- time stamps in pictures (ar-stamp.c; the latency benchmark) ---- */

#define AR_STAMP_BLOCK 16 /* pixels per side of one bit's block */
/* TRUE when ANYROOM_TEST_STAMP=1: the test camera stamps its frames and
 * decoded received video is read for stamps (docs/latency.md). */
gboolean ar_stamp_enabled(void);
/* The wall clock in ms, modulo 2^32: what a stamp holds. */
guint32 ar_stamp_now(void);
/* TRUE if @info is I420 and large enough for the code (256x48). */
gboolean ar_stamp_fits(const GstVideoInfo *info);
/* Writes @ms into the top-left corner of a writable I420 frame. */
gboolean ar_stamp_write(GstVideoFrame *frame, guint32 ms);
/* Reads a stamp; FALSE if the frame carries none (or a damaged one). */
gboolean ar_stamp_read(const GstVideoFrame *frame, guint32 *ms);

/* ---- encoded video tap (ar-video-tap.c) ---- */

#define AR_VIDEO_UNIT_MAX_SIZE (4 * 1024 * 1024)

typedef struct _ArVideoTap ArVideoTap;
/* Registers with @engine (units go to its video sink). */
ArVideoTap *ar_video_tap_new(ArMediaEngine *engine, const char *track, gboolean local,
                             ArVideoCodec codec, GMainContext *context);
const char *ar_video_tap_get_track(ArVideoTap *tap);
void ar_video_tap_attach(ArVideoTap *tap, GstPad *pad, GstPad *key_pad, guint ssrc);
GstPad *ar_video_tap_branch(ArVideoTap *tap, GstBin *pipeline, GstPad *src, const char *encoding,
                            guint ssrc);
void ar_video_tap_request_key_frame(ArVideoTap *tap);
/* Stops the units and unregisters (the sink hears "ended"). Idempotent. */
void ar_video_tap_close(ArVideoTap *tap);
void ar_video_tap_free(ArVideoTap *tap);
/* ar-media-engine.c */
gboolean ar_media_engine_has_video_sink(ArMediaEngine *engine);
/* RECV peers decode video only when the engine shows it (a window) or the
 * config asks (ArMediaConfig.decode_received_video). */
gboolean ar_media_engine_decodes_received_video(ArMediaEngine *engine);
void ar_media_engine_add_tap(ArMediaEngine *engine, ArVideoTap *tap);
void ar_media_engine_remove_tap(ArMediaEngine *engine, ArVideoTap *tap);
void ar_media_engine_emit_video_unit(ArMediaEngine *engine, const ArVideoUnit *unit);

/* Creates an element or fails with AR_MEDIA_ERROR_NO_ELEMENT. */
GstElement *ar_media_make_element(const char *factory, const char *name, GError **error);
/* A timer source named @name calling @func(@data) every @ms in @context, attached (the
 * caller owns the returned reference: g_source_destroy + unref it). */
GSource *ar_media_timer_attach(guint ms, const char *name, GSourceFunc func, gpointer data,
                               GMainContext *context);

/* ---- fingerprints (ar-fingerprint.c) ---- */

/* Splits a normalized "sha-256 AB:CD" fingerprint into its algorithm. */
gboolean ar_fingerprint_split(const char *fingerprint, char **algorithm, char **value);

/* ---- stats (ar-peer-stats.c) ---- */

typedef struct _ArPeerStats ArPeerStats;

/* Counters one track's pad probes update from streaming threads. */
typedef struct _ArTrackProbe ArTrackProbe;

ArPeerStats *ar_peer_stats_new(GstElement *webrtc, GMainContext *context, gboolean send);
/* RECV: the jitter buffer's configured latency; the stats raise it while the
 * stream loses packets (retransmissions need the time) and bring it back after
 * a calm spell. 0: left alone. */
void ar_peer_stats_set_jitter(ArPeerStats *stats, guint base_ms);
void ar_peer_stats_free(ArPeerStats *stats);
/* Probes that feed the counters of a track (owned by @stats). */
ArTrackProbe *ar_peer_stats_get_probe(ArPeerStats *stats, const char *kind);
/* Sets the codec name of a track once known (e.g. from caps). */
void ar_peer_stats_set_codec(ArPeerStats *stats, const char *kind, const char *codec);
/* The SSRC of a track's media stream (from caps), to map webrtcbin stats. */
void ar_peer_stats_set_ssrc(ArPeerStats *stats, const char *kind, guint ssrc);
/* Starts the periodic refresh (about once a second). */
void ar_peer_stats_start(ArPeerStats *stats);
/* Stops the refresh; pending replies are dropped. */
void ar_peer_stats_stop(ArPeerStats *stats);
GArray *ar_peer_stats_snapshot(ArPeerStats *stats);
char *ar_peer_stats_get_ice_path(ArPeerStats *stats);
/* Counts frames/caps on buffers of @pad into @probe. */
void ar_track_probe_attach_video(ArTrackProbe *probe, GstPad *pad);
/* Computes RMS level of raw audio (S16/F32 interleaved) into @probe. */
void ar_track_probe_attach_audio(ArTrackProbe *probe, GstPad *pad);

/* The local candidate of the selected pair: its address (newly allocated,
 * NULL before a pair is selected) and whether it is a host candidate. */
char *ar_peer_stats_get_local_address(ArPeerStats *stats, gboolean *is_host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArPeerStats, ar_peer_stats_free)

/* ---- address watch (ar-netwatch.c) ---- */

/* Called in the source's context with each IP address the machine lost. */
typedef void (*ArAddressGoneFunc)(const char *address, gpointer user_data);
/* A source (not attached) that reports removed addresses (Linux rtnetlink). */
GSource *ar_netwatch_source_new(ArAddressGoneFunc func, gpointer user_data, GError **error);

G_END_DECLS
