/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The WHIP provider (see ar-whip.h). */
#include "ar-whip.h"

#include <string.h>

#include "ar-native.h"
#include "ar-whip-client.h"

typedef enum {
  ST_NEW,
  ST_GATHERING, /* the offer is made; candidates come in */
  ST_POSTING,
  ST_CONNECTING, /* the answer is applied; ICE and DTLS */
  ST_CONNECTED,
  ST_LEAVING,
  ST_DONE,
} State;

typedef struct {
  ArProvider parent;
  ArProviderCallbacks cb;
  gpointer user_data;
  ArMediaEngine *engine;
  gboolean whep; /* receives (WHEP) rather than publishes (WHIP) */
  char *host;    /* the endpoint's host: the WHEP stream's name in status */
  char *endpoint;
  char *token; /* never logged */
  ArWhipClient *client;
  ArPeer *peer;
  State state;
  char *offer;
  GArray *candidates; /* ArWhipCandidate, strings owned */
  gboolean gathered;
  gboolean trickle_off; /* the endpoint said no to PATCH */
  GArray *pending;      /* ArWhipCandidate found after the POST, to PATCH; NULL = the end */
  gboolean patching;
  GCancellable *cancel;
  guint gather_id;
  guint deferred_id;
  GError *deferred_error;
  guint leave_id;
} ArWhipProvider;

static const ArProviderClass whip_provider_class;
static const ArProviderClass whep_provider_class;

static void
clear_candidates(GArray *a)
{
  for (guint i = 0; i < a->len; i++)
    g_free((char *)g_array_index(a, ArWhipCandidate, i).candidate);
  g_array_set_size(a, 0);
}

/* Errors a new attempt may get past (the native engine retries): the network, a timeout, the
 * endpoint's own failure or a busy endpoint. Not: a definite refusal (401, 403, 404...), a
 * malformed answer, a peer that failed certificate verification. */
static gboolean
error_is_passing(ArWhipProvider *p, const GError *error)
{
  if (error->domain == AR_WHIP_ERROR) {
    guint status = p->client ? ar_whip_client_get_last_status(p->client) : 0;
    return error->code == AR_WHIP_ERROR_TIMEOUT ||
           (error->code == AR_WHIP_ERROR_STATUS &&
            (status == 429 || status == 408 || (status >= 500 && status <= 599)));
  }
  if (error->domain == AR_MEDIA_ERROR)
    return error->code == AR_MEDIA_ERROR_ICE || error->code == AR_MEDIA_ERROR_DTLS ||
           error->code == AR_MEDIA_ERROR_TIMEOUT || error->code == AR_MEDIA_ERROR_DEAD_PEER ||
           error->code == AR_MEDIA_ERROR_NETWORK || error->code == AR_MEDIA_ERROR_FAILED;
  return error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR ||
         error->domain == G_TLS_ERROR;
}

static void
teardown(ArWhipProvider *p)
{
  g_cancellable_cancel(p->cancel);
  g_clear_handle_id(&p->gather_id, g_source_remove);
  g_clear_handle_id(&p->deferred_id, g_source_remove);
  g_clear_handle_id(&p->leave_id, g_source_remove);
  g_clear_error(&p->deferred_error);
  g_clear_pointer(&p->peer, ar_peer_free);
}

static void
provider_fail(ArWhipProvider *p, const GError *error)
{
  if (p->state == ST_DONE || p->state == ST_LEAVING)
    return;
  g_autoptr(GError) copy = g_error_copy(error);
  gboolean passing = error_is_passing(p, copy);
  p->state = ST_DONE;
  teardown(p);
  /* Best effort: the endpoint forgets the session now rather than at its own timeout. */
  if (p->client != NULL && ar_whip_client_get_session_url(p->client) != NULL)
    ar_whip_client_delete(p->client, NULL, NULL, NULL);
  if (p->cb.lost && passing)
    p->cb.lost(&p->parent, copy, p->user_data);
  else
    p->cb.failed(&p->parent, copy, p->user_data);
}

static gboolean
deferred_cb(gpointer data)
{
  ArWhipProvider *p = data;
  p->deferred_id = 0;
  g_autoptr(GError) e = g_steal_pointer(&p->deferred_error);
  if (e != NULL)
    provider_fail(p, e);
  return G_SOURCE_REMOVE;
}

/* Never inside a peer's own callback: from an idle. */
static void
fail_later(ArWhipProvider *p, const GError *error)
{
  if (p->deferred_error == NULL)
    p->deferred_error = g_error_copy(error);
  if (p->deferred_id == 0)
    p->deferred_id = g_idle_add(deferred_cb, p);
}

static void send_pending(ArWhipProvider *p);

static void
on_patched(GObject *source, GAsyncResult *res, gpointer data)
{
  ArWhipProvider *p = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = ar_whip_client_patch_finish(NULL, res, NULL, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* @p may be gone */
  p->patching = FALSE;
  if (!ok) {
    /* Trickle is optional for the endpoint; the candidates in the offer carry the call. */
    g_message("whip: %s; no more candidates are sent", error->message);
    p->trickle_off = TRUE;
    clear_candidates(p->pending);
    return;
  }
  send_pending(p);
}

/* Candidates found after the POST, in one PATCH at a time. */
static void
send_pending(ArWhipProvider *p)
{
  if (p->patching || p->trickle_off || p->pending->len == 0 ||
      (p->state != ST_CONNECTING && p->state != ST_CONNECTED))
    return;
  /* The end of candidates comes last, as a NULL candidate. */
  guint n = p->pending->len;
  gboolean end = g_array_index(p->pending, ArWhipCandidate, n - 1).candidate == NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *frag = ar_whip_sdpfrag_build(p->offer, (ArWhipCandidate *)p->pending->data,
                                                end ? n - 1 : n, end, &error);
  clear_candidates(p->pending);
  if (frag == NULL) {
    g_debug("whip: no trickle fragment: %s", error->message);
    return;
  }
  p->patching = TRUE;
  ar_whip_client_patch(p->client, frag, p->cancel, on_patched, p);
}

static void
on_posted(GObject *source, GAsyncResult *res, gpointer data)
{
  ArWhipProvider *p = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(ArWhipAnswer) a = ar_whip_client_post_offer_finish(NULL, res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* @p may be gone */
  if (a == NULL) {
    provider_fail(p, error);
    return;
  }
  if (a->ice_skipped != NULL && a->ice_skipped[0] != '\0')
    g_message("whip: %s", g_strchomp(a->ice_skipped));
  /* ICE servers the endpoint names would serve an ICE restart; this offer used the room's. */
  g_debug("whip: the endpoint named %u ICE server(s)", a->ice_servers->len);
  if (!ar_peer_set_remote_description(p->peer, "answer", a->answer_sdp, &error)) {
    g_prefix_error(&error,
                   "%s: the endpoint's answer: ", p->whep ? "WHEP receive" : "WHIP publish");
    provider_fail(p, error);
    return;
  }
  g_message("whip: the endpoint answered (HTTP 201); connecting");
  p->state = ST_CONNECTING;
  send_pending(p);
}

static void
post_offer(ArWhipProvider *p)
{
  g_autoptr(GError) error = NULL;
  g_clear_handle_id(&p->gather_id, g_source_remove);
  g_autofree char *sdp = ar_whip_offer_with_candidates(
      p->offer, (ArWhipCandidate *)p->candidates->data, p->candidates->len, p->gathered, &error);
  if (sdp == NULL) {
    provider_fail(p, error);
    return;
  }
  g_debug("whip: posting the offer with %u candidate(s)%s", p->candidates->len,
          p->gathered ? "" : " (gathering goes on)");
  p->state = ST_POSTING;
  ar_whip_client_post_offer(p->client, sdp, p->cancel, on_posted, p);
}

static gboolean
gather_timeout_cb(gpointer data)
{
  ArWhipProvider *p = data;
  p->gather_id = 0;
  if (p->state == ST_GATHERING)
    post_offer(p);
  return G_SOURCE_REMOVE;
}

static void
peer_local_description(ArPeer *peer, const char *type, const char *sdp, gpointer data)
{
  ArWhipProvider *p = data;
  if (p->state != ST_NEW)
    return;
  g_free(p->offer);
  p->offer = g_strdup(sdp);
  p->state = ST_GATHERING;
  if (p->gathered)
    p->gather_id = g_idle_add(gather_timeout_cb, p);
  else
    p->gather_id = g_timeout_add(AR_WHIP_GATHER_MS, gather_timeout_cb, p);
}

static void
peer_local_candidate(ArPeer *peer, guint mline, const char *candidate, gpointer data)
{
  ArWhipProvider *p = data;
  if (p->state == ST_NEW || p->state == ST_GATHERING) {
    if (candidate == NULL) {
      p->gathered = TRUE;
      if (p->state == ST_GATHERING) {
        g_clear_handle_id(&p->gather_id, g_source_remove);
        p->gather_id = g_idle_add(gather_timeout_cb, p);
      }
      return;
    }
    ArWhipCandidate c = {mline, g_strdup(candidate)};
    g_array_append_val(p->candidates, c);
    return;
  }
  if (p->trickle_off || p->state == ST_LEAVING || p->state == ST_DONE)
    return;
  ArWhipCandidate c = {mline, g_strdup(candidate)};
  g_array_append_val(p->pending, c);
  send_pending(p);
}

static void
peer_state_changed(ArPeer *peer, ArPeerState state, const GError *error, gpointer data)
{
  ArWhipProvider *p = data;
  g_debug("whip: peer %s is %s", ar_peer_get_label(peer), ar_peer_state_to_string(state));
  if (state == AR_PEER_STATE_CONNECTED && p->state == ST_CONNECTING) {
    p->state = ST_CONNECTED;
    p->cb.connected(&p->parent, p->user_data);
    if (p->whep && p->cb.participants_changed)
      p->cb.participants_changed(&p->parent, p->user_data);
  } else if (state == AR_PEER_STATE_FAILED) {
    g_autoptr(GError) e =
        error ? g_error_copy(error)
              : g_error_new(AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "the media connection failed");
    fail_later(p, e);
  }
}

static void
peer_media_event(ArPeer *peer, ArPeerEvent event, gpointer data)
{
  ArWhipProvider *p = data;
  ar_native_media_event(&p->parent, &p->cb, p->user_data, peer, event);
}

static const ArPeerCallbacks peer_callbacks = {
    .local_description = peer_local_description,
    .local_candidate = peer_local_candidate,
    .state_changed = peer_state_changed,
    .media_event = peer_media_event,
};

static ArProvider *
create(gboolean whep, const ArLink *link, gpointer class_data, const ArProviderCallbacks *cb,
       gpointer user_data, GError **error)
{
  ArWhipProvider *p = g_new0(ArWhipProvider, 1);
  ArWhipClientOptions o = {.what = whep ? "WHEP receive" : "WHIP publish"};
  g_autoptr(GUri) uri = g_uri_parse(link->join_url, G_URI_FLAGS_ENCODED, NULL);
  p->parent.klass = whep ? &whep_provider_class : &whip_provider_class;
  p->whep = whep;
  p->host = g_strdup(uri && g_uri_get_host(uri) ? g_uri_get_host(uri) : "endpoint");
  p->cb = *cb;
  p->user_data = user_data;
  p->engine = class_data;
  p->endpoint = g_strdup(link->join_url);
  p->token = g_strdup(link->passcode);
  p->candidates = g_array_new(FALSE, FALSE, sizeof(ArWhipCandidate));
  p->pending = g_array_new(FALSE, FALSE, sizeof(ArWhipCandidate));
  p->cancel = g_cancellable_new();
  p->client = ar_whip_client_new(p->endpoint, p->token, &o, error);
  if (p->client == NULL) {
    p->parent.klass->free(&p->parent);
    return NULL;
  }
  return &p->parent;
}

static ArProvider *
whip_create(const ArLink *link, gpointer class_data, const char *display_name,
            const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  return create(FALSE, link, class_data, cb, user_data, error);
}

static ArProvider *
whep_create(const ArLink *link, gpointer class_data, const char *display_name,
            const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  return create(TRUE, link, class_data, cb, user_data, error);
}

/* WHIP: a send peer (it offers). WHEP: a receive peer that offers (recvonly audio and video);
 * what it decodes goes to the room's screen and speaker like any remote participant. */
static void
whip_join(ArProvider *base)
{
  ArWhipProvider *p = (ArWhipProvider *)base;
  g_autoptr(GError) error = NULL;
  p->peer = ar_peer_new(p->engine, p->whep ? AR_PEER_RECV : AR_PEER_SEND,
                        p->whep ? "whep-stream" : "publisher", &peer_callbacks, p, &error);
  if (p->peer != NULL && p->whep)
    ar_peer_set_offering(p->peer);
  if (p->peer == NULL || !ar_peer_start(p->peer, &error))
    fail_later(p, error);
}

static gboolean
leave_done_cb(gpointer data)
{
  ArWhipProvider *p = data;
  p->leave_id = 0;
  if (p->state == ST_LEAVING) {
    p->state = ST_DONE;
    p->cb.left(&p->parent, p->user_data);
  }
  return G_SOURCE_REMOVE;
}

static void
on_deleted(GObject *source, GAsyncResult *res, gpointer data)
{
  ArWhipProvider *p = data;
  g_autoptr(GError) error = NULL;
  if (!ar_whip_client_delete_finish(NULL, res, &error)) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return; /* @p may be gone */
    g_message("whip: leaving: %s", error->message);
  }
  g_clear_handle_id(&p->leave_id, g_source_remove);
  leave_done_cb(p);
}

static void
whip_leave(ArProvider *base)
{
  ArWhipProvider *p = (ArWhipProvider *)base;
  if (p->state == ST_DONE || p->state == ST_LEAVING)
    return;
  /* Media stops now; the endpoint is told after (bounded). */
  teardown(p);
  g_clear_object(&p->cancel);
  p->cancel = g_cancellable_new();
  p->state = ST_LEAVING;
  p->leave_id = g_timeout_add(AR_WHIP_LEAVE_MS, leave_done_cb, p);
  ar_whip_client_delete(p->client, p->cancel, on_deleted, p);
}

static void
whip_collect_tracks(ArProvider *base, GPtrArray *out)
{
  ArWhipProvider *p = (ArWhipProvider *)base;
  if (p->peer)
    ar_native_collect_tracks(p->peer, out);
}

static void
whip_collect_participants(ArProvider *base, GPtrArray *out)
{
  ArWhipProvider *p = (ArWhipProvider *)base;
  /* A WHIP endpoint does not say who watches; a WHEP stream is one participant, named by its
   * host. */
  if (!p->whep || p->state != ST_CONNECTED)
    return;
  ArParticipant *part = g_new0(ArParticipant, 1);
  part->id = g_strdup("whep-stream");
  part->display = g_strdup(p->host);
  g_ptr_array_add(out, part);
}

static void
whip_free(ArProvider *base)
{
  ArWhipProvider *p = (ArWhipProvider *)base;
  if (!p)
    return;
  p->state = ST_DONE;
  teardown(p);
  g_clear_object(&p->cancel);
  g_clear_pointer(&p->client, ar_whip_client_free);
  clear_candidates(p->candidates);
  g_array_unref(p->candidates);
  clear_candidates(p->pending);
  g_array_unref(p->pending);
  g_free(p->offer);
  g_free(p->host);
  g_free(p->endpoint);
  if (p->token)
    memset(p->token, 0, strlen(p->token));
  g_free(p->token);
  g_free(p);
}

static const ArProviderClass whip_provider_class = {
    .create = whip_create,
    .join = whip_join,
    .leave = whip_leave,
    .collect_tracks = whip_collect_tracks,
    .collect_participants = whip_collect_participants,
    .free = whip_free,
};

static const ArProviderClass whep_provider_class = {
    .create = whep_create,
    .join = whip_join,
    .leave = whip_leave,
    .collect_tracks = whip_collect_tracks,
    .collect_participants = whip_collect_participants,
    .free = whip_free,
};

void
ar_whip_provider_register(ArProviderRegistry *registry, ArNativeEngine *native)
{
  ar_native_register(registry, native, "whip", &whip_provider_class,
                     ar_native_engine_get_media(native));
  ar_native_register(registry, native, "whep", &whep_provider_class,
                     ar_native_engine_get_media(native));
}
