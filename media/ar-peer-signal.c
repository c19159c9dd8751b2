/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-peer-signal.c: a peer's signalling (ar-peer.c has the rest): ICE
 * candidates both ways, the local description (offer or answer) made and
 * applied, the remote one checked and applied.
 *
 * Threads: webrtcbin's signals and promise replies run on GStreamer threads;
 * they post to the peer's context (ar_peer_post), where the callbacks run.
 * The remote description and candidates are untrusted: bounded, parsed and
 * checked before webrtcbin sees them.
 */
#include "ar-peer-priv.h"

#include <gst/sdp/sdp.h>
#include <string.h>

#define AR_PEER_MAX_MLINE 64

/* ---- ICE candidates ---- */

typedef struct {
  guint mline;
  char *candidate; /* NULL = end of candidates */
} ArPeerCandidate;

void
ar_peer_candidate_free(gpointer data)
{
  ArPeerCandidate *c = data;

  g_free(c->candidate);
  g_free(c);
}

static void
ar_peer_local_candidate_in_context(ArPeer *peer, gpointer data)
{
  ArPeerCandidate *c = data;

  if (ar_peer_state_is_terminal(peer->state))
    return;
  if (!peer->local_set) {
    /* Providers send the description first: keep candidates until then. */
    ArPeerCandidate *copy = g_new0(ArPeerCandidate, 1);

    copy->mline = c->mline;
    copy->candidate = g_strdup(c->candidate);
    g_ptr_array_add(peer->early_candidates, copy);
    return;
  }
  if (c->candidate == NULL) {
    if (peer->gathering_done)
      return;
    peer->gathering_done = TRUE;
  }
  if (peer->cb.local_candidate != NULL)
    peer->cb.local_candidate(peer, c->mline, c->candidate, peer->user_data);
}

/* webrtcbin thread. */
void
ar_peer_on_ice_candidate(GstElement *webrtc, guint mline, const char *candidate, gpointer user_data)
{
  ArPeerCandidate *c;

  if (candidate == NULL || *candidate == '\0')
    return;
  c = g_new0(ArPeerCandidate, 1);
  c->mline = mline;
  c->candidate = g_str_has_prefix(candidate, "a=") ? g_strdup(candidate + 2) : g_strdup(candidate);
  ar_peer_post(user_data, ar_peer_local_candidate_in_context, c, ar_peer_candidate_free);
}

/* webrtcbin thread. */
void
ar_peer_on_gathering_state(GObject *webrtc, GParamSpec *pspec, gpointer user_data)
{
  GstWebRTCICEGatheringState st = GST_WEBRTC_ICE_GATHERING_STATE_NEW;

  g_object_get(webrtc, "ice-gathering-state", &st, NULL);
  if (st == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    ar_peer_post(user_data, ar_peer_local_candidate_in_context, g_new0(ArPeerCandidate, 1),
                 ar_peer_candidate_free);
}

/* ---- offer / answer ---- */

typedef struct {
  GstWebRTCSDPType type;
  char *sdp;
} ArPeerDescription;

static void
ar_peer_description_free(gpointer data)
{
  ArPeerDescription *d = data;

  g_free(d->sdp);
  g_free(d);
}

static void
ar_peer_local_description_in_context(ArPeer *peer, gpointer data)
{
  ArPeerDescription *d = data;

  if (ar_peer_state_is_terminal(peer->state))
    return;
  peer->local_set = TRUE;
  if (peer->remote_set)
    ar_peer_descriptions_applied(peer);
  if (peer->cb.local_description != NULL)
    peer->cb.local_description(peer, gst_webrtc_sdp_type_to_string(d->type), d->sdp,
                               peer->user_data);
  /* Then the candidates gathered meanwhile (the callback may have closed us). */
  while (!ar_peer_is_closed(peer) && !ar_peer_state_is_terminal(peer->state) &&
         peer->early_candidates->len > 0) {
    ArPeerCandidate *c = g_ptr_array_steal_index(peer->early_candidates, 0);

    ar_peer_local_candidate_in_context(peer, c);
    ar_peer_candidate_free(c);
  }
}

static void
ar_peer_remote_applied_in_context(ArPeer *peer, gpointer data)
{
  if (ar_peer_state_is_terminal(peer->state))
    return;
  peer->remote_set = TRUE;
  if (peer->local_set)
    ar_peer_descriptions_applied(peer);
}

/* Returns the error of a webrtcbin promise reply, or NULL if it succeeded. */
static char *
ar_promise_error(GstPromise *promise, GstPromiseResult result, const char *what)
{
  const GstStructure *reply;
  g_autoptr(GError) error = NULL;

  if (result != GST_PROMISE_RESULT_REPLIED)
    return g_strdup_printf("%s was interrupted", what);
  reply = gst_promise_get_reply(promise);
  if (reply != NULL && gst_structure_has_field(reply, "error")) {
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, NULL);
    return g_strdup_printf("%s failed: %s", what, error != NULL ? error->message : "unknown");
  }
  return NULL;
}

/* Emits a webrtcbin action taking (pointer @arg, GstPromise); @func gets
 * @data, freed with @data_free when webrtcbin drops the promise. */
void
ar_peer_emit_with_promise(ArPeer *peer, const char *action, gpointer arg, GstPromiseChangeFunc func,
                          gpointer data, GDestroyNotify data_free)
{
  GstPromise *promise = gst_promise_new_with_change_func(func, data, data_free);

  g_signal_emit_by_name(peer->webrtc, action, arg, promise);
  gst_promise_unref(promise);
}

typedef struct {
  ArPeer *peer;
  ArPeerDescription *desc;
} ArPeerLocalApply;

static void
ar_peer_local_apply_free(gpointer data)
{
  ArPeerLocalApply *a = data;

  if (a->desc != NULL)
    ar_peer_description_free(a->desc);
  ar_peer_unref(a->peer);
  g_free(a);
}

/* webrtcbin thread: the local description was applied. */
static void
ar_peer_on_local_applied(GstPromise *promise, gpointer user_data)
{
  ArPeerLocalApply *a = user_data;
  g_autofree char *err = NULL;

  err = ar_promise_error(promise, gst_promise_wait(promise), "Applying the local description");
  if (err != NULL) {
    ar_peer_post_failure(a->peer, AR_MEDIA_ERROR_SDP, err);
    return;
  }
  ar_peer_post(a->peer, ar_peer_local_description_in_context, g_steal_pointer(&a->desc),
               ar_peer_description_free);
}

/* webrtcbin thread: create-offer / create-answer replied. */
void
ar_peer_on_description_created(GstPromise *promise, gpointer user_data)
{
  ArPeer *peer = user_data;
  const char *field = peer->offers ? "offer" : "answer";
  const GstStructure *reply;
  GstWebRTCSessionDescription *desc = NULL;
  ArPeerLocalApply *apply;
  g_autofree char *err = NULL;

  err = ar_promise_error(promise, gst_promise_wait(promise),
                         peer->offers ? "Creating the offer" : "Creating the answer");
  if (err == NULL) {
    reply = gst_promise_get_reply(promise);
    if (reply == NULL ||
        !gst_structure_get(reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL) ||
        desc == NULL)
      err = g_strdup_printf("webrtcbin returned no %s", field);
  }
  if (err != NULL) {
    ar_peer_post_failure(peer, AR_MEDIA_ERROR_SDP, err);
    return;
  }
  if (ar_peer_is_closed(peer)) {
    gst_webrtc_session_description_free(desc);
    return;
  }

  apply = g_new0(ArPeerLocalApply, 1);
  apply->peer = ar_peer_ref(peer);
  apply->desc = g_new0(ArPeerDescription, 1);
  apply->desc->type = desc->type;
  apply->desc->sdp = gst_sdp_message_as_text(desc->sdp);
  ar_peer_emit_with_promise(peer, "set-local-description", desc, ar_peer_on_local_applied, apply,
                            ar_peer_local_apply_free);
  gst_webrtc_session_description_free(desc);
}

/* webrtcbin thread: the remote description was applied. */
static void
ar_peer_on_remote_applied(GstPromise *promise, gpointer user_data)
{
  ArPeer *peer = user_data;
  g_autofree char *err = NULL;

  err = ar_promise_error(promise, gst_promise_wait(promise), "Applying the remote description");
  if (err != NULL) {
    ar_peer_post_failure(peer, AR_MEDIA_ERROR_SDP, err);
    return;
  }
  ar_peer_post(peer, ar_peer_remote_applied_in_context, NULL, NULL);
  if (!peer->offers && !ar_peer_is_closed(peer))
    ar_peer_emit_with_promise(peer, "create-answer", NULL, ar_peer_on_description_created,
                              ar_peer_ref(peer), (GDestroyNotify)ar_peer_unref);
}

/* Key frame requests leave as PLI, never FIR. GStreamer 1.22's rtpsession
 * turns our upstream force-key-unit into an RTCP FIR whenever the remote side
 * announced "a=rtcp-fb:PT ccm fir" (Janus does), and Janus 1.1 then asked the
 * publisher for nothing: a lost key frame froze the picture until Janus's
 * periodic one (fir_freq, 10 s in the lab). Without the ccm fir attribute the
 * session sends a PLI, which every SFU and browser honours. */
static void
ar_sdp_drop_fir(GstSDPMessage *msg)
{
  for (guint i = 0; i < gst_sdp_message_medias_len(msg); i++) {
    GstSDPMedia *media = (GstSDPMedia *)gst_sdp_message_get_media(msg, i);

    for (guint j = gst_sdp_media_attributes_len(media); j > 0; j--) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, j - 1);

      if (g_strcmp0(a->key, "rtcp-fb") == 0 && a->value != NULL &&
          g_str_has_suffix(a->value, " ccm fir"))
        gst_sdp_media_remove_attribute(media, j - 1);
    }
  }
}

gboolean
ar_peer_set_remote_description(ArPeer *peer, const char *type, const char *sdp, GError **error)
{
  GstWebRTCSDPType sdp_type;
  g_autoptr(GstSDPMessage) msg = NULL;
  g_auto(GStrv) fingerprints = NULL;
  GstWebRTCSessionDescription *desc;
  gsize len;

  if (!ar_peer_check_usable(peer, error))
    return FALSE;
  if (type == NULL || sdp == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP, "No remote description");
    return FALSE;
  }
  if (peer->offers && g_str_equal(type, "answer")) {
    sdp_type = GST_WEBRTC_SDP_TYPE_ANSWER;
  } else if (!peer->offers && g_str_equal(type, "offer")) {
    sdp_type = GST_WEBRTC_SDP_TYPE_OFFER;
  } else {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP,
                "A peer that %s cannot take a remote description of type '%.16s'",
                peer->offers ? "made the offer" : "answers", type);
    return FALSE;
  }
  if (peer->remote_fingerprints != NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP,
                "The remote description was already set (renegotiation is not supported)");
    return FALSE;
  }
  len = strnlen(sdp, AR_MEDIA_MAX_SDP_SIZE + 1);
  if (len > AR_MEDIA_MAX_SDP_SIZE) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP, "Remote SDP larger than %d bytes",
                AR_MEDIA_MAX_SDP_SIZE);
    return FALSE;
  }
  if (gst_sdp_message_new(&msg) != GST_SDP_OK ||
      gst_sdp_message_parse_buffer((const guint8 *)sdp, (guint)len, msg) != GST_SDP_OK) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP, "Remote SDP does not parse");
    return FALSE;
  }
  if (gst_sdp_message_medias_len(msg) == 0) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP, "Remote SDP has no media");
    return FALSE;
  }
  fingerprints = ar_sdp_get_fingerprints(sdp, error);
  if (fingerprints == NULL) {
    g_prefix_error(error, "Remote SDP: ");
    return FALSE;
  }
  /* The CONNECTING callback may close or free the peer. */
  ar_peer_ref(peer);
  if (!ar_peer_start_pipeline(peer, error)) {
    ar_peer_unref(peer);
    return FALSE;
  }
  if (ar_peer_is_closed(peer)) {
    ar_peer_unref(peer);
    return TRUE;
  }

  peer->remote_mlines = gst_sdp_message_medias_len(msg);
  peer->remote_fingerprints = g_steal_pointer(&fingerprints);
  if (peer->direction == AR_PEER_RECV)
    ar_sdp_drop_fir(msg);
  desc = gst_webrtc_session_description_new(sdp_type, g_steal_pointer(&msg));
  ar_peer_emit_with_promise(peer, "set-remote-description", desc, ar_peer_on_remote_applied,
                            ar_peer_ref(peer), (GDestroyNotify)ar_peer_unref);
  gst_webrtc_session_description_free(desc);
  ar_peer_unref(peer);
  return TRUE;
}

static gboolean
ar_candidate_is_valid(const char *c)
{
  if (!g_str_has_prefix(c, "candidate:") || c[strlen("candidate:")] == '\0')
    return FALSE;
  for (const char *p = c; *p; p++) {
    if (*p < 0x20 || *p > 0x7e)
      return FALSE;
  }
  return TRUE;
}

gboolean
ar_peer_add_remote_candidate(ArPeer *peer, guint mline_index, const char *candidate, GError **error)
{
  gsize len;

  if (peer == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "No peer");
    return FALSE;
  }
  if (candidate == NULL || *candidate == '\0')
    return TRUE; /* end of candidates: libnice needs nothing */
  len = strnlen(candidate, AR_MEDIA_MAX_CANDIDATE_SIZE + 1);
  if (len > AR_MEDIA_MAX_CANDIDATE_SIZE) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE,
                "Remote ICE candidate larger than %d bytes", AR_MEDIA_MAX_CANDIDATE_SIZE);
    return FALSE;
  }
  if (g_str_has_prefix(candidate, "a="))
    candidate += 2;
  if (!ar_candidate_is_valid(candidate)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE,
                "Malformed remote ICE candidate (expected printable \"candidate:...\")");
    return FALSE;
  }
  if (mline_index >= AR_PEER_MAX_MLINE ||
      (peer->remote_mlines > 0 && mline_index >= peer->remote_mlines)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE,
                "Remote ICE candidate for m-line %u, which does not exist", mline_index);
    return FALSE;
  }
  if (ar_peer_state_is_terminal(peer->state))
    return TRUE; /* too late to matter */
  g_signal_emit_by_name(peer->webrtc, "add-ice-candidate", mline_index, candidate);
  return TRUE;
}
