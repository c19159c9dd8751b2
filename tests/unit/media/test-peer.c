/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-peer.c: real WebRTC calls between a SEND and a RECV peer in this
 * process (test pattern + tone, 320x240), the DTLS fingerprint check with a
 * tampered SDP, a call with the RECV peer in a child process, and the
 * validation of untrusted SDP/candidates. main() of test-media-peer, which
 * also runs the media-control and video-tap tests (test-peer-controls.c) and
 * the liveness and network tests (test-peer-network.c); the call harness is
 * peer-harness.c.
 */
#include <gio/gio.h>
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "peer-harness.h"

/* ---- helpers ---- */

static void
log_stats(const char *name, GArray *stats)
{
  for (guint i = 0; i < stats->len; i++) {
    const ArTrackStats *t = &g_array_index(stats, ArTrackStats, i);

    g_test_message("%s %s/%s %s: %ux%u frames=%" G_GUINT64_FORMAT
                   " %.1f fps packets=%" G_GUINT64_FORMAT " bytes=%" G_GUINT64_FORMAT
                   " lost=%" G_GUINT64_FORMAT " nack=%" G_GUINT64_FORMAT
                   " %.0f bit/s rtt=%.1f ms level=%.1f dB",
                   name, t->kind, t->direction, t->codec, t->width, t->height, t->frames,
                   t->framerate, t->packets, t->bytes, t->packets_lost, t->nack_count,
                   t->bitrate_bps, t->rtt_ms, t->audio_level);
  }
}

static gboolean
send_has_rtt(Call *call)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(call->send.peer);
  const ArTrackStats *v = find_track(stats, "video");

  return v != NULL && v->rtt_ms >= 0;
}

static gboolean
gathering_done(Call *call)
{
  return call->send.gathering_done && call->recv.gathering_done;
}

/* ---- tests ---- */

static void
run_loopback_call(const char *const *encoders, const char *codec)
{
  Call call;
  g_autoptr(GArray) rs = NULL;
  g_autoptr(GArray) ss = NULL;
  const ArTrackStats *v, *a, *sv, *sa;
  gint64 t0;

  if (!require_network())
    return;
  call_init(&call, encoders);
  t0 = g_get_monotonic_time();
  call_start(&call);

  if (!wait_for(&call, both_connected, CALL_TIMEOUT_MS, "both peers CONNECTED"))
    goto out;
  g_assert_no_error(call.send.error);
  g_assert_no_error(call.recv.error);
  g_assert_no_error(call.signalling_error);
  g_test_message("connected after %.0f ms", (g_get_monotonic_time() - t0) / 1000.0);
  g_assert_cmpint(call.send.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpint(call.recv.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpuint(call.send.n_candidates, >, 0);
  g_assert_cmpuint(call.recv.n_candidates, >, 0);
  /* End of candidates is reported once (NULL), after the candidates. */
  wait_for(&call, gathering_done, CALL_TIMEOUT_MS, "end of candidates on both sides");

  /* The SDP carries what browsers need. */
  g_assert_nonnull(call.offer);
  g_assert_nonnull(strstr(call.offer, "a=fingerprint:sha-256 "));
  g_assert_nonnull(strstr(call.offer, "a=sendonly"));
  g_assert_nonnull(strstr(call.offer, "a=group:BUNDLE"));
  /* RFC 7587: Opus is always "opus/48000/2"; Janus refuses the m-line otherwise. */
  g_assert_nonnull(g_strstr_len(call.offer, -1, "OPUS/48000/2")
                       ? call.offer
                       : strstr(call.offer, "opus/48000/2"));
  g_assert_nonnull(strstr(call.offer, "nack"));
  if (g_str_equal(codec, "H264")) {
    g_assert_nonnull(strstr(call.offer, "H264/90000"));
    g_assert_nonnull(strstr(call.offer, "profile-level-id=42e01f"));
    g_assert_nonnull(strstr(call.offer, "packetization-mode=1"));
    g_assert_nonnull(strstr(call.offer, "level-asymmetry-allowed=1"));
  } else {
    g_assert_nonnull(strstr(call.offer, "VP8/90000"));
  }
  g_assert_nonnull(call.answer);
  g_assert_nonnull(strstr(call.answer, "a=recvonly"));

  if (!wait_for(&call, recv_has_media, CALL_TIMEOUT_MS, ">= 30 decoded frames and audio"))
    goto out;
  g_assert_false(someone_failed(&call));
  g_test_message("media after %.0f ms", (g_get_monotonic_time() - t0) / 1000.0);

  /* Let one more stats round pass so RTCP-based values and rates are in. */
  wait_for(&call, send_has_rtt, 8000, "an RTT measurement on the sending side");
  spin(1100);

  rs = ar_peer_get_stats(call.recv.peer);
  ss = ar_peer_get_stats(call.send.peer);
  log_stats("recv", rs);
  log_stats("send", ss);
  v = find_track(rs, "video");
  a = find_track(rs, "audio");
  sv = find_track(ss, "video");
  sa = find_track(ss, "audio");
  g_assert_nonnull(v);
  g_assert_nonnull(a);
  g_assert_nonnull(sv);
  g_assert_nonnull(sa);

  g_assert_cmpstr(v->direction, ==, "recv");
  g_assert_cmpstr(v->codec, ==, codec);
  g_assert_cmpuint(v->width, ==, 320);
  g_assert_cmpuint(v->height, ==, 240);
  g_assert_cmpuint(v->frames, >=, 30);
  g_assert_cmpuint(v->packets, >, 0);
  g_assert_cmpuint(v->bytes, >, 0);
  g_assert_cmpfloat(v->framerate, >, 10.0);
  g_assert_cmpfloat(v->bitrate_bps, >, 0.0);

  g_assert_cmpstr(a->codec, ==, "OPUS");
  g_assert_cmpuint(a->packets, >, 0);
  /* A 0.3 sine is about -13.5 dBov: real energy, not silence. */
  g_assert_cmpfloat(a->audio_level, >, -30.0);
  g_assert_cmpfloat(a->audio_level, <=, 0.0);

  g_assert_cmpstr(sv->direction, ==, "send");
  g_assert_cmpstr(sv->codec, ==, codec);
  g_assert_cmpuint(sv->width, ==, 320);
  g_assert_cmpuint(sv->height, ==, 240);
  g_assert_cmpuint(sv->frames, >=, 30);
  g_assert_cmpuint(sv->packets, >, 0);
  g_assert_cmpfloat(sv->bitrate_bps, >, 0.0);
  g_assert_cmpstr(sa->codec, ==, "OPUS");
  g_assert_cmpuint(sa->packets, >, 0);
  g_assert_cmpfloat(sa->audio_level, >, -30.0);
  g_assert_true(call.send.first_video);

out:
  call_clear(&call);
}

static void
test_loopback_call(void)
{
  static const char *const h264[] = {"x264enc", NULL};

  run_loopback_call(h264, "H264");
}

static void
test_loopback_call_vp8(void)
{
  static const char *const vp8[] = {"vp8enc", NULL};

  run_loopback_call(vp8, "VP8");
}

/* ---- the decoder preference reaches the RECV peer's decodebin ---- */

/* The video decoder the RECV peer ("feed-1") logged, from the structured log
 * fields the media engine writes (AR_PEER, AR_MEDIA, AR_DECODER). Any thread. */
static GMutex decoder_lock;
static char *decoder_logged;

static const char *
field_string(const GLogField *f, char **tmp)
{
  if (f->length < 0)
    return f->value;
  *tmp = g_strndup(f->value, (gsize)f->length);
  return *tmp;
}

static GLogWriterOutput
test_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  g_autofree char *peer_tmp = NULL;
  g_autofree char *decoder_tmp = NULL;
  g_autofree char *media_tmp = NULL;
  const char *peer = NULL, *decoder = NULL, *media = NULL;

  for (gsize i = 0; i < n_fields; i++) {
    if (g_str_equal(fields[i].key, "AR_PEER"))
      peer = field_string(&fields[i], &peer_tmp);
    else if (g_str_equal(fields[i].key, "AR_DECODER"))
      decoder = field_string(&fields[i], &decoder_tmp);
    else if (g_str_equal(fields[i].key, "AR_MEDIA"))
      media = field_string(&fields[i], &media_tmp);
  }
  if (g_strcmp0(peer, "feed-1") == 0 && g_strcmp0(media, "video") == 0 && decoder != NULL) {
    g_mutex_lock(&decoder_lock);
    g_free(decoder_logged);
    decoder_logged = g_strdup(decoder);
    g_mutex_unlock(&decoder_lock);
  }
  return g_log_writer_default(level, fields, n_fields, data);
}

static char *
take_decoder_logged(void)
{
  char *d;

  g_mutex_lock(&decoder_lock);
  d = g_steal_pointer(&decoder_logged);
  g_mutex_unlock(&decoder_lock);
  return d;
}

/* A VP8 call whose engine prefers @decoder: the RECV peer decodes with it. */
static void
run_decoder_call(const char *decoder)
{
  const char *const vp8[] = {"vp8enc", NULL};
  const char *const pref[] = {"nosuchdec", decoder, NULL};
  Call call;
  g_autofree char *got = NULL;

  g_free(take_decoder_logged());
  test_decoders = pref;
  test_decode_video = TRUE;
  call_init(&call, vp8);
  test_decoders = NULL;
  test_decode_video = FALSE;
  call_start(&call);
  if (!wait_for(&call, both_connected, CALL_TIMEOUT_MS, "both peers CONNECTED"))
    goto out;
  if (!wait_for(&call, recv_has_media, CALL_TIMEOUT_MS, ">= 30 decoded frames and audio"))
    goto out;
  g_assert_false(someone_failed(&call));
  got = take_decoder_logged();
  g_test_message("preference %s: the RECV peer decoded VP8 with %s", decoder,
                 got != NULL ? got : "(nothing logged)");
  g_assert_cmpstr(got, ==, decoder);
out:
  call_clear(&call);
}

static void
test_decoder_preference(void)
{
  g_autoptr(GstElementFactory) av = NULL;
  g_autoptr(GstElementFactory) vpx = NULL;

  gst_init(NULL, NULL);
  av = gst_element_factory_find("avdec_vp8");
  vpx = gst_element_factory_find("vp8dec");
  if (!require_network())
    return;
  if (av == NULL || vpx == NULL) {
    g_test_skip("needs avdec_vp8 (gst-libav) and vp8dec (gst-plugins-good)");
    return;
  }
  /* Both ways round: one of them is not what GStreamer's ranks pick. */
  run_decoder_call("avdec_vp8");
  run_decoder_call("vp8dec");
}

static void
run_tampered(gboolean tamper_offer)
{
  Call call;
  Side *victim, *other;
  g_autoptr(GArray) rs = NULL;
  const ArTrackStats *v;

  if (!require_network())
    return;
  call_init(&call, NULL);
  call.tamper_offer = tamper_offer;
  call.tamper_answer = !tamper_offer;
  /* The peer that got the tampered SDP is the one that must refuse. */
  victim = tamper_offer ? &call.recv : &call.send;
  other = tamper_offer ? &call.send : &call.recv;
  call_start(&call);

  if (!wait_for(&call, someone_failed, CALL_TIMEOUT_MS, "the peer with the tampered SDP to fail"))
    goto out;
  g_assert_cmpint(victim->state, ==, AR_PEER_STATE_FAILED);
  g_assert_error(victim->error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
  g_assert_nonnull(strstr(victim->error->message, "does not match the SDP fingerprint"));
  g_assert_false(victim->ever_connected);
  g_assert_no_error(call.signalling_error);

  /* Give media time to flow if it could: nothing may be decoded, because
   * RTP is held back until the certificate is verified. */
  spin(2000);
  g_assert_false(victim->ever_connected);
  g_assert_cmpint(victim->state, ==, AR_PEER_STATE_FAILED);
  rs = ar_peer_get_stats(call.recv.peer);
  v = find_track(rs, "video");
  g_assert_true(v == NULL || v->frames == 0);
  g_assert_false(call.recv.first_video);
  g_test_message("other side ended %s", ar_peer_state_to_string(other->state));

out:
  call_clear(&call);
}

static void
test_tampered_offer(void)
{
  run_tampered(TRUE);
}

static void
test_tampered_answer(void)
{
  run_tampered(FALSE);
}

static void
test_remote_sdp_validation(void)
{
  Call call;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) big = g_string_new("v=0\r\n");
  const char *no_media = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                         "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                         "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n";
  const char *no_fp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
                      "a=rtpmap:96 VP8/90000\r\na=sendonly\r\n";

  call_init(&call, NULL);
  while (big->len <= 64 * 1024)
    g_string_append(big, "a=x-filler:0123456789012345678901234567890123456789\r\n");

  g_assert_false(ar_peer_set_remote_description(call.recv.peer, "offer", big->str, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);
  g_assert_false(ar_peer_set_remote_description(call.recv.peer, "offer", no_media, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);
  g_assert_false(ar_peer_set_remote_description(call.recv.peer, "offer", no_fp, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_assert_nonnull(strstr(error->message, "fingerprint"));
  g_clear_error(&error);
  g_assert_false(ar_peer_set_remote_description(call.recv.peer, "answer", no_fp, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);
  g_assert_false(ar_peer_set_remote_description(call.send.peer, "offer", no_fp, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);
  g_assert_false(ar_peer_set_remote_description(call.recv.peer, "offer", NULL, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);
  g_assert_false(
      ar_peer_set_remote_description(call.recv.peer, "offer", "\x01\x02garbage", &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);

  /* On error nothing changed. */
  g_assert_cmpint(ar_peer_get_state(call.recv.peer), ==, AR_PEER_STATE_NEW);
  g_assert_cmpint(call.recv.state, ==, AR_PEER_STATE_NEW);
  call_clear(&call);
}

static void
test_candidate_validation(void)
{
  Call call;
  g_autoptr(GError) error = NULL;
  g_autofree char *long_candidate = NULL;
  const char *good = "candidate:1 1 UDP 2122252543 10.97.0.1 40000 typ host";
  g_autofree char *with_a = g_strconcat("a=", good, NULL);
  const char *bad[] = {
      "1 1 UDP 2122252543 10.97.0.1 40000 typ host",
      "candidate:",
      "candidate:1 1 UDP 2122252543 10.97.0.1 40000 typ host\r\na=evil",
      "candidate:1 1 UDP 2122252543 10.97.0.1 40000 typ host\xff",
      "a=a=candidate:1",
      "xcandidate:1 1 UDP 1 1.2.3.4 1 typ host",
  };

  call_init(&call, NULL);
  long_candidate = g_strnfill(2000, 'x');
  memcpy(long_candidate, "candidate:", strlen("candidate:"));

  g_assert_true(ar_peer_add_remote_candidate(call.recv.peer, 0, good, &error));
  g_assert_no_error(error);
  g_assert_true(ar_peer_add_remote_candidate(call.recv.peer, 0, with_a, &error));
  g_assert_no_error(error);
  g_assert_true(ar_peer_add_remote_candidate(call.recv.peer, 0, NULL, &error));
  g_assert_true(ar_peer_add_remote_candidate(call.recv.peer, 0, "", &error));
  g_assert_no_error(error);

  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    if (ar_peer_add_remote_candidate(call.recv.peer, 0, bad[i], &error))
      g_test_fail_printf("accepted bad candidate %" G_GSIZE_FORMAT, i);
    g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE);
    g_clear_error(&error);
  }
  g_assert_false(ar_peer_add_remote_candidate(call.recv.peer, 0, long_candidate, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE);
  g_clear_error(&error);
  g_assert_false(ar_peer_add_remote_candidate(call.recv.peer, 100000, good, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE);
  g_clear_error(&error);
  call_clear(&call);
}

static void
test_close_silences_callbacks(void)
{
  Call call;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) stats = NULL;

  /* Close right after start, while webrtcbin is still creating the offer:
   * whatever it posts must not reach us. */
  call_init(&call, NULL);
  g_assert_true(ar_peer_start(call.send.peer, &error));
  g_assert_no_error(error);
  g_assert_cmpint(call.send.state, ==, AR_PEER_STATE_CONNECTING);
  side_close(&call.send);
  g_assert_false(ar_peer_start(call.send.peer, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED);
  stats = ar_peer_get_stats(call.send.peer);
  g_assert_nonnull(stats);
  call_clear(&call);

  /* Freeing without closing first also works, and NULL is accepted. */
  call_init(&call, NULL);
  g_assert_true(ar_peer_start(call.send.peer, &error));
  spin(200);
  ar_peer_free(call.send.peer);
  call.send.peer = NULL;
  g_assert_cmpuint(call.send.closed_count, ==, 1);
  ar_peer_free(NULL);
  call.send.closing = TRUE;
  spin(300);
  g_assert_cmpuint(call.send.callbacks_after_close, ==, 0);
  ar_peer_free(call.recv.peer);
  ar_media_engine_free(call.engine);
  g_free(call.offer);
  g_free(call.answer);
}

/* ---- a call across two processes ----
 *
 * GStreamer uses one DTLS certificate per process, so the two peers of the
 * in-process calls present the same certificate. Here the RECV peer runs in a
 * child process (this binary with --child-recv), so the certificates differ:
 * a check that hashed the local certificate instead of the remote one would
 * fail this call. Signalling is one line per message on stdin/stdout. */

static void child_write(const char *format, ...) G_GNUC_PRINTF(1, 2);

static void
child_write(const char *format, ...)
{
  g_autofree char *line = NULL;
  va_list ap;
  gsize off = 0, len;

  va_start(ap, format);
  line = g_strdup_vprintf(format, ap);
  va_end(ap);
  len = strlen(line);
  while (off < len) {
    ssize_t n = write(STDOUT_FILENO, line + off, len - off);

    if (n <= 0)
      return;
    off += (gsize)n;
  }
}

typedef struct {
  GMainLoop *loop;
  ArPeer *peer;
  gboolean media_reported;
} Child;

static void
child_on_description(ArPeer *peer, const char *type, const char *sdp, gpointer user_data)
{
  g_autofree char *b64 = g_base64_encode((const guchar *)sdp, strlen(sdp));

  child_write("%s %s\n", type, b64);
}

static void
child_on_candidate(ArPeer *peer, guint mline, const char *candidate, gpointer user_data)
{
  if (candidate != NULL)
    child_write("cand %u %s\n", mline, candidate);
}

static void
child_on_state(ArPeer *peer, ArPeerState state, const GError *error, gpointer user_data)
{
  child_write("state %s %s\n", ar_peer_state_to_string(state), error ? error->message : "");
}

static gboolean
child_on_input(GIOChannel *ch, GIOCondition cond, gpointer user_data)
{
  Child *child = user_data;
  g_autofree char *line = NULL;
  g_autoptr(GError) error = NULL;
  GIOStatus st = g_io_channel_read_line(ch, &line, NULL, NULL, NULL);

  if (st == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  if (st != G_IO_STATUS_NORMAL || line == NULL) {
    g_main_loop_quit(child->loop);
    return G_SOURCE_REMOVE;
  }
  g_strchomp(line);
  if (g_str_has_prefix(line, "offer ")) {
    gsize len = 0;
    g_autofree guchar *sdp = g_base64_decode(line + 6, &len);
    g_autofree char *text = g_strndup((const char *)sdp, len);

    if (!ar_peer_set_remote_description(child->peer, "offer", text, &error))
      child_write("state error %s\n", error->message);
  } else if (g_str_has_prefix(line, "cand ")) {
    char *end = NULL;
    guint64 mline = g_ascii_strtoull(line + 5, &end, 10);

    if (end != NULL && *end == ' ' &&
        !ar_peer_add_remote_candidate(child->peer, (guint)mline, end + 1, &error))
      child_write("state error %s\n", error->message);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
child_report_media(gpointer user_data)
{
  Child *child = user_data;
  g_autoptr(GArray) stats = ar_peer_get_stats(child->peer);
  const ArTrackStats *v = find_track(stats, "video");
  const ArTrackStats *a = find_track(stats, "audio");

  if (!child->media_reported && v != NULL && v->frames >= 30 && a != NULL && a->packets > 0) {
    child->media_reported = TRUE;
    child_write("media %" G_GUINT64_FORMAT " %u %u %.1f\n", v->frames, v->width, v->height,
                a->audio_level);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
child_give_up(gpointer user_data)
{
  g_main_loop_quit(((Child *)user_data)->loop);
  return G_SOURCE_REMOVE;
}

static int
child_main(void)
{
  static const ArPeerCallbacks cbs = {
      .local_description = child_on_description,
      .local_candidate = child_on_candidate,
      .state_changed = child_on_state,
  };
  Child child = {0};
  g_autoptr(GError) error = NULL;
  g_autoptr(ArMediaEngine) engine = make_engine(NULL);
  GIOChannel *in = g_io_channel_unix_new(STDIN_FILENO);

  child.loop = g_main_loop_new(NULL, FALSE);
  child.peer = ar_peer_new(engine, AR_PEER_RECV, "child", &cbs, &child, &error);
  if (child.peer == NULL || !ar_peer_start(child.peer, &error)) {
    child_write("state error %s\n", error->message);
    return 1;
  }
  g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, child_on_input, &child);
  g_timeout_add(100, child_report_media, &child);
  g_timeout_add_seconds(60, child_give_up, &child);
  g_main_loop_run(child.loop);
  ar_peer_free(child.peer);
  g_io_channel_unref(in);
  g_main_loop_unref(child.loop);
  return 0;
}

typedef struct {
  Call call; /* only .send, .engine used */
  GSubprocess *proc;
  GOutputStream *to_child;
  GDataInputStream *from_child;
  GCancellable *cancel;
  char *child_state;
  char *child_answer;
  gboolean child_media;
  guint media_frames, media_width, media_height;
  double media_level;
  gboolean child_exited;
} XCall;

static void
xcall_send_line(XCall *x, const char *line)
{
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all(x->to_child, line, strlen(line), NULL, NULL, &error))
    g_test_message("cannot write to the child: %s", error->message);
}

static void
x_on_description(ArPeer *peer, const char *type, const char *sdp, gpointer user_data)
{
  XCall *x = user_data;
  g_autofree char *b64 = g_base64_encode((const guchar *)sdp, strlen(sdp));
  g_autofree char *line = g_strdup_printf("offer %s\n", b64);

  x->call.offer = g_strdup(sdp);
  xcall_send_line(x, line);
}

static void
x_on_candidate(ArPeer *peer, guint mline, const char *candidate, gpointer user_data)
{
  g_autofree char *line = NULL;

  if (candidate == NULL)
    return;
  line = g_strdup_printf("cand %u %s\n", mline, candidate);
  xcall_send_line(user_data, line);
}

static void
x_on_state(ArPeer *peer, ArPeerState state, const GError *error, gpointer user_data)
{
  XCall *x = user_data;

  g_test_message("parent send: %s%s%s", ar_peer_state_to_string(state), error ? ": " : "",
                 error ? error->message : "");
  x->call.send.state = state;
  if (error != NULL && x->call.send.error == NULL)
    x->call.send.error = g_error_copy(error);
}

static void xcall_read_next(XCall *x);

static void
xcall_on_line(GObject *source, GAsyncResult *res, gpointer user_data)
{
  XCall *x = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line =
      g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res, NULL, &error);

  if (line == NULL) {
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      x->child_exited = TRUE;
    return;
  }
  if (g_str_has_prefix(line, "answer ")) {
    gsize len = 0;
    g_autofree guchar *sdp = g_base64_decode(line + 7, &len);

    x->child_answer = g_strndup((const char *)sdp, len);
    if (!ar_peer_set_remote_description(x->call.send.peer, "answer", x->child_answer, &error))
      g_test_message("parent refused the answer: %s", error->message);
  } else if (g_str_has_prefix(line, "cand ")) {
    char *end = NULL;
    guint64 mline = g_ascii_strtoull(line + 5, &end, 10);

    if (end != NULL && *end == ' ' &&
        !ar_peer_add_remote_candidate(x->call.send.peer, (guint)mline, end + 1, &error))
      g_test_message("parent refused a candidate: %s", error->message);
  } else if (g_str_has_prefix(line, "state ")) {
    g_test_message("child recv: %s", line + 6);
    g_free(x->child_state);
    x->child_state = g_strdup(line + 6);
  } else if (g_str_has_prefix(line, "media ")) {
    x->child_media = sscanf(line + 6, "%u %u %u %lf", &x->media_frames, &x->media_width,
                            &x->media_height, &x->media_level) == 4;
  }
  xcall_read_next(x);
}

static void
xcall_read_next(XCall *x)
{
  g_data_input_stream_read_line_async(x->from_child, G_PRIORITY_DEFAULT, x->cancel, xcall_on_line,
                                      x);
}

static gboolean
xcall_done(Call *call)
{
  XCall *x = (XCall *)call;

  return (call->send.state == AR_PEER_STATE_CONNECTED && x->child_media) ||
         call->send.state == AR_PEER_STATE_FAILED || x->child_exited ||
         (x->child_state != NULL && !g_str_has_prefix(x->child_state, "connect"));
}

static gboolean
xcall_child_gone(Call *call)
{
  return ((XCall *)call)->child_exited;
}

static void
test_cross_process_call(void)
{
  static const ArPeerCallbacks cbs = {
      .local_description = x_on_description,
      .local_candidate = x_on_candidate,
      .state_changed = x_on_state,
  };
  XCall x = {0};
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) offer_fp = NULL;
  g_auto(GStrv) answer_fp = NULL;

  if (!require_network())
    return;
  x.call.engine = make_engine(NULL);
  x.cancel = g_cancellable_new();
  x.proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                            "/proc/self/exe", "--child-recv", NULL);
  g_assert_no_error(error);
  x.to_child = g_subprocess_get_stdin_pipe(x.proc);
  x.from_child = g_data_input_stream_new(g_subprocess_get_stdout_pipe(x.proc));
  xcall_read_next(&x);

  x.call.send.peer = ar_peer_new(x.call.engine, AR_PEER_SEND, "parent", &cbs, &x, &error);
  g_assert_no_error(error);
  g_assert_true(ar_peer_start(x.call.send.peer, &error));
  g_assert_no_error(error);

  if (wait_for(&x.call, xcall_done, CALL_TIMEOUT_MS, "a connected call with the child process")) {
    g_assert_no_error(x.call.send.error);
    g_assert_cmpint(x.call.send.state, ==, AR_PEER_STATE_CONNECTED);
    g_assert_cmpstr(x.child_state, ==, "connected ");
    g_assert_true(x.child_media);
    g_assert_cmpuint(x.media_frames, >=, 30);
    g_assert_cmpuint(x.media_width, ==, 320);
    g_assert_cmpuint(x.media_height, ==, 240);
    g_assert_cmpfloat(x.media_level, >, -30.0);
    /* The point of this test: each side verified a certificate not its own. */
    offer_fp = ar_sdp_get_fingerprints(x.call.offer, &error);
    g_assert_no_error(error);
    answer_fp = ar_sdp_get_fingerprints(x.child_answer, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(offer_fp[0], !=, answer_fp[0]);
  }

  ar_peer_close(x.call.send.peer);
  g_output_stream_close(x.to_child, NULL, NULL);
  if (!wait_for(&x.call, xcall_child_gone, 10000, "the child to exit"))
    g_subprocess_force_exit(x.proc);
  g_cancellable_cancel(x.cancel);
  g_subprocess_wait(x.proc, NULL, NULL);
  spin(50);
  g_clear_pointer(&x.call.send.peer, ar_peer_free);
  g_clear_pointer(&x.call.engine, ar_media_engine_free);
  g_clear_error(&x.call.send.error);
  g_clear_object(&x.from_child);
  g_clear_object(&x.proc);
  g_clear_object(&x.cancel);
  g_free(x.call.offer);
  g_free(x.child_answer);
  g_free(x.child_state);
}

int
main(int argc, char **argv)
{
  if (argc == 2 && g_str_equal(argv[1], "--child-recv"))
    return child_main();
  g_log_set_writer_func(test_log_writer, NULL, NULL);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/peer/remote-sdp-validation", test_remote_sdp_validation);
  g_test_add_func("/media/peer/candidate-validation", test_candidate_validation);
  g_test_add_func("/media/peer/close-silences-callbacks", test_close_silences_callbacks);
  g_test_add_func("/media/peer/loopback-call", test_loopback_call);
  g_test_add_func("/media/peer/loopback-call-vp8", test_loopback_call_vp8);
  g_test_add_func("/media/peer/decoder-preference", test_decoder_preference);
  test_peer_add_control_tests();
  g_test_add_func("/media/peer/cross-process-call", test_cross_process_call);
  g_test_add_func("/media/peer/tampered-fingerprint-fails", test_tampered_offer);
  g_test_add_func("/media/peer/tampered-answer-fingerprint-fails", test_tampered_answer);
  test_peer_add_network_tests();
  return g_test_run();
}
